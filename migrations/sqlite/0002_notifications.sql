-- The payment result notification queue, its attempts, and what the receiver endpoint got.
-- Times are epoch milliseconds. A notification is claimed under a lease (lease_owner until
-- lease_until_ms); the one SQLite writer serialises claims.
CREATE TABLE notifications (
    id                 TEXT    PRIMARY KEY,
    payment_request_id TEXT    NOT NULL UNIQUE,
    client_id          TEXT    NOT NULL,
    url                TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    attempts_made      INTEGER NOT NULL,
    next_due_ms        INTEGER NOT NULL,
    lease_owner        TEXT,
    lease_until_ms     INTEGER,
    created_at_ms      INTEGER NOT NULL
);
CREATE INDEX notifications_pending_due ON notifications (status, next_due_ms);

CREATE TABLE notification_attempts (
    notification_id TEXT    NOT NULL REFERENCES notifications (id),
    number          INTEGER NOT NULL,
    due_ms          INTEGER NOT NULL,
    started_ms      INTEGER NOT NULL,
    url             TEXT    NOT NULL,
    http_status     INTEGER,
    ack_status      TEXT,
    ack_code        TEXT,
    latency_ms      INTEGER NOT NULL,
    error           TEXT,
    delivered       INTEGER NOT NULL,
    PRIMARY KEY (notification_id, number)
);

CREATE TABLE received_notifications (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at_ms     INTEGER NOT NULL,
    client_id          TEXT    NOT NULL,
    payment_request_id TEXT,
    verdict            TEXT    NOT NULL,
    answered           TEXT    NOT NULL,
    body               TEXT    NOT NULL
);
CREATE INDEX received_notifications_payment ON received_notifications (payment_request_id);
