//! The JAMNP-S transport over loopback (127.0.0.1): the full QUIC + TLS 1.3 handshake with both
//! certificates checked, and framed-message throughput on one CE stream with small and large messages
//! (the small size shows the per-message cost against the large one in the same run).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orrery_keys::ValidatorKeys;
use orrery_network::{Alpn, Config, Endpoint, Identity, StreamKind};

const PER_ITERATION: usize = 1024 * 1024;

fn endpoint(i: u32) -> Endpoint {
    let identity = Identity::from_validator_keys(&ValidatorKeys::dev(i)).unwrap();
    let config = Config::new(Alpn::for_genesis_hash(&[0x11; 32]));
    Endpoint::bind(identity, config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (alice, bob) = rt.block_on(async { (endpoint(0), endpoint(1)) });
    let alice_addr = alice.local_addr().unwrap();
    let alice_key = *alice.identity().key();

    let mut group = c.benchmark_group("network");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("network::connect/loopback", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (accepted, dialled) =
                    tokio::join!(alice.accept(), bob.connect(alice_addr, Some(alice_key)));
                let (accepted, dialled) = (accepted.unwrap(), dialled.unwrap());
                dialled.close();
                accepted.close();
            })
        })
    });

    // One connection; Alice drains each CE 128 stream to its FIN and answers one empty message.
    let (at_alice, at_bob) = rt.block_on(async {
        let (a, b) = tokio::join!(alice.accept(), bob.connect(alice_addr, Some(alice_key)));
        (a.unwrap(), b.unwrap())
    });
    let server = rt.spawn(async move {
        while let Ok(mut stream) = at_alice.accept_stream().await {
            tokio::spawn(async move {
                while let Ok(Some(_)) = stream.recv().await {}
                let _ = stream.send(&[]).await;
                stream.finish();
            });
        }
    });
    group.throughput(Throughput::Bytes(PER_ITERATION as u64));
    for size in [4 * 1024, 64 * 1024] {
        let message = vec![0x5a; size];
        group.bench_function(format!("network::frame_throughput/size={}KiB", size / 1024), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut stream = at_bob.open_stream(StreamKind::BLOCK_REQUEST).await.unwrap();
                    for _ in 0..PER_ITERATION / size {
                        stream.send(&message).await.unwrap();
                    }
                    stream.finish();
                    // The answer comes only after Alice has read every message.
                    assert_eq!(stream.recv().await.unwrap().unwrap().len(), 0);
                })
            })
        });
    }
    group.finish();
    server.abort();
    alice.close();
    bob.close();
}

criterion_group!(benches, bench);
criterion_main!(benches);
