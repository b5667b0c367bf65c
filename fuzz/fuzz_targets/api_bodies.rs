//! Each API's body through its page's field rules, as the handlers parse it; the first byte
//! picks the API, so one corpus covers all four (the receiver's notification among them).
#![no_main]

use alipay_gateway::api::extract::parse;
use alipay_gateway::api::inquiry_payment::InquiryPaymentRequest;
use alipay_gateway::api::notify_payment::NotifyPaymentRequest;
use alipay_gateway::api::notify_push_payment::NotifyPushPaymentRequest;
use alipay_gateway::api::send_payment_result::SendPaymentResultRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&api, body)) = data.split_first() else {
        return;
    };
    match api % 4 {
        0 => drop(parse::<SendPaymentResultRequest>(body)),
        1 => drop(parse::<NotifyPushPaymentRequest>(body)),
        2 => drop(parse::<InquiryPaymentRequest>(body)),
        _ => drop(parse::<NotifyPaymentRequest>(body)),
    }
});
