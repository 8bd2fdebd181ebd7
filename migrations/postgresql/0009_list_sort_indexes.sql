-- PostgreSQL twin of ../0009_list_sort_indexes.sql. A PostgreSQL index does not end
-- with the id, so the uploaded_at and client_id indexes are made again with it; name
-- sorts NULL first, as SQLite does (a backward scan gives DESC NULLS LAST).
CREATE INDEX images_name ON images (name NULLS FIRST, id);
CREATE INDEX images_size ON images (size, id);
DROP INDEX images_uploaded_at;
CREATE INDEX images_uploaded_at ON images (uploaded_at, id);
DROP INDEX images_client_id_uploaded_at;
CREATE INDEX images_client_id_uploaded_at ON images (lower(client_id COLLATE "C"), uploaded_at, id);
