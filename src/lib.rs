//! alipay-gateway: a stand-in for the Alipay+ / Antom endpoints that speaks the wire protocol
//! byte for byte: signed requests and responses, the `result` envelope, every field rule.
#![forbid(unsafe_code)]

/// The HTTP APIs, one module per endpoint, plus the admin API.
pub mod api;
/// Application state, router and server loop.
pub mod app;
/// Reading request bodies within a limit.
pub mod body;
/// The command line.
pub mod cli;
/// Registered clients: keys, allowed APIs, rate limits.
pub mod client;
/// Layered, validated configuration.
pub mod config;
/// The conformance kit: the gateway plays Alipay+ against the user's own endpoints.
pub mod conform;
/// The dashboard at `/dashboard`: the admin API's knowledge as pages, and its controls.
pub mod dashboard;
/// Payments, reports and notifications: the model, free of IO.
pub mod domain;
/// Identifiers the gateway assigns.
pub mod ids;
/// The bounded request journal.
pub mod journal;
/// Namespaces: many test runs share one gateway without seeing each other.
pub mod namespace;
/// Payment result notifications: schedule, sender, worker.
pub mod notify;
/// The wire model: results, amounts, date-times, field rules.
pub mod protocol;
/// Real mode: forwarding to a real upstream, the modes in force, recordings.
pub mod real;
/// Scenario control: rules, the built-in convention, the per-request header.
pub mod scenario;
/// RSA-SHA256 signing and verification of messages, pure.
pub mod signature;
/// The payment-state store.
pub mod store;
/// Logging setup and the request span.
pub mod telemetry;
/// XML escaping for the JUnit reports.
pub mod xml;
