//! The API suite (tests/api/) on the postgres store: the binary's name picks the backend.

#[path = "api/main.rs"]
mod suite;
