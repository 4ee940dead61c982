//! Fuzz target: the target file (`cutover.toml`). Any text gives targets or the error
//! "invalid target file `…`: …", quoting at most a short excerpt of the file however
//! long its lines; a target that loads has a base URL requests can be appended to.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;

use super::mutate::{self, Format};
use super::support::config;
use crate::config::{ConfigError, Targets};

const FILE: &str = r#"# Production targets
[targets.array1]
kind = "powerstore"
url = "https://array1.example.com"
user = "admin"
password_file = "secrets/array1.pw"
ca_file = "certs/root.pem"
read_retries = { retries = 4, initial = "250ms", max = "10s", max_time = "1m" }
request_limits = { timeout = "30s", read_idle = 5000, max_body = 1048576 }

[targets.vcd1]
kind = "vcd"
url = "https://vcd.example.com/"
user = "admin@System"
password_env = "CUTOVER_VCD_PASSWORD"
read_retries = 0

[targets."prod-vc"]
kind = "vcenter"
url = "https://vc.example.com:5480"
user = "root"
password_env = "VC_PW"
upload_hosts = ["esx-01.example.com", "*.esx.example.com"]
insecure = true
"#;
const HUAWEI: &str = r#"[targets.eu-sms]
kind = "huawei_sms"
url = "https://sms.myhuaweicloud.eu"
iam_url = "https://iam.myhuaweicloud.eu"
user = "migration-bot"
domain = "acme"
project_id = "0215ef11e49d4743be23dd97a1561abc"
password_env = "CUTOVER_EU_SMS_PASSWORD"

[targets.eu-sms-signed]
kind = "huawei_sms"
url = "https://sms.myhuaweicloud.eu"
project_id = "0215ef11e49d4743be23dd97a1561abc"
access_key = "HPUAEXAMPLEACCESSKEY"
secret_key_env = "CUTOVER_EU_SMS_SK"
"#;
const LAB: &str = r#"[targets.lab]
kind = "powerstore"
url = "http://127.0.0.1:8443"
user = "admin"
password = "Password123!"
"#;
const SEEDS: &[&str] = &[FILE, HUAWEI, LAB];

/// The most characters an error may show: the file's path, a message, and an excerpt of
/// 80 characters either side of the place.
const MAX_MESSAGE: usize = 800;

const KEYS: &[&str] = &[
    "kind",
    "url",
    "user",
    "password_env",
    "password_file",
    "password",
    "ca_file",
    "insecure",
    "iam_url",
    "domain",
    "project_id",
    "access_key",
    "secret_key_env",
    "secret_key_file",
    "secret_key",
    "upload_hosts",
    "read_retries",
    "request_limits",
    "colour",
];

/// A TOML value for one of [`KEYS`]: the right types with odd contents, and wrong types.
fn value() -> impl Strategy<Value = String> {
    let long = (1..50_000_usize).prop_map(|n| format!("\"{}\"", "z".repeat(n)));
    prop_oneof![
        select(
            &[
                "\"powerstore\"",
                "\"vcd\"",
                "\"vcenter\"",
                "\"huawei_sms\"",
                "\"PowerStore\"",
                "\"https://a.example.com\"",
                "\"https://a.example.com/x?y=1#f\"",
                "\"http://127.0.0.1:1\"",
                "\"https://user:pw@a\"",
                "\"ftp://a\"",
                "\"https://\"",
                "\"\"",
                "\"   \"",
                "\"*.esx.example.com\"",
                "\"../../etc/passwd\"",
                "0",
                "-1",
                "9223372036854775807",
                "1.5",
                "true",
                "[]",
                "[\"a\", 1]",
                "{}",
                "{ retries = -1 }",
                "{ initial = \"-1s\" }",
                "{ max = \"1000000000y\" }",
                "{ timeout = 0 }",
                "{ max_body = 0 }",
                "{ max_body = \"1MB\" }",
                "{ nope = 1 }",
                "{ timeout = \"10s\", read_idle = \"1ms\", max_body = 1 }",
                "[\"esx-01\", \"*.\", \"bad host\"]",
                "\"0215ef11e49d4743be23dd97a1561abc\"",
                "\"a-b\"",
                "1979-05-27T07:32:00Z",
            ][..]
        )
        .prop_map(str::to_owned),
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        long,
    ]
}

/// A target file put together from targets of random keys and values.
fn assembled() -> impl Strategy<Value = String> {
    let target = (
        prop_oneof![
            "[a-z][a-z0-9-]{0,10}",
            any::<String>(),
            (1..20_000_usize).prop_map(|n| "n".repeat(n))
        ],
        proptest::option::of(select(&["powerstore", "vcd", "vcenter", "huawei_sms"][..])),
        proptest::collection::vec((select(KEYS), value()), 0..10),
    );
    proptest::collection::vec(target, 0..4).prop_map(|targets| {
        let mut text = String::new();
        for (name, kind, fields) in targets {
            text.push_str(&format!("[targets.{}]\n", toml::Value::String(name)));
            // A valid kind and URL get past the first checks to the ones after them.
            if let Some(kind) = kind {
                text.push_str(&format!(
                    "kind = \"{kind}\"\nurl = \"https://a.example.com\"\n"
                ));
            }
            for (key, value) in fields {
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        text
    })
}

/// Parses `text`; checks the error's whole shape, or that each target is usable.
fn check(text: &str) -> Result<(), TestCaseError> {
    match Targets::parse(
        text,
        Path::new("conf/cutover.toml"),
        &crate::vendors::kinds(),
    ) {
        Ok(targets) => {
            for target in targets.iter() {
                let url = reqwest::Url::parse(&target.url);
                prop_assert!(url.is_ok(), "{}", target.url);
                let url = url.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(matches!(url.scheme(), "http" | "https"), "{}", url);
                prop_assert!(url.query().is_none() && url.fragment().is_none(), "{}", url);
                prop_assert!(!target.url.ends_with('/'), "{}", target.url);
            }
        }
        Err(ConfigError::Parse { path, message }) => {
            prop_assert_eq!(path, Path::new("conf/cutover.toml"));
            prop_assert!(!message.is_empty());
            prop_assert!(
                message.chars().count() <= MAX_MESSAGE,
                "{} chars: {}…",
                message.chars().count(),
                message.chars().take(300).collect::<String>()
            );
        }
        Err(other) => prop_assert!(false, "not a parse error: {}", other),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn mutated_files_load_or_give_a_short_parse_error(text in mutate::text(Format::Json, SEEDS)) {
        check(&text)?;
    }

    #[test]
    fn assembled_files_load_or_give_a_short_parse_error(text in assembled()) {
        check(&text)?;
    }
}

#[test]
fn the_seeds_load() {
    for seed in SEEDS {
        let targets = Targets::parse(
            seed,
            Path::new("conf/cutover.toml"),
            &crate::vendors::kinds(),
        )
        .unwrap();
        assert!(targets.iter().count() >= 1);
    }
}
