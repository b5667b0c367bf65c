//! The one harness of the process tests (durability, real mode, namespaces): the real binary as
//! a child process, a caller that signs as the SDKs do with its own RSA code, the admin API, a
//! merchant webhook that records what it gets, and control of the test PostgreSQL server.
//!
//! A test binary takes it whole with `#[path = "support/mod.rs"] mod support;`; the small
//! [`skip`] and [`postgres_schema`] files are also taken alone by the in-process suites.

// Each test binary uses a part of the harness; what one leaves unused another needs.
#![allow(dead_code)]

pub mod admin;
pub mod bodies;
pub mod caller;
pub mod config;
pub mod gateway_process;
pub mod postgres_schema;
pub mod postgres_server;
pub mod signer;
pub mod skip;
pub mod webhook;

use std::time::Duration;

/// How long a harness wait (for a notification, a log line, a lock waiter) gives the gateway
/// before it fails the test: the sender runs on its own, so tests poll for its effects.
pub const PATIENCE: Duration = Duration::from_secs(8);
