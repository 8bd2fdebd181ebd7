-- Queue statistics without a scan of the queue: rows, known bytes and rows of unknown
-- size per (state, attempts), kept by triggers in the same transaction as every change
-- to deletion_queue, whichever statement makes it (see queue::stats). `slot` spreads
-- PostgreSQL's concurrent writers over several rows; SQLite has one writer, slot 0.
CREATE TABLE queue_counters (
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    slot         INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    known_bytes  INTEGER NOT NULL,
    unknown_size INTEGER NOT NULL,
    PRIMARY KEY (state, attempts, slot)
) WITHOUT ROWID;

INSERT INTO queue_counters (state, attempts, slot, rows, known_bytes, unknown_size)
SELECT state, attempts, 0, COUNT(*), COALESCE(SUM(size_bytes), 0),
       SUM(CASE WHEN size_bytes IS NULL THEN 1 ELSE 0 END)
FROM deletion_queue GROUP BY state, attempts;

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

-- A claim or a release changes only lease columns: the trigger does not fire for it.
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

-- The oldest and newest pending row, one index step each.
CREATE INDEX deletion_queue_queued_at ON deletion_queue (state, queued_at);
