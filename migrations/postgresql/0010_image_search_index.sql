-- PostgreSQL twin of ../0010_image_search_index.sql: pg_trgm's GIN indexes, which
-- `ILIKE '%term%'` (the translated search) uses by itself. pg_trgm is a trusted
-- extension: a role with CREATE on the database may install it. If the database has
-- it already (in another schema), its operator class is named from there.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$
DECLARE
    trigram_schema text;
    searched_column text;
BEGIN
    SELECT n.nspname INTO trigram_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    FOREACH searched_column IN ARRAY ARRAY['name', 'description', 'filename', 'original_filename']
    LOOP
        EXECUTE format('CREATE INDEX %I ON images USING gin (%I %I.gin_trgm_ops)',
                       'images_' || searched_column || '_trigrams', searched_column,
                       trigram_schema);
    END LOOP;
END
$$;
