-- Payments and risk reports. A payment is stored as its JSON document plus the columns that
-- identify it; the unique constraints decide races between concurrent reports.
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_request_id TEXT UNIQUE,
    payment_id         TEXT UNIQUE,
    status             TEXT    NOT NULL,
    doc                TEXT    NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL
);

CREATE TABLE risk_reports (
    client_id                TEXT    NOT NULL,
    reference_transaction_id TEXT    NOT NULL,
    payment_status           TEXT    NOT NULL,
    report                   TEXT    NOT NULL,
    received_at_ms           INTEGER NOT NULL,
    PRIMARY KEY (client_id, reference_transaction_id)
);
