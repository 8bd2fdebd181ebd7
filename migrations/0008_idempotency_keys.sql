-- Idempotency-Key (issue 36): the first answer to a request sent with a key, replayed
-- to its retries for 24 hours (src/api/idempotency.hpp). status and body are NULL
-- while the first request runs.
CREATE TABLE idempotency_keys (
    idempotency_key  TEXT    PRIMARY KEY,
    fingerprint      TEXT    NOT NULL,  -- SHA-256 of method, path, query and body
    status           INTEGER,
    body             TEXT,
    created_at       INTEGER NOT NULL
);

-- Expiry walks the oldest first.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
