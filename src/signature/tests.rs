//! The published vectors, reproduced byte for byte, and the failure reasons.

use super::*;
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("../../tests/fixtures/signature-vectors.json");
    serde_json::from_str(text).unwrap()
}

fn key_pair() -> (SigningKey, VerifyingKey) {
    let v = vectors();
    let private = SigningKey::from_text(v["private_key_pkcs8_base64"].as_str().unwrap()).unwrap();
    let public = VerifyingKey::from_text(v["public_key_spki_base64"].as_str().unwrap()).unwrap();
    (private, public)
}

fn message_of(vector: &Value) -> Message<'_> {
    Message {
        method: vector["method"].as_str().unwrap(),
        path: vector["path"].as_str().unwrap(),
        client_id: vector["client_id"].as_str().unwrap(),
        time: vector["time"].as_str().unwrap(),
        body: vector["body"].as_str().unwrap().as_bytes(),
    }
}

fn expected_signature(vector: &Value) -> String {
    SignatureHeader::parse(vector["signature_header"].as_str().unwrap())
        .unwrap()
        .signature
}

#[test]
fn every_vector_is_reproduced_byte_for_byte() {
    let (private, public) = key_pair();
    let all = vectors();
    for vector in all["vectors"].as_array().unwrap() {
        let message = message_of(vector);
        assert_eq!(
            message.content(),
            vector["content_to_sign"].as_str().unwrap().as_bytes()
        );
        if let Some(sha) = vector["content_sha256"].as_str() {
            let hex: String = message
                .digest()
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, sha);
        }
        let signature = sign(&private, &message).unwrap();
        assert_eq!(
            header::format("1", &signature),
            vector["signature_header"].as_str().unwrap()
        );
        assert_eq!(
            verify(&public, "1", &message, &expected_signature(vector)),
            Ok(())
        );
    }
}

#[test]
fn lower_case_percent_encoding_verifies() {
    let (_, public) = key_pair();
    let all = vectors();
    let vector = &all["vectors"][0];
    let lower = vector["signature_header"]
        .as_str()
        .unwrap()
        .replace("%2B", "%2b")
        .replace("%2F", "%2f")
        .replace("%3D", "%3d");
    let parsed = SignatureHeader::parse(&lower).unwrap();
    assert_eq!(
        verify(&public, "1", &message_of(vector), &parsed.signature),
        Ok(())
    );
}

#[test]
fn keys_load_from_pem_in_both_structures() {
    let (private, _) = key_pair();
    let pkcs8 = private.pkcs8_der().unwrap();
    let all = vectors();
    let vector = &all["vectors"][0];
    // The Python SDK wraps a PKCS#8 body in RSA PRIVATE KEY armour.
    for tag in ["PRIVATE KEY", "RSA PRIVATE KEY"] {
        let key = SigningKey::from_text(&keys::to_pem(tag, &pkcs8)).unwrap();
        assert_eq!(
            sign(&key, &message_of(vector)).unwrap(),
            expected_signature(vector)
        );
    }
    let spki = private.public_spki_der().unwrap();
    assert!(VerifyingKey::from_text(&keys::to_pem("PUBLIC KEY", &spki)).is_ok());
    assert!(matches!(
        VerifyingKey::from_text(&keys::to_pem("CERTIFICATE", &spki)),
        Err(KeyError::WrongPemTag(_))
    ));
    assert_eq!(
        SigningKey::from_text("not a key").unwrap_err(),
        KeyError::NotEncoded
    );
}

#[test]
fn a_failure_says_whether_the_key_or_the_content_is_wrong() {
    let (private, public) = key_pair();
    let all = vectors();
    let message = message_of(&all["vectors"][0]);
    let good = sign(&private, &message).unwrap();

    let tampered_body = String::from_utf8(message.body.to_vec())
        .unwrap()
        .replace("SUCCESS", "FAIL");
    let tampered = Message {
        body: tampered_body.as_bytes(),
        ..message
    };
    assert!(matches!(
        verify(&public, "1", &tampered, &good),
        Err(SignatureError::ContentChanged { .. })
    ));

    let other = SigningKey::generate().unwrap();
    let foreign = sign(&other, &message).unwrap();
    assert_eq!(
        verify(&public, "1", &message, &foreign),
        Err(SignatureError::WrongKey {
            key_version: "1".into()
        })
    );

    assert_eq!(
        verify(&public, "1", &message, "***"),
        Err(SignatureError::BadEncoding)
    );
    assert!(matches!(
        verify(&public, "1", &message, "AAAA"),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn a_sandbox_path_mismatch_is_named() {
    let (private, public) = key_pair();
    let signed = Message::post(
        "/ams/api/v1/risk/payments/sendPaymentResult",
        "C",
        "1",
        b"{}",
    );
    let received = Message::post(
        "/ams/sandbox/api/v1/risk/payments/sendPaymentResult",
        "C",
        "1",
        b"{}",
    );
    let signature = sign(&private, &signed).unwrap();
    let err = verify(&public, "1", &received, &signature)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("made for path /ams/api/v1/risk/payments/sendPaymentResult"),
        "{err}"
    );
}

#[test]
fn a_trailing_newline_is_named() {
    let (private, public) = key_pair();
    let signature = sign(&private, &Message::post("/p", "C", "1", b"{}\n")).unwrap();
    let err = verify(
        &public,
        "1",
        &Message::post("/p", "C", "1", b"{}"),
        &signature,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("trailing newline"), "{err}");
}
