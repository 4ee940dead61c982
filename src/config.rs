//! The target file (`cutover.toml`): named targets with their kind, URL, user, where the
//! secret lives, and TLS settings. Scripts name targets; only this module reads the file.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

mod excerpt;
mod host_names;
mod kind;
mod raw;
mod read_retries;
mod request_limits;
mod setting;
pub(crate) mod write;

pub use host_names::HostNames;
pub use kind::{
    Credentials, ExtraFields, ExtraKey, Extras, GrantedHosts, HostGrant, KindSpec, Shape,
    TargetKind,
};
pub use read_retries::ReadRetries;
pub use request_limits::{Rate, RequestLimits};
pub use write::targets_toml;

/// vCenter's appliance management port (local `root`), as opposed to its reverse proxy.
pub const APPLIANCE_PORT: u16 = 5480;
/// Lab target names of an appliance-port listener end with this.
pub const APPLIANCE_SUFFIX: &str = "-appliance";

/// The file looked for in the working directory when no other is named.
pub const DEFAULT_TARGET_FILE: &str = "cutover.toml";

/// A password or token: never printed, never in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a target's password (or a signing target's secret key) comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// An environment variable, read when the target is first used.
    Env(String),
    /// A file whose first line is the password.
    File(PathBuf),
    /// Written in the target file; meant for generated lab files.
    Inline(Secret),
}

/// One resolved target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    /// Base URL without a trailing slash, e.g. `https://array1.example.com`.
    pub url: String,
    /// The user; for a target that signs its requests, the access key id.
    pub user: String,
    /// The password; for a target that signs its requests, the secret key.
    pub password: PasswordSource,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    /// What its kind's extra keys said, read back by its vendor.
    pub extras: Extras,
    /// How reads answered with a retryable error are sent again.
    pub read_retries: ReadRetries,
    /// How long a request may take and how large its answer may be.
    pub request_limits: RequestLimits,
}

#[cfg(test)]
impl Target {
    /// A PowerStore target `array1` at `url` with default settings and password `x`, for
    /// unit tests that need a client but no target file.
    pub(crate) fn for_tests(url: &str) -> Self {
        Self {
            name: "array1".into(),
            kind: TargetKind::new("powerstore"),
            url: url.into(),
            user: "admin".into(),
            password: PasswordSource::Inline(Secret::new("x")),
            ca_file: None,
            insecure: false,
            extras: Extras::default(),
            read_retries: ReadRetries::default(),
            request_limits: RequestLimits::default(),
        }
    }
}

impl Target {
    /// Reads the password (or secret key) from wherever the target file said it lives.
    pub fn password(&self) -> Result<Secret, ConfigError> {
        let missing = |reason: String| ConfigError::MissingSecret {
            target: self.name.clone(),
            what: self.secret_name(),
            reason,
        };
        match &self.password {
            PasswordSource::Inline(secret) => Ok(secret.clone()),
            PasswordSource::Env(var) => match std::env::var(var) {
                Ok(value) if !value.is_empty() => Ok(Secret(value)),
                _ => Err(missing(format!("environment variable `{var}` is not set"))),
            },
            PasswordSource::File(path) => {
                #[allow(clippy::disallowed_methods, reason = "config is the gate for secrets")]
                let text = std::fs::read_to_string(path)
                    .map_err(|err| missing(format!("cannot read `{}`: {err}", path.display())))?;
                let line = text.lines().next().unwrap_or_default().trim_end();
                if line.is_empty() {
                    return Err(missing(format!("`{}` is empty", path.display())));
                }
                Ok(Secret(line.to_owned()))
            }
        }
    }

    /// What the target's secret is: a password, or the secret key of a signing target.
    pub fn secret_name(&self) -> &'static str {
        self.extras.credential_keys().secret_name
    }
}

/// What can go wrong finding or reading targets.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read target file `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid target file `{}`: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{message}")]
    UnknownTarget { message: String },
    #[error("no {what} for target `{target}`: {reason}")]
    MissingSecret {
        target: String,
        what: &'static str,
        reason: String,
    },
}

/// The targets a run may use, from the target file and, with `--lab`, the lab.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    file: Option<PathBuf>,
    list: Vec<Target>,
    /// `(target, variable)` for every password held in the environment; kept across
    /// the lab redirect so a rehearsal cannot read production secrets either.
    secret_variables: Vec<(String, String)>,
    /// See [`Targets::secret_files`].
    secret_files: Vec<(PathBuf, String)>,
    /// Whether the targets point at the lab (`--lab`), for errors that name its targets.
    lab: bool,
    /// The kinds the file was read with (the vendor list's), for whoever needs to tell
    /// a target constructor from any other call.
    kinds: Vec<TargetKind>,
}

impl Targets {
    /// Finds the target file: `explicit` (from `--targets` or `CUTOVER_TARGETS`), else
    /// `./cutover.toml` when it exists, else no targets at all. `kinds` are the kinds
    /// its entries may have (the vendor list's).
    pub fn load(explicit: Option<&Path>, kinds: &[&KindSpec]) -> Result<Self, ConfigError> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None if Path::new(DEFAULT_TARGET_FILE).is_file() => PathBuf::from(DEFAULT_TARGET_FILE),
            None => return Ok(Self::none(kinds)),
        };
        #[allow(
            clippy::disallowed_methods,
            reason = "config is the gate for the target file"
        )]
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let targets = Self::parse(&text, &path, kinds)?;
        targets.warn_about_inline_passwords(&path);
        Ok(targets)
    }

    /// No target file: no targets, `kinds` known.
    pub fn none(kinds: &[&KindSpec]) -> Self {
        Self {
            kinds: kinds.iter().map(|spec| spec.kind).collect(),
            ..Self::default()
        }
    }

    /// Parses target-file text; `path` names the file in errors and anchors relative
    /// paths; `kinds` are the kinds its entries may have, each checking its extra keys.
    pub fn parse(text: &str, path: &Path, kinds: &[&KindSpec]) -> Result<Self, ConfigError> {
        let parse_error = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let raw = raw::read(text, kinds).map_err(parse_error)?;
        let base = path.parent().unwrap_or(Path::new(""));
        let headers = header_lines(text);
        let mut list = Vec::with_capacity(raw.len());
        for target in raw {
            let line = headers.get(&target.name).copied().unwrap_or(1);
            let target = resolve(target, base, kinds)
                .map_err(|message| parse_error(format!("line {line}: {message}")))?;
            list.push(target);
        }
        let secret_variables = list
            .iter()
            .filter_map(|t| match &t.password {
                PasswordSource::Env(var) => Some((t.name.clone(), var.clone())),
                _ => None,
            })
            .collect();
        let mut secret_files: Vec<(PathBuf, String)> = list
            .iter()
            .filter_map(|t| match &t.password {
                PasswordSource::File(file) => Some((
                    file.clone(),
                    format!("holds the {} of target `{}`", t.secret_name(), t.name),
                )),
                _ => None,
            })
            .collect();
        secret_files.push((path.to_path_buf(), "is the target file".to_owned()));
        Ok(Self {
            secret_variables,
            secret_files,
            file: Some(path.to_path_buf()),
            list,
            lab: false,
            kinds: kinds.iter().map(|spec| spec.kind).collect(),
        })
    }

    /// The kinds a target may have: the names of the script's target constructors.
    pub fn kinds(&self) -> &[TargetKind] {
        &self.kinds
    }

    /// Files no script may read or write, each with what it is ("holds the password of
    /// target `a`"): every secret file a target names, and the target file itself. Kept
    /// across the lab redirect, so a rehearsal cannot read production secrets either.
    pub fn secret_files(&self) -> &[(PathBuf, String)] {
        &self.secret_files
    }

    /// Every target, in name order (lab targets last).
    pub fn iter(&self) -> impl Iterator<Item = &Target> {
        self.list.iter()
    }

    /// The target holding its password in environment variable `var`, if any.
    pub fn target_with_secret_in(&self, var: &str) -> Option<&str> {
        self.secret_variables
            .iter()
            .find(|(_, v)| v == var)
            .map(|(target, _)| target.as_str())
    }

    /// The target file these targets came from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The target `name` of `kind`, or an error that suggests the closest name.
    pub fn get(&self, kind: TargetKind, name: &str) -> Result<&Target, ConfigError> {
        let mut of_kind = self.list.iter().filter(|t| t.kind == kind);
        if let Some(target) = of_kind.clone().find(|t| t.name == name) {
            return Ok(target);
        }
        let mut message = match (&self.file, self.lab) {
            (file, true) => {
                let names: Vec<String> = of_kind.clone().map(|t| format!("`{}`", t.name)).collect();
                let whence = file
                    .as_ref()
                    .map_or(String::new(), |file| format!("in `{}` or ", file.display()));
                format!(
                    "no {kind} target `{name}` {whence}in the lab; its {kind} targets are {}",
                    names.join(", ")
                )
            }
            (Some(file), false) => format!("no {kind} target `{name}` in `{}`", file.display()),
            (None, false) => format!(
                "no {kind} target `{name}` (no target file: pass --targets, set CUTOVER_TARGETS, or create ./{DEFAULT_TARGET_FILE})"
            ),
        };
        let closest = crate::suggest::closest(name, of_kind.by_ref().map(|t| t.name.as_str()))
            // Under the lab, a name far from every other still has an obvious choice:
            // the lab's own target of the kind.
            .or_else(|| {
                let own = self.lab.then(|| kind.as_str())?;
                self.list.iter().any(|t| t.name == own).then_some(own)
            });
        if let Some(other) = self.list.iter().find(|t| t.name == name) {
            message = format!("target `{name}` is of kind {}, not {kind}", other.kind);
        } else if let Some(best) = closest {
            message.push_str(&crate::suggest::did_you_mean(best));
        }
        Err(ConfigError::UnknownTarget { message })
    }

    /// Points every target at the lab listener of its kind, keeping names, and adds the
    /// lab's own targets under the names `cutover lab --targets-out` writes, so a
    /// production playbook rehearses unchanged and the lab's names work everywhere.
    ///
    /// A kind with two listeners (vCenter's appliance port and reverse proxy) is matched
    /// by port role: a target on port 5480 goes to the appliance listener (named with
    /// [`APPLIANCE_SUFFIX`]), any other to the proxy. A target whose extras name a lab
    /// role ([`Extras::role`]: a Huawei SMS target that signs) goes to the lab target
    /// named with that suffix.
    pub fn redirect_to_lab(&mut self, lab: &[Target]) {
        for target in &mut self.list {
            let of_kind = || lab.iter().filter(|l| l.kind == target.kind);
            let listener = of_kind()
                .find(|l| variant(l) == variant(target))
                .or_else(|| of_kind().next());
            if let Some(listener) = listener {
                // A rehearsal retries reads as the target file says production will.
                let name = std::mem::take(&mut target.name);
                *target = Target {
                    name,
                    read_retries: target.read_retries,
                    request_limits: target.request_limits,
                    ..listener.clone()
                };
            }
        }
        self.list
            .retain(|t| !lab.iter().any(|l| l.name == t.name && l.kind == t.kind));
        self.list.extend(lab.iter().cloned());
        self.lab = true;
    }

    #[cfg(unix)]
    fn warn_about_inline_passwords(&self, path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let inline = self
            .list
            .iter()
            .filter(|t| matches!(t.password, PasswordSource::Inline(_)));
        #[allow(
            clippy::disallowed_methods,
            reason = "config is the gate for the target file"
        )]
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        for _ in inline {
            if mode & 0o004 != 0 {
                tracing::warn!(
                    "`{}` holds a password and is readable by others; chmod 600 it",
                    path.display()
                );
            }
        }
    }

    #[cfg(not(unix))]
    fn warn_about_inline_passwords(&self, _path: &Path) {}
}

/// Writes a file that may hold secrets (a lab target file) readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn resolve(raw: raw::RawTarget<'_>, base: &Path, kinds: &[&KindSpec]) -> Result<Target, String> {
    // Errors name the target, whose name may be of any length: quote a short excerpt.
    let shown = excerpt::quoted(&raw.name);
    let url = check_url(&shown, "url", raw.text("url").unwrap_or_default())?;
    // A key another kind adds is refused by name, before this kind's check reads its own.
    for spec in kinds.iter().filter(|spec| spec.kind != raw.spec.kind) {
        let own = |key: &str| raw.spec.keys.iter().any(|extra| extra.name == key);
        if let Some(extra) = spec
            .keys
            .iter()
            .find(|e| raw.fields.contains_key(e.name) && !own(e.name))
        {
            return Err(format!(
                "target `{shown}`: `{}` applies only to {} targets",
                extra.name, spec.kind
            ));
        }
    }
    let extras = (raw.spec.check)(&ExtraFields {
        name: &shown,
        fields: &raw.fields,
    })?;
    let read_retries = read_retries::read_retries(&shown, raw.fields.get("read_retries"))?;
    let request_limits = request_limits::request_limits(&shown, raw.fields.get("request_limits"))?;
    let keys = extras.credential_keys();
    let user = raw
        .text(keys.user)
        .ok_or_else(|| format!("target `{shown}` needs `{}`", keys.user))?
        .to_owned();
    let secret = |suffix: &str| {
        raw.text(&format!("{}{suffix}", keys.secret))
            .map(str::to_owned)
    };
    let password = secret_source(
        &shown,
        keys.secret,
        (
            secret("_env"),
            secret("_file").map(PathBuf::from),
            secret(""),
        ),
        &url,
        base,
    )?;
    Ok(Target {
        kind: raw.spec.kind,
        url,
        user,
        password,
        ca_file: raw.text("ca_file").map(|file| base.join(file)),
        insecure: raw.fields.get("insecure").and_then(toml::Value::as_bool) == Some(true),
        extras,
        read_retries,
        request_limits,
        name: raw.name,
    })
}

/// An http(s) URL without credentials, a query, a fragment or a trailing slash (paths
/// are appended to it); `field` names it in errors.
fn check_url(name: &str, field: &str, url: &str) -> Result<String, String> {
    let url = url.trim_end_matches('/').to_owned();
    let name = excerpt::quoted(name);
    match reqwest::Url::parse(&url) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => Err(format!(
            "target `{name}`: put credentials in `user` and `password_env`, not in the {field}"
        )),
        Ok(parsed) if parsed.query().is_some() || parsed.fragment().is_some() => Err(format!(
            "target `{name}`: {field} `{}` has a query or a fragment; give the base URL only \
             (scheme, host, port and path)",
            excerpt::quoted(&url)
        )),
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(url)
        }
        _ => Err(format!(
            "target `{name}`: {field} `{}` is not an http(s) URL",
            excerpt::quoted(&url)
        )),
    }
}

/// Where a secret lives: exactly one of `{field}_env`, `{field}_file` and (for lab
/// targets on loopback only) an inline `{field}`.
fn secret_source(
    name: &str,
    field: &str,
    (env, file, inline): (Option<String>, Option<PathBuf>, Option<String>),
    url: &str,
    base: &Path,
) -> Result<PasswordSource, String> {
    match (env, file, inline) {
        (Some(var), None, None) => Ok(PasswordSource::Env(var)),
        (None, Some(file), None) => Ok(PasswordSource::File(base.join(file))),
        (None, None, Some(inline)) if is_loopback(url) => {
            Ok(PasswordSource::Inline(Secret(inline)))
        }
        (None, None, Some(_)) => Err(format!(
            "target `{name}`: an inline `{field}` is only for lab targets on loopback; \
             use `{field}_env` or `{field}_file`"
        )),
        (None, None, None) => Err(format!(
            "target `{name}` needs `{field}_env` or `{field}_file`"
        )),
        _ => Err(format!(
            "target `{name}`: give only one of `{field}_env`, `{field}_file`, `{field}`"
        )),
    }
}

/// The role of a target among the lab targets of its kind, as the suffix of its lab
/// name: the one its kind's extras name (a Huawei SMS target that signs), vCenter's
/// appliance port, or neither.
fn variant(target: &Target) -> &'static str {
    if !target.extras.lab_role().is_empty() {
        target.extras.lab_role()
    } else if is_appliance(target) {
        APPLIANCE_SUFFIX
    } else {
        ""
    }
}

/// Whether a target is an appliance-port target (see [`Targets::redirect_to_lab`]).
fn is_appliance(target: &Target) -> bool {
    target.name.ends_with(APPLIANCE_SUFFIX)
        || reqwest::Url::parse(&target.url).is_ok_and(|u| u.port() == Some(APPLIANCE_PORT))
}

/// The line of each `[targets.NAME]` header in the file, for errors found after
/// parsing; one pass over the text, however many targets it holds.
fn header_lines(text: &str) -> HashMap<String, usize> {
    let mut lines = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) else {
            continue;
        };
        let Some(name) = header.trim().strip_prefix("targets").map(str::trim_start) else {
            continue;
        };
        let Some(name) = name.strip_prefix('.').map(str::trim) else {
            continue;
        };
        let name = name.trim_matches('"').to_owned();
        lines.entry(name).or_insert(index + 1);
    }
    lines
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| host == "localhost" || host.starts_with("127.") || host == "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[targets.array1]
kind = "powerstore"
url = "https://array1.example.com/"
user = "admin"
password_env = "CUTOVER_TEST_ARRAY1_PASSWORD"
ca_file = "certs/root.pem"

[targets.array2]
kind = "powerstore"
url = "https://array2.example.com"
user = "admin"
password_file = "secrets/array2"
"#;

    fn targets() -> Targets {
        parse_as(FILE, "conf/cutover.toml").unwrap()
    }

    /// Parses `text` as the target file `path`, with every vendor's kinds.
    fn parse_as(text: &str, path: &str) -> Result<Targets, ConfigError> {
        Targets::parse(text, Path::new(path), &crate::vendors::kinds())
    }

    /// The error parsing `text` as `t.toml` gives.
    #[track_caller]
    fn error_of(text: &str) -> String {
        parse_as(text, "t.toml").unwrap_err().to_string()
    }

    /// The error looking up powerstore target `name` gives.
    #[track_caller]
    fn powerstore_error(targets: &Targets, name: &str) -> String {
        targets
            .get(crate::vendors::powerstore::KIND, name)
            .unwrap_err()
            .to_string()
    }

    /// Each target's name and URL, in order.
    fn names_and_urls(targets: &Targets) -> Vec<(&str, &str)> {
        targets
            .iter()
            .map(|t| (t.name.as_str(), t.url.as_str()))
            .collect()
    }

    /// Found by fuzzing: errors after the URL check quoted a target's name, a key or a
    /// value whole, however long.
    #[test]
    fn errors_quote_long_names_keys_and_values_short() {
        #[track_caller]
        fn case(text: &str, expected: &str) {
            assert_eq!(error_of(text), expected);
        }
        let long = "n".repeat(10_000);
        let cut = format!("{}…", "n".repeat(80));
        case(
            &format!(
                "[targets.{long}]\nkind = \"vcd\"\nurl = \"https://a\"\npassword_env = \"P\"\n"
            ),
            &format!("invalid target file `t.toml`: line 1: target `{cut}` needs `user`"),
        );
        case(
            &format!(
                "[targets.a]\nkind = \"vcd\"\nurl = \"https://a\"\nuser = \"u\"\npassword_env = \"P\"\nread_retries = {{ {long} = 1 }}\n"
            ),
            &format!(
                "invalid target file `t.toml`: line 1: target `a`: `read_retries` has no `{cut}`; use retries, initial, max, max_time"
            ),
        );
        case(
            &format!(
                "[targets.a]\nkind = \"vcenter\"\nurl = \"https://a\"\nuser = \"u\"\npassword_env = \"P\"\nupload_hosts = [\"{long}!\"]\n"
            ),
            &format!(
                "invalid target file `t.toml`: line 1: target `a`: upload host `{cut}` is not a host name or `*.domain`"
            ),
        );
    }

    #[test]
    fn paths_are_relative_to_the_target_file() {
        let t = targets();
        let one = t.get(crate::vendors::powerstore::KIND, "array1").unwrap();
        assert_eq!(one.url, "https://array1.example.com");
        assert_eq!(
            one.ca_file.as_deref(),
            Some(Path::new("conf/certs/root.pem"))
        );
        let two = t.get(crate::vendors::powerstore::KIND, "array2").unwrap();
        assert_eq!(
            two.password,
            PasswordSource::File("conf/secrets/array2".into())
        );
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        assert_eq!(
            powerstore_error(&targets(), "aray1"),
            "no powerstore target `aray1` in `conf/cutover.toml`; did you mean `array1`?"
        );
        assert_eq!(
            powerstore_error(&targets(), "zzzzzzzz"),
            "no powerstore target `zzzzzzzz` in `conf/cutover.toml`"
        );
    }

    #[test]
    fn a_misspelt_key_names_file_line_and_key() {
        let text = "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\nuser = \"u\"\npasword_env = \"X\"\n";
        let err = parse_as(text, "cutover.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid target file `cutover.toml`:"),
            "{err}"
        );
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("pasword_env"), "{err}");
    }

    #[test]
    fn each_target_needs_exactly_one_password_source() {
        let none = "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\nuser = \"u\"\n";
        let err = error_of(none);
        assert_eq!(
            err,
            "invalid target file `t.toml`: line 1: target `a` needs `password_env` or `password_file`"
        );
        let two = format!("{none}password_env = \"A\"\npassword = \"b\"\n");
        let err = error_of(&two);
        assert!(err.contains("only one of"), "{err}");
    }

    #[test]
    fn bad_urls_and_kinds_are_rejected() {
        let bad_url = "[targets.a]\nkind = \"powerstore\"\nurl = \"ftp://a\"\nuser = \"u\"\npassword_env = \"A\"\n";
        let err = error_of(bad_url);
        assert!(err.contains("not an http(s) URL"), "{err}");
        let bad_kind = "[targets.a]\nkind = \"netapp\"\nurl = \"https://a\"\nuser = \"u\"\npassword_env = \"A\"\n";
        let err = error_of(bad_kind);
        assert!(err.contains("netapp"), "{err}");
    }

    #[test]
    fn missing_environment_secret_names_the_variable_not_a_value() {
        let t = targets();
        let err = t
            .get(crate::vendors::powerstore::KIND, "array1")
            .unwrap()
            .password()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no password for target `array1`: environment variable `CUTOVER_TEST_ARRAY1_PASSWORD` is not set"
        );
    }

    #[test]
    fn lab_redirect_keeps_names_and_adds_the_lab_targets() {
        let mut t = targets();
        let lab = Target {
            name: "powerstore".into(),
            password: PasswordSource::Inline(Secret::new("lab")),
            ..Target::for_tests("http://127.0.0.1:4000")
        };
        t.redirect_to_lab(std::slice::from_ref(&lab));
        assert_eq!(
            names_and_urls(&t),
            [
                ("array1", "http://127.0.0.1:4000"),
                ("array2", "http://127.0.0.1:4000"),
                ("powerstore", "http://127.0.0.1:4000")
            ]
        );
        assert_eq!(
            powerstore_error(&t, "lab"),
            "no powerstore target `lab` in `conf/cutover.toml` or in the lab; its powerstore \
             targets are `array1`, `array2`, `powerstore`; did you mean `powerstore`?"
        );
    }

    #[test]
    fn inline_passwords_and_url_credentials_are_refused_for_real_hosts() {
        let inline = "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a.example.com\"\nuser = \"u\"\npassword = \"p\"\n";
        let err = error_of(inline);
        assert!(err.contains("only for lab targets on loopback"), "{err}");
        let lab = inline.replace("https://a.example.com", "http://127.0.0.1:4000");
        assert!(parse_as(&lab, "t.toml").is_ok());
        let userinfo = "[targets.a]\nkind = \"powerstore\"\nurl = \"https://u:p@a.example.com\"\nuser = \"u\"\npassword_env = \"P\"\n";
        let err = error_of(userinfo);
        assert!(err.contains("not in the url"), "{err}");
        assert!(!err.contains("u:p"), "{err}");
    }

    #[test]
    fn secret_variables_survive_the_lab_redirect() {
        let mut t = targets();
        t.redirect_to_lab(&[]);
        assert_eq!(
            t.target_with_secret_in("CUTOVER_TEST_ARRAY1_PASSWORD"),
            Some("array1")
        );
        assert_eq!(t.target_with_secret_in("HOME"), None);
    }

    #[test]
    fn appliance_targets_go_to_the_appliance_listener() {
        let text = "[targets.vc]\nkind = \"powerstore\"\nurl = \"https://vc.example.com\"\nuser = \"a\"\npassword_env = \"P\"\n\n[targets.vc-root]\nkind = \"powerstore\"\nurl = \"https://vc.example.com:5480\"\nuser = \"root\"\npassword_env = \"Q\"\n";
        let mut t = parse_as(text, "t.toml").unwrap();
        let listener = |name: &str, port: u16| Target {
            name: name.into(),
            kind: crate::vendors::powerstore::KIND,
            user: "lab".into(),
            password: PasswordSource::Inline(Secret::new("lab")),
            ..Target::for_tests(&format!("http://127.0.0.1:{port}"))
        };
        t.redirect_to_lab(&[
            listener("powerstore", 4000),
            listener("powerstore-appliance", 4001),
        ]);
        assert_eq!(
            names_and_urls(&t),
            [
                ("vc", "http://127.0.0.1:4000"),
                ("vc-root", "http://127.0.0.1:4001"),
                ("powerstore", "http://127.0.0.1:4000"),
                ("powerstore-appliance", "http://127.0.0.1:4001"),
            ]
        );
    }

    #[test]
    fn a_url_with_a_query_or_fragment_is_refused() {
        for url in [
            "https://a.example.com/?x=1",
            "https://a.example.com/api#top",
        ] {
            let text = format!(
                "[targets.a]\nkind = \"powerstore\"\nurl = \"{url}\"\nuser = \"u\"\npassword_env = \"P\"\n"
            );
            let err = error_of(&text);
            assert_eq!(
                err,
                format!(
                    "invalid target file `t.toml`: line 1: target `a`: url `{url}` has a query \
                     or a fragment; give the base URL only (scheme, host, port and path)"
                )
            );
        }
    }

    #[test]
    fn many_targets_load_in_one_pass() {
        // Each target's header line used to be found by scanning the whole file, which
        // took minutes for a few thousand targets.
        let text: String = (0..5_000)
            .map(|i| {
                format!(
                    "[targets.t{i}]\nkind = \"powerstore\"\nurl = \"https://a{i}.example.com\"\n\
                     user = \"u\"\npassword_env = \"P{i}\"\n\n"
                )
            })
            .collect();
        let targets = parse_as(&text, "t.toml").unwrap();
        assert_eq!(targets.iter().count(), 5_000);
        let broken = text.replace("password_env = \"P4321\"", "");
        let err = error_of(&broken);
        assert!(
            err.contains(&format!("line {}: target `t4321`", 4321 * 6 + 1)),
            "{err}"
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
