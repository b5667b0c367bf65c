//! RSA keys in the forms Alipay+ tooling hands out: single-line base64 DER ("Java format":
//! PKCS#8 private, X.509 SubjectPublicKeyInfo public) and PEM (PKCS#1 or PKCS#8), parsed once.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use num_bigint::BigUint;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Neither PEM nor single-line base64.
    #[error("not PEM and not single-line base64 DER")]
    NotEncoded,
    /// PEM armour that holds something else.
    #[error(
        "PEM block {0:?} is not an RSA key (expected PRIVATE KEY, RSA PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY)"
    )]
    WrongPemTag(String),
    /// Decoded, but not an RSA key of an accepted size.
    #[error(
        "not an RSA {0} key of 2048 to 8192 bits (PKCS#8 or PKCS#1 private, SPKI or PKCS#1 public)"
    )]
    NotRsa(&'static str),
    /// The key could not do its job.
    #[error("{0}")]
    Unusable(String),
}

/// DER bytes from PEM or single-line base64, with the PEM tag when there was one.
fn decode_text(text: &str) -> Result<(Option<String>, Vec<u8>), KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let pem = pem::parse(text).map_err(|_| KeyError::NotEncoded)?;
        return Ok((Some(pem.tag().to_owned()), pem.contents().to_vec()));
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(compact).map_err(|_| KeyError::NotEncoded)?;
    Ok((None, der))
}

/// The gateway's private key: signs responses and notifications. Its `Debug` never shows it.
pub struct SigningKey {
    pair: KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Parses a private key: base64 PKCS#8 or PKCS#1 DER, or PEM. The Python and PHP SDKs wrap
    /// PKCS#8 bodies in `RSA PRIVATE KEY` armour, so both structures are tried whatever the tag.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let (tag, der) = decode_text(text)?;
        match tag.as_deref() {
            None | Some("PRIVATE KEY") | Some("RSA PRIVATE KEY") => {}
            Some(other) => return Err(KeyError::WrongPemTag(other.to_owned())),
        }
        let pair = KeyPair::from_pkcs8(&der)
            .or_else(|_| KeyPair::from_der(&der))
            .map_err(|_| KeyError::NotRsa("private"))?;
        Ok(Self { pair })
    }

    /// A fresh RSA-2048 key.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| KeyError::Unusable("key generation failed".into()))?;
        Ok(Self { pair })
    }

    pub(crate) fn key_pair(&self) -> &KeyPair {
        &self.pair
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let der: Pkcs8V1Der<'static> = self
            .pair
            .as_der()
            .map_err(|_| KeyError::Unusable("PKCS#8 export failed".into()))?;
        Ok(der.as_ref().to_vec())
    }

    /// The matching public key as X.509 SubjectPublicKeyInfo DER.
    pub fn public_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let der: PublicKeyX509Der<'static> = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Unusable("public key export failed".into()))?;
        Ok(der.as_ref().to_vec())
    }

    /// The matching public key, ready to verify.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_der(&self.public_spki_der()?)
    }
}

/// A partner's public key, parsed once at start-up.
pub struct VerifyingKey {
    parsed: ParsedPublicKey,
    modulus: BigUint,
    exponent: BigUint,
    modulus_len: usize,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey(RSA-{})", self.modulus_len * 8)
    }
}

impl VerifyingKey {
    /// Parses a public key: base64 SPKI or PKCS#1 DER, or PEM.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let (tag, der) = decode_text(text)?;
        match tag.as_deref() {
            None | Some("PUBLIC KEY") | Some("RSA PUBLIC KEY") => {}
            Some(other) => return Err(KeyError::WrongPemTag(other.to_owned())),
        }
        Self::from_der(&der)
    }

    /// Parses SPKI or PKCS#1 DER.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let public = PublicKey::from_der(der).map_err(|_| KeyError::NotRsa("public"))?;
        let spki: PublicKeyX509Der<'static> =
            public.as_der().map_err(|_| KeyError::NotRsa("public"))?;
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref())
            .map_err(|_| KeyError::NotRsa("public"))?;
        Ok(Self {
            parsed,
            modulus: BigUint::from_bytes_be(public.modulus().big_endian_without_leading_zero()),
            exponent: BigUint::from_bytes_be(public.exponent().big_endian_without_leading_zero()),
            modulus_len: public.modulus_len(),
        })
    }

    pub(crate) fn parsed(&self) -> &ParsedPublicKey {
        &self.parsed
    }

    /// The raw RSA public operation `s^e mod n`, left-padded to the modulus length; only the
    /// failure diagnosis uses it.
    pub(crate) fn open(&self, signature: &[u8]) -> Option<Vec<u8>> {
        if signature.len() != self.modulus_len {
            return None;
        }
        let s = BigUint::from_bytes_be(signature);
        if s >= self.modulus {
            return None;
        }
        let m = s.modpow(&self.exponent, &self.modulus).to_bytes_be();
        let mut em = vec![0u8; self.modulus_len - m.len()];
        em.extend_from_slice(&m);
        Some(em)
    }

    /// The key size in bytes.
    pub fn modulus_len(&self) -> usize {
        self.modulus_len
    }
}

/// PEM text for a DER blob.
pub fn to_pem(tag: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, der.to_vec()))
}

/// Single-line base64 ("Java format") for a DER blob.
pub fn to_base64(der: &[u8]) -> String {
    STANDARD.encode(der)
}
