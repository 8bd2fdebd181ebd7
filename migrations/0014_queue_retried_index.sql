-- The admin queue page's "most attempts" order (queue::browse) without reading the
-- whole queue. 0003 indexed (attempts, id) for it; 0007 rebuilt deletion_queue and did
-- not make that index again, so at 1,000,000 queued rows each such page scanned and
-- sorted every row (100-190 ms). Only rows that have failed are indexed now: nearly
-- every queued row has no attempt yet, and those follow in id order from the table
-- itself, so a delete's hand-off and the cleaner's DELETE write no entry here.
CREATE INDEX deletion_queue_retried ON deletion_queue (attempts, id) WHERE attempts > 0;
