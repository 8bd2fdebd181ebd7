-- PostgreSQL twin of ../0014_queue_retried_index.sql. 0003's index on (attempts, id)
-- covered every row, so each image a delete hands to the queue wrote an entry there;
-- only rows that have failed are indexed now, and the rest follow in id order from
-- the primary key (queue::browse).
DROP INDEX deletion_queue_attempts;
CREATE INDEX deletion_queue_retried ON deletion_queue (attempts, id) WHERE attempts > 0;
