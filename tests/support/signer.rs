//! An independent signer: requests signed as the SDKs sign them, with the pure-Rust `rsa`
//! crate rather than the gateway's own code, so a bug there cannot hide itself.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::Value;
use sha2::Sha256;

use super::config::{MERCHANT, keys_dir};

/// A request signed like the SDKs do, ready to send any number of times.
#[derive(Clone)]
pub struct Signed {
    /// The API path it was signed over and goes to.
    pub path: &'static str,
    /// `Request-Time`, epoch milliseconds.
    pub request_time: String,
    /// The signature, base64 then URL-encoded as Java's `URLEncoder` does.
    pub signature: String,
    /// The exact bytes that were signed.
    pub body: Vec<u8>,
}

/// What Java's `URLEncoder` leaves alone.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'*');

/// Signs `POST <path>\n<Client-Id>.<Request-Time>.<body>` with the TEST-ONLY merchant key.
pub fn sign(path: &'static str, body: &Value) -> Signed {
    static KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(keys_dir().join("TEST-ONLY-merchant-private.pem"))
            .expect("test key readable");
        SigningKey::new(RsaPrivateKey::from_pkcs8_pem(&pem).expect("test key is PKCS#8 PEM"))
    });
    let body = serde_json::to_vec(body).unwrap();
    let request_time = chrono::Utc::now().timestamp_millis().to_string();
    let content = [
        format!("POST {path}\n{MERCHANT}.{request_time}.").as_bytes(),
        &body,
    ]
    .concat();
    let signature = STANDARD.encode(key.sign(&content).to_bytes());
    Signed {
        path,
        request_time,
        signature: utf8_percent_encode(&signature, FORM).to_string(),
        body,
    }
}

/// Signs every body for `path`, on every core: signing is the slow part of these tests.
pub fn sign_all(path: &'static str, bodies: &[Value]) -> Vec<Signed> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = bodies.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let signers: Vec<_> = bodies
            .chunks(chunk)
            .map(|bodies| s.spawn(move || bodies.iter().map(|b| sign(path, b)).collect::<Vec<_>>()))
            .collect();
        signers
            .into_iter()
            .flat_map(|signer| signer.join().unwrap())
            .collect()
    })
}
