-- Namespaces and the clients registered at run time, kept in the default store so every replica
-- shares them. A namespace's payments and notifications live apart (its own SQLite file, or its
-- own PostgreSQL schema, named after its name and id); these two tables say which exist. Documents are JSON; times are epoch
-- milliseconds.
CREATE TABLE namespaces (
    name          TEXT PRIMARY KEY,
    id            TEXT NOT NULL,
    expires_at_ms BIGINT,
    doc           TEXT NOT NULL
);

-- Client ids are unique across every namespace: a signed request's Client-Id names its namespace.
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    namespace     TEXT NOT NULL,
    doc           TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX clients_by_namespace ON clients (namespace);
