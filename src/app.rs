//! Application state, the router (built without IO) and the server loop with its notification
//! sender.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::api;
use crate::api::notify_payment::ReceiverControl;
use crate::config::Config;
use crate::notify::message::NotifyPlan;
use crate::notify::sender::Sender;
use crate::notify::worker::Worker;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration, keys parsed.
    pub config: Arc<Config>,
    /// The payment-state store and notification queue.
    pub store: Arc<dyn Store>,
    /// Wakes the notification sender: something became due.
    pub wake: Arc<Notify>,
    /// The notification receiver's scripted failures.
    pub receiver: Arc<ReceiverControl>,
}

impl AppState {
    /// Bundles configuration and store.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
        Self {
            config: Arc::new(config),
            store,
            wake: Arc::new(Notify::new()),
            receiver: Arc::new(ReceiverControl::default()),
        }
    }

    /// How a payment that becomes final now, through `caller`, is notified.
    pub fn notify_plan<'a>(&'a self, caller: &'a str) -> NotifyPlan<'a> {
        NotifyPlan {
            caller,
            default_urls: &self.config.notify_urls,
            first_due_ms: self
                .config
                .schedule
                .first_due(chrono::Utc::now().timestamp_millis()),
        }
    }
}

/// The whole HTTP surface. No IO: tests call it with `oneshot`.
pub fn build_router(state: AppState) -> Router {
    api::router(state)
}

/// The notification sender for this process, under a lease name of its own.
pub fn notification_worker(state: &AppState) -> Result<Worker, String> {
    let cfg = &state.config;
    let notify = &cfg.settings.notify;
    let sender = Sender::new(
        cfg.signing_key.clone(),
        cfg.settings.signing.key_version.clone(),
        Duration::from_millis(notify.timeout_ms),
        notify.require_signed_ack,
        cfg.clients.clone(),
    )?;
    let owner = format!(
        "{}-{}",
        std::process::id(),
        &crate::ids::notification_id()[4..12]
    );
    Ok(Worker::new(
        state.store.clone(),
        sender,
        cfg.schedule.clone(),
        owner,
        Duration::from_millis(notify.lease_ms),
        notify.concurrency,
        state.wake.clone(),
    ))
}

/// Serves until `shutdown` completes, then lets in-flight requests finish and the sender finish
/// its attempts in flight and give back its leases.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let stop_on_signal = stop.clone();
    let sender = if state.config.settings.notify.enabled {
        let worker = notification_worker(&state).map_err(std::io::Error::other)?;
        Some(tokio::spawn(worker.run(stopped)))
    } else {
        None
    };
    let served = axum::serve(listener, build_router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_on_signal.send(true);
        })
        .await;
    let _ = stop.send(true);
    if let Some(sender) = sender {
        let _ = sender.await;
    }
    served
}
