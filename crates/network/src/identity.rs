//! A peer's TLS identity (JAMNP-S "Encryption and handshake"): a self-signed X.509 certificate over the
//! peer's Ed25519 key whose single alternative name is the peer name `N(k)`, and the check every
//! certificate we receive must pass.

use orrery_keys::{peer_name, ValidatorKeys};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::OID_SIG_ED25519;

/// An Ed25519 public key: what authenticates a JAMNP-S peer.
pub type PeerKey = [u8; 32];

/// PKCS#8 v1 wrapping of a raw 32-byte Ed25519 secret (RFC 8410): the DER of
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING secret } }`
/// up to the secret itself.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// Why a certificate is not a JAMNP-S certificate. The spec's rule for each: "use Ed25519 as the
/// signature algorithm", "use the peer's Ed25519 key", "have a single alternative name, derived from
/// the Ed25519 public key".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("certificate is not valid DER X.509: {0}")]
    Malformed(String),
    #[error("certificate has trailing bytes after the DER structure")]
    TrailingBytes,
    #[error("certificate key is not Ed25519 (JAMNP-S requires an Ed25519 key)")]
    NotEd25519Key,
    #[error("certificate signature algorithm is not Ed25519")]
    NotEd25519Signature,
    #[error("certificate has no subject alternative name")]
    NoAlternativeName,
    #[error("certificate has {0} alternative names; JAMNP-S requires exactly one")]
    ManyAlternativeNames(usize),
    #[error("certificate alternative name is not a DNS name")]
    AlternativeNameNotDns,
    #[error("certificate alternative name {found:?} is not the peer name {expected:?} of its key")]
    NameMismatch { found: String, expected: String },
    #[error("peer key {found} is not the expected key {expected}")]
    UnexpectedKey { found: String, expected: String },
}

/// Checks that `der` is a JAMNP-S certificate and returns the key it authenticates.
///
/// Expiry is not checked: the spec does not give one, and certificates are self-signed, so a date
/// would protect nothing. The self-signature is not verified either ("need not be verified"): the TLS
/// handshake signature, checked against this same key, is what proves possession.
pub fn certificate_peer_key(der: &[u8]) -> Result<PeerKey, CertificateError> {
    let (rest, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertificateError::TrailingBytes);
    }
    let spki = cert.public_key();
    // RFC 8410: the algorithm identifier of an Ed25519 key has no parameters.
    if spki.algorithm.algorithm != OID_SIG_ED25519 || spki.algorithm.parameters.is_some() {
        return Err(CertificateError::NotEd25519Key);
    }
    let key: PeerKey =
        spki.subject_public_key.data.as_ref().try_into().map_err(|_| CertificateError::NotEd25519Key)?;
    if cert.signature_algorithm.algorithm != OID_SIG_ED25519 {
        return Err(CertificateError::NotEd25519Signature);
    }
    // A repeated SAN extension is an error from the parser, so "a single alternative name" is checked
    // across the whole certificate.
    let san = cert
        .subject_alternative_name()
        .map_err(|e| CertificateError::Malformed(e.to_string()))?
        .ok_or(CertificateError::NoAlternativeName)?;
    let names = &san.value.general_names;
    let name = match names.as_slice() {
        [] => return Err(CertificateError::NoAlternativeName),
        [one] => one,
        many => return Err(CertificateError::ManyAlternativeNames(many.len())),
    };
    let GeneralName::DNSName(found) = name else {
        return Err(CertificateError::AlternativeNameNotDns);
    };
    let expected = peer_name(&key);
    if *found != expected {
        return Err(CertificateError::NameMismatch { found: (*found).to_owned(), expected });
    }
    Ok(key)
}

/// Failure to build a certificate.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the JAMNP-S certificate: {0}")]
pub struct IdentityError(#[from] rcgen::Error);

/// Our side of the handshake: the certificate we present and the Ed25519 secret behind it.
pub struct Identity {
    key: PeerKey,
    certificate: CertificateDer<'static>,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("Identity").field("peer_name", &peer_name(&self.key)).finish_non_exhaustive()
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { key: self.key, certificate: self.certificate.clone(), pkcs8: self.pkcs8.clone() }
    }
}

impl Identity {
    /// The identity of a validator: a certificate over its Ed25519 key named `N(k)`.
    pub fn from_validator_keys(keys: &ValidatorKeys) -> Result<Self, IdentityError> {
        Self::from_ed25519_secret(keys.ed25519_secret())
    }

    /// The identity of any node (validator or not) from an RFC 8032 Ed25519 secret.
    pub fn from_ed25519_secret(secret: &[u8; 32]) -> Result<Self, IdentityError> {
        let pkcs8 = pkcs8_of(secret);
        let key_pair = signing_key(&pkcs8)?;
        let key: PeerKey =
            key_pair.public_key_raw().try_into().map_err(|_| rcgen::Error::KeyGenerationUnavailable)?;
        let certificate = self_signed(&key_pair, &peer_name(&key))?;
        Ok(Self { key, certificate, pkcs8 })
    }

    /// An identity presenting a certificate that names `name` instead of `N(k)`. Conforming peers
    /// refuse it; it exists so that tests can show they do.
    #[doc(hidden)]
    pub fn misnamed(secret: &[u8; 32], name: &str) -> Result<Self, IdentityError> {
        let pkcs8 = pkcs8_of(secret);
        let key_pair = signing_key(&pkcs8)?;
        let key: PeerKey =
            key_pair.public_key_raw().try_into().map_err(|_| rcgen::Error::KeyGenerationUnavailable)?;
        let certificate = self_signed(&key_pair, name)?;
        Ok(Self { key, certificate, pkcs8 })
    }

    /// Our Ed25519 public key.
    pub fn key(&self) -> &PeerKey {
        &self.key
    }

    /// Our peer name `N(k)`.
    pub fn peer_name(&self) -> String {
        peer_name(&self.key)
    }

    /// The DER certificate we present.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.pkcs8.clone()))
    }
}

fn pkcs8_of(secret: &[u8; 32]) -> Vec<u8> {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(secret);
    der
}

fn signing_key(pkcs8: &[u8]) -> Result<rcgen::KeyPair, rcgen::Error> {
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), &rcgen::PKCS_ED25519)
}

fn self_signed(key_pair: &rcgen::KeyPair, name: &str) -> Result<CertificateDer<'static>, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    // RFC 5280 §4.1.2.5: 99991231235959Z means "no well-defined expiration date". Some implementations
    // reject expired certificates, so never expire.
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(9999, 12, 31);
    Ok(params.self_signed(key_pair)?.der().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_certificate_names_its_key() {
        for i in 0..6 {
            let keys = ValidatorKeys::dev(i);
            let identity = Identity::from_validator_keys(&keys).unwrap();
            assert_eq!(identity.key(), &keys.ed25519_public());
            assert_eq!(certificate_peer_key(identity.certificate()).unwrap(), keys.ed25519_public());
        }
    }

    #[test]
    fn alice_certificate_carries_the_published_name() {
        // Alice = dev validator 0; name from the JamBrains dev-account table.
        let identity = Identity::from_validator_keys(&ValidatorKeys::dev(0)).unwrap();
        assert_eq!(identity.peer_name(), "eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb");
        let der = identity.certificate().as_ref();
        let needle = b"eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb";
        assert!(der.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn misnamed_certificate_is_refused() {
        let bob = ValidatorKeys::dev(1).peer_name();
        let identity = Identity::misnamed(ValidatorKeys::dev(0).ed25519_secret(), &bob).unwrap();
        assert!(matches!(
            certificate_peer_key(identity.certificate()),
            Err(CertificateError::NameMismatch { .. })
        ));
    }

    #[test]
    fn two_names_are_refused() {
        let keys = ValidatorKeys::dev(0);
        let key_pair = signing_key(&pkcs8_of(keys.ed25519_secret())).unwrap();
        let params = rcgen::CertificateParams::new(vec![keys.peer_name(), "example.org".into()]).unwrap();
        let cert = params.self_signed(&key_pair).unwrap();
        assert_eq!(certificate_peer_key(cert.der()), Err(CertificateError::ManyAlternativeNames(2)));
    }

    #[test]
    fn ecdsa_certificate_is_refused() {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec![ValidatorKeys::dev(0).peer_name()]).unwrap();
        let cert = params.self_signed(&key_pair).unwrap();
        assert_eq!(certificate_peer_key(cert.der()), Err(CertificateError::NotEd25519Key));
    }

    #[test]
    fn no_name_and_garbage_are_refused() {
        let key_pair = signing_key(&pkcs8_of(ValidatorKeys::dev(0).ed25519_secret())).unwrap();
        let cert =
            rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().self_signed(&key_pair).unwrap();
        assert_eq!(certificate_peer_key(cert.der()), Err(CertificateError::NoAlternativeName));
        assert!(matches!(
            certificate_peer_key(&[0x30, 0x03, 0x02, 0x01]),
            Err(CertificateError::Malformed(_))
        ));
        let mut trailing = cert.der().to_vec();
        trailing.push(0);
        assert!(certificate_peer_key(&trailing).is_err());
    }
}
