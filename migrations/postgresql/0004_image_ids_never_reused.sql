-- PostgreSQL twin of ../0004_image_ids_never_reused.sql. Nothing to do: images.id
-- has been an identity column (a sequence, which never gives an id twice) since
-- 0001. The version exists so that a schema version means the same on both engines.
SELECT 1;
