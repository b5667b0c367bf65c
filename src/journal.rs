//! The request journal: every inbound request and every outbound notification attempt, newest
//! last, in a bounded ring so memory stays flat under any load. Bodies are kept up to
//! `journal.max_body_bytes` each. Filter it, count it, clear it through the admin API; watch it
//! live (the dashboard's feed) through [`Journal::subscribe`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use serde::{Deserialize, Serialize, Serializer};
use tokio::sync::broadcast;

/// Inbound request or outbound notification attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A request the gateway answered.
    Inbound,
    /// A notification attempt the gateway made.
    Outbound,
    /// A request the gateway forwarded to a real upstream (real mode), with its answer.
    Upstream,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Order of recording, from 1.
    pub seq: u64,
    /// When it started (epoch milliseconds).
    pub at_ms: i64,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The API name, or the path when no API is served there; `notifyPayment` for attempts.
    pub endpoint: String,
    /// The path, or the URL of a notification attempt.
    pub target: String,
    /// The Client-Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// paymentRequestId, paymentId and referenceTransactionId found in the request body; read
    /// from it when the entry is listed (left empty when recording: the request path does not
    /// parse the body twice).
    pub payment_ids: Vec<String>,
    /// `valid`, or why the signature (or the acknowledgement) was refused.
    pub verdict: String,
    /// The exact string the signature was checked against, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_to_sign: Option<String>,
    /// The request body, cut at the configured size.
    #[schema(value_type = String)]
    pub request_body: BodyText,
    /// The response body, cut at the configured size.
    #[schema(value_type = String)]
    pub response_body: BodyText,
    /// The HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// `result.resultCode` of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_code: Option<String>,
    /// `result.resultStatus` of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_status: Option<String>,
    /// How long it took.
    pub latency_ms: f64,
    /// The scenario that shaped the answer: `header`, `convention` or a rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What the request did that its answer does not say, e.g. why no notification was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The longest short text an entry keeps (path, verdict, Client-Id, rule, note).
pub const MAX_TEXT: usize = 1024;

/// Cuts `text` to at most `limit` bytes on a character boundary, marking the cut with `…`.
fn clip_text(text: &mut String, limit: usize) {
    if text.len() <= limit {
        return;
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text.shrink_to_fit();
}

/// A response extension: the handler's [`Entry::note`] for its request's journal entry.
#[derive(Debug, Clone)]
pub struct Note(pub String);

/// Entries by their verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictFilter {
    /// The signature verified, or the notification was delivered.
    Valid,
    /// The signature or the acknowledgement was refused, whatever the reason.
    Refused,
}

/// What to look for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Only this API.
    pub endpoint: Option<String>,
    /// Only this Client-Id.
    pub client_id: Option<String>,
    /// Only entries whose body names this paymentRequestId, paymentId or referenceTransactionId.
    pub payment_id: Option<String>,
    /// Only this result code.
    pub result_code: Option<String>,
    /// Only this direction: inbound, outbound or upstream.
    #[param(inline)]
    pub direction: Option<Direction>,
    /// Only entries whose signature was `valid` (or whose notification was delivered), or
    /// `refused` ones: a signature or an acknowledgement refused, whatever the reason.
    #[param(inline)]
    pub verdict: Option<VerdictFilter>,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
}

impl Filter {
    /// Whether `e` is one of the entries looked for.
    pub fn accepts(&self, e: &Entry) -> bool {
        self.endpoint.as_ref().is_none_or(|v| *v == e.endpoint)
            && self
                .client_id
                .as_ref()
                .is_none_or(|v| Some(v) == e.client_id.as_ref())
            && self.payment_id.as_ref().is_none_or(|v| e.ids().contains(v))
            && self
                .result_code
                .as_ref()
                .is_none_or(|v| Some(v) == e.result_code.as_ref())
            && self.direction.is_none_or(|v| v == e.direction)
            && self.verdict.is_none_or(|v| match v {
                VerdictFilter::Valid => e.verdict == "valid" || e.verdict == "delivered",
                VerdictFilter::Refused => {
                    !matches!(e.verdict.as_str(), "valid" | "delivered" | "not checked")
                }
            })
    }
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
    capacity: usize,
    /// Full, it keeps what it holds and records nothing more (a namespace's journal limit),
    /// instead of dropping the oldest.
    keeps_first: bool,
    max_body: usize,
    seq: AtomicU64,
    /// New entries, for whoever watches (the dashboard's live feed); copied and sent only while
    /// someone does, so an unwatched journal costs the request path only a look at the number
    /// of watchers.
    live: broadcast::Sender<Entry>,
}

/// How many new entries a slow watcher may fall behind before it misses some.
const LIVE_BACKLOG: usize = 256;

impl Journal {
    /// A journal keeping the last `capacity` entries (0: keeps nothing), bodies up to `max_body`
    /// bytes.
    pub fn new(capacity: usize, max_body: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity,
            keeps_first: false,
            max_body,
            seq: AtomicU64::new(0),
            live: broadcast::channel(LIVE_BACKLOG).0,
        }
    }

    /// A journal of at most `limit` entries that, once full, records nothing more until it is
    /// cleared: a namespace's `maxJournalEntries`, so the entries a test asserts on stay.
    pub fn limited(limit: usize, max_body: usize) -> Self {
        Self {
            keeps_first: true,
            ..Self::new(limit, max_body)
        }
    }

    /// Whether it holds all it may (a limited journal then records nothing more).
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    /// New entries from now on, as they are recorded. A watcher that falls more than a few
    /// hundred behind is told how many it missed (`RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<Entry> {
        self.live.subscribe()
    }

    /// The entry numbered `seq`, if it is still kept.
    pub fn get(&self, seq: u64) -> Option<Entry> {
        let entries = self.entries.lock().ok()?;
        // Entries are kept in order of their numbers, so the place is found by bisection.
        let at = entries.partition_point(|e| e.seq < seq);
        entries.get(at).filter(|e| e.seq == seq).map(|x| Entry {
            payment_ids: x.ids(),
            ..x.clone()
        })
    }

    /// Whether it records anything.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// A body as kept: UTF-8 (lossy), cut at the limit. Always a copy: a slice of the
    /// connection's read buffer would pin the whole buffer for as long as the entry lives.
    pub fn clip(&self, body: &Bytes) -> BodyText {
        if body.len() <= self.max_body {
            return BodyText {
                bytes: Bytes::copy_from_slice(body),
                clipped: false,
                ids_in_whole: Vec::new(),
            };
        }
        // The ids are read from the whole body now, since the part kept may cut them off.
        BodyText {
            bytes: Bytes::copy_from_slice(&body[..self.max_body]),
            clipped: true,
            ids_in_whole: payment_ids(body)
                .into_iter()
                .map(|mut id| {
                    clip_text(&mut id, MAX_TEXT);
                    id
                })
                .collect(),
        }
    }

    /// The most one entry holds: two bodies, the string to sign (its headers and a body), the
    /// short fields and the three payment ids of a clipped body. With `capacity` entries, the journal's bound.
    pub fn max_entry_bytes(&self) -> usize {
        3 * self.max_body + 11 * MAX_TEXT + 512
    }

    /// Records an entry, dropping the oldest when full.
    pub fn record(&self, mut entry: Entry) {
        if !self.enabled() {
            return;
        }
        // Every string a caller chose is cut, so an entry's size has a bound whatever it sent.
        clip_text(&mut entry.endpoint, MAX_TEXT);
        clip_text(&mut entry.target, MAX_TEXT);
        clip_text(&mut entry.verdict, MAX_TEXT);
        // An outbound entry's code and status come from the merchant's acknowledgement.
        for text in [
            &mut entry.client_id,
            &mut entry.rule,
            &mut entry.note,
            &mut entry.result_code,
            &mut entry.result_status,
        ]
        .into_iter()
        .flatten()
        {
            clip_text(text, MAX_TEXT);
        }
        if let Some(text) = &mut entry.string_to_sign {
            clip_text(text, self.max_body + MAX_TEXT);
        }
        if let Some(copy) = self.push(entry) {
            let _ = self.live.send(copy);
        }
    }

    /// Numbers an entry and keeps it, dropping the oldest when full; answers a copy while
    /// someone watches.
    fn push(&self, mut entry: Entry) -> Option<Entry> {
        let watched = self.live.receiver_count() > 0;
        if let Ok(mut entries) = self.entries.lock() {
            // Numbered under the lock, so entries are kept in the order of their numbers.
            if entries.len() >= self.capacity {
                if self.keeps_first {
                    return None;
                }
                entries.pop_front();
            }
            entry.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            let copy = watched.then(|| entry.clone());
            entries.push_back(entry);
            drop(entries);
            // The ids are read from the body outside the lock.
            return copy.map(|c| Entry {
                payment_ids: c.ids(),
                ..c
            });
        }
        None
    }

    /// Entries the filter accepts, newest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let limit = filter.limit.unwrap_or(100);
        self.entries
            .lock()
            .map(|e| {
                e.iter()
                    .rev()
                    .filter(|x| filter.accepts(x))
                    .take(limit)
                    .map(|x| Entry {
                        payment_ids: x.ids(),
                        ..x.clone()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many entries the filter accepts.
    pub fn count(&self, filter: &Filter) -> usize {
        self.entries
            .lock()
            .map(|e| e.iter().filter(|x| filter.accepts(x)).count())
            .unwrap_or(0)
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The ids a body names, for filtering by payment.
/// A body as the journal keeps it, shown as text (invalid UTF-8 replaced); `…` marks one cut
/// at `journal.max_body_bytes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BodyText {
    bytes: Bytes,
    clipped: bool,
    /// The payment ids of a clipped body, read before it was cut.
    ids_in_whole: Vec<String>,
}

impl BodyText {
    /// The text as shown.
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.clipped {
            text.push('…');
        }
        text
    }
}

impl Serialize for BodyText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl Entry {
    /// The payment ids: as recorded, else read from the request body.
    fn ids(&self) -> Vec<String> {
        if !self.payment_ids.is_empty() {
            self.payment_ids.clone()
        } else if self.request_body.clipped {
            self.request_body.ids_in_whole.clone()
        } else {
            payment_ids(&self.request_body.bytes)
        }
    }
}

pub fn payment_ids(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    ["paymentRequestId", "paymentId", "referenceTransactionId"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(endpoint: &str, code: &str) -> Entry {
        Entry {
            seq: 0,
            at_ms: 0,
            direction: Direction::Inbound,
            endpoint: endpoint.into(),
            target: "/".into(),
            client_id: Some("C".into()),
            payment_ids: vec!["P1".into()],
            verdict: "valid".into(),
            string_to_sign: None,
            request_body: BodyText::default(),
            response_body: BodyText::default(),
            http_status: Some(200),
            result_code: Some(code.into()),
            result_status: Some("S".into()),
            latency_ms: 1.0,
            rule: None,
            note: None,
        }
    }

    #[test]
    fn every_string_a_caller_chose_is_cut_to_a_bound() {
        let j = Journal::new(3, 16);
        let huge = "é".repeat(300_000);
        let mut e = entry("inquiryPayment", "SUCCESS");
        e.target = huge.clone();
        e.verdict = huge.clone();
        e.client_id = Some(huge.clone());
        e.string_to_sign = Some(huge.clone());
        e.request_body = j.clip(&Bytes::from(format!(r#"{{"paymentId":"{huge}"}}"#)));
        j.record(e);

        let kept = &j.list(&Filter::default())[0];
        let size = kept.target.len()
            + kept.verdict.len()
            + kept.client_id.as_ref().map_or(0, String::len)
            + kept.string_to_sign.as_ref().map_or(0, String::len)
            + kept.request_body.bytes.len()
            + kept.payment_ids.iter().map(String::len).sum::<usize>();
        assert!(size <= j.max_entry_bytes(), "{size} bytes kept");
        assert!(kept.target.ends_with('…') && kept.target.len() <= MAX_TEXT);
        assert_eq!(kept.payment_ids.len(), 1);
        assert!(kept.payment_ids[0].len() <= MAX_TEXT);
    }

    #[test]
    fn a_small_body_is_kept_as_a_copy_not_a_slice_of_the_read_buffer() {
        let j = Journal::new(3, 4096);
        let buffer = Bytes::from(vec![b'x'; 400_000]);
        let kept = j.clip(&buffer.slice(..100));
        assert_eq!(kept.bytes.len(), 100);
        assert!(
            !std::ptr::eq(kept.bytes.as_ptr(), buffer.as_ptr()),
            "the entry must not share the 400 KB buffer"
        );
    }

    #[test]
    fn the_ring_keeps_the_newest_and_never_grows_past_its_capacity() {
        let j = Journal::new(3, 16);
        for i in 0..10 {
            j.record(entry("inquiryPayment", &format!("C{i}")));
        }
        assert_eq!(j.len(), 3);
        let codes: Vec<_> = j
            .list(&Filter::default())
            .into_iter()
            .map(|e| e.result_code.unwrap())
            .collect();
        assert_eq!(codes, ["C9", "C8", "C7"]);
    }

    #[test]
    fn a_clipped_body_keeps_the_ids_of_the_whole() {
        let j = Journal::new(10, 8);
        let body = Bytes::from(br#"{"paymentId":"P1","paymentRequestId":"R1"}"#.to_vec());

        let kept = j.clip(&body);

        assert_eq!(kept.text(), "{\"paymen…");
        assert_eq!(kept.ids_in_whole, ["R1", "P1"]);
    }

    #[test]
    fn a_watcher_gets_each_new_entry_with_its_number_and_an_entry_is_found_by_number() {
        let j = Journal::new(2, 16);
        j.record(entry("inquiryPayment", "UNWATCHED"));
        let mut live = j.subscribe();

        j.record(entry("inquiryPayment", "C1"));
        j.record(entry("inquiryPayment", "C2"));

        assert_eq!(live.try_recv().unwrap().seq, 2);
        assert_eq!(live.try_recv().unwrap().result_code.as_deref(), Some("C2"));
        assert_eq!(j.get(3).unwrap().result_code.as_deref(), Some("C2"));
        assert_eq!(j.get(1), None, "the oldest was dropped from the ring");
    }

    #[test]
    fn the_verdict_filter_tells_valid_from_refused_signatures() {
        let j = Journal::new(10, 16);
        j.record(entry("inquiryPayment", "SUCCESS"));
        let mut refused = entry("inquiryPayment", "INVALID_SIGNATURE");
        refused.verdict = "signature invalid: signed with a different key".into();
        j.record(refused);
        let mut unchecked = entry("unknown", "NO_INTERFACE_DEF");
        unchecked.verdict = "not checked".into();
        j.record(unchecked);
        let with = |v| Filter {
            verdict: Some(v),
            ..Filter::default()
        };

        assert_eq!(j.count(&with(VerdictFilter::Valid)), 1);
        assert_eq!(
            j.list(&with(VerdictFilter::Refused))[0]
                .result_code
                .as_deref(),
            Some("INVALID_SIGNATURE")
        );
    }

    #[test]
    fn filters_and_counts_agree() {
        let j = Journal::new(10, 16);
        j.record(entry("notifyPushPayment", "SUCCESS"));
        j.record(entry("notifyPushPayment", "PROCESS_FAIL"));
        j.record(entry("inquiryPayment", "SUCCESS"));
        let f = Filter {
            endpoint: Some("notifyPushPayment".into()),
            result_code: Some("SUCCESS".into()),
            ..Filter::default()
        };
        assert_eq!(j.count(&f), 1);
        assert_eq!(j.list(&f).len(), 1);
        assert_eq!(
            j.clip(&Bytes::from_static(&[b'x'; 20]))
                .text()
                .chars()
                .count(),
            17
        );
        j.clear();
        assert!(j.is_empty());
    }
}
