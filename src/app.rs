//! Application state, the router (built without IO) and the server loop.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::api;
use crate::config::Config;
use crate::store::PaymentStore;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration, keys parsed.
    pub config: Arc<Config>,
    /// The payment-state store.
    pub store: Arc<dyn PaymentStore>,
}

impl AppState {
    /// Bundles configuration and store.
    pub fn new(config: Config, store: Arc<dyn PaymentStore>) -> Self {
        Self {
            config: Arc::new(config),
            store,
        }
    }
}

/// The whole HTTP surface. No IO: tests call it with `oneshot`.
pub fn build_router(state: AppState) -> Router {
    api::router(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, build_router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
