-- PostgreSQL twin of ../0006_queue_counters.sql. The triggers run once per statement
-- over its transition tables, so a delete-all of 10,000 images updates a counter row
-- once, not 10,000 times. A writer adds to the slot of its backend (pid % 16): hosts
-- writing at once rarely wait on one another's counter row, and one statement locks
-- its rows in (state, attempts) order, so two statements do not deadlock on them.
CREATE TABLE queue_counters (
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    slot         INTEGER NOT NULL,
    rows         BIGINT  NOT NULL,
    known_bytes  BIGINT  NOT NULL,
    unknown_size BIGINT  NOT NULL,
    PRIMARY KEY (state, attempts, slot)
);

INSERT INTO queue_counters (state, attempts, slot, rows, known_bytes, unknown_size)
SELECT state, attempts, 0, COUNT(*), COALESCE(SUM(size_bytes), 0),
       COUNT(*) FILTER (WHERE size_bytes IS NULL)
FROM deletion_queue GROUP BY state, attempts;

CREATE FUNCTION count_queue_changes() RETURNS trigger LANGUAGE plpgsql
-- The schema the migration ran in, whatever search_path the writing session has.
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO queue_counters AS c (state, attempts, slot, rows, known_bytes, unknown_size)
        SELECT state, attempts, pg_backend_pid() % 16, COUNT(*), COALESCE(SUM(size_bytes), 0),
               COUNT(*) FILTER (WHERE size_bytes IS NULL)
        FROM new_rows GROUP BY state, attempts ORDER BY state, attempts
        ON CONFLICT (state, attempts, slot) DO UPDATE SET
            rows = c.rows + excluded.rows,
            known_bytes = c.known_bytes + excluded.known_bytes,
            unknown_size = c.unknown_size + excluded.unknown_size;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO queue_counters AS c (state, attempts, slot, rows, known_bytes, unknown_size)
        SELECT state, attempts, pg_backend_pid() % 16, -COUNT(*), -COALESCE(SUM(size_bytes), 0),
               -COUNT(*) FILTER (WHERE size_bytes IS NULL)
        FROM old_rows GROUP BY state, attempts ORDER BY state, attempts
        ON CONFLICT (state, attempts, slot) DO UPDATE SET
            rows = c.rows + excluded.rows,
            known_bytes = c.known_bytes + excluded.known_bytes,
            unknown_size = c.unknown_size + excluded.unknown_size;
    ELSE
        -- Net change per (state, attempts): a claim or a release, which changes only
        -- lease columns, nets to nothing and writes no counter.
        INSERT INTO queue_counters AS c (state, attempts, slot, rows, known_bytes, unknown_size)
        SELECT state, attempts, pg_backend_pid() % 16, SUM(n), SUM(b), SUM(u)
        FROM (SELECT state, attempts, 1 AS n, COALESCE(size_bytes, 0) AS b,
                     CASE WHEN size_bytes IS NULL THEN 1 ELSE 0 END AS u FROM new_rows
              UNION ALL
              SELECT state, attempts, -1, -COALESCE(size_bytes, 0),
                     CASE WHEN size_bytes IS NULL THEN -1 ELSE 0 END FROM old_rows) AS change
        GROUP BY state, attempts
        HAVING SUM(n) <> 0 OR SUM(b) <> 0 OR SUM(u) <> 0
        ORDER BY state, attempts
        ON CONFLICT (state, attempts, slot) DO UPDATE SET
            rows = c.rows + excluded.rows,
            known_bytes = c.known_bytes + excluded.known_bytes,
            unknown_size = c.unknown_size + excluded.unknown_size;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER deletion_queue_counted_insert AFTER INSERT ON deletion_queue
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_queue_changes();
CREATE TRIGGER deletion_queue_counted_delete AFTER DELETE ON deletion_queue
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_queue_changes();
CREATE TRIGGER deletion_queue_counted_update AFTER UPDATE ON deletion_queue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_queue_changes();

CREATE INDEX deletion_queue_queued_at ON deletion_queue (state, queued_at);
