//! The Huawei Cloud part of a `huawei_sms` target (design.md, "Targets and secrets"): the
//! IAM endpoint, the account (domain) and project the token is scoped to, and whether
//! requests carry an IAM token or are signed with an access key (vendor-apis.md §5.2).

use super::{RawTarget, TargetKind, check_url};

/// Lab target names of a Huawei SMS target that signs its requests end with this.
pub const AKSK_SUFFIX: &str = "-aksk";

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

/// Checks the Huawei fields of a raw target: required for `huawei_sms`, refused for
/// every other kind.
pub(super) fn scope(name: &str, raw: &RawTarget) -> Result<Option<HuaweiScope>, String> {
    let given = [
        ("iam_url", raw.iam_url.is_some()),
        ("domain", raw.domain.is_some()),
        ("project_id", raw.project_id.is_some()),
        ("access_key", raw.access_key.is_some()),
        ("secret_key_env", raw.secret_key_env.is_some()),
        ("secret_key_file", raw.secret_key_file.is_some()),
        ("secret_key", raw.secret_key.is_some()),
    ];
    if raw.kind != TargetKind::HuaweiSms {
        return match given.iter().find(|(_, set)| *set) {
            Some((field, _)) => Err(format!(
                "target `{name}`: `{field}` applies only to huawei_sms targets"
            )),
            None => Ok(None),
        };
    }
    let project_id = match raw.project_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            id.to_owned()
        }
        Some(id) => {
            return Err(format!(
                "target `{name}`: project_id `{}` is not a project id (letters and digits)",
                super::excerpt::quoted(id)
            ));
        }
        None => {
            return Err(format!(
                "target `{name}` needs `project_id`, the project its tasks belong to"
            ));
        }
    };
    let iam_url = raw
        .iam_url
        .as_deref()
        .map(|url| check_url(name, "iam_url", url))
        .transpose()?;
    let domain = raw.domain.clone().filter(|d| !d.trim().is_empty());
    let auth = if raw.access_key.is_some() {
        signing(name, raw)?
    } else {
        token(name, raw, iam_url.is_some(), domain.is_some())?
    };
    Ok(Some(HuaweiScope {
        iam_url,
        domain,
        project_id,
        auth,
    }))
}

/// A target with `access_key` signs; a user and password would be ambiguous.
fn signing(name: &str, raw: &RawTarget) -> Result<HuaweiAuth, String> {
    let key = raw.access_key.as_deref().unwrap_or_default();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "target `{name}`: access_key `{key}` is not an access key id (letters and digits)"
        ));
    }
    let password = raw.password_env.is_some() || raw.password_file.is_some();
    if raw.user.is_some() || password || raw.password.is_some() {
        return Err(format!(
            "target `{name}` signs with `access_key`: give its secret in `secret_key_env` or \
             `secret_key_file`, and no `user` or password"
        ));
    }
    Ok(HuaweiAuth::AccessKey)
}

/// A target without `access_key` logs in to IAM as a user of an account.
fn token(name: &str, raw: &RawTarget, iam_url: bool, domain: bool) -> Result<HuaweiAuth, String> {
    let secret_key =
        raw.secret_key_env.is_some() || raw.secret_key_file.is_some() || raw.secret_key.is_some();
    if secret_key {
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
    use crate::config::{PasswordSource, TargetKind, Targets};

    const TOKEN: &str = "[targets.eu]\nkind = \"huawei_sms\"\nurl = \"https://sms.myhuaweicloud.eu\"\niam_url = \"https://iam.myhuaweicloud.eu/\"\nuser = \"bot\"\ndomain = \"acme\"\nproject_id = \"0215ef11e49d4743be23dd97a1561abc\"\npassword_env = \"CUTOVER_TEST_SMS_PASSWORD\"\n";
    const SIGNED: &str = "[targets.eu-sk]\nkind = \"huawei_sms\"\nurl = \"https://sms.myhuaweicloud.eu\"\nproject_id = \"0215ef11e49d4743be23dd97a1561abc\"\naccess_key = \"HPUAXXXXXXXXXXXXXXXX\"\nsecret_key_env = \"CUTOVER_TEST_SMS_SK\"\n";

    #[track_caller]
    fn refused(text: &str, expected: &str) {
        let err = Targets::parse(text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }

    #[test]
    fn both_schemes_resolve() {
        let t = Targets::parse(&format!("{TOKEN}\n{SIGNED}"), Path::new("t.toml")).unwrap();
        let eu = t.get(TargetKind::HuaweiSms, "eu").unwrap();
        let scope = eu.huawei.as_ref().unwrap();
        assert_eq!(scope.auth, HuaweiAuth::IamToken);
        assert_eq!(
            scope.iam_url.as_deref(),
            Some("https://iam.myhuaweicloud.eu")
        );
        assert_eq!(eu.secret_name(), "password");
        let signed = t.get(TargetKind::HuaweiSms, "eu-sk").unwrap();
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
        let mut t = Targets::parse(&format!("{TOKEN}\n{SIGNED}"), Path::new("t.toml")).unwrap();
        let lab = |name: &str, auth: HuaweiAuth| crate::config::Target {
            name: name.into(),
            kind: TargetKind::HuaweiSms,
            url: "http://127.0.0.1:4000".into(),
            user: name.into(),
            password: PasswordSource::Inline(crate::config::Secret::new("lab")),
            ca_file: None,
            insecure: false,
            huawei: Some(HuaweiScope {
                iam_url: Some("http://127.0.0.1:4000/iam".into()),
                domain: Some("lab".into()),
                project_id: "p".into(),
                auth,
            }),
            upload_hosts: crate::config::UploadHosts::default(),
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
