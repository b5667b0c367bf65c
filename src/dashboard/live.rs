//! `GET /dashboard/journal/live`: the journal's new entries as server-sent events, each the
//! table row the journal page shows, filtered as that page is. The journal sends to it only
//! while someone watches. The feed ends when the server starts shutting down, so an open
//! dashboard does not hold a graceful shutdown for its whole grace period.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};

use super::Dashboard;
use super::pages::JournalQuery;
use super::view;
use crate::journal::Entry;

/// What the feed listens to: new entries, and whether the server is closing.
enum Feed {
    /// A new entry; `None` when this watcher fell behind and missed some.
    Entry(Option<Box<Entry>>),
    Closing(bool),
}

/// The live feed of journal rows.
pub async fn feed(
    State(dashboard): State<Dashboard>,
    Query(query): Query<JournalQuery>,
) -> impl IntoResponse {
    let filter = query.filter();
    let entries = BroadcastStream::new(dashboard.app.journal.subscribe())
        .map(|entry| Feed::Entry(entry.ok().map(Box::new)));
    let closing = WatchStream::new(dashboard.app.closing.subscribe()).map(Feed::Closing);
    let rows = entries
        .merge(closing)
        .take_while(|item| !matches!(item, Feed::Closing(true)))
        .filter_map(move |item| {
            // A watcher that fell behind skips what it missed; the page can be reloaded.
            let Feed::Entry(Some(entry)) = item else {
                return None;
            };
            filter.accepts(&entry).then(|| {
                Ok::<_, Infallible>(
                    Event::default()
                        .event("entry")
                        .data(view::journal_row(&entry).into_string()),
                )
            })
        });
    Sse::new(rows).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
