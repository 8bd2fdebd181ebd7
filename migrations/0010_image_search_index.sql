-- Image search over a trigram index (issue 36): `search` (a substring of name,
-- description, filename or original_filename, any letter case) reads the rows whose
-- trigrams match instead of every row. An external-content FTS5 table: the text
-- stays in `images`; the index holds trigrams and row ids.
--
-- Only inserts and updates write to it. A deleted image's entries stay (a delete
-- stays as cheap as before): the query joins `images` and keeps its exact LIKE test,
-- and ids are never given twice (0004), so an entry left behind matches no row.
-- columnsize=0 lets a row updated or restored under its old id be indexed again.
CREATE VIRTUAL TABLE images_search USING fts5(
    name, description, filename, original_filename,
    content = 'images', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 0', columnsize = 0);
INSERT INTO images_search (images_search) VALUES ('rebuild');

CREATE TRIGGER images_search_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_search (rowid, name, description, filename, original_filename)
    VALUES (new.id, new.name, new.description, new.filename, new.original_filename);
END;

CREATE TRIGGER images_search_update
AFTER UPDATE OF name, description, filename, original_filename ON images BEGIN
    INSERT INTO images_search (rowid, name, description, filename, original_filename)
    VALUES (new.id, new.name, new.description, new.filename, new.original_filename);
END;
