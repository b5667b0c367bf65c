//! `Request-Time` in both forms (epoch milliseconds, ISO 8601) and the Datetime fields.
#![no_main]

use alipay_gateway::protocol::datetime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = datetime::parse_request_time(value) {
        let _ = datetime::format_millis(t);
    }
    if let Some(t) = datetime::parse(value) {
        let _ = datetime::format_seconds(t);
    }
});
