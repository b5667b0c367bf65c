//! The `Signature` header as any caller may send it: parsed, then its signature checked (and, on
//! failure, diagnosed: the RSA block opened and compared) against a real key.
#![no_main]

use std::sync::OnceLock;

use alipay_gateway::signature::{self, Message, SignatureHeader, VerifyingKey};
use libfuzzer_sys::fuzz_target;

fn key() -> &'static VerifyingKey {
    static KEY: OnceLock<VerifyingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        VerifyingKey::from_text(include_str!(
            "../../tests/fixtures/keys/TEST-ONLY-merchant-public.pem"
        ))
        .expect("the test key parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = SignatureHeader::parse(value) {
        let message = Message::post("/aps/api/v1/payments/inquiryPayment", "C", "1", b"{}");
        let _ = signature::verify(key(), "1", &message, &header.signature);
    }
});
