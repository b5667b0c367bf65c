//! The router (built without IO) and the server loop with its notification sender.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_io_timeout::TimeoutStream;

use crate::api;
use crate::dashboard;
use crate::namespace::{self, Hub};
use crate::notify::sender::SendError;
use crate::notify::worker::Worker;

pub use crate::api::state::AppState;

/// The whole HTTP surface: the APIs, and the dashboard when the admin API is on. No IO: tests
/// call it with `oneshot`.
pub fn build_router(state: AppState) -> Router {
    build(state).0
}

/// The whole HTTP surface, and the namespaces behind it: a request of a namespace goes to that
/// namespace's router, everything else to the default namespace's (the APIs, the admin API,
/// `/admin/namespaces`, the dashboard, and `/openapi.json`, which describes them all).
pub fn build(state: AppState) -> (Router, Arc<Hub>) {
    let hub = Hub::new(state.clone());
    let notify_payment_path = state.config.settings.server.notify_payment_path.clone();
    let openapi = axum::routing::get(move || async move {
        api::openapi::serve(&notify_payment_path, namespace::admin::openapi)
    });
    let router = api::router(state.clone())
        .merge(namespace::admin::router(hub.clone()))
        .route("/openapi.json", openapi);
    let router = match dashboard::router(state) {
        Some(dashboard) => dashboard.merge(router),
        None => router,
    };
    // Before routing: a namespace's request is routed by its namespace's router alone.
    let dispatch = tower::Layer::layer(
        &axum::middleware::from_fn_with_state(hub.clone(), namespace::dispatch),
        router,
    );
    (Router::new().fallback_service(dispatch), hub)
}

/// The notification sender for this process's default namespace, under a lease name of its own.
pub fn notification_worker(state: &AppState) -> Result<Worker, SendError> {
    state.notification_worker()
}

/// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish for
/// up to `server.shutdown_grace_ms`, and lets the sender finish its attempts in flight and give
/// back its leases. HTTP/1.1, as every Alipay+ client speaks it. What a connection may hold is
/// bounded: at most `server.max_connections` are open (the next waits in the listen backlog),
/// one that does not send its headers within `server.read_timeout_ms` or stops reading its
/// answer for `server.write_timeout_ms` is closed, and its read buffer holds at most four times
/// `server.max_header_bytes`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = &state.config.settings.server;
    let read_timeout = Duration::from_millis(server.read_timeout_ms);
    let write_timeout = Duration::from_millis(server.write_timeout_ms);
    let grace = Duration::from_millis(server.shutdown_grace_ms);
    // hyper's floor for its read buffer is 8 KiB.
    let read_buffer = (server.max_header_bytes * 4).max(8192);
    let slots = Arc::new(Semaphore::new(server.max_connections));
    let (stop, stopped) = watch::channel(false);
    let sender = if state.config.settings.notify.enabled {
        let worker = notification_worker(&state).map_err(std::io::Error::other)?;
        Some(tokio::spawn(worker.run(stopped)))
    } else {
        None
    };
    let closing = state.closing.clone();
    let (router, hub) = build(state);
    // Namespaces: opened from the store now (their notifications resume), kept in step after;
    // closed only once the requests in flight are done, as they may still use them.
    let (stop_namespaces, namespaces_stopped) = watch::channel(false);
    let namespaces = tokio::spawn(hub.run(namespaces_stopped));
    let connections = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first: past the cap, connections wait in the kernel's backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(write_timeout));
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(read_timeout)
            .max_buf_size(read_buffer)
            .max_headers(256);
        let connection = http.serve_connection(
            TokioIo::new(Box::pin(stream)),
            TowerToHyperService::new(router.clone()),
        );
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    closing.send_replace(true);
    let _ = stop.send(true);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(grace) => tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still open after the grace period; closing them"),
    }
    stop_namespaces.send_replace(true);
    if let Some(sender) = sender {
        let _ = sender.await;
    }
    let _ = namespaces.await;
    Ok(())
}
