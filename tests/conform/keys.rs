//! The sample endpoints' own signature code, independent of the gateway's: the `rsa` crate over
//! `POST <path>\n<client-id>.<time>.<body>`, with the TEST-ONLY keys.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// A TEST-ONLY key file's path, for the kit's command line.
pub fn key_file(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

/// The gateway's public key: what a merchant or an MPP verifies Alipay+ with.
fn alipay_plus_key() -> &'static VerifyingKey<Sha256> {
    static KEY: OnceLock<VerifyingKey<Sha256>> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(key_file("TEST-ONLY-gateway-public.pem")).unwrap();
        VerifyingKey::new(RsaPublicKey::from_public_key_pem(&pem).unwrap())
    })
}

/// The merchant's (and the sample MPP's) private key, which signs their answers.
fn own_key() -> &'static SigningKey<Sha256> {
    static KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(key_file("TEST-ONLY-merchant-private.pem")).unwrap();
        SigningKey::new(RsaPrivateKey::from_pkcs8_pem(&pem).unwrap())
    })
}

fn content(path: &str, client_id: &str, time: &str, body: &[u8]) -> Vec<u8> {
    let mut content = format!("POST {path}\n{client_id}.{time}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// Why a request's `signature` header does not verify as Alipay+'s keyVersion 1 signature;
/// `Ok` when it does.
pub fn check_request(
    header: &str,
    path: &str,
    client_id: &str,
    time: &str,
    body: &[u8],
) -> Result<(), &'static str> {
    let (params, encoded) = header.split_once("signature=").ok_or("INVALID_SIGNATURE")?;
    let version = params
        .split(',')
        .find_map(|p| p.trim().strip_prefix("keyVersion="))
        .unwrap_or("1");
    if version != "1" {
        return Err("KEY_NOT_FOUND");
    }
    let decoded = percent_decode_str(encoded.trim())
        .decode_utf8()
        .map_err(|_| "INVALID_SIGNATURE")?;
    let bytes = STANDARD
        .decode(decoded.as_bytes())
        .map_err(|_| "INVALID_SIGNATURE")?;
    let signature = Signature::try_from(bytes.as_slice()).map_err(|_| "INVALID_SIGNATURE")?;
    alipay_plus_key()
        .verify(&content(path, client_id, time, body), &signature)
        .map_err(|_| "INVALID_SIGNATURE")
}

/// The `signature` header value of an answer, signed with the endpoint's own key.
pub fn sign_answer(path: &str, client_id: &str, time: &str, body: &[u8]) -> String {
    let signature = own_key().sign(&content(path, client_id, time, body));
    let encoded = STANDARD.encode(signature.to_bytes());
    format!(
        "algorithm=RSA256,keyVersion=1,signature={}",
        utf8_percent_encode(&encoded, NON_ALPHANUMERIC)
    )
}
