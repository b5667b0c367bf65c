//! `Amount`: an ISO 4217 currency and a value in that currency's minor units, as a string.

use iso_currency::Currency;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An amount as it travels: `{"currency":"JPY","value":"200"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// ISO 4217 alphabetic code.
    pub currency: String,
    /// Non-negative integer in the currency's smallest unit (USD 1.00 is `"100"`).
    pub value: String,
}

/// Why an amount or a conversion is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The currency is not an ISO 4217 code.
    #[error("not an ISO 4217 currency code")]
    UnknownCurrency,
    /// The currency has no minor unit (precious metals, testing codes).
    #[error("currency {0} has no ISO 4217 minor unit")]
    NoMinorUnit(String),
    /// The value has something other than digits.
    #[error("must be digits only (the amount in minor units)")]
    NotDigits,
    /// The converted value does not fit.
    #[error("conversion overflows")]
    Overflow,
}

/// The number of decimal places of an ISO 4217 currency (JPY 0, USD 2, KWD 3).
pub fn minor_units(currency: &str) -> Result<u32, AmountError> {
    let c = Currency::from_code(currency).ok_or(AmountError::UnknownCurrency)?;
    c.exponent()
        .map(u32::from)
        .ok_or_else(|| AmountError::NoMinorUnit(currency.to_owned()))
}

/// Checks a currency code: three upper-case letters that ISO 4217 knows.
pub fn check_currency(currency: &str) -> Result<(), AmountError> {
    minor_units(currency).map(|_| ())
}

/// Checks a value: one or more ASCII digits, nothing else.
pub fn check_value(value: &str) -> Result<(), AmountError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AmountError::NotDigits)
    }
}

impl Amount {
    /// Builds an amount; the caller has checked both parts.
    pub fn new(currency: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            currency: currency.into(),
            value: value.into(),
        }
    }

    /// Converts into `target` at `price` (target units per source unit), rounding HALF_EVEN to
    /// the target currency's minor units, as the inquiryPayment page requires for payToAmount.
    pub fn convert(&self, target: &str, price: Decimal) -> Result<Amount, AmountError> {
        check_value(&self.value)?;
        let from_scale = minor_units(&self.currency)?;
        let to_scale = minor_units(target)?;
        let minor = Decimal::from_str_exact(&self.value).map_err(|_| AmountError::Overflow)?;
        let major = minor
            .checked_div(Decimal::from(10u64.pow(from_scale)))
            .ok_or(AmountError::Overflow)?;
        let converted = major
            .checked_mul(price)
            .ok_or(AmountError::Overflow)?
            .round_dp_with_strategy(to_scale, RoundingStrategy::MidpointNearestEven);
        let target_minor = converted
            .checked_mul(Decimal::from(10u64.pow(to_scale)))
            .ok_or(AmountError::Overflow)?
            .normalize();
        Ok(Amount::new(target, target_minor.trunc().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn price(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(minor_units("JPY"), Ok(0));
        assert_eq!(minor_units("USD"), Ok(2));
        assert_eq!(minor_units("KWD"), Ok(3));
        assert_eq!(minor_units("ZZZ"), Err(AmountError::UnknownCurrency));
        assert!(matches!(
            minor_units("XAU"),
            Err(AmountError::NoMinorUnit(_))
        ));
    }

    #[test]
    fn conversion_matches_the_sdk_fixture_jpy_to_cny() {
        // ams-java-sdk notify_s.json: JPY 200 at 0.064622 is CNY 12.92.
        let jpy = Amount::new("JPY", "200");
        assert_eq!(
            jpy.convert("CNY", price("0.064622")).unwrap(),
            Amount::new("CNY", "1292")
        );
    }

    #[test]
    fn conversion_rounds_half_to_even_at_the_target_minor_unit() {
        // USD 1.00 at 150.5 is JPY 150.5 -> 150 (even); at 151.5 -> 152 (even).
        let usd = Amount::new("USD", "100");
        assert_eq!(usd.convert("JPY", price("150.5")).unwrap().value, "150");
        assert_eq!(usd.convert("JPY", price("151.5")).unwrap().value, "152");
        // USD 0.01 at 0.25 is 0.0025 KWD -> 0.002 (even) -> "2" fils.
        let cent = Amount::new("USD", "1");
        assert_eq!(cent.convert("KWD", price("0.25")).unwrap().value, "2");
        // JPY 1 at 0.015 is USD 0.015 -> 0.02 (even); at 0.025 -> 0.02 (even).
        assert_eq!(
            Amount::new("JPY", "1")
                .convert("USD", price("0.015"))
                .unwrap()
                .value,
            "2"
        );
        assert_eq!(
            Amount::new("JPY", "1")
                .convert("USD", price("0.025"))
                .unwrap()
                .value,
            "2"
        );
    }

    #[test]
    fn values_must_be_digits_only() {
        assert!(check_value("0").is_ok());
        assert!(check_value("100").is_ok());
        for bad in ["", "1.00", "-1", " 1", "1e3", "１"] {
            assert_eq!(check_value(bad), Err(AmountError::NotDigits), "{bad}");
        }
    }
}
