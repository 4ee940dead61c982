//! The lab's certificates: one CA per lab, generated at start, and a server certificate
//! per listener signed by it, valid for `127.0.0.1` and `localhost`, so a client that
//! trusts the CA's PEM (a target's `ca_file`, `curl --cacert`) verifies every listener
//! as it would a vendor's real certificate.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names every listener's certificate holds: the lab only listens on loopback.
const SERVER_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// The lab's certificate authority: its PEM for clients to trust, and its key to sign
/// the listeners' certificates with.
pub struct LabCa {
    pem: String,
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of any output.
        f.debug_struct("LabCa").finish_non_exhaustive()
    }
}

impl LabCa {
    /// A fresh CA with a new key: a lab's certificates are trusted only while it runs.
    pub fn generate() -> io::Result<Self> {
        let key = KeyPair::generate().map_err(failed)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        // A name of its own per CA, so a client holding the CA of an earlier lab run is
        // told the issuer is unknown rather than that a signature is bad.
        let tag: String = key
            .public_key_raw()
            .iter()
            .rev()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("cutover lab CA {tag}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate = params.self_signed(&key).map_err(failed)?;
        Ok(Self {
            pem: certificate.pem(),
            der: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate in PEM, for clients to trust.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A new server certificate and key for one listener, signed by this CA: the
    /// certificate chain (leaf, then CA) and the leaf's key.
    pub fn server_certificate(
        &self,
    ) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let names: Vec<String> = SERVER_NAMES.iter().map(|&name| name.to_owned()).collect();
        let mut params = CertificateParams::new(names).map_err(failed)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "cutover lab");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(failed)?;
        let certificate = params.signed_by(&key, &self.issuer).map_err(failed)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![certificate.der().clone(), self.der.clone()], key))
    }

    /// The rustls server settings of one listener, with its own certificate, on the
    /// crypto provider reqwest uses too (aws-lc-rs), so the binary holds one TLS stack.
    pub fn server_config(&self) -> io::Result<Arc<ServerConfig>> {
        let (chain, key) = self.server_certificate()?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(failed)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(failed)?;
        Ok(Arc::new(config))
    }
}

fn failed(err: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot make the lab's TLS certificates: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::RootCertStore;
    use tokio_rustls::rustls::client::WebPkiServerVerifier;
    use tokio_rustls::rustls::client::danger::ServerCertVerifier as _;
    use tokio_rustls::rustls::pki_types::{ServerName, UnixTime};

    fn verifier(ca: &LabCa) -> Arc<WebPkiServerVerifier> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der.clone()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap()
    }

    fn verify(
        verifier: &WebPkiServerVerifier,
        chain: &[CertificateDer<'static>],
        name: &str,
    ) -> Result<(), tokio_rustls::rustls::Error> {
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn the_server_certificate_verifies_against_the_ca_for_both_names() {
        let ca = LabCa::generate().unwrap();
        assert!(
            ca.pem().starts_with("-----BEGIN CERTIFICATE-----\n"),
            "{}",
            ca.pem()
        );
        let (chain, _key) = ca.server_certificate().unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], ca.der);
        let verifier = verifier(&ca);
        for name in SERVER_NAMES {
            verify(&verifier, &chain, name).unwrap();
        }
        let other = verify(&verifier, &chain, "example.com").unwrap_err();
        assert!(
            other.to_string().contains("certificate not valid for name"),
            "{other}"
        );
    }

    #[test]
    fn another_lab_ca_does_not_vouch_for_the_certificate() {
        let ca = LabCa::generate().unwrap();
        let (chain, _key) = ca.server_certificate().unwrap();
        let stranger = verifier(&LabCa::generate().unwrap());
        let err = verify(&stranger, &chain, "127.0.0.1").unwrap_err();
        assert_eq!(
            err,
            tokio_rustls::rustls::Error::InvalidCertificate(
                tokio_rustls::rustls::CertificateError::UnknownIssuer
            )
        );
    }

    #[test]
    fn each_listener_gets_its_own_key_and_a_server_config() {
        let ca = LabCa::generate().unwrap();
        let (first, _) = ca.server_certificate().unwrap();
        let (second, _) = ca.server_certificate().unwrap();
        assert_ne!(first[0], second[0]);
        ca.server_config().unwrap();
    }
}
