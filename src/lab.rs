//! The lab: one simulator per vendor API kind, each on its own loopback listener, all
//! sharing one seed, one clock and one password, plus the target file that points a
//! playbook at them (design.md, "Lab").
//!
//! The lab names no vendor: it starts the simulators of every vendor in
//! [`crate::vendors::ALL`]. A vendor may serve several listeners (vCenter's appliance
//! port and its reverse proxy), and a listener may answer several targets (Huawei SMS's
//! IAM user and access key); its descriptor says which.
//!
//! With TLS on, the lab makes its own CA and a certificate per listener, writes the CA's
//! PEM to a file and names that file as `ca_file` in every target it hands out.

use std::io;
use std::path::{Path, PathBuf};

use crate::clock::Clock;
use crate::config::{PasswordSource, Secret, Target, TargetKind};
/// The estate the lab seeds (its applications and scenario), for [`LabOptions::estate`].
pub use crate::http::lab::estate::{App, DEFAULT_APPS, Estate, Fault, MAX_APPS, Scenario};
use crate::http::lab::{
    Chaos, LabCa, LabListener, chaos_counts, chaos_summary_line, clock_routes, serve,
};
/// The `--chaos` spec, for [`LabOptions::chaos`].
pub use crate::http::lab::{ChaosKind, ChaosSpec};
use crate::vendors::{LabSetup, Vendor};

/// The fields of a PowerStore import session the lab serves and scripts read, as
/// vendor-apis.md documents them: what the tests check the script surface against.
pub use crate::vendors::powerstore::wire::IMPORT_SESSION_FIELDS as POWERSTORE_IMPORT_SESSION_FIELDS;

/// The user the PowerStore simulator accepts.
pub use crate::vendors::powerstore::LAB_USER;
/// The user the Cloud Director simulator accepts: a provider (`System`) administrator,
/// who logs in through `/cloudapi/1.0.0/sessions/provider`.
pub use crate::vendors::vcd::LAB_USER as VCD_LAB_USER;

/// How to start the lab.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// 0 for ephemeral ports; otherwise the first listener's port, the next kinds
    /// taking the following ports in the vendor list's order.
    pub port: u16,
    /// Seeds ids, the password and every other generated value.
    pub seed: u64,
    /// The clock all simulated jobs advance by.
    pub clock: Clock,
    /// The password of every simulator; `None` derives it from the seed.
    pub password: Option<Secret>,
    /// The secret key of the Huawei SMS access key; `None` makes it the password.
    pub secret_key: Option<Secret>,
    /// The wave's applications and scenario.
    pub estate: Estate,
    /// Seeded faults on every vendor listener (`--chaos`); none when `None`.
    pub chaos: Option<ChaosSpec>,
    /// Serve HTTPS with certificates from a CA of the lab's own.
    pub tls: bool,
    /// Where to write the CA's PEM under `tls`; `None` writes it to a private temporary
    /// file removed when the lab stops.
    pub ca_file: Option<PathBuf>,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 0,
            clock: Clock::wall(),
            password: None,
            secret_key: None,
            estate: Estate::default(),
            chaos: None,
            tls: false,
            ca_file: None,
        }
    }
}

/// The running lab; dropping it stops the listeners too.
#[derive(Debug)]
pub struct Lab {
    seed: u64,
    clock: Clock,
    password: Secret,
    secret_key: Secret,
    estate: Estate,
    listeners: Vec<Endpoint>,
    /// Under TLS: the CA's PEM file, which every target names as its `ca_file`.
    ca_file: Option<CaFile>,
}

/// Where the lab wrote its CA's PEM.
#[derive(Debug)]
enum CaFile {
    /// A file the operator asked for; it outlives the lab.
    Kept(PathBuf),
    /// A private temporary file, removed when the lab is dropped.
    Temporary(tempfile::TempPath),
}

impl CaFile {
    /// Writes `pem` where asked, or to a new temporary file (no two processes share one).
    fn write(pem: &str, path: Option<&Path>) -> io::Result<Self> {
        match path {
            Some(path) => {
                crate::config::write_private(path, pem).map_err(|err| {
                    io::Error::new(
                        err.kind(),
                        format!("cannot write the lab's CA to `{}`: {err}", path.display()),
                    )
                })?;
                // Targets name it absolutely: they may be read from another folder.
                Ok(Self::Kept(std::path::absolute(path)?))
            }
            None => {
                use std::io::Write as _;
                let mut file = tempfile::Builder::new()
                    .prefix("cutover-lab-ca-")
                    .suffix(".pem")
                    .tempfile()
                    .map_err(|err| {
                        io::Error::new(
                            err.kind(),
                            format!("cannot write the lab's CA to a temporary file: {err}"),
                        )
                    })?;
                file.write_all(pem.as_bytes())?;
                Ok(Self::Temporary(file.into_temp_path()))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            Self::Kept(path) => path,
            Self::Temporary(path) => path,
        }
    }
}

/// One listener and the vendor and user that answer on it.
#[derive(Debug)]
struct Endpoint {
    name: String,
    vendor: &'static Vendor,
    user: &'static str,
    listener: LabListener,
    chaos: Option<Chaos>,
}

impl Lab {
    /// Starts a listener for every kind on the current tokio runtime.
    pub async fn start(options: LabOptions) -> io::Result<Lab> {
        let password = options
            .password
            .clone()
            .unwrap_or_else(|| password_for(options.seed));
        let secret_key = options
            .secret_key
            .clone()
            .unwrap_or_else(|| password.clone());
        let setup = LabSetup {
            seed: options.seed,
            clock: &options.clock,
            password: &password,
            secret_key: &secret_key,
            estate: &options.estate,
        };
        let simulated: Vec<_> = crate::vendors::ALL
            .iter()
            .flat_map(|vendor| {
                (vendor.simulators)(&setup)
                    .into_iter()
                    .map(|s| (*vendor, s))
            })
            .collect();
        let ca = options.tls.then(LabCa::generate).transpose()?;
        let mut listeners = Vec::with_capacity(simulated.len());
        for (index, (vendor, simulator)) in simulated.into_iter().enumerate() {
            let port = port_for(options.port, index)?;
            let name = format!("{}{}", vendor.kind().as_str(), simulator.suffix);
            let mut router = simulator.router.merge(clock_routes(options.clock.clone()));
            let chaos = options
                .chaos
                .clone()
                .map(|spec| Chaos::new(spec, options.seed, &name, options.clock.clone()));
            if let Some(chaos) = &chaos {
                // Found there by the middleware every vendor's `with_faults` installs.
                router = router.layer(axum::Extension(chaos.clone()));
            }
            let tls = ca.as_ref().map(LabCa::server_config).transpose()?;
            // On error the listeners started so far are dropped, which stops them.
            let listener = serve(router, port, tls).await?;
            listeners.push(Endpoint {
                name,
                vendor,
                user: simulator.user,
                listener,
                chaos,
            });
        }
        let ca_file = ca
            .map(|ca| CaFile::write(ca.pem(), options.ca_file.as_deref()))
            .transpose()?;
        Ok(Lab {
            seed: options.seed,
            clock: options.clock,
            password,
            secret_key,
            estate: options.estate,
            listeners,
            ca_file,
        })
    }

    /// One target per listener, named after its kind (a second listener of a kind with
    /// [`crate::config::APPLIANCE_SUFFIX`]), with the lab's credentials. The Huawei SMS
    /// listener has two: an IAM user, and an access key that signs (named with
    /// [`crate::config::AKSK_SUFFIX`]).
    pub fn targets(&self) -> Vec<Target> {
        let setup = LabSetup {
            seed: self.seed,
            clock: &self.clock,
            password: &self.password,
            secret_key: &self.secret_key,
            estate: &self.estate,
        };
        self.listeners
            .iter()
            .flat_map(|endpoint| {
                let target = Target {
                    name: endpoint.name.clone(),
                    kind: endpoint.vendor.kind(),
                    url: endpoint.listener.url(),
                    user: endpoint.user.to_owned(),
                    password: PasswordSource::Inline(self.password.clone()),
                    ca_file: self.ca_file().map(Path::to_path_buf),
                    insecure: false,
                    extras: crate::config::Extras::default(),
                    read_retries: crate::config::ReadRetries::default(),
                    request_limits: crate::config::RequestLimits::default(),
                };
                (endpoint.vendor.lab_targets)(target, &setup)
            })
            .collect()
    }

    /// The one password of every simulator: derived from the seed unless one was given.
    pub fn password(&self) -> &Secret {
        &self.password
    }

    /// Under TLS, the file holding the PEM of the CA that signed every listener's
    /// certificate; `None` when the lab serves plain HTTP.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_ref().map(CaFile::path)
    }

    /// The wave's applications and scenario.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// The secret key of the Huawei SMS access key: the password unless one was given.
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// A target file (the format `config.rs` reads) naming every listener.
    pub fn targets_toml(&self) -> String {
        targets_toml(&self.targets())
    }

    /// Base URL of the (first) listener for `kind`.
    pub fn url(&self, kind: TargetKind) -> Option<String> {
        self.listeners
            .iter()
            .find(|e| e.vendor.kind() == kind)
            .map(|e| e.listener.url())
    }

    /// What the lab's chaos did, for every listener together; `None` without `--chaos`.
    pub fn chaos(&self) -> Option<LabChaos> {
        let listeners: Vec<Chaos> = self
            .listeners
            .iter()
            .filter_map(|e| e.chaos.clone())
            .collect();
        (!listeners.is_empty()).then_some(LabChaos(listeners))
    }

    /// Stops every listener, letting requests in flight finish.
    pub async fn shutdown(self) {
        for endpoint in self.listeners {
            endpoint.listener.shutdown().await;
        }
    }
}

/// The chaos of every listener of a lab; it still reads after the lab stopped.
#[derive(Clone, Debug)]
pub struct LabChaos(Vec<Chaos>);

impl LabChaos {
    /// The line printed at exit, e.g.
    /// `chaos: 3 faults injected (503 ×2, reset ×1)`.
    pub fn summary_line(&self) -> String {
        chaos_summary_line(&self.counts())
    }

    /// How many faults of each kind of the spec were injected, over every listener.
    pub fn counts(&self) -> std::collections::BTreeMap<ChaosKind, u64> {
        chaos_counts(&self.0)
    }
}

/// A target file (the format `config.rs` reads) for lab targets, each with the lab's
/// inline password: the lab's own targets, or a target file redirected to the lab.
pub use crate::config::targets_toml;

/// The kinds of target the vendors speak, each with its extra keys: what reading a
/// target file for the lab's vendors takes ([`crate::config::Targets::load`]).
pub fn target_kinds() -> Vec<&'static crate::config::KindSpec> {
    crate::vendors::kinds()
}

/// `lab-` and 16 hex digits, the same for the same seed.
fn password_for(seed: u64) -> Secret {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x7A5_5E0D_1AB0_0001);
    Secret::new(format!("lab-{:016x}", rng.u64(..)))
}

fn port_for(first: u16, index: usize) -> io::Result<u16> {
    if first == 0 {
        return Ok(0);
    }
    u16::try_from(index)
        .ok()
        .and_then(|offset| first.checked_add(offset))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "lab port {first} leaves no room for {} listeners",
                    index + 1
                ),
            )
        })
}

#[cfg(test)]
pub mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Targets;
    use crate::config::write::toml_string;
    use crate::vendors::huawei_sms;
    use std::net::SocketAddr;
    use std::path::Path;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The address of the listener at `url` and the Basic credentials of `user` with the
    /// lab's password.
    fn login(lab: &Lab, url: &str, user: &str) -> (SocketAddr, String) {
        use base64::Engine as _;
        let addr = url.trim_start_matches("http://").parse().unwrap();
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", lab.password().expose()));
        (addr, basic)
    }

    async fn http(addr: SocketAddr, request: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn the_target_file_names_every_listener() {
        let lab = Lab::start(LabOptions {
            seed: 42,
            ..LabOptions::default()
        })
        .await
        .unwrap();
        let mut targets = lab.targets();
        // Test-only vendors (the toy, `vendors/echo`) get listeners and targets like any
        // other, after the real ones, each named after its kind (its own tests check it).
        let toys = targets.split_off(6);
        for toy in &toys {
            assert_eq!(toy.name, toy.kind.as_str());
            assert_eq!(Some(toy.url.clone()), lab.url(toy.kind));
        }
        assert_eq!(targets.len(), 6);
        for target in targets.iter().filter(|t| t.name == t.kind.as_str()) {
            assert_eq!(Some(target.url.clone()), lab.url(target.kind));
        }
        let names: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "powerstore",
                "vcd",
                "vcenter",
                "vcenter-appliance",
                "huawei_sms",
                "huawei_sms-aksk"
            ]
        );
        let sms = &targets[4..];
        assert_eq!(sms[0].url, sms[1].url);
        assert_eq!(
            huawei_sms::target::HuaweiScope::of(&sms[0]).and_then(|s| s.iam_url.clone()),
            Some(format!("{}/iam", sms[0].url))
        );
        assert_eq!(sms[1].user, huawei_sms::lab::LAB_ACCESS_KEY);
        let appliance = &targets[3];
        assert_eq!(appliance.user, "root");
        assert_eq!(targets[2].user, "administrator@vsphere.local");
        assert_ne!(appliance.url, targets[2].url);
        let vcd = targets
            .iter()
            .find(|t| t.kind == crate::vendors::vcd::KIND)
            .unwrap();
        assert_eq!(
            (vcd.name.as_str(), vcd.user.as_str()),
            ("vcd", "administrator@System")
        );
        assert_ne!(
            lab.url(crate::vendors::vcd::KIND),
            lab.url(crate::vendors::powerstore::KIND)
        );
        let text = lab.targets_toml();
        assert!(text.starts_with("# Generated by `cutover lab`"), "{text}");
        let parsed =
            Targets::parse(&text, Path::new("lab.toml"), &crate::vendors::kinds()).unwrap();
        // The file lists targets by name; the lab by listener.
        let mut parsed: Vec<_> = parsed.iter().cloned().collect();
        targets.extend(toys);
        parsed.sort_by(|a, b| a.name.cmp(&b.name));
        targets.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(parsed, targets);
        lab.shutdown().await;
    }

    #[tokio::test]
    async fn each_listener_logs_its_user_in_with_the_lab_password() {
        // (kind, user, the login request after its request line's method and path, the
        // header its answer carries the session's token in)
        let cases = [
            (
                crate::vendors::powerstore::KIND,
                LAB_USER,
                "GET /api/rest/login_session",
                "",
                "dell-emc-token: ",
            ),
            (
                crate::vendors::vcd::KIND,
                VCD_LAB_USER,
                "POST /cloudapi/1.0.0/sessions/provider",
                "Accept: application/json;version=38.0\r\nContent-Length: 0\r\n",
                "x-vmware-vcloud-access-token: ",
            ),
        ];
        for (kind, user, line, headers, token) in cases {
            let lab = Lab::start(LabOptions::default()).await.unwrap();
            let url = lab.url(kind).unwrap();
            let (addr, basic) = login(&lab, &url, user);
            let request = format!(
                "{line} HTTP/1.1\r\nHost: lab\r\nAuthorization: Basic {basic}\r\n{headers}Connection: close\r\n\r\n"
            );
            let response = http(addr, &request).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{kind}: {response}");
            assert!(
                response.to_ascii_lowercase().contains(token),
                "{kind}: {response}"
            );
            lab.shutdown().await;
            assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        }
    }

    #[tokio::test]
    async fn both_vcenter_listeners_serve_one_history_import() {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let targets = lab.targets();
        let call = |name: &str, method: &str, path: &str| {
            let target = targets.iter().find(|t| t.name == name).unwrap();
            let (addr, basic) = login(&lab, &target.url, &target.user);
            let request = format!(
                "{method} {path} HTTP/1.1\r\nHost: lab\r\nAuthorization: Basic {basic}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            async move { http(addr, &request).await }
        };
        // The proxy's pause is what the appliance port's read then shows.
        let pause = "/api/vcenter/deployment/history?action=pause";
        let paused = call("vcenter", "POST", pause).await;
        assert!(paused.starts_with("HTTP/1.1 200"), "{paused}");
        let read = "/rest/vcenter/deployment/history";
        let info = call("vcenter-appliance", "GET", read).await;
        assert!(info.starts_with("HTTP/1.1 200"), "{info}");
        assert!(info.contains("\"status\":\"BLOCKED\""), "{info}");
        lab.shutdown().await;
    }

    #[tokio::test]
    async fn a_tls_lab_names_its_private_ca_file_in_every_target_and_removes_it() {
        let lab = Lab::start(LabOptions {
            tls: true,
            ..LabOptions::default()
        })
        .await
        .unwrap();
        let ca_file = lab.ca_file().unwrap().to_path_buf();
        let name = ca_file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("cutover-lab-ca-") && name.ends_with(".pem"),
            "{name}"
        );
        #[allow(clippy::disallowed_methods, reason = "reading the CA the lab wrote")]
        let pem = std::fs::read_to_string(&ca_file).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            #[allow(clippy::disallowed_methods, reason = "checking the CA file's mode")]
            let mode = std::fs::metadata(&ca_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        let targets = lab.targets();
        for target in &targets {
            assert!(
                target.url.starts_with("https://127.0.0.1:"),
                "{}",
                target.url
            );
            assert_eq!(target.ca_file.as_deref(), Some(ca_file.as_path()));
        }
        let sms = targets
            .iter()
            .find(|t| t.kind == crate::vendors::huawei_sms::KIND)
            .unwrap();
        let iam = crate::vendors::huawei_sms::target::HuaweiScope::of(sms)
            .and_then(|s| s.iam_url.clone())
            .unwrap();
        assert!(iam.starts_with("https://127.0.0.1:"), "{iam}");
        let parsed = Targets::parse(
            &lab.targets_toml(),
            Path::new("lab.toml"),
            &crate::vendors::kinds(),
        )
        .unwrap();
        assert!(
            parsed
                .iter()
                .all(|t| t.ca_file.as_deref() == Some(ca_file.as_path())),
            "{}",
            lab.targets_toml()
        );
        lab.shutdown().await;
        assert!(!ca_file.exists(), "{}", ca_file.display());
    }

    #[test]
    fn the_password_follows_the_seed() {
        let password = password_for(1);
        assert_eq!(password, password_for(1));
        assert_ne!(password, password_for(2));
        let text = password.expose();
        assert!(text.starts_with("lab-") && text.len() == 20, "{text}");
        assert!(text[4..].chars().all(|c| c.is_ascii_hexdigit()), "{text}");
    }

    #[test]
    fn fixed_ports_count_up_from_the_first() {
        assert_eq!(port_for(0, 3).unwrap(), 0);
        assert_eq!(port_for(4000, 0).unwrap(), 4000);
        assert_eq!(port_for(4000, 1).unwrap(), 4001);
        assert!(port_for(u16::MAX, 1).is_err());
        assert_eq!(toml_string("a\"b\\c\n"), r#""a\"b\\c\u000A""#);
    }
}
