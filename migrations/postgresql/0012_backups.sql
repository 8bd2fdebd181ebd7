-- PostgreSQL twin of ../0012_backups.sql.
CREATE TABLE backups (
    name          TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    taken_at      BIGINT NOT NULL,
    location      TEXT   NOT NULL,
    size_bytes    BIGINT,
    sha256        TEXT,
    image_count   BIGINT,
    queue_count   BIGINT
);
CREATE INDEX backups_taken_at ON backups (taken_at);
