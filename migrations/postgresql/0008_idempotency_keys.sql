-- PostgreSQL twin of ../0008_idempotency_keys.sql.
CREATE TABLE idempotency_keys (
    idempotency_key  TEXT   COLLATE "C" PRIMARY KEY,
    fingerprint      TEXT   COLLATE "C" NOT NULL,
    status           BIGINT,
    body             TEXT,
    created_at       BIGINT NOT NULL
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
