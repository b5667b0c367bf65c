//! The baseline: a bare axum JSON echo, built into this bench binary and run as a child
//! process of its own (`LOAD_BENCH_ROLE=<mode>`), served like the gateway serves: a default
//! multi-thread tokio runtime (one worker per core it may use), hyper HTTP/1.1 with the same
//! builder settings, Nagle off. No tracing, no guard, no store.
//!
//! Modes:
//! - `echo`: parse the JSON body, answer it back (the baseline of the signing-off targets).
//! - `echo-sign-inline`: the same, and sign the answer as the gateway does, inline on the
//!   runtime worker (what the gateway does).
//! - `echo-sign-blocking`: signing in `spawn_blocking` (tokio's default pool, up to 512
//!   threads).
//! - `echo-sign-blocking-bounded`: signing in `spawn_blocking` with the blocking pool bounded
//!   to one thread per core.
//!
//! The three signing modes compare inline and blocking-pool signing without touching src/.

use std::sync::Arc;
use std::time::Duration;

use alipay_gateway::protocol::datetime;
use alipay_gateway::signature::{self, Message, SigningKey, header};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Uri, header as http_header};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signing {
    Off,
    Inline,
    Blocking,
}

#[derive(Clone)]
struct State {
    signing: Signing,
    key: Arc<SigningKey>,
}

/// Runs the echo server until killed.
pub fn run(mode: &str) {
    let (signing, bounded) = match mode {
        "echo" => (Signing::Off, false),
        "echo-sign-inline" => (Signing::Inline, false),
        "echo-sign-blocking" => (Signing::Blocking, false),
        "echo-sign-blocking-bounded" => (Signing::Blocking, true),
        other => panic!("unknown LOAD_BENCH_ROLE {other}"),
    };
    let key_path = std::env::var("LOAD_BENCH_KEY").expect("LOAD_BENCH_KEY");
    let key_text = std::fs::read_to_string(&key_path).expect("the echo's signing key");
    let key = Arc::new(SigningKey::from_text(&key_text).expect("a usable signing key"));
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if bounded {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        builder.max_blocking_threads(cores);
    }
    let runtime = builder.build().expect("a runtime");
    runtime.block_on(serve(State { signing, key }));
}

async fn serve(state: State) {
    let router = Router::new()
        .route("/readyz", axum::routing::get(|| async { "ready" }))
        .fallback(axum::routing::post(echo))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    println!(
        "{}",
        serde_json::json!({ "message": "echo listening", "address": address.to_string() })
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .max_headers(256);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

async fn echo(
    axum::extract::State(state): axum::extract::State<State>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let answer = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    let client_id = headers
        .get("client-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let time = datetime::format_millis(chrono::Utc::now());
    let path = uri.path().to_owned();
    let signature = match state.signing {
        Signing::Off => None,
        Signing::Inline => Some(sign(&state.key, &path, &client_id, &time, &answer)),
        Signing::Blocking => {
            let (key, path, client, time, answer) = (
                state.key.clone(),
                path.clone(),
                client_id.clone(),
                time.clone(),
                answer.clone(),
            );
            tokio::task::spawn_blocking(move || sign(&key, &path, &client, &time, &answer))
                .await
                .ok()
        }
    };
    let mut response = answer.into_response();
    let h = response.headers_mut();
    h.insert(
        http_header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Some(signature) = signature {
        for (name, value) in [
            ("client-id", client_id.as_str()),
            ("response-time", time.as_str()),
            ("signature", signature.as_str()),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name, v);
            }
        }
    }
    response
}

fn sign(key: &SigningKey, path: &str, client_id: &str, time: &str, body: &[u8]) -> String {
    let message = Message::post(path, client_id, time, body);
    let b64 = signature::sign(key, &message).unwrap_or_default();
    header::format("1", &b64)
}
