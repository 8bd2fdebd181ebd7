-- Times are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE images (
    id                INTEGER PRIMARY KEY,
    filename          TEXT    NOT NULL UNIQUE,   -- <uuid4><ext>
    storage_key       TEXT    NOT NULL UNIQUE,   -- images/<filename>
    original_filename TEXT    NOT NULL,
    client_id         TEXT    NOT NULL,
    name              TEXT,
    description       TEXT,
    size              INTEGER NOT NULL CHECK (size >= 0),
    content_type      TEXT    NOT NULL,
    uploaded_at       INTEGER NOT NULL
);
-- client_id matches are case-insensitive (API.md); the composite index also serves
-- "a client's images, newest first" and per-client aggregates.
CREATE INDEX images_client_id_uploaded_at ON images (client_id COLLATE NOCASE, uploaded_at);
CREATE INDEX images_uploaded_at ON images (uploaded_at);
CREATE INDEX images_size ON images (size);
CREATE INDEX images_name ON images (name);

-- The deletion queue: objects whose image rows are gone and whose files must be
-- removed from storage. The original's columns plus state, scheduling and lease.
CREATE TABLE deletion_queue (
    id               INTEGER PRIMARY KEY,
    file_path        TEXT    NOT NULL,             -- the storage key
    client_id        TEXT    NOT NULL DEFAULT '',
    queued_at        INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       TEXT,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    -- When the row may next be claimed. A claim moves it to the lease's expiry, so
    -- a crashed worker's rows become due again exactly when their lease runs out.
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    size_bytes       INTEGER CHECK (size_bytes IS NULL OR size_bytes >= 0)
);
-- A key is pending at most once.
CREATE UNIQUE INDEX deletion_queue_pending_file_path ON deletion_queue (file_path) WHERE state = 'pending';
CREATE INDEX deletion_queue_due ON deletion_queue (state, next_attempt_at);
CREATE INDEX deletion_queue_queued_at ON deletion_queue (queued_at);
