//! The transport over real QUIC sockets on 127.0.0.1: authentication, ALPN, stream screening, framing
//! limits and a request/response round trip. Every test is bounded by a timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use orrery_codec::Encode;
use orrery_keys::ValidatorKeys;
use orrery_network::endpoint::code;
use orrery_network::message::{decode_blocks, encode_blocks, BlockRequest, Direction};
use orrery_network::up::UpStreams;
use orrery_network::{
    Alpn, Config, Connection, Endpoint, FrameError, Identity, Limits, NetworkError, StreamKind,
};
use orrery_types::{Block, ChainSpec, Extrinsic, Header};

const GENESIS: [u8; 32] = [0x11; 32];
const LOCALHOST: &str = "127.0.0.1:0";

fn config() -> Config {
    let mut config = Config::new(Alpn::for_genesis_hash(&GENESIS));
    config.limits = Limits {
        message_timeout: Duration::from_millis(300),
        kind_timeout: Duration::from_millis(300),
        handshake_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    config
}

fn endpoint(validator: u32, config: Config) -> Endpoint {
    let identity = Identity::from_validator_keys(&ValidatorKeys::dev(validator)).unwrap();
    Endpoint::bind(identity, config, LOCALHOST.parse().unwrap()).unwrap()
}

fn addr(endpoint: &Endpoint) -> SocketAddr {
    endpoint.local_addr().unwrap()
}

async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f).await.expect("test exceeded its time bound")
}

/// Bob (validator 1) dials Alice (validator 0). Returns (Alice's end, Bob's end) and the endpoints.
async fn alice_and_bob() -> (Endpoint, Endpoint, Connection, Connection) {
    let alice = endpoint(0, config());
    let bob = endpoint(1, config());
    let alice_key = *alice.identity().key();
    let (accepted, dialled) = tokio::join!(alice.accept(), bob.connect(addr(&alice), Some(alice_key)));
    (alice, bob, accepted.unwrap(), dialled.unwrap())
}

fn header(slot: u32) -> Header {
    Header {
        parent: [1; 32],
        parent_state_root: [2; 32],
        extrinsic_hash: [3; 32],
        slot,
        epoch_mark: None,
        tickets_mark: None,
        author_index: 0,
        entropy_source: [4; 96],
        offenders_mark: vec![],
        seal: [5; 96],
    }
}

#[tokio::test]
async fn two_dev_validators_see_each_other() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        let alice = ValidatorKeys::dev(0);
        let bob = ValidatorKeys::dev(1);
        assert_eq!(at_alice.peer_key(), &bob.ed25519_public());
        assert_eq!(at_bob.peer_key(), &alice.ed25519_public());
        assert_eq!(at_bob.peer_name(), "eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb");
        assert_eq!(at_alice.peer_name(), "en5ejs5b2tybkfh4ym5vpfh7nynby73xhtfzmazumtvcijpcsz6ma");
        assert!(at_bob.is_initiator() && !at_alice.is_initiator());
        assert!(!at_alice.is_builder() && !at_bob.is_builder());
    })
    .await
}

#[tokio::test]
async fn certificate_not_matching_its_key_is_refused() {
    bounded(async {
        let alice = endpoint(0, config());
        // Mallory holds Carol's key but names Bob in her certificate.
        let carol = ValidatorKeys::dev(2);
        let misnamed =
            Identity::misnamed(carol.ed25519_secret(), &ValidatorKeys::dev(1).peer_name()).unwrap();
        let mallory = Endpoint::bind(misnamed.clone(), config(), LOCALHOST.parse().unwrap()).unwrap();
        // As a dialler: Alice's verifier refuses the client certificate.
        let (accepted, _) = tokio::join!(alice.accept(), async {
            // The dialler may or may not see its handshake complete before Alice's refusal arrives.
            if let Ok(conn) = mallory.connect(addr(&alice), None).await {
                conn.closed().await;
            }
        });
        assert!(accepted.is_err(), "Alice accepted a misnamed certificate");
        // As an acceptor: a dialler refuses Mallory's server certificate.
        let dave = endpoint(3, config());
        let (dialled, _) = tokio::join!(dave.connect(addr(&mallory), None), mallory.accept());
        assert!(dialled.is_err(), "a misnamed server certificate was accepted");
    })
    .await
}

/// A TLS client that trusts any server and presents no certificate: what a careless or hostile dialler
/// looks like.
#[derive(Debug)]
struct TrustAnything;

impl rustls::client::danger::ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        vec![rustls::SignatureScheme::ED25519]
    }
}

#[tokio::test]
#[allow(deprecated)] // the ring provider; see the crate's endpoint module
async fn dialler_without_a_certificate_is_refused() {
    bounded(async {
        let alice = endpoint(0, config());
        let mut tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(TrustAnything))
        .with_no_client_auth();
        tls.alpn_protocols = vec![config().alpn.plain().to_vec()];
        let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
        let mut anonymous = quinn::Endpoint::client(LOCALHOST.parse().unwrap()).unwrap();
        anonymous.set_default_client_config(quinn::ClientConfig::new(std::sync::Arc::new(quic)));
        let (accepted, _) = tokio::join!(alice.accept(), async {
            if let Ok(conn) = anonymous.connect(addr(&alice), "alice").unwrap().await {
                conn.closed().await;
            }
        });
        assert!(accepted.is_err(), "a dialler without a certificate was accepted");
    })
    .await
}

#[tokio::test]
async fn pinned_key_must_be_the_peers() {
    bounded(async {
        let alice = endpoint(0, config());
        let bob = endpoint(1, config());
        let carol = ValidatorKeys::dev(2).ed25519_public();
        let (dialled, _) = tokio::join!(bob.connect(addr(&alice), Some(carol)), alice.accept());
        assert!(dialled.is_err());
    })
    .await
}

#[tokio::test]
async fn wrong_alpn_is_refused() {
    bounded(async {
        let alice = endpoint(0, config());
        let mut other_chain = config();
        other_chain.alpn = Alpn::for_genesis_hash(&[0x22; 32]);
        let bob = endpoint(1, other_chain);
        let (accepted, dialled) = tokio::join!(alice.accept(), bob.connect(addr(&alice), None));
        assert!(accepted.is_err());
        assert!(dialled.is_err());
    })
    .await
}

#[tokio::test]
async fn builder_alpn_is_accepted_and_reported() {
    bounded(async {
        let alice = endpoint(0, config());
        let builder = endpoint(5, config());
        let (accepted, dialled) =
            tokio::join!(alice.accept(), builder.connect_as_builder(addr(&alice), None));
        let (accepted, dialled) = (accepted.unwrap(), dialled.unwrap());
        assert!(accepted.is_builder() && dialled.is_builder());
        assert_eq!(accepted.peer_key(), &ValidatorKeys::dev(5).ed25519_public());
    })
    .await
}

#[tokio::test]
async fn block_request_round_trip() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        let lengths = ChainSpec::tiny().lengths();
        let blocks: Vec<Block> =
            (10..12).map(|slot| Block { header: header(slot), extrinsic: Extrinsic::default() }).collect();
        let served = blocks.clone();
        let server = tokio::spawn(async move {
            let mut stream = at_alice.accept_stream().await.unwrap();
            assert_eq!(stream.kind(), StreamKind::BLOCK_REQUEST);
            let request = BlockRequest::decode(&stream.recv().await.unwrap().unwrap()).unwrap();
            assert_eq!(request.direction, Direction::DescendingInclusive);
            // The request's FIN.
            assert!(stream.recv().await.unwrap().is_none());
            stream.send(&encode_blocks(&served[..request.max_blocks as usize])).await.unwrap();
            stream.finish();
            stream.stopped().await;
            at_alice
        });
        let mut stream = at_bob.open_stream(StreamKind::BLOCK_REQUEST).await.unwrap();
        let request =
            BlockRequest { hash: [7; 32], direction: Direction::DescendingInclusive, max_blocks: 2 };
        stream.send(&request.encode()).await.unwrap();
        stream.finish();
        let response = stream.recv().await.unwrap().unwrap();
        assert_eq!(decode_blocks(&response, lengths, 2).unwrap(), blocks);
        assert!(stream.recv().await.unwrap().is_none(), "the response must end with FIN");
        let at_alice = server.await.unwrap();
        assert_eq!(at_alice.offences(), 0);
    })
    .await
}

#[tokio::test]
async fn oversized_frame_is_refused_at_once() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        let mut stream = at_bob.open_stream(StreamKind::TICKET_TO_PROXY).await.unwrap();
        // Claims 4 GiB − 1; the CE 131 cap is 789 bytes.
        stream.send_raw(&u32::MAX.to_le_bytes()).await.unwrap();
        let mut incoming = at_alice.accept_stream().await.unwrap();
        let started = Instant::now();
        let err = incoming.recv().await.unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len: 0xffff_ffff, cap: 789 }), "{err}");
        // Refused on the size alone, not after waiting for content.
        assert!(started.elapsed() < Duration::from_millis(250));
        assert_eq!(stream.stopped().await, Some(code::MESSAGE_TOO_LARGE));
        assert_eq!(at_alice.offences(), 1);
    })
    .await
}

#[tokio::test]
async fn unknown_stream_kind_is_refused_and_the_connection_goes_on() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        for kind in [130u8, 133, 1] {
            let mut stream = at_bob.open_stream(StreamKind(kind)).await.unwrap();
            assert_eq!(stream.stopped().await, Some(code::UNKNOWN_STREAM_KIND), "kind {kind}");
        }
        // A served kind still works afterwards.
        let mut stream = at_bob.open_stream(StreamKind::TICKET_TO_ALL).await.unwrap();
        stream.send(&[0u8; 789]).await.unwrap();
        stream.finish();
        let mut incoming = at_alice.accept_stream().await.unwrap();
        assert_eq!(incoming.kind(), StreamKind::TICKET_TO_ALL);
        assert_eq!(incoming.recv().await.unwrap().unwrap().len(), 789);
        assert_eq!(at_alice.offences(), 3);
    })
    .await
}

#[tokio::test]
async fn repeated_offences_close_the_connection() {
    bounded(async {
        let mut strict = config();
        strict.limits.misbehaviour_limit = 2;
        let alice = endpoint(0, strict);
        let bob = endpoint(1, config());
        let (at_alice, at_bob) = tokio::join!(alice.accept(), bob.connect(addr(&alice), None));
        let (_at_alice, at_bob) = (at_alice.unwrap(), at_bob.unwrap());
        for _ in 0..2 {
            let mut stream = at_bob.open_stream(StreamKind(200)).await.unwrap();
            stream.stopped().await;
        }
        match at_bob.closed().await {
            quinn::ConnectionError::ApplicationClosed(close) => {
                assert_eq!(close.error_code, quinn::VarInt::from_u32(code::MISBEHAVIOUR))
            }
            other => panic!("closed for another reason: {other}"),
        }
    })
    .await
}

#[tokio::test]
async fn stalled_message_times_out() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        let mut stream = at_bob.open_stream(StreamKind::BLOCK_REQUEST).await.unwrap();
        // Announces 37 bytes, sends 3, then nothing (the stream stays open).
        stream.send_raw(&[37, 0, 0, 0, 1, 2, 3]).await.unwrap();
        let mut incoming = at_alice.accept_stream().await.unwrap();
        let started = Instant::now();
        let err = incoming.recv().await.unwrap_err();
        assert!(matches!(err, FrameError::TimedOut(_)), "{err}");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(stream.stopped().await, Some(code::TIMEOUT));
        assert_eq!(at_alice.offences(), 1);
    })
    .await
}

#[tokio::test]
async fn duplicate_up_streams_keep_the_greatest_id() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        let mut first = at_bob.open_stream(StreamKind::BLOCK_ANNOUNCEMENT).await.unwrap();
        let mut second = at_bob.open_stream(StreamKind::BLOCK_ANNOUNCEMENT).await.unwrap();
        assert!(second.id() > first.id());
        let mut up = UpStreams::new();
        for _ in 0..2 {
            let stream = at_alice.accept_stream().await.unwrap();
            if let Some(mut stale) = up.offer(stream.kind(), stream.id(), stream) {
                stale.refuse(code::DUPLICATE_UP_STREAM);
            }
        }
        let (kept, _) = up.get(StreamKind::BLOCK_ANNOUNCEMENT).unwrap();
        assert_eq!(kept, second.id());
        assert_eq!(first.stopped().await, Some(code::DUPLICATE_UP_STREAM));
        // The kept stream carries messages.
        second.send(b"handshake").await.unwrap();
        let mut kept = up.remove(StreamKind::BLOCK_ANNOUNCEMENT, second.id()).unwrap();
        assert_eq!(kept.recv_next().await.unwrap().unwrap(), b"handshake");
    })
    .await
}

#[tokio::test]
async fn up_stream_from_the_acceptor_is_refused() {
    bounded(async {
        let (_alice, _bob, at_alice, at_bob) = alice_and_bob().await;
        // Alice accepted the connection, so UP streams are Bob's to open.
        let mut stream = at_alice.open_stream(StreamKind::BLOCK_ANNOUNCEMENT).await.unwrap();
        assert_eq!(stream.stopped().await, Some(code::UP_FROM_ACCEPTOR));
        assert_eq!(at_bob.offences(), 1);
    })
    .await
}

#[tokio::test]
async fn endpoint_close_ends_accept() {
    bounded(async {
        let alice = endpoint(0, config());
        alice.close();
        assert!(matches!(alice.accept().await, Err(NetworkError::EndpointClosed)));
    })
    .await
}
