-- PostgreSQL twin of ../0005_original_imports.sql.
CREATE TABLE original_imports (
    image_id    BIGINT PRIMARY KEY,
    fingerprint BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);
