CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "assets_image" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "filename" varchar(255) NOT NULL UNIQUE, "original_filename" varchar(255) NOT NULL,
    "size" integer NOT NULL, "uploaded_at" datetime NOT NULL, "description" text NULL,
    "name" varchar(255) NULL, "image" varchar(100) NOT NULL, "client_id" varchar(100) NOT NULL);
CREATE INDEX "idx_image_client_id" ON "assets_image" ("client_id");
CREATE INDEX "idx_image_client_date" ON "assets_image" ("client_id", "uploaded_at" DESC);
CREATE TABLE "assets_pendingfiledeletion" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "file_path" varchar(500) NOT NULL, "client_id" varchar(100) NULL,
    "queued_at" datetime NOT NULL, "attempts" integer NOT NULL, "last_error" text NULL);
INSERT INTO django_migrations (app, name, applied) VALUES
    ('contenttypes', '0001_initial', '2024-01-02 10:00:00.000000'),
    ('assets', '0001_initial', '2024-01-02 10:00:00.100000'),
    ('assets', '0002_image_image', '2024-01-02 10:00:00.200000'),
    ('assets', '0003_image_client_id', '2024-01-02 10:00:00.300000'),
    ('assets', '0004_client_id_not_null', '2024-01-02 10:00:00.400000'),
    ('assets', '0005_remove_image_url', '2024-01-02 10:00:00.500000'),
    ('assets', '0006_image_indexes', '2024-01-02 10:00:00.600000'),
    ('assets', '0007_image_name_description', '2024-01-02 10:00:00.700000'),
    ('assets', '0008_postgresql_indexes', '2024-01-02 10:00:00.800000'),
    ('assets', '0009_pendingfiledeletion', '2024-01-02 10:00:00.900000');
