-- PostgreSQL twin of ../0007_restore_window.sql: the state 'restorable' and the
-- deleted image's columns, kept exactly while a row is restorable. 0006's statement
-- triggers count the new state as they count the others.
ALTER TABLE deletion_queue DROP CONSTRAINT deletion_queue_state_check;
ALTER TABLE deletion_queue ADD CONSTRAINT deletion_queue_state_check
    CHECK (state IN ('pending', 'restorable', 'dead'));
ALTER TABLE deletion_queue
    ADD COLUMN image_id          BIGINT,
    ADD COLUMN filename          TEXT COLLATE "C",
    ADD COLUMN original_filename TEXT COLLATE "C",
    ADD COLUMN name              TEXT COLLATE "C",
    ADD COLUMN description       TEXT COLLATE "C",
    ADD COLUMN content_type      TEXT COLLATE "C",
    ADD COLUMN uploaded_at       BIGINT;
ALTER TABLE deletion_queue ADD CONSTRAINT deletion_queue_restorable_complete
    CHECK ((state = 'restorable') = (image_id IS NOT NULL AND filename IS NOT NULL
           AND original_filename IS NOT NULL AND content_type IS NOT NULL
           AND uploaded_at IS NOT NULL AND size_bytes IS NOT NULL));

-- A key is queued (pending or restorable) at most once.
DROP INDEX deletion_queue_pending_file_path;
CREATE UNIQUE INDEX deletion_queue_queued_file_path ON deletion_queue (file_path)
    WHERE state <> 'dead';
CREATE INDEX deletion_queue_restorable_image ON deletion_queue (image_id)
    WHERE state = 'restorable';
