//! The integration test binary: the gateway over a real socket, one module per area.

mod admin;
mod faults;
mod flows;
mod gateway_codes;
mod hardening;
mod helpers;
mod inquiry_payment;
mod journal;
mod notifications;
mod notify_payment;
mod notify_push_payment;
mod operations;
mod scenario_helpers;
mod scenarios;
mod send_payment_result;
mod signing;
