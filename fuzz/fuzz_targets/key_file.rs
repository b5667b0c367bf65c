//! Key files: PEM (PKCS#1 or PKCS#8) and single-line base64, public and private.
#![no_main]

use alipay_gateway::signature::{SigningKey, VerifyingKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = VerifyingKey::from_text(text);
    let _ = VerifyingKey::from_der(data);
    if let Ok(key) = SigningKey::from_text(text) {
        let _ = key.verifying_key();
    }
});
