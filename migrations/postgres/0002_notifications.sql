-- The payment result notification queue, its attempts, and what the receiver endpoint got.
-- Times are epoch milliseconds. A notification is claimed under a lease (lease_owner until
-- lease_until_ms); concurrent claims skip the rows another replica locked (FOR UPDATE SKIP LOCKED).
CREATE TABLE notifications (
    id                 TEXT    PRIMARY KEY,
    payment_request_id TEXT    NOT NULL UNIQUE,
    client_id          TEXT    NOT NULL,
    url                TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    attempts_made      BIGINT  NOT NULL,
    next_due_ms        BIGINT  NOT NULL,
    lease_owner        TEXT,
    lease_until_ms     BIGINT,
    created_at_ms      BIGINT  NOT NULL
);
CREATE INDEX notifications_pending_due ON notifications (status, next_due_ms);

CREATE TABLE notification_attempts (
    notification_id TEXT    NOT NULL REFERENCES notifications (id),
    number          BIGINT  NOT NULL,
    due_ms          BIGINT  NOT NULL,
    started_ms      BIGINT  NOT NULL,
    url             TEXT    NOT NULL,
    http_status     BIGINT,
    ack_status      TEXT,
    ack_code        TEXT,
    latency_ms      BIGINT  NOT NULL,
    error           TEXT,
    delivered       BIGINT  NOT NULL,
    PRIMARY KEY (notification_id, number)
);

CREATE TABLE received_notifications (
    id                 BIGSERIAL PRIMARY KEY,
    received_at_ms     BIGINT  NOT NULL,
    client_id          TEXT    NOT NULL,
    payment_request_id TEXT,
    verdict            TEXT    NOT NULL,
    answered           TEXT    NOT NULL,
    body               TEXT    NOT NULL
);
CREATE INDEX received_notifications_payment ON received_notifications (payment_request_id);
