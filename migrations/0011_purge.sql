-- Purge: a restorable row's window ended on purpose (POST /api/purge/, `gallery cleanup
-- --purge-restorable`, the admin's "Delete permanently now"). The row keeps when that
-- happened, and so does the receipt of its object, so an audit tells a purged image
-- from one whose window ran out.
ALTER TABLE deletion_queue ADD COLUMN purged_at INTEGER;
ALTER TABLE deletion_receipts ADD COLUMN purged_at INTEGER;
