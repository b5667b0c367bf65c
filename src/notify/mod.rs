//! Payment result notifications, sent as Alipay sends them: queued in the store when a payment
//! reaches its final state, signed with the gateway key, retried on the page's schedule
//! (0s, 2m, 10m, 10m, 1h, 2h, 6h, 15h) until the merchant answers S, by one replica at a time,
//! and only where `notify.allowed_hosts` allows.

pub mod outbound;
pub mod schedule;
pub mod sender;
pub mod wake;
pub mod worker;
