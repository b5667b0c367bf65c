//! RSA-SHA256 (PKCS#1 v1.5) signing and verification of Alipay+ messages, pure.
//!
//! The content signed is `POST <path>\n<Client-Id>.<time>.<body>` over the exact bytes that
//! travel. The signature travels standard-base64 then URL-encoded in the `Signature` header.
//! The request admission and the notification sender both call these functions.

pub mod diagnose;
pub mod header;
pub mod keys;
pub mod public_keys;
pub mod replay;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use header::SignatureHeader;
pub use keys::{KeyError, SigningKey, VerifyingKey};
pub use public_keys::{PublicKeys, UnknownKeyVersion};

/// The parts of a signed message: `<method> <path>\n<client_id>.<time>.<body>`.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// `POST` for every Alipay+ API.
    pub method: &'a str,
    /// The request path as received (or as the notification is addressed).
    pub path: &'a str,
    /// The Client-Id.
    pub client_id: &'a str,
    /// Request-Time or Response-Time, verbatim.
    pub time: &'a str,
    /// The body, byte for byte.
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    /// A POST message, as every API here uses.
    pub fn post(path: &'a str, client_id: &'a str, time: &'a str, body: &'a [u8]) -> Self {
        Self {
            method: "POST",
            path,
            client_id,
            time,
            body,
        }
    }

    /// The exact content that is signed.
    pub fn content(&self) -> Vec<u8> {
        let mut content = Vec::with_capacity(self.header_len() + self.body.len());
        for part in self.parts() {
            content.extend_from_slice(part);
        }
        content
    }

    /// SHA-256 of the content, computed over the parts in place: the body is never copied.
    pub fn digest(&self) -> Digest {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in self.parts() {
            ctx.update(part);
        }
        ctx.finish()
    }

    fn parts(&self) -> [&[u8]; 9] {
        [
            self.method.as_bytes(),
            b" ",
            self.path.as_bytes(),
            b"\n",
            self.client_id.as_bytes(),
            b".",
            self.time.as_bytes(),
            b".",
            self.body,
        ]
    }

    fn header_len(&self) -> usize {
        self.method.len() + self.path.len() + self.client_id.len() + self.time.len() + 4
    }
}

/// Signs a message and returns the standard-base64 signature (not yet URL-encoded).
pub fn sign(key: &SigningKey, message: &Message<'_>) -> Result<String, KeyError> {
    let pair = key.key_pair();
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign_digest(&RSA_PKCS1_SHA256, &message.digest(), &mut signature)
        .map_err(|_| KeyError::Unusable("signing failed".into()))?;
    Ok(STANDARD.encode(signature))
}

/// Why a signature did not verify. Each reason reads well after "signature invalid: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The `Signature` header is absent.
    #[error("the Signature header is missing")]
    Missing,
    /// The header is not `algorithm=RSA256,keyVersion=N,signature=...`.
    #[error("the Signature header is malformed: {0}")]
    Malformed(String),
    /// An algorithm other than RSA256.
    #[error("algorithm {0} is not supported; use RSA256")]
    UnsupportedAlgorithm(String),
    /// The value is not base64 once percent-decoded.
    #[error("bad encoding: the signature value is not standard base64 after URL-decoding")]
    BadEncoding,
    /// The signature was made with another private key than the one registered.
    #[error(
        "signed with a different key than the public key registered for keyVersion {key_version}"
    )]
    WrongKey {
        /// The key version verified against.
        key_version: String,
    },
    /// The right key signed, but other content than what arrived.
    #[error("the signed content differs from what was received ({hint})")]
    ContentChanged {
        /// What differs, as far as the gateway can tell.
        hint: String,
    },
}

impl SignatureError {
    /// A short name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Missing => "missing",
            SignatureError::Malformed(_) => "malformed",
            SignatureError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            SignatureError::BadEncoding => "bad_encoding",
            SignatureError::WrongKey { .. } => "wrong_key",
            SignatureError::ContentChanged { .. } => "content_changed",
        }
    }
}

/// Verifies a standard-base64 `signature` over a message with `key`, and on failure says why.
pub fn verify(
    key: &VerifyingKey,
    key_version: &str,
    message: &Message<'_>,
    signature_b64: &str,
) -> Result<(), SignatureError> {
    let signature = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| SignatureError::BadEncoding)?;
    if key
        .parsed()
        .verify_digest_sig(&message.digest(), &signature)
        .is_ok()
    {
        return Ok(());
    }
    Err(diagnose::explain(
        key,
        key_version,
        &message.content(),
        &signature,
    ))
}

#[cfg(test)]
mod tests;
