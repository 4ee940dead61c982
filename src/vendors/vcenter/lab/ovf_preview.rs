//! `preview` and `probe` of the OVF import-session service (vendor-apis.md §3.2): what a
//! descriptor (plain XML, or base64 of its gzip) references, and whether a package URL
//! can be reached.

use std::io::Read as _;

use base64::Engine as _;

use crate::vendors::vcenter::ovf::parse_descriptor;
use crate::vendors::vcenter::ovf_wire::{Preview, PreviewFile, ProbeResult};
use crate::vendors::vcenter::wire::LocalizableMessage;

use super::error::LabError;
use super::ovf_packages::Packages;

/// The descriptor's text: as sent when it is XML, else base64 of gzip-compressed XML.
fn descriptor_text(sent: &str) -> Result<String, LabError> {
    let sent = sent.trim();
    if sent.starts_with('<') {
        return Ok(sent.to_owned());
    }
    let bad = |why: &str| {
        LabError::invalid_argument(format!(
            "ovf_descriptor is neither XML nor base64 of a gzip-compressed descriptor: {why}"
        ))
    };
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(sent)
        .map_err(|e| bad(&e.to_string()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut text)
        .map_err(|e| bad(&e.to_string()))?;
    Ok(text)
}

/// `?~action=preview` with `{"ovf_descriptor": …}`.
pub(super) fn preview(ovf_descriptor: &str) -> Result<Preview, LabError> {
    let text = descriptor_text(ovf_descriptor)?;
    Ok(match parse_descriptor("descriptor.ovf", &text) {
        Ok(descriptor) => Preview {
            files: descriptor
                .files
                .into_iter()
                .map(|f| PreviewFile { name: f.href })
                .collect(),
            ..Preview::default()
        },
        Err(issue) => Preview {
            errors: vec![super::ovf_session::input_problem(issue)],
            ..Preview::default()
        },
    })
}

/// `?~action=probe` with `{"uri": …}`: reachable when it names a package the lab serves.
pub(super) fn probe(packages: &Packages, uri: &str) -> ProbeResult {
    let failed = |status: &str, message: String| ProbeResult {
        status: status.to_owned(),
        ssl_thumbprint: None,
        error_messages: vec![LocalizableMessage::new(
            format!("com.vmware.ovf.probe.{}", status.to_ascii_lowercase()),
            message,
        )],
    };
    let Ok(url) = reqwest::Url::parse(uri) else {
        return failed("INVALID_URL", format!("`{uri}` is not a URL"));
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return failed("INVALID_URL", format!("`{uri}` is not an http(s) URL"));
    }
    if packages.at_url(uri).is_none() {
        let host = url.host_str().unwrap_or_default();
        return failed(
            "HOST_NOT_FOUND",
            format!("no package at `{uri}` ({host} does not serve it)"),
        );
    }
    ProbeResult {
        status: "SUCCESS".to_owned(),
        ssl_thumbprint: (url.scheme() == "https")
            .then(|| "7A:5E:0D:1A:B0:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01".to_owned()),
        error_messages: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    const DESCRIPTOR: &str = r#"<Envelope><References><File ovf:id="f1" ovf:href="d1.vmdk"/></References><VirtualSystem ovf:id="vm"/></Envelope>"#;

    fn gzip_base64(text: &str) -> String {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
    }

    #[test]
    fn previews_read_xml_and_gzip_base64_alike() {
        let names = |p: Preview| p.files.into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(preview(DESCRIPTOR).unwrap()), ["d1.vmdk"]);
        assert_eq!(
            names(preview(&gzip_base64(DESCRIPTOR)).unwrap()),
            ["d1.vmdk"]
        );
        let broken = preview("<Envelope><References></Envelope>").unwrap();
        assert_eq!(broken.errors[0].issues[0].category, "PARSE_ERROR");
        assert!(preview("not base64 at all!").is_err());
    }

    #[test]
    fn probes_tell_reachable_packages_from_the_rest() {
        let probe = |uri| probe(&Packages::default(), uri);
        assert_eq!(
            probe("https://repo.example.com/a/app.ovf").status,
            "SUCCESS"
        );
        assert_eq!(
            probe("https://repo.example.com/a/crm.ovf").status,
            "SUCCESS"
        );
        assert_eq!(
            probe("https://repo.example.com/a/notes.txt").status,
            "HOST_NOT_FOUND"
        );
        assert_eq!(probe("not a url").status, "INVALID_URL");
        assert_eq!(probe("ftp://repo/app.ovf").status, "INVALID_URL");
    }
}
