//! The harness every API test uses: a gateway on `127.0.0.1:0` over real HTTP, a caller that
//! signs like the SDKs with its own RSA code (the `rsa` crate, never the gateway's
//! `signature::sign`), a verifier for the gateway's response signatures, the admin API, and
//! field-rule tables. Tests speak in these domain terms; nobody builds headers by hand.

mod admin;
mod answer;
mod bodies;
mod gateway;
mod signer;
mod webhook;

pub use admin::*;
pub use answer::*;
pub use bodies::*;
pub use gateway::*;
pub use signer::*;
pub use webhook::*;

use std::collections::BTreeMap;

#[path = "../../support/postgres_schema.rs"]
mod postgres_schema;
#[path = "../../support/skip.rs"]
pub mod skip;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alipay_gateway::app::{self, AppState};
use alipay_gateway::config::{ClientSettings, DEFAULT_TOML, Settings};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Format, Toml};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The merchant / ACQP / Alipay+ caller: may call every API, key `TEST-ONLY-merchant`, keyVersion 1.
pub const MERCHANT: &str = "TEST_MERCHANT";
/// A caller whose `endpoints` allow-list holds only inquiryPayment (same key as [`MERCHANT`]).
pub const INQUIRY_ONLY: &str = "TEST_INQUIRY_ONLY";
/// A caller with two key versions: "1" is the `TEST-ONLY-other` key, "2" the merchant key.
pub const ROTATED: &str = "TEST_ROTATED_KEYS";
/// The admin bearer token of every test gateway.
pub const ADMIN_TOKEN: &str = "TEST-ONLY-admin-token";

/// The API paths, as the pages and the SDK constants write them.
pub mod paths {
    /// Antom risk, merchant -> Antom.
    pub const SEND_PAYMENT_RESULT: &str = "/ams/api/v1/risk/payments/sendPaymentResult";
    /// The same API under the sandbox prefix the SDKs rewrite to for `SANDBOX_` clients.
    pub const SEND_PAYMENT_RESULT_SANDBOX: &str =
        "/ams/sandbox/api/v1/risk/payments/sendPaymentResult";
    /// ACQP -> Alipay+.
    pub const NOTIFY_PUSH_PAYMENT: &str = "/aps/api/v1/payments/notifyPushPayment";
    /// Alipay+ -> MPP.
    pub const INQUIRY_PAYMENT: &str = "/aps/api/v1/payments/inquiryPayment";
    /// Antom -> merchant webhook, at the default `server.notify_payment_path`.
    pub const NOTIFY_PAYMENT: &str = "/aps/api/v1/payments/notifyPayment";
}
