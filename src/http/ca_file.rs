//! A target's `ca_file`: read, split into its PEM certificates, and each one checked,
//! so an empty, truncated or non-PEM file is refused before the run with the file's
//! name and what is wrong with it.

use std::path::Path;

use reqwest::Certificate;

/// The certificates in `path`, or a message saying which file and why not.
pub(super) fn load(path: &Path) -> Result<Vec<Certificate>, String> {
    let named = format!("ca_file `{}`", path.display());
    #[allow(clippy::disallowed_methods, reason = "http is the gate for CA files")]
    let pem = std::fs::read(path).map_err(|err| format!("cannot read {named}: {err}"))?;
    if pem.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "{named} is empty; it must hold the PEM certificate of the CA that signed the target's certificate"
        ));
    }
    let certificates = Certificate::from_pem_bundle(&pem)
        .map_err(|err| format!("{named} is not valid PEM: {}", chain(&err)))?;
    if certificates.is_empty() {
        return Err(format!(
            "{named} holds no certificate: expected PEM blocks starting with \
             `-----BEGIN CERTIFICATE-----`"
        ));
    }
    for (index, certificate) in certificates.iter().enumerate() {
        // rustls reads the certificate only when a client is built; build one for it
        // alone so a broken one is named here, not as "builder error".
        #[allow(clippy::disallowed_methods, reason = "checking one CA certificate")]
        reqwest::Client::builder()
            .tls_certs_only([certificate.clone()])
            .build()
            .map_err(|err| {
                format!(
                    "{named}: certificate {} of {} is not a valid X.509 certificate: {}",
                    index + 1,
                    certificates.len(),
                    chain(&err)
                )
            })?;
    }
    Ok(certificates)
}

/// An error with every cause under it, `: `-separated.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "tests write the CA files they load"
)]
mod tests {
    use super::*;

    fn refused(contents: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, contents).unwrap();
        load(&path)
            .unwrap_err()
            .replace(&path.display().to_string(), "ca.pem")
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(
            refused(b"\n"),
            "ca_file `ca.pem` is empty; it must hold the PEM certificate of the CA that signed the target's certificate"
        );
    }

    #[test]
    fn random_bytes_and_other_pem_are_refused() {
        let expected = "ca_file `ca.pem` holds no certificate: expected PEM blocks starting with \
                        `-----BEGIN CERTIFICATE-----`";
        assert_eq!(refused(&[0x8f, 0x01, 0xfe, 0x42, 0x00, 0x13]), expected);
        assert_eq!(
            refused(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"),
            expected
        );
    }

    #[test]
    fn a_certificate_block_that_is_not_a_certificate_is_named() {
        let text =
            refused(b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n");
        assert!(
            text.starts_with(
                "ca_file `ca.pem`: certificate 1 of 1 is not a valid X.509 certificate: "
            ),
            "{text}"
        );
    }

    /// A self-signed CA made once with `openssl req -x509 -newkey ec`.
    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBijCCATGgAwIBAgIUT1UjLyZujmGWmxpt4+dPyMdHQoUwCgYIKoZIzj0EAwIw\nGjEYMBYGA1UEAwwPY3V0b3ZlciB0ZXN0IENBMCAXDTI2MTIwMjIxMjcwNloYDzIx\nMjYxMTA4MjEyNzA2WjAaMRgwFgYDVQQDDA9jdXRvdmVyIHRlc3QgQ0EwWTATBgcq\nhkjOPQIBBggqhkjOPQMBBwNCAAT24nEVz17xbjZV6GjZsXVqvq3uq7YXXRZ/BD/C\n8Dzl1EZ1oxvL30uxwSv3i8gSvMHtEsKiKxi6NMFxdmlYtdxoo1MwUTAdBgNVHQ4E\nFgQU12nVHCDcLLhlEUNPKNAa7ba+yvQwHwYDVR0jBBgwFoAU12nVHCDcLLhlEUNP\nKNAa7ba+yvQwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBltTxS\nHnwC91W5ZoA/+bIjwwP60zeBAXNQGnV06LtUcAIgB3j7/YqiL4Ads+30loenhXmG\n2XvGMbBiQG0sPMQSd0o=\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_bundle_of_real_certificates_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.pem");
        std::fs::write(&path, format!("# corporate roots\n{CA}\n{CA}")).unwrap();
        assert_eq!(load(&path).unwrap().len(), 2);
    }

    #[test]
    fn a_missing_file_is_named() {
        let text = load(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            text.starts_with("cannot read ca_file `/nonexistent/ca.pem`: "),
            "{text}"
        );
    }
}
