//! `GET /dashboard/journal/live`: the journal's new entries as server-sent events, each the
//! table row the journal page shows, filtered as that page is. The journal sends to it only
//! while someone watches.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::Dashboard;
use super::pages::JournalQuery;
use super::view;

/// The live feed of journal rows.
pub async fn feed(
    State(dashboard): State<Dashboard>,
    Query(query): Query<JournalQuery>,
) -> impl IntoResponse {
    let filter = query.filter();
    let rows = BroadcastStream::new(dashboard.app.journal.subscribe()).filter_map(move |entry| {
        // A watcher that fell behind skips what it missed; the page can be reloaded.
        let entry = entry.ok()?;
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
