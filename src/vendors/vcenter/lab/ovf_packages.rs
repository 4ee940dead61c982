//! The OVF packages the lab serves: every descriptor URL a pull session names, so a
//! production playbook's repository URL rehearses unchanged. `…/crm.ovf` is a valid
//! package generated for appliance `crm` (its descriptor and two disks), unless the
//! estate marks `crm`'s package broken ([`crate::http::lab::estate::Fault::BrokenOvf`]):
//! then its descriptor is malformed XML, and the session fails reading it. The two
//! made-up packages of the first lab, `app` (good) and `broken` (malformed), are served
//! as they were. A `PULL_SOURCE` session reads its package from here, never over the
//! network; `GET /_lab/packages/{name}/{file}` serves the same files.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Ctx;

/// Where packages are served, under the listener's base URL.
pub(super) const PACKAGES_PATH: &str = "/_lab/packages/";

/// The longest appliance name a package URL may carry.
const MAX_NAME: usize = 80;

/// One package: its descriptor and the sizes of its other files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Package {
    /// The appliance it holds, from the descriptor's file name.
    pub(super) name: String,
    /// The descriptor's file name, `<name>.ovf`.
    pub(super) descriptor: String,
    pub(super) text: String,
    pub(super) files: Vec<(String, u64)>,
}

/// A good descriptor of appliance `name`, with two disks.
fn good(name: &str, system: &str) -> Package {
    let (disk1, disk2) = (format!("{name}-disk1.vmdk"), format!("{name}-disk2.vmdk"));
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="{disk1}" ovf:size="4096"/>
    <File ovf:id="file2" ovf:href="{disk2}" ovf:size="2048"/>
  </References>
  <DiskSection><Info>disks</Info></DiskSection>
  <VirtualSystem ovf:id="{system}"><Info>the {name} appliance</Info></VirtualSystem>
</Envelope>
"#
    );
    Package {
        name: name.to_owned(),
        descriptor: format!("{name}.ovf"),
        text,
        files: vec![(disk1, 4096), (disk2, 2048)],
    }
}

/// A descriptor of appliance `name` that is not well-formed XML (a `File` element is
/// never closed), as a truncated or corrupted package would be.
fn malformed(name: &str) -> Package {
    let disk = format!("{name}-disk1.vmdk");
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="{disk}" ovf:size="1024">
  </References>
</Envelope>
"#
    );
    Package {
        name: name.to_owned(),
        descriptor: format!("{name}.ovf"),
        text,
        files: vec![(disk, 1024)],
    }
}

/// The packages of one lab: which appliances' packages are broken.
#[derive(Clone, Debug, Default)]
pub(super) struct Packages {
    broken: Vec<String>,
}

impl Packages {
    /// Packages of which those of the appliances in `broken` are malformed.
    pub(super) fn new(broken: Vec<String>) -> Self {
        Self { broken }
    }

    /// The package of appliance `name`: the first lab's `app` (whose system is
    /// `app-01`) and `broken` as they were, any other name generated.
    pub(super) fn package(&self, name: &str) -> Option<Package> {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return None;
        }
        Some(match name {
            "app" => good("app", "app-01"),
            "broken" => malformed("broken"),
            _ if self.broken.iter().any(|b| b == name) => malformed(name),
            _ => good(name, name),
        })
    }

    /// The package and file a pull URL names: `…/_lab/packages/{name}/{file}`, or any
    /// URL whose last path segment is `<name>.ovf` (`https://repo/apps/crm.ovf`).
    pub(super) fn at_url(&self, url: &str) -> Option<(Package, String)> {
        let url = url.split(['?', '#']).next()?;
        if let Some((_, rest)) = url.split_once(PACKAGES_PATH) {
            let (name, file) = rest.split_once('/')?;
            return Some((self.package(name)?, file.to_owned()));
        }
        let last = url.rsplit('/').next()?;
        let name = last.strip_suffix(".ovf")?;
        Some((self.package(name)?, last.to_owned()))
    }
}

/// The content of `file` of `package`: the descriptor's text, or zeros of the file's size.
pub(super) fn content(package: &Package, file: &str) -> Option<Vec<u8>> {
    if file == package.descriptor {
        return Some(package.text.as_bytes().to_vec());
    }
    let (_, size) = package.files.iter().find(|(name, _)| name == file)?;
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
        .find(|(n, _)| n == file)
        .map(|(_, s)| *s)
}

/// `GET /_lab/packages/{name}/{file}`.
pub(super) async fn serve(
    State(ctx): State<Ctx>,
    Path((name, file)): Path<(String, String)>,
) -> Response {
    let packages = ctx.lab.at(ctx.lab.now()).ovf.packages.clone();
    match packages.package(&name).and_then(|p| content(&p, &file)) {
        Some(bytes) => bytes.into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("The lab has no package file {name}/{file}; package {name} has {name}.ovf, {name}-disk1.vmdk and {name}-disk2.vmdk."),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::vcenter::ovf::parse_descriptor;

    #[test]
    fn the_first_labs_packages_stay_as_they_were() {
        let packages = Packages::default();
        let app = packages.package("app").unwrap();
        let parsed = parse_descriptor(&app.descriptor, &app.text).unwrap();
        assert_eq!(parsed.name.as_deref(), Some("app-01"));
        assert_eq!(parsed.files.len(), 2);
        let broken = packages.package("broken").unwrap();
        assert!(parse_descriptor(&broken.descriptor, &broken.text).is_err());
        let (found, file) = packages
            .at_url("http://h/_lab/packages/app/app.ovf")
            .unwrap();
        assert_eq!((found.name.as_str(), file.as_str()), ("app", "app.ovf"));
        assert_eq!(content(&app, "app-disk2.vmdk").unwrap().len(), 2048);
    }

    #[test]
    fn any_descriptor_url_is_a_package_named_after_its_file() {
        let packages = Packages::new(vec!["payroll".to_owned()]);
        let (crm, file) = packages
            .at_url("https://repo.example.com/apps/crm.ovf?v=2")
            .unwrap();
        assert_eq!(file, "crm.ovf");
        let parsed = parse_descriptor(&crm.descriptor, &crm.text).unwrap();
        assert_eq!(parsed.name.as_deref(), Some("crm"));
        let hrefs: Vec<_> = parsed.files.iter().map(|f| f.href.as_str()).collect();
        assert_eq!(hrefs, ["crm-disk1.vmdk", "crm-disk2.vmdk"]);
        let (payroll, _) = packages
            .at_url("https://repo.example.com/apps/payroll.ovf")
            .unwrap();
        assert!(parse_descriptor(&payroll.descriptor, &payroll.text).is_err());
        for not_a_package in [
            "https://repo.example.com/apps/crm.ova",
            "https://repo.example.com/apps/",
            "https://repo.example.com/apps/.ovf",
            "https://repo.example.com/apps/a%20b.ovf",
        ] {
            assert!(packages.at_url(not_a_package).is_none(), "{not_a_package}");
        }
    }
}
