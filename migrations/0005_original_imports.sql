-- Images brought over from an original deployment by `gallery migrate --from-django`:
-- the id and a fingerprint of the fields as they were imported. A later import of the
-- same source tells from it what the original changed since (updated here too), what
-- the original deleted since (deleted here too) and what gallery changed or deleted
-- since (left alone). A row stays when its image is deleted, so a late import never
-- brings back what gallery deleted.
CREATE TABLE original_imports (
    image_id    INTEGER PRIMARY KEY,
    fingerprint INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
