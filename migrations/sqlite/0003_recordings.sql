-- Requests forwarded to a real upstream and its answers (real mode), kept for replay, export
-- and the drift report. The whole recording is the JSON doc; the columns are what listings and
-- replay narrow by. Times are epoch milliseconds.
CREATE TABLE recordings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at_ms INTEGER NOT NULL,
    api            TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    match_key      TEXT    NOT NULL,
    verdict        TEXT    NOT NULL,
    doc            TEXT    NOT NULL
);
CREATE INDEX recordings_match ON recordings (api, match_key);
