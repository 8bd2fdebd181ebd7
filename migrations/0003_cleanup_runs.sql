-- Cleanup runs, for the admin dashboard: when, who triggered it, what it did.
-- Written once per run by every trigger; pruned to the newest 1000 rows.
CREATE TABLE cleanup_runs (
    id               INTEGER PRIMARY KEY,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,
    trigger          TEXT    NOT NULL,  -- cron (the CLI), api, admin, scheduler
    processed        INTEGER NOT NULL,
    deleted          INTEGER NOT NULL,
    failed           INTEGER NOT NULL,
    dead             INTEGER NOT NULL,
    bytes_reclaimed  INTEGER NOT NULL,
    stopped_by       TEXT               -- the error that ended the run early, if any
);

-- The admin queue page sorts by attempts (keyset on attempts, id) at any size.
CREATE INDEX deletion_queue_attempts ON deletion_queue (attempts, id);
