-- The restore window (restore_window): a deleted image's row moves into the queue
-- with everything a restore needs, in state 'restorable', due when its window ends.
-- The cleaner first moves such rows to 'pending' (clearing the copy), then deletes
-- them; a restore takes the row out of the queue and puts the image back, so one of
-- the two wins each row (ARCHITECTURE.md, invariant 9). SQLite cannot change a CHECK
-- constraint, so the table is rebuilt with every id; its indexes and 0006's counting
-- triggers go with the old table and are made again below.

CREATE TABLE deletion_queue_rebuilt (
    id                INTEGER PRIMARY KEY,
    file_path         TEXT    NOT NULL,
    client_id         TEXT    NOT NULL DEFAULT '',
    queued_at         INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error        TEXT,
    state             TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (state IN ('pending', 'restorable', 'dead')),
    next_attempt_at   INTEGER NOT NULL,  -- restorable: when the window ends
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    size_bytes        INTEGER CHECK (size_bytes IS NULL OR size_bytes >= 0),
    -- The deleted image (file_path is its storage_key, client_id and size_bytes its
    -- own): set exactly while the row is restorable.
    image_id          INTEGER,
    filename          TEXT,
    original_filename TEXT,
    name              TEXT,
    description       TEXT,
    content_type      TEXT,
    uploaded_at       INTEGER,
    CHECK ((state = 'restorable') = (image_id IS NOT NULL AND filename IS NOT NULL
           AND original_filename IS NOT NULL AND content_type IS NOT NULL
           AND uploaded_at IS NOT NULL AND size_bytes IS NOT NULL))
);
INSERT INTO deletion_queue_rebuilt (id, file_path, client_id, queued_at, attempts, last_error,
                                    state, next_attempt_at, lease_owner, lease_expires_at,
                                    size_bytes)
    SELECT id, file_path, client_id, queued_at, attempts, last_error, state, next_attempt_at,
           lease_owner, lease_expires_at, size_bytes
    FROM deletion_queue ORDER BY id;
DROP TABLE deletion_queue;
ALTER TABLE deletion_queue_rebuilt RENAME TO deletion_queue;

-- A key is queued (pending or restorable) at most once: an orphan sweep or a manual
-- enqueue never queues a second row that would delete a restorable object.
CREATE UNIQUE INDEX deletion_queue_queued_file_path ON deletion_queue (file_path)
    WHERE state <> 'dead';
CREATE INDEX deletion_queue_due ON deletion_queue (state, next_attempt_at);
CREATE INDEX deletion_queue_queued_at ON deletion_queue (state, queued_at);
-- Restore by id.
CREATE INDEX deletion_queue_restorable_image ON deletion_queue (image_id)
    WHERE state = 'restorable';

CREATE TRIGGER deletion_queue_counted_insert AFTER INSERT ON deletion_queue
BEGIN
    INSERT INTO queue_counters (state, attempts, slot, rows, known_bytes, unknown_size)
    VALUES (NEW.state, NEW.attempts, 0, 1, COALESCE(NEW.size_bytes, 0), NEW.size_bytes IS NULL)
    ON CONFLICT (state, attempts, slot) DO UPDATE SET
        rows = rows + 1,
        known_bytes = known_bytes + excluded.known_bytes,
        unknown_size = unknown_size + excluded.unknown_size;
END;

CREATE TRIGGER deletion_queue_counted_delete AFTER DELETE ON deletion_queue
BEGIN
    UPDATE queue_counters SET
        rows = rows - 1,
        known_bytes = known_bytes - COALESCE(OLD.size_bytes, 0),
        unknown_size = unknown_size - (OLD.size_bytes IS NULL)
    WHERE state = OLD.state AND attempts = OLD.attempts AND slot = 0;
END;

CREATE TRIGGER deletion_queue_counted_update AFTER UPDATE OF state, attempts, size_bytes
ON deletion_queue
WHEN OLD.state IS NOT NEW.state OR OLD.attempts IS NOT NEW.attempts
     OR OLD.size_bytes IS NOT NEW.size_bytes
BEGIN
    UPDATE queue_counters SET
        rows = rows - 1,
        known_bytes = known_bytes - COALESCE(OLD.size_bytes, 0),
        unknown_size = unknown_size - (OLD.size_bytes IS NULL)
    WHERE state = OLD.state AND attempts = OLD.attempts AND slot = 0;
    INSERT INTO queue_counters (state, attempts, slot, rows, known_bytes, unknown_size)
    VALUES (NEW.state, NEW.attempts, 0, 1, COALESCE(NEW.size_bytes, 0), NEW.size_bytes IS NULL)
    ON CONFLICT (state, attempts, slot) DO UPDATE SET
        rows = rows + 1,
        known_bytes = known_bytes + excluded.known_bytes,
        unknown_size = unknown_size + excluded.unknown_size;
END;
