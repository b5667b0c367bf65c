//! The `Signature` header: `algorithm=RSA256,keyVersion=1,signature=<url-encoded base64>`.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::SignatureError;

/// What Java's `URLEncoder` and Python's `quote_plus` leave alone; base64's `+ / =` are encoded.
const FORM_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'*');

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// `RSA256` unless the caller said otherwise.
    pub algorithm: Cow<'a, str>,
    /// The key version named, if any; absent means the client's latest key.
    pub key_version: Option<Cow<'a, str>>,
    /// The signature, percent-decoded: standard base64.
    pub signature: String,
}

impl<'a> SignatureHeader<'a> {
    /// Parses the header. Parameter names are matched case-insensitively and spaces after
    /// commas are allowed (the docs print both). Percent-decoding takes upper- and lower-case
    /// hex (.NET sends `%2b`), and a raw `+` stays a `+`: form-decoding it to a space would
    /// break raw base64.
    pub fn parse(value: &'a str) -> Result<Self, SignatureError> {
        // `signature=` comes last and its raw (unencoded) form may hold `=` and `,`-free
        // base64, so split it off first and read the parameters before it.
        let lower = value.to_ascii_lowercase();
        let at = lower
            .find("signature=")
            .ok_or_else(|| SignatureError::Malformed("no signature= parameter".into()))?;
        let encoded = value[at + "signature=".len()..].trim();
        if encoded.is_empty() {
            return Err(SignatureError::Malformed(
                "the signature= parameter is empty".into(),
            ));
        }
        let mut algorithm = Cow::Borrowed("RSA256");
        let mut key_version = None;
        for part in value[..at]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, val) = part.split_once('=').ok_or_else(|| {
                SignatureError::Malformed(format!("parameter {part:?} has no value"))
            })?;
            match name.trim().to_ascii_lowercase().as_str() {
                "algorithm" => algorithm = Cow::Borrowed(val.trim()),
                "keyversion" => key_version = Some(Cow::Borrowed(val.trim())),
                _ => {}
            }
        }
        if !algorithm.eq_ignore_ascii_case("RSA256") {
            return Err(SignatureError::UnsupportedAlgorithm(algorithm.into_owned()));
        }
        let signature = percent_decode_str(encoded)
            .decode_utf8()
            .map_err(|_| SignatureError::BadEncoding)?
            .into_owned();
        Ok(Self {
            algorithm,
            key_version,
            signature,
        })
    }
}

/// URL-encodes a base64 signature the way the SDKs do (`+`->`%2B`, `/`->`%2F`, `=`->`%3D`).
pub fn url_encode(signature_b64: &str) -> String {
    utf8_percent_encode(signature_b64, FORM_ENCODE).to_string()
}

/// Formats the header value in the order the Java SDK requires.
pub fn format(key_version: &str, signature_b64: &str) -> String {
    format!(
        "algorithm=RSA256,keyVersion={key_version},signature={}",
        url_encode(signature_b64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sdk_form() {
        let h = SignatureHeader::parse("algorithm=RSA256,keyVersion=1,signature=ab%2Bc%2Fd%3D%3D")
            .unwrap();
        assert_eq!(h.algorithm, "RSA256");
        assert_eq!(h.key_version.as_deref(), Some("1"));
        assert_eq!(h.signature, "ab+c/d==");
    }

    #[test]
    fn percent_decoding_takes_lower_case_hex_and_keeps_raw_plus() {
        let lower =
            SignatureHeader::parse("algorithm=RSA256,keyVersion=1,signature=ab%2bc%2fd%3d%3d")
                .unwrap();
        assert_eq!(lower.signature, "ab+c/d==");
        let raw =
            SignatureHeader::parse("algorithm=RSA256,keyVersion=1,signature=ab+c/d==").unwrap();
        assert_eq!(raw.signature, "ab+c/d==");
    }

    #[test]
    fn accepts_the_spaced_doc_form_and_a_missing_key_version() {
        let h = SignatureHeader::parse("algorithm=rsa256, keyVersion=0, signature=xyz").unwrap();
        assert_eq!(h.key_version.as_deref(), Some("0"));
        let h = SignatureHeader::parse("signature=xyz").unwrap();
        assert_eq!(h.key_version, None);
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        assert!(matches!(
            SignatureHeader::parse("algorithm=RSA256,keyVersion=1"),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            SignatureHeader::parse("algorithm=RSA256,signature="),
            Err(SignatureError::Malformed(_))
        ));
        assert_eq!(
            SignatureHeader::parse("algorithm=ECC224,keyVersion=1,signature=abc"),
            Err(SignatureError::UnsupportedAlgorithm("ECC224".into()))
        );
    }

    #[test]
    fn formats_like_the_sdks() {
        assert_eq!(
            format("1", "a+b/c="),
            "algorithm=RSA256,keyVersion=1,signature=a%2Bb%2Fc%3D"
        );
    }
}
