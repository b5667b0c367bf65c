//! The seen-signature cache (`server.reject_replayed_signatures`): a request that passed its
//! signature and Request-Time checks is remembered until its Request-Time leaves the window,
//! and the same signed content again within that time is refused, so a captured request
//! cannot be sent a second time. PKCS#1 v1.5 signatures are deterministic: the same content
//! is the same signature, so the content's SHA-256 is what is remembered. A request answered
//! U (retryable) is forgotten again, so its retry with the same bytes is not refused.
//!
//! Bounded: at most `capacity` entries (about 100 bytes each); past it the oldest is forgotten
//! first. One process remembers what it saw; replicas do not share it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::Message;

/// The signed contents seen lately.
#[derive(Debug)]
pub struct SeenSignatures {
    /// How long an entry is kept: twice the window, as a Request-Time up to the window ahead
    /// of the clock stays acceptable for the window after that, and two seconds for the
    /// window check's whole-second rounding at either end.
    keep_ms: i64,
    capacity: usize,
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Digest to the time it may be forgotten.
    until: HashMap<[u8; 32], i64>,
    /// Digests in the order seen, which is the order they expire in.
    order: VecDeque<([u8; 32], i64)>,
}

impl Seen {
    fn forget_oldest(&mut self) {
        if let Some((key, until)) = self.order.pop_front()
            && self.until.get(&key) == Some(&until)
        {
            self.until.remove(&key);
        }
    }
}

impl SeenSignatures {
    /// Remembers for `2 x window_seconds + 2 s`, at most `capacity` entries.
    pub fn new(window_seconds: u64, capacity: usize) -> Self {
        let keep_ms = i64::try_from(window_seconds.saturating_mul(2).saturating_add(2) * 1000)
            .unwrap_or(i64::MAX / 2);
        Self {
            keep_ms,
            capacity: capacity.max(1),
            inner: Mutex::new(Seen::default()),
        }
    }

    /// What identifies a signed message: its content's SHA-256.
    pub fn key(message: &Message<'_>) -> [u8; 32] {
        message
            .digest()
            .as_ref()
            .try_into()
            .expect("SHA-256 is 32 bytes")
    }

    /// Records `key` at `now_ms`; false when it was seen before and not yet forgotten.
    pub fn first_use(&self, key: [u8; 32], now_ms: i64) -> bool {
        let mut seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while seen
            .order
            .front()
            .is_some_and(|(_, until)| *until <= now_ms)
        {
            seen.forget_oldest();
        }
        if seen.until.contains_key(&key) {
            return false;
        }
        while seen.order.len() >= self.capacity {
            seen.forget_oldest();
        }
        let until = now_ms.saturating_add(self.keep_ms);
        seen.until.insert(key, until);
        seen.order.push_back((key, until));
        true
    }

    /// Forgets `key`: its request was answered U, and a retry of it is welcome.
    pub fn forget(&self, key: [u8; 32]) {
        let mut seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Its place in `order` stays until it comes round; `forget_oldest` skips it then.
        seen.until.remove(&key);
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .until
            .len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(time: &str) -> [u8; 32] {
        SeenSignatures::key(&Message::post("/a", "C", time, b"{}"))
    }

    #[test]
    fn the_same_content_is_refused_within_twice_the_window_and_accepted_after_it() {
        let seen = SeenSignatures::new(300, 100);
        assert!(seen.first_use(request("1"), 0));
        assert!(!seen.first_use(request("1"), 601_999));
        assert!(seen.first_use(request("2"), 601_999), "other content");
        assert!(
            seen.first_use(request("1"), 602_000),
            "forgotten after 2 x 300 s + 2 s"
        );
    }

    #[test]
    fn a_forgotten_request_is_accepted_again_and_remembered_anew() {
        let seen = SeenSignatures::new(300, 2);
        assert!(seen.first_use(request("1"), 0));
        seen.forget(request("1"));
        assert!(seen.first_use(request("1"), 1), "its retry is accepted");
        assert!(!seen.first_use(request("1"), 2), "and remembered");
        // The stale place of the first use goes first, without forgetting the second.
        assert!(seen.first_use(request("2"), 3));
        assert!(!seen.first_use(request("1"), 4));
    }

    #[test]
    fn past_its_capacity_the_oldest_is_forgotten_first_and_memory_stays_bounded() {
        let seen = SeenSignatures::new(300, 3);
        for i in 0..10 {
            assert!(seen.first_use(request(&i.to_string()), i));
        }
        assert_eq!(seen.len(), 3);
        assert!(
            !seen.first_use(request("9"), 10),
            "the newest is still held"
        );
        assert!(seen.first_use(request("0"), 10), "the oldest was forgotten");
    }
}
