-- Times are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE images (
    id                INTEGER PRIMARY KEY,
    filename          TEXT    NOT NULL,          -- <uuid4><ext>; unique because storage_key is
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
-- "a client's images, newest first" and each client's latest/oldest upload.
CREATE INDEX images_client_id_uploaded_at ON images (client_id COLLATE NOCASE, uploaded_at);
CREATE INDEX images_uploaded_at ON images (uploaded_at);
-- No index on name or size: every index is one more random b-tree write per deleted
-- row, and deletes of 100,000 rows must stay fast (BENCHMARKS.md). Sorting by name or
-- size scans (with a client filter, only that client's rows).

-- Per-client counts and bytes kept by the catalog in the same transactions as the
-- image rows, so list counts, /api/stats and /api/clients never scan the images.
CREATE TABLE client_totals (
    client_id     TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,  -- first spelling seen
    image_count   INTEGER NOT NULL CHECK (image_count > 0),
    total_size    INTEGER NOT NULL CHECK (total_size >= 0),
    latest_upload INTEGER NOT NULL,
    oldest_upload INTEGER NOT NULL
) WITHOUT ROWID;

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

-- Values the server keeps for itself, e.g. the API key generated for a loopback
-- listener when none is configured.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
