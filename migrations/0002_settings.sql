-- Values the server keeps for itself, e.g. the API key generated for a loopback
-- listener when none is configured.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
