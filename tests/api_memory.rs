//! The API suite (tests/api/) on the memory store: the binary's name picks the backend.

#[path = "api/main.rs"]
mod suite;
