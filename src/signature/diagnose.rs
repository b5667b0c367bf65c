//! Why a signature failed: opens the signature with the public key to tell a wrong key from
//! changed content, and, for changed content, tries the usual mistakes to name what changed.
//! Runs only on the failure path; no secret is involved.

use aws_lc_rs::digest::{SHA256, digest};

use super::{SignatureError, VerifyingKey};

/// DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Explains a failed verification of `signature` over `content`.
pub fn explain(
    key: &VerifyingKey,
    key_version: &str,
    content: &[u8],
    signature: &[u8],
) -> SignatureError {
    if signature.len() != key.modulus_len() {
        return SignatureError::Malformed(format!(
            "the signature is {} bytes; an RSA-{} signature is {} bytes",
            signature.len(),
            key.modulus_len() * 8,
            key.modulus_len()
        ));
    }
    let Some(signed_digest) = key.open(signature).as_deref().and_then(sha256_digest_of) else {
        return SignatureError::WrongKey {
            key_version: key_version.to_owned(),
        };
    };
    SignatureError::ContentChanged {
        hint: guess_change(content, &signed_digest),
    }
}

/// The SHA-256 digest inside a well-formed EMSA-PKCS1-v1_5 block, if it is one.
fn sha256_digest_of(em: &[u8]) -> Option<[u8; 32]> {
    let rest = em.strip_prefix(&[0x00, 0x01])?;
    let sep = rest.iter().position(|&b| b != 0xff)?;
    if sep < 8 || rest[sep] != 0x00 {
        return None;
    }
    let info = rest[sep + 1..].strip_prefix(&SHA256_DIGEST_INFO[..])?;
    info.try_into().ok()
}

/// Tries the mistakes integrators make most and names the first that matches the signed digest.
fn guess_change(content: &[u8], signed: &[u8; 32]) -> String {
    let matches = |candidate: &[u8]| digest(&SHA256, candidate).as_ref() == signed;
    let Some(split) = content.iter().position(|&b| b == b'\n') else {
        return "body, path, Client-Id or Request-Time".into();
    };
    let (first_line, rest) = (&content[..split], &content[split + 1..]);
    let path = first_line.strip_prefix(b"POST ").unwrap_or(first_line);

    // The path: signed with or without the sandbox prefix the SDKs add for SANDBOX_ clients.
    for (from, to) in [
        (&b"/ams/sandbox/api"[..], &b"/ams/api"[..]),
        (b"/ams/api", b"/ams/sandbox/api"),
    ] {
        if let Some(tail) = path.strip_prefix(from) {
            let other = [b"POST ", to, tail, b"\n", rest].concat();
            if matches(&other) {
                return format!(
                    "the signature was made for path {}, but the request arrived at {}",
                    String::from_utf8_lossy(&[to, tail].concat()),
                    String::from_utf8_lossy(path)
                );
            }
        }
    }
    // The body: a trailing newline added or lost, or CRLF line ends.
    let mut trimmed = content.to_vec();
    while trimmed.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        trimmed.pop();
    }
    for candidate in [
        trimmed.clone(),
        [&trimmed[..], b"\n"].concat(),
        [&trimmed[..], b"\r\n"].concat(),
    ] {
        if matches(&candidate) {
            return "the body differs only in a trailing newline".into();
        }
    }
    let rest_lf = String::from_utf8_lossy(rest).replace("\r\n", "\n");
    for candidate in [rest_lf.clone(), rest_lf.replace('\n', "\r\n")] {
        if matches(&[first_line, b"\n", candidate.as_bytes()].concat()) {
            return "the body differs in line endings (\\r\\n against \\n)".into();
        }
    }
    "body, path, Client-Id or Request-Time changed after signing".into()
}
