//! Target kinds as the target file sees them. Config sits below the vendors, so it knows
//! no vendor by name: whoever loads a target file hands it the list of [`KindSpec`]s
//! (the vendor list's), each naming a kind, the extra keys its entries may hold, and how
//! to check them into [`Extras`] the vendor reads back.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::host_names::HostNames;

/// The vendor API family a target speaks, by its target-file spelling (`kind = "vcd"`),
/// which is also the name of its script constructor (`vcd("prod")`). Each vendor folder
/// declares its own (`powerstore::KIND`); the known ones are those of the vendor list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetKind(&'static str);

impl TargetKind {
    /// The kind spelled `name` in target files.
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The spelling used in target files and as the script constructor's name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0)
    }
}

/// What one kind adds to the target file: its extra keys and their check.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: TargetKind,
    /// The keys its entries may hold besides the common ones; any other kind's entry
    /// that names one is refused ("applies only to … targets").
    pub keys: &'static [ExtraKey],
    /// Checks the extra keys of one entry (every key of the entry is visible, so a
    /// vendor can refuse a common key its scheme makes ambiguous).
    pub check: fn(&ExtraFields<'_>) -> Result<Extras, String>,
}

impl KindSpec {
    /// A kind whose entries hold the common keys only.
    pub const fn plain(kind: TargetKind) -> Self {
        Self {
            kind,
            keys: &[],
            check: no_extras,
        }
    }
}

fn no_extras(_: &ExtraFields<'_>) -> Result<Extras, String> {
    Ok(Extras::default())
}

/// One extra key of a kind, and the TOML type its value must have.
#[derive(Clone, Copy, Debug)]
pub struct ExtraKey {
    pub name: &'static str,
    pub shape: Shape,
}

/// The TOML type of a key's value; checked, with the file's line and column, before any
/// vendor sees the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A string (a path too).
    Text,
    /// An array of strings.
    TextList,
    /// A boolean.
    Flag,
    /// Any value; its reader checks it.
    Any,
}

/// One target entry as its kind's check sees it: every key it holds, already of the
/// right TOML type.
pub struct ExtraFields<'a> {
    pub(super) name: &'a str,
    pub(super) fields: &'a toml::Table,
}

impl ExtraFields<'_> {
    /// The target's name, cut short for errors.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Whether the entry holds `key`.
    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// The string value of `key`, if given.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(toml::Value::as_str)
    }

    /// The strings of array `key`; empty when not given.
    pub fn texts(&self, key: &str) -> Vec<&str> {
        self.fields
            .get(key)
            .and_then(toml::Value::as_array)
            .map(|items| items.iter().filter_map(toml::Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `url` checked as the target's `url` is (an http(s) base URL without credentials),
    /// errors naming `field`.
    pub fn url(&self, field: &str, url: &str) -> Result<String, String> {
        super::check_url(self.name, field, url)
    }

    /// A value of the file cut short for an error.
    pub fn quoted(value: &str) -> String {
        super::excerpt::quoted(value)
    }
}

/// Which keys of an entry hold its user and its secret, and what the secret is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The key of the user (or access key id).
    pub user: &'static str,
    /// The secret's key: `{secret}_env`, `{secret}_file` or (lab only) `{secret}`.
    pub secret: &'static str,
    /// What errors call the secret.
    pub secret_name: &'static str,
}

impl Credentials {
    /// `user` and a password: every kind's unless its check says otherwise.
    pub const PASSWORD: Self = Self {
        user: "user",
        secret: "password",
        secret_name: "password",
    };
}

impl Default for Credentials {
    fn default() -> Self {
        Self::PASSWORD
    }
}

/// Hosts a target entry names besides its own URL, each for one operation only (the
/// host gate lets that operation alone reach them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostGrant {
    /// The key that names them, for errors.
    pub field: &'static str,
    pub operation: &'static str,
    pub hosts: GrantedHosts,
}

/// The hosts of a [`HostGrant`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantedHosts {
    /// One more origin, given as a URL (`iam_url`).
    Origin(String),
    /// Host names, on the target's own scheme and port (`upload_hosts`).
    Named(HostNames),
}

/// What a kind's check made of an entry's extra keys: a value of the vendor's own type
/// (read back with [`Extras::get`]), the keys to write back, and what the rest of
/// config needs to know (credentials, granted hosts, the lab listener's role).
#[derive(Clone, Default)]
pub struct Extras {
    parsed: Option<Arc<dyn Any + Send + Sync>>,
    written: Vec<(&'static str, toml::Value)>,
    credentials: Credentials,
    grants: Vec<HostGrant>,
    role: &'static str,
}

impl Extras {
    /// Extras holding `parsed`, the vendor's own reading of the keys.
    pub fn new<T: Any + Send + Sync>(parsed: T) -> Self {
        Self {
            parsed: Some(Arc::new(parsed)),
            ..Self::default()
        }
    }

    /// The vendor's reading, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.parsed.as_deref()?.downcast_ref()
    }

    /// Adds `key = value` to what a written target file holds for the entry (after the
    /// common keys, before its credentials).
    pub fn write(mut self, key: &'static str, value: impl Into<toml::Value>) -> Self {
        self.written.push((key, value.into()));
        self
    }

    /// Reads the entry's user and secret from other keys than `user` and `password`.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Lets `grant.operation` reach hosts besides the target's own.
    pub fn grant(mut self, grant: HostGrant) -> Self {
        self.grants.push(grant);
        self
    }

    /// Matches the entry, under `--lab`, to the lab target named with this suffix.
    pub fn role(mut self, suffix: &'static str) -> Self {
        self.role = suffix;
        self
    }

    /// The value written for `key`, if any.
    pub fn value(&self, key: &str) -> Option<&toml::Value> {
        self.written.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The keys written back, in order.
    pub fn written(&self) -> &[(&'static str, toml::Value)] {
        &self.written
    }

    /// Where the entry's user and secret are read from.
    pub fn credential_keys(&self) -> Credentials {
        self.credentials
    }

    /// The hosts the entry names besides its own URL.
    pub fn grants(&self) -> &[HostGrant] {
        &self.grants
    }

    /// The suffix of the lab target the entry goes to under `--lab` (empty: the kind's
    /// first listener).
    pub fn lab_role(&self) -> &'static str {
        self.role
    }
}

impl PartialEq for Extras {
    fn eq(&self, other: &Self) -> bool {
        // The parsed value is read from the written keys; they say all.
        self.written == other.written
            && self.credentials == other.credentials
            && self.grants == other.grants
            && self.role == other.role
    }
}

// Extra keys hold strings and arrays of strings; no float that would not equal itself.
impl Eq for Extras {}

impl fmt::Debug for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extras")
            .field("written", &self.written)
            .field("credentials", &self.credentials)
            .field("grants", &self.grants)
            .field("role", &self.role)
            .finish()
    }
}
