-- Image ids are never given again (as the original's PostgreSQL sequence and
-- Django's SQLite AUTOINCREMENT): a stale client deleting or editing by id must hit
-- a 404, not another image. INTEGER PRIMARY KEY alone reuses the highest id once
-- its row is deleted; AUTOINCREMENT keeps the highest id ever used in
-- sqlite_sequence. SQLite cannot add AUTOINCREMENT to a table, so the table is
-- rebuilt; the copy keeps every id, and the sequence starts at the highest one
-- (ids deleted above it before this migration cannot be known any more).

CREATE TABLE images_autoincrement (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    filename          TEXT    NOT NULL,
    storage_key       TEXT    NOT NULL UNIQUE,
    original_filename TEXT    NOT NULL,
    client_id         TEXT    NOT NULL,
    name              TEXT,
    description       TEXT,
    size              INTEGER NOT NULL CHECK (size >= 0),
    content_type      TEXT    NOT NULL,
    uploaded_at       INTEGER NOT NULL
);
INSERT INTO images_autoincrement (id, filename, storage_key, original_filename, client_id, name,
                                  description, size, content_type, uploaded_at)
    SELECT id, filename, storage_key, original_filename, client_id, name, description, size,
           content_type, uploaded_at
    FROM images ORDER BY id;
DROP TABLE images;
ALTER TABLE images_autoincrement RENAME TO images;
CREATE INDEX images_client_id_uploaded_at ON images (client_id COLLATE NOCASE, uploaded_at);
CREATE INDEX images_uploaded_at ON images (uploaded_at);
