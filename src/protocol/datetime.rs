//! `Datetime`: ISO 8601 with an offset, and the `Request-Time` header forms the SDKs send.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// Parses a body Datetime: ISO 8601 / RFC 3339 with an offset or `Z`, fractional seconds
/// allowed (`2019-11-27T12:01:01+08:00`, `2025-02-20T08:51:49.09Z`).
pub fn parse(value: &str) -> Option<DateTime<FixedOffset>> {
    // chrono also takes a space or a lower-case `t` as separator; the wire never does.
    if value.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(value).ok()
}

/// Parses a `Request-Time` header: epoch milliseconds (Java, Go) or ISO 8601 in the shapes the
/// Python, PHP (`+0000`) and .NET SDKs send. Only the clock-skew check needs the instant; the
/// signature covers the header's text as received.
pub fn parse_request_time(value: &str) -> Option<DateTime<Utc>> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = value.parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    if let Some(t) = parse(value) {
        return Some(t.with_timezone(&Utc));
    }
    DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Formats an instant as the gateway emits Datetimes and `response-time`:
/// `2026-11-22T08:30:00.123+00:00`.
pub fn format_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// Formats an instant as a body Datetime, `YYYY-MM-DDThh:mm:ss+hh:mm` (25 characters).
pub fn format_seconds(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_datetimes_need_an_offset() {
        assert!(parse("2019-11-27T12:01:01+08:00").is_some());
        assert!(parse("2020-01-01T12:01:01+08:30").is_some());
        assert!(parse("2025-02-20T08:51:49.09Z").is_some());
        assert!(parse("2020-03-02T19:11:19-08:00").is_some());
        for bad in [
            "2019-11-27T12:01:01",
            "2019-11-27 12:01:01+08:00",
            "2019-11-27",
            "1685599933871",
            "yesterday",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn request_time_takes_every_sdk_form() {
        let expected = DateTime::parse_from_rfc3339("2025-02-20T08:51:49Z").unwrap();
        for sent in [
            "1740041509000",
            "2025-02-20T08:51:49+00:00",
            "2025-02-20T08:51:49+0000",
            "2025-02-20T16:51:49+08:00",
            "2025-02-20T08:51:49.0000000Z",
        ] {
            assert_eq!(
                parse_request_time(sent),
                Some(expected.with_timezone(&Utc)),
                "{sent}"
            );
        }
        assert_eq!(parse_request_time("not a time"), None);
    }
}
