//! A typed JIP-2 client over one WebSocket connection (jsonrpsee's, no TLS): each method with its
//! parameters in order and its result decoded into [`crate::types`]. For `orrery service …` and
//! tests; any JSON-RPC client speaks to the server as well.

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use orrery_types::{CoreIndex, ServiceId};

pub use jsonrpsee::core::ClientError;

use crate::types::{
    method, Blob, BlockDescriptor, ChainUpdate, Hash, Parameters, ParametersResult, SyncState,
    WorkPackageStatus,
};

/// How long a call may take before the client gives up on it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to a node's RPC.
#[derive(Debug)]
pub struct Client {
    inner: WsClient,
}

impl Client {
    /// Connects to `url` (`ws://host:port`).
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        let inner = WsClientBuilder::default().request_timeout(CALL_TIMEOUT).build(url).await?;
        Ok(Self { inner })
    }

    /// The underlying jsonrpsee client, for raw calls.
    pub fn raw(&self) -> &WsClient {
        &self.inner
    }

    pub async fn parameters(&self) -> Result<Parameters, ClientError> {
        let ParametersResult::V1(p) = self.inner.request(method::PARAMETERS, rpc_params![]).await?;
        Ok(p)
    }

    pub async fn best_block(&self) -> Result<BlockDescriptor, ClientError> {
        self.inner.request(method::BEST_BLOCK, rpc_params![]).await
    }

    pub async fn finalized_block(&self) -> Result<BlockDescriptor, ClientError> {
        self.inner.request(method::FINALIZED_BLOCK, rpc_params![]).await
    }

    pub async fn subscribe_best_block(&self) -> Result<Subscription<BlockDescriptor>, ClientError> {
        self.inner
            .subscribe(method::SUBSCRIBE_BEST_BLOCK, rpc_params![], method::UNSUBSCRIBE_BEST_BLOCK)
            .await
    }

    pub async fn subscribe_finalized_block(&self) -> Result<Subscription<BlockDescriptor>, ClientError> {
        self.inner
            .subscribe(method::SUBSCRIBE_FINALIZED_BLOCK, rpc_params![], method::UNSUBSCRIBE_FINALIZED_BLOCK)
            .await
    }

    pub async fn state_root(&self, block: Hash) -> Result<Hash, ClientError> {
        self.inner.request(method::STATE_ROOT, rpc_params![block]).await
    }

    /// The GP-encoded block (Orrery's `block` extension; other nodes answer "method not found").
    pub async fn block(&self, block: Hash) -> Result<Blob, ClientError> {
        self.inner.request(method::BLOCK, rpc_params![block]).await
    }

    /// `E(κ) ++ E(γ_P)` after `block` (Orrery's `validators` extension).
    pub async fn validators(&self, block: Hash) -> Result<Blob, ClientError> {
        self.inner.request(method::VALIDATORS, rpc_params![block]).await
    }

    /// `E(ρ)` after `block` (Orrery's `pendingReports` extension).
    pub async fn pending_reports(&self, block: Hash) -> Result<Blob, ClientError> {
        self.inner.request(method::PENDING_REPORTS, rpc_params![block]).await
    }

    /// The service's fixed fields (row `C(255, s)`), or `None` if there is no such service.
    pub async fn service_data(&self, block: Hash, id: ServiceId) -> Result<Option<Blob>, ClientError> {
        self.inner.request(method::SERVICE_DATA, rpc_params![block, id]).await
    }

    pub async fn service_value(
        &self,
        block: Hash,
        id: ServiceId,
        key: &[u8],
    ) -> Result<Option<Blob>, ClientError> {
        self.inner.request(method::SERVICE_VALUE, rpc_params![block, id, Blob(key.to_vec())]).await
    }

    pub async fn subscribe_service_value(
        &self,
        id: ServiceId,
        key: &[u8],
        finalized: bool,
    ) -> Result<Subscription<ChainUpdate<Option<Blob>>>, ClientError> {
        self.inner
            .subscribe(
                method::SUBSCRIBE_SERVICE_VALUE,
                rpc_params![id, Blob(key.to_vec()), finalized],
                method::UNSUBSCRIBE_SERVICE_VALUE,
            )
            .await
    }

    pub async fn service_preimage(
        &self,
        block: Hash,
        id: ServiceId,
        hash: Hash,
    ) -> Result<Option<Blob>, ClientError> {
        self.inner.request(method::SERVICE_PREIMAGE, rpc_params![block, id, hash]).await
    }

    /// `None` (never requested), `[]` (requested) or the 1–3 slots of the request.
    pub async fn service_request(
        &self,
        block: Hash,
        id: ServiceId,
        hash: Hash,
        len: u32,
    ) -> Result<Option<Vec<u32>>, ClientError> {
        self.inner.request(method::SERVICE_REQUEST, rpc_params![block, id, hash, len]).await
    }

    pub async fn list_services(&self, block: Hash) -> Result<Vec<ServiceId>, ClientError> {
        self.inner.request(method::LIST_SERVICES, rpc_params![block]).await
    }

    /// Submits a GP-encoded work-package and its items' extrinsics, in item order.
    pub async fn submit_work_package(
        &self,
        core: CoreIndex,
        package: Vec<u8>,
        extrinsics: Vec<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let extrinsics: Vec<Blob> = extrinsics.into_iter().map(Blob).collect();
        let _: Option<()> = self
            .inner
            .request(method::SUBMIT_WORK_PACKAGE, rpc_params![core, Blob(package), extrinsics])
            .await?;
        Ok(())
    }

    pub async fn submit_preimage(&self, requester: ServiceId, preimage: Vec<u8>) -> Result<(), ClientError> {
        let _: Option<()> =
            self.inner.request(method::SUBMIT_PREIMAGE, rpc_params![requester, Blob(preimage)]).await?;
        Ok(())
    }

    pub async fn work_package_status(
        &self,
        block: Hash,
        package: Hash,
        anchor: Hash,
    ) -> Result<WorkPackageStatus, ClientError> {
        self.inner.request(method::WORK_PACKAGE_STATUS, rpc_params![block, package, anchor]).await
    }

    pub async fn subscribe_work_package_status(
        &self,
        package: Hash,
        anchor: Hash,
        finalized: bool,
    ) -> Result<Subscription<ChainUpdate<WorkPackageStatus>>, ClientError> {
        self.inner
            .subscribe(
                method::SUBSCRIBE_WORK_PACKAGE_STATUS,
                rpc_params![package, anchor, finalized],
                method::UNSUBSCRIBE_WORK_PACKAGE_STATUS,
            )
            .await
    }

    pub async fn work_report(&self, hash: Hash) -> Result<Blob, ClientError> {
        self.inner.request(method::WORK_REPORT, rpc_params![hash]).await
    }

    pub async fn sync_state(&self) -> Result<SyncState, ClientError> {
        self.inner.request(method::SYNC_STATE, rpc_params![]).await
    }
}
