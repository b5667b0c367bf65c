//! The drift report's run: every recorded request (real mode's recordings) sent, in the order
//! it was recorded, to the mock, and each answer compared with the recorded real one
//! ([`crate::real::drift`]). How far the mock is from the real service, on the user's own
//! traffic.
//!
//! The mock runs in this process, through the whole request pipeline of the config given
//! (scenario rules included) over a fresh memory store, with real mode off. The recordings'
//! signatures cannot be replayed (their values are not kept), so each request is signed anew as
//! its recorded Client-Id with a key made for the run, which the run's clients are registered
//! with.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use tower::ServiceExt;

use crate::api::state::AppState;
use crate::client::Client;
use crate::config::Config;
use crate::domain::recording::Recording;
use crate::protocol::{Endpoint, datetime};
use crate::real::drift::{Compared, Report, compare};
use crate::signature::{
    self, KeyError, Message, PublicKeys, SigningKey, VerifyingKey, header, keys,
};
use crate::store::MemoryStore;

/// Why a drift run stopped before comparing every recording.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The run's own key could not be made or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A recorded request could not be rebuilt.
    #[error("{0}")]
    Request(#[from] axum::http::Error),
    /// The mock's answer could not be read.
    #[error("{0}")]
    Answer(#[from] axum::Error),
}

/// Sends every recording's request to the mock of `config` and compares the answers.
pub async fn run(mut config: Config, recordings: &[Recording]) -> Result<Report, DriftError> {
    let key = SigningKey::generate()?;
    let public = key.public_spki_der()?;
    let verifying = Arc::new(VerifyingKey::from_text(&keys::to_base64(&public))?);
    // Every recorded caller, registered with the run's key; the mock alone answers.
    let mut clients = HashMap::new();
    for r in recordings {
        clients.entry(r.client_id.clone()).or_insert_with(|| {
            Arc::new(Client {
                id: r.client_id.clone(),
                keys: PublicKeys::new(HashMap::from([("1".to_owned(), verifying.clone())])),
                allowed: None,
                limiter: None,
                pass_through: false,
            })
        });
    }
    config.clients = Arc::new(clients);
    config.real = None;
    config.settings.notify.enabled = false;
    let state = AppState::new(config, Arc::new(MemoryStore::default()));
    let router = crate::api::router(state);

    let mut report = Report::default();
    for r in recordings {
        let Some(endpoint) = Endpoint::from_name(&r.api) else {
            report
                .skipped
                .push(format!("recording {}: unknown API {}", r.id, r.api));
            continue;
        };
        let Some(real) = r.answer() else {
            report.skipped.push(format!(
                "recording {}: the upstream's answer was refused ({})",
                r.id, r.verdict
            ));
            continue;
        };
        let path = reqwest::Url::parse(&r.request.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| endpoint.spec().paths[0].to_owned());
        let time = datetime::format_millis(chrono::Utc::now());
        let body = r.request.body.as_bytes();
        let signed = signature::sign(&key, &Message::post(&path, &r.client_id, &time, body))?;
        let request = Request::post(path.as_str())
            .header("content-type", "application/json; charset=UTF-8")
            .header("client-id", &r.client_id)
            .header("request-time", &time)
            .header("signature", header::format("1", &signed))
            .body(Body::from(r.request.body.clone()))?;
        // The router's error is `Infallible`: every failure is an answer.
        let Ok(response) = router.clone().oneshot(request).await;
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let mock = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
        report.compared.push(Compared {
            id: r.id,
            api: r.api.clone(),
            match_key: r.match_key.clone(),
            differences: compare(&real, &mock),
        });
    }
    Ok(report)
}
