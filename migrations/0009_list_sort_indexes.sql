-- Every sort of GET /api/list/ walks an index (issue 36): a deep page skips index
-- entries instead of sorting the whole table (1.7 s at 250,000 images before). The
-- id breaks ties, as the queries' ORDER BY does; uploaded_at and client_id already
-- have theirs (an SQLite index ends with the rowid, which is the id).
CREATE INDEX images_name ON images (name, id);
CREATE INDEX images_size ON images (size, id);
