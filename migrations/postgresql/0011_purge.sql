-- PostgreSQL twin of ../0011_purge.sql.
ALTER TABLE deletion_queue ADD COLUMN purged_at BIGINT;
ALTER TABLE deletion_receipts ADD COLUMN purged_at BIGINT;
