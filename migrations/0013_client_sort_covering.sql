-- Nothing to do on SQLite. The PostgreSQL twin makes the client_id sort index hold
-- client_id itself, so a deep page by client_id is read in the index alone (an
-- index-only scan); SQLite's index on `client_id COLLATE NOCASE` holds the column
-- already. The number is kept in step on both engines.
SELECT 1;
