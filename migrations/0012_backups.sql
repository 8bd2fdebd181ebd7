-- Backups of this database that gallery took (`gallery backup`) or was told of
-- (`gallery backup --mark`, e.g. a pg_dump). While one is retained, the cleaner keeps
-- every object queued after it was taken (backup_guard): a restore of it finds the
-- files of all its images. Pruned with the backups themselves (backup_keep,
-- backup_max_age).
CREATE TABLE backups (
    name          TEXT    NOT NULL PRIMARY KEY,
    taken_at      INTEGER NOT NULL,
    location      TEXT    NOT NULL,  -- the backup file, or '' for one taken elsewhere
    size_bytes    INTEGER,
    sha256        TEXT,
    image_count   INTEGER,
    queue_count   INTEGER
);
CREATE INDEX backups_taken_at ON backups (taken_at);
