//! The OVF packages the lab serves itself at `GET /_lab/packages/{name}/{file}`: `app`,
//! a good descriptor with two disks, and `broken`, whose descriptor is malformed XML. A
//! `PULL_SOURCE` session naming one of them reads it from here, never over the network.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Where packages are served, under the listener's base URL.
pub(super) const PACKAGES_PATH: &str = "/_lab/packages/";

/// One seeded package: its descriptor and the sizes of its other files.
#[derive(Debug)]
pub(super) struct Package {
    pub(super) name: &'static str,
    pub(super) descriptor: &'static str,
    pub(super) text: &'static str,
    pub(super) files: &'static [(&'static str, u64)],
}

const APP_OVF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="app-disk1.vmdk" ovf:size="4096"/>
    <File ovf:id="file2" ovf:href="app-disk2.vmdk" ovf:size="2048"/>
  </References>
  <DiskSection><Info>disks</Info></DiskSection>
  <VirtualSystem ovf:id="app-01"><Info>the application server</Info></VirtualSystem>
</Envelope>
"#;

const BROKEN_OVF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="broken-disk1.vmdk" ovf:size="1024">
  </References>
</Envelope>
"#;

static PACKAGES: [Package; 2] = [
    Package {
        name: "app",
        descriptor: "app.ovf",
        text: APP_OVF,
        files: &[("app-disk1.vmdk", 4096), ("app-disk2.vmdk", 2048)],
    },
    Package {
        name: "broken",
        descriptor: "broken.ovf",
        text: BROKEN_OVF,
        files: &[("broken-disk1.vmdk", 1024)],
    },
];

/// The seeded package called `name`.
pub(super) fn package(name: &str) -> Option<&'static Package> {
    PACKAGES.iter().find(|p| p.name == name)
}

/// The package and file a pull URL names: `…/_lab/packages/{name}/{file}`, or any URL
/// whose last segment is a seeded package's descriptor (`https://repo/x/app.ovf`), so a
/// production playbook's repository URL rehearses unchanged.
pub(super) fn from_url(url: &str) -> Option<(&'static Package, String)> {
    if let Some((_, rest)) = url.split_once(PACKAGES_PATH) {
        let (name, file) = rest.split_once('/')?;
        return Some((package(name)?, file.to_owned()));
    }
    let last = url.split(['?', '#']).next()?.rsplit('/').next()?;
    let found = PACKAGES.iter().find(|p| p.descriptor == last)?;
    Some((found, last.to_owned()))
}

/// The content of `file` of `package`: the descriptor's text, or zeros of the file's size.
pub(super) fn content(package: &Package, file: &str) -> Option<Vec<u8>> {
    if file == package.descriptor {
        return Some(package.text.as_bytes().to_vec());
    }
    let (_, size) = package.files.iter().find(|(name, _)| *name == file)?;
    Some(vec![0; usize::try_from(*size).ok()?])
}

/// The size of `file` of `package`, if it has it.
pub(super) fn size_of(package: &Package, file: &str) -> Option<u64> {
    if file == package.descriptor {
        return u64::try_from(package.text.len()).ok();
    }
    package
        .files
        .iter()
        .find(|(n, _)| *n == file)
        .map(|(_, s)| *s)
}

/// `GET /_lab/packages/{name}/{file}`.
pub(super) async fn serve(Path((name, file)): Path<(String, String)>) -> Response {
    match package(&name).and_then(|p| content(p, &file)) {
        Some(bytes) => bytes.into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("The lab has no package file {name}/{file}; it serves app and broken."),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::vcenter::ovf::parse_descriptor;

    #[test]
    fn app_parses_and_broken_does_not() {
        let app = package("app").unwrap();
        let files = parse_descriptor(app.descriptor, app.text).unwrap().files;
        assert_eq!(files.len(), 2);
        let broken = package("broken").unwrap();
        assert!(parse_descriptor(broken.descriptor, broken.text).is_err());
        let (found, _) = from_url("https://repo.example.com/appliances/app.ovf").unwrap();
        assert_eq!(found.name, "app");
        assert!(from_url("https://repo.example.com/other.ovf").is_none());
        let (found, file) = from_url("http://h/_lab/packages/app/app.ovf").unwrap();
        assert_eq!((found.name, file.as_str()), ("app", "app.ovf"));
        assert_eq!(content(app, "app-disk2.vmdk").unwrap().len(), 2048);
    }
}
