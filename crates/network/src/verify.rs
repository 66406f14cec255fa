//! The rustls certificate verifiers of both sides. There are no certificate authorities in JAMNP-S: a
//! certificate is acceptable when it is an Ed25519 certificate whose one alternative name is the peer
//! name of its own key ([`certificate_peer_key`]), and the peer is authenticated by the TLS 1.3
//! CertificateVerify signature, checked here with that same key.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError as TlsCertError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme,
};

use crate::identity::{certificate_peer_key, CertificateError, PeerKey};

fn check(end_entity: &CertificateDer<'_>) -> Result<PeerKey, Error> {
    certificate_peer_key(end_entity).map_err(reject)
}

fn reject(e: CertificateError) -> Error {
    Error::InvalidCertificate(TlsCertError::Other(rustls::OtherError(std::sync::Arc::new(e))))
}

/// Verifies a TLS 1.3 handshake signature with the certificate's own Ed25519 key (RFC 8032, ring).
fn verify_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, Error> {
    if dss.scheme != SignatureScheme::ED25519 {
        return Err(Error::PeerMisbehaved(rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme));
    }
    let key = check(cert)?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
        .verify(message, dss.signature())
        .map_err(|_| Error::InvalidCertificate(TlsCertError::BadSignature))?;
    Ok(HandshakeSignatureValid::assertion())
}

/// The dialling side's check of the acceptor's certificate, optionally pinned to the key we meant to
/// reach (a validator's on-chain key, a bootnode's name).
#[derive(Debug)]
pub(crate) struct AcceptorVerifier {
    pub(crate) expected: Option<PeerKey>,
}

impl ServerCertVerifier for AcceptorVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let key = check(end_entity)?;
        if let Some(expected) = self.expected {
            if key != expected {
                return Err(reject(CertificateError::UnexpectedKey {
                    found: orrery_keys::peer_name(&key),
                    expected: orrery_keys::peer_name(&expected),
                }));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // QUIC is TLS 1.3 only (RFC 9001 §4.2); the configs offer no TLS 1.2.
        Err(Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// The accepting side's check of the dialler's certificate; the key is not known in advance, so only
/// the key/name consistency can be checked. A certificate is mandatory.
#[derive(Debug)]
pub(crate) struct InitiatorVerifier;

impl ClientCertVerifier for InitiatorVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        check(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use orrery_keys::ValidatorKeys;

    fn signed(keys: &ValidatorKeys, message: &[u8]) -> DigitallySignedStruct {
        // DigitallySignedStruct has no public constructor; build it from its TLS encoding.
        let sig = keys.ed25519_sign(message);
        let mut wire = vec![0x08, 0x07, 0x00, 0x40];
        wire.extend_from_slice(&sig);
        let mut reader = rustls::internal::msgs::codec::Reader::init(&wire);
        rustls::internal::msgs::codec::Codec::read(&mut reader).unwrap()
    }

    #[test]
    fn handshake_signature_is_checked_with_the_certificate_key() {
        let alice = ValidatorKeys::dev(0);
        let bob = ValidatorKeys::dev(1);
        let cert = Identity::from_validator_keys(&alice).unwrap().certificate().clone();
        let transcript = b"TLS 1.3, client CertificateVerify\0transcript-hash";
        assert!(verify_signature(transcript, &cert, &signed(&alice, transcript)).is_ok());
        // Bob's signature does not authenticate Alice's certificate.
        assert!(verify_signature(transcript, &cert, &signed(&bob, transcript)).is_err());
        assert!(verify_signature(b"another transcript", &cert, &signed(&alice, transcript)).is_err());
    }

    #[test]
    fn pinned_key_must_match() {
        let alice = Identity::from_validator_keys(&ValidatorKeys::dev(0)).unwrap();
        let name = ServerName::try_from("x").unwrap();
        let pinned = |expected| {
            AcceptorVerifier { expected: Some(expected) }.verify_server_cert(
                alice.certificate(),
                &[],
                &name,
                &[],
                UnixTime::now(),
            )
        };
        assert!(pinned(*alice.key()).is_ok());
        assert!(pinned(ValidatorKeys::dev(1).ed25519_public()).is_err());
    }
}
