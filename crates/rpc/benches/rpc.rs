//! `rpc::service_value`: `serviceValue` calls one after another over one WebSocket connection on
//! loopback, against a real node thread on the dev chain (tests/common). The reference in the same
//! run, `rpc::service_value/query_only`, is the same read as a bare query to the node thread (no
//! JSON, no socket), so the difference is the RPC's own cost.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use orrery_rpc::backend::Backend;
use orrery_rpc::types::{method, Blob, Hash};
use orrery_rpc::RpcConfig;

fn service_value(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let f = common::Fixture::start(2);
    let best = Hash(f.best().0);
    let server = rt
        .block_on(orrery_rpc::start(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(f.link.clone()),
            RpcConfig::default(),
            None,
        ))
        .unwrap();
    let client =
        rt.block_on(WsClientBuilder::default().build(format!("ws://{}", server.local_addr))).unwrap();
    let mut group = c.benchmark_group("rpc");
    group.throughput(Throughput::Elements(1));
    group.bench_function("service_value", |b| {
        b.iter(|| {
            let value: Option<Blob> = rt
                .block_on(client.request(
                    method::SERVICE_VALUE,
                    rpc_params![best, common::SERVICE, Blob(common::KEY.to_vec())],
                ))
                .unwrap();
            assert_eq!(value.map(|v| v.0).as_deref(), Some(common::VALUE));
        })
    });
    group.bench_function("service_value/query_only", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            f.link
                .query(Box::new(move |node| {
                    let value = node.chain().state(&best.0).and_then(|s| {
                        s.state().accounts.get(&common::SERVICE)?.storage(common::KEY).map(<[u8]>::to_vec)
                    });
                    let _ = tx.send(value);
                }))
                .unwrap();
            assert_eq!(rx.recv().unwrap().as_deref(), Some(common::VALUE));
        })
    });
    group.finish();
    server.handle.stop().unwrap();
}

criterion_group!(benches, service_value);
criterion_main!(benches);
