-- Payments and risk reports. A payment is stored as its JSON document plus the columns that
-- identify it; the unique constraints decide races between concurrent reports, also across
-- gateway replicas.
CREATE TABLE payments (
    id                 BIGSERIAL PRIMARY KEY,
    payment_request_id TEXT UNIQUE,
    payment_id         TEXT UNIQUE,
    status             TEXT   NOT NULL,
    doc                TEXT   NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);

CREATE TABLE risk_reports (
    client_id                TEXT   NOT NULL,
    reference_transaction_id TEXT   NOT NULL,
    payment_status           TEXT   NOT NULL,
    report                   TEXT   NOT NULL,
    received_at_ms           BIGINT NOT NULL,
    PRIMARY KEY (client_id, reference_transaction_id)
);
