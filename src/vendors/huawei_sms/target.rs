//! The Huawei Cloud part of a `huawei_sms` target (design.md, "Targets and secrets"): the
//! IAM endpoint, the account (domain) and project the token is scoped to, and whether
//! requests carry an IAM token or are signed with an access key (vendor-apis.md §5.2).

use crate::config::{
    Credentials, ExtraFields, ExtraKey, Extras, GrantedHosts, HostGrant, Shape, Target,
};
use crate::http::host_gate::IAM_LOGIN;

/// Lab target names of a Huawei SMS target that signs its requests end with this.
pub const AKSK_SUFFIX: &str = "-aksk";

/// The extra keys of a Huawei SMS target.
pub(super) const KEYS: &[ExtraKey] = &[
    text("iam_url"),
    text("domain"),
    text("project_id"),
    text("access_key"),
    text("secret_key_env"),
    text("secret_key_file"),
    text("secret_key"),
];

const fn text(name: &'static str) -> ExtraKey {
    ExtraKey {
        name,
        shape: Shape::Text,
    }
}

/// A signing target's user is its access key and its secret the secret key.
const SIGNING: Credentials = Credentials {
    user: "access_key",
    secret: "secret_key",
    secret_name: "secret key",
};

/// How a Huawei SMS target authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuaweiAuth {
    /// An IAM user's password buys a token (`X-Auth-Token`) from the IAM endpoint.
    IamToken,
    /// Every request is signed with the access key and its secret key
    /// (`SDK-HMAC-SHA256`), as the vendor's SDKs do.
    AccessKey,
}

/// Where a Huawei SMS target gets its authority from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiScope {
    /// The IAM endpoint (its own URL, e.g. `https://iam.myhuaweicloud.eu`); always set
    /// for [`HuaweiAuth::IamToken`].
    pub iam_url: Option<String>,
    /// The account the IAM user belongs to; always set for [`HuaweiAuth::IamToken`].
    pub domain: Option<String>,
    /// The project tokens are scoped to and signed requests name in `X-Project-Id`.
    pub project_id: String,
    /// Token or signature.
    pub auth: HuaweiAuth,
}

impl HuaweiScope {
    /// The scope of a `huawei_sms` target, if it is one.
    pub fn of(target: &Target) -> Option<&Self> {
        target.extras.get()
    }

    /// The target extras holding this scope: the keys a target file writes for it, its
    /// credentials' keys, and IAM's URL for the login alone.
    pub fn into_extras(self) -> Extras {
        let mut extras = Extras::new(self.clone());
        if let Some(iam_url) = &self.iam_url {
            extras = extras.write("iam_url", iam_url.as_str()).grant(HostGrant {
                field: "iam_url",
                operation: IAM_LOGIN,
                hosts: GrantedHosts::Origin(iam_url.clone()),
            });
        }
        if let Some(domain) = &self.domain {
            extras = extras.write("domain", domain.as_str());
        }
        extras = extras.write("project_id", self.project_id.as_str());
        match self.auth {
            HuaweiAuth::IamToken => extras,
            HuaweiAuth::AccessKey => extras.credentials(SIGNING).role(AKSK_SUFFIX),
        }
    }
}

/// Checks the Huawei fields of a `huawei_sms` target entry.
pub(super) fn check(fields: &ExtraFields<'_>) -> Result<Extras, String> {
    let name = fields.name();
    let project_id = match fields.text("project_id").map(str::trim) {
        Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            id.to_owned()
        }
        Some(id) => {
            return Err(format!(
                "target `{name}`: project_id `{}` is not a project id (letters and digits)",
                ExtraFields::quoted(id)
            ));
        }
        None => {
            return Err(format!(
                "target `{name}` needs `project_id`, the project its tasks belong to"
            ));
        }
    };
    let iam_url = fields
        .text("iam_url")
        .map(|url| fields.url("iam_url", url))
        .transpose()?;
    let domain = fields
        .text("domain")
        .filter(|d| !d.trim().is_empty())
        .map(str::to_owned);
    let auth = if fields.has("access_key") {
        signing(fields)?
    } else {
        token(fields, iam_url.is_some(), domain.is_some())?
    };
    Ok(HuaweiScope {
        iam_url,
        domain,
        project_id,
        auth,
    }
    .into_extras())
}

/// A target with `access_key` signs; a user and password would be ambiguous.
fn signing(fields: &ExtraFields<'_>) -> Result<HuaweiAuth, String> {
    let name = fields.name();
    let key = fields.text("access_key").unwrap_or_default();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "target `{name}`: access_key `{key}` is not an access key id (letters and digits)"
        ));
    }
    let password = ["user", "password_env", "password_file", "password"];
    if password.iter().any(|key| fields.has(key)) {
        return Err(format!(
            "target `{name}` signs with `access_key`: give its secret in `secret_key_env` or \
             `secret_key_file`, and no `user` or password"
        ));
    }
    Ok(HuaweiAuth::AccessKey)
}

/// A target without `access_key` logs in to IAM as a user of an account.
fn token(fields: &ExtraFields<'_>, iam_url: bool, domain: bool) -> Result<HuaweiAuth, String> {
    let name = fields.name();
    let secret_key = ["secret_key_env", "secret_key_file", "secret_key"];
    if secret_key.iter().any(|key| fields.has(key)) {
        return Err(format!(
            "target `{name}`: a secret key goes with `access_key`; without one the target \
             logs in with `user` and a password"
        ));
    }
    if !iam_url {
        return Err(format!(
            "target `{name}` needs `iam_url`, the IAM endpoint that hands out tokens \
             (e.g. https://iam.myhuaweicloud.eu), or `access_key` to sign requests instead"
        ));
    }
    if !domain {
        return Err(format!(
            "target `{name}` needs `domain`, the account the IAM user belongs to"
        ));
    }
    Ok(HuaweiAuth::IamToken)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{HuaweiAuth, HuaweiScope};
    use crate::config::{PasswordSource, Targets};

    const TOKEN: &str = "[targets.eu]\nkind = \"huawei_sms\"\nurl = \"https://sms.myhuaweicloud.eu\"\niam_url = \"https://iam.myhuaweicloud.eu/\"\nuser = \"bot\"\ndomain = \"acme\"\nproject_id = \"0215ef11e49d4743be23dd97a1561abc\"\npassword_env = \"CUTOVER_TEST_SMS_PASSWORD\"\n";
    const SIGNED: &str = "[targets.eu-sk]\nkind = \"huawei_sms\"\nurl = \"https://sms.myhuaweicloud.eu\"\nproject_id = \"0215ef11e49d4743be23dd97a1561abc\"\naccess_key = \"HPUAXXXXXXXXXXXXXXXX\"\nsecret_key_env = \"CUTOVER_TEST_SMS_SK\"\n";

    #[track_caller]
    fn refused(text: &str, expected: &str) {
        let err = Targets::parse(text, Path::new("t.toml"), &crate::vendors::kinds())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }

    #[test]
    fn both_schemes_resolve() {
        let t = Targets::parse(
            &format!("{TOKEN}\n{SIGNED}"),
            Path::new("t.toml"),
            &crate::vendors::kinds(),
        )
        .unwrap();
        let eu = t.get(crate::vendors::huawei_sms::KIND, "eu").unwrap();
        let scope = HuaweiScope::of(eu).unwrap();
        assert_eq!(scope.auth, HuaweiAuth::IamToken);
        assert_eq!(
            scope.iam_url.as_deref(),
            Some("https://iam.myhuaweicloud.eu")
        );
        assert_eq!(eu.secret_name(), "password");
        let signed = t.get(crate::vendors::huawei_sms::KIND, "eu-sk").unwrap();
        assert_eq!(signed.user, "HPUAXXXXXXXXXXXXXXXX");
        assert_eq!(
            signed.password,
            PasswordSource::Env("CUTOVER_TEST_SMS_SK".into())
        );
        assert_eq!(
            signed.password().unwrap_err().to_string(),
            "no secret key for target `eu-sk`: environment variable `CUTOVER_TEST_SMS_SK` is not set"
        );
        assert_eq!(
            t.target_with_secret_in("CUTOVER_TEST_SMS_SK"),
            Some("eu-sk")
        );
    }

    #[test]
    fn each_scheme_needs_its_fields_and_no_others() {
        refused(
            &TOKEN.replace("iam_url = \"https://iam.myhuaweicloud.eu/\"\n", ""),
            "needs `iam_url`",
        );
        refused(&TOKEN.replace("domain = \"acme\"\n", ""), "needs `domain`");
        refused(
            &TOKEN.replace("project_id = \"0215ef11e49d4743be23dd97a1561abc\"\n", ""),
            "needs `project_id`",
        );
        refused(
            &TOKEN.replace("https://iam.myhuaweicloud.eu/", "iam.example"),
            "iam_url `iam.example` is not an http(s) URL",
        );
        refused(
            &format!("{TOKEN}secret_key_env = \"X\"\n"),
            "a secret key goes with `access_key`",
        );
        refused(
            &format!("{SIGNED}user = \"bot\"\n"),
            "signs with `access_key`",
        );
        refused(
            &SIGNED.replace("secret_key_env = \"CUTOVER_TEST_SMS_SK\"\n", ""),
            "needs `secret_key_env` or `secret_key_file`",
        );
        refused(
            &format!("{SIGNED}secret_key = \"inline\"\n"),
            "give only one of `secret_key_env`, `secret_key_file`, `secret_key`",
        );
        refused(
            &SIGNED.replace(
                "secret_key_env = \"CUTOVER_TEST_SMS_SK\"",
                "secret_key = \"sk\"",
            ),
            "an inline `secret_key` is only for lab targets on loopback",
        );
        refused(
            &SIGNED.replace("HPUAXXXXXXXXXXXXXXXX", "HPUA XX"),
            "is not an access key id",
        );
    }

    #[test]
    fn other_kinds_refuse_huawei_fields() {
        refused(
            "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\nuser = \"u\"\npassword_env = \"P\"\nproject_id = \"x\"\n",
            "`project_id` applies only to huawei_sms targets",
        );
        refused(
            "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\npassword_env = \"P\"\n",
            "target `a` needs `user`",
        );
    }

    #[test]
    fn signing_targets_go_to_the_signing_lab_target() {
        let mut t = Targets::parse(
            &format!("{TOKEN}\n{SIGNED}"),
            Path::new("t.toml"),
            &crate::vendors::kinds(),
        )
        .unwrap();
        let lab = |name: &str, auth: HuaweiAuth| crate::config::Target {
            name: name.into(),
            kind: crate::vendors::huawei_sms::KIND,
            url: "http://127.0.0.1:4000".into(),
            user: name.into(),
            password: PasswordSource::Inline(crate::config::Secret::new("lab")),
            ca_file: None,
            insecure: false,
            extras: HuaweiScope {
                iam_url: Some("http://127.0.0.1:4000/iam".into()),
                domain: Some("lab".into()),
                project_id: "p".into(),
                auth,
            }
            .into_extras(),
            read_retries: crate::config::ReadRetries::default(),
            request_limits: crate::config::RequestLimits::default(),
        };
        t.redirect_to_lab(&[
            lab("huawei_sms", HuaweiAuth::IamToken),
            lab("huawei_sms-aksk", HuaweiAuth::AccessKey),
        ]);
        let users: Vec<_> = t
            .iter()
            .map(|t| (t.name.as_str(), t.user.as_str()))
            .collect();
        assert_eq!(
            users,
            [
                ("eu", "huawei_sms"),
                ("eu-sk", "huawei_sms-aksk"),
                ("huawei_sms", "huawei_sms"),
                ("huawei_sms-aksk", "huawei_sms-aksk"),
            ]
        );
    }
}
