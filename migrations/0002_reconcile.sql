-- Upload intents: recorded before an upload writes its object, cleared in the same
-- transaction as the image row. An expired intent without a row is a failed upload
-- whose object (if any) is queued for deletion.
CREATE TABLE upload_intents (
    storage_key TEXT    NOT NULL PRIMARY KEY,
    client_id   TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX upload_intents_expires_at ON upload_intents (expires_at);

-- One row per object the cleaner confirmed gone: what, whose, how big, when.
-- Kept for a configurable number of days, pruned in bounded batches.
CREATE TABLE deletion_receipts (
    id         INTEGER PRIMARY KEY,
    file_path  TEXT    NOT NULL,
    client_id  TEXT    NOT NULL DEFAULT '',
    size_bytes INTEGER,
    deleted_at INTEGER NOT NULL
);
CREATE INDEX deletion_receipts_deleted_at ON deletion_receipts (deleted_at);
CREATE INDEX deletion_receipts_file_path ON deletion_receipts (file_path);
