#include "original/source.hpp"

#include <charconv>

#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::original {
namespace {

bool on_postgresql(const db::Connection& source) {
    return source.engine() == db::Engine::postgresql;
}

bool has_table(db::Connection& source, const std::string& table) {
    db::Statement query(source,
                        on_postgresql(source)
                            ? "SELECT 1 WHERE to_regclass(?1) IS NOT NULL"
                            : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    query.bind(1, table);
    return query.step();
}

// "0009_pendingfiledeletion" -> 9; nullopt without a leading number.
std::optional<int> migration_number(const std::string& name) {
    int number = 0;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (error != std::errc() || end == name.data()) return std::nullopt;
    return number;
}

// Microseconds since the epoch of the original's timestamp columns: PostgreSQL
// converts (timestamptz); SQLite holds Django's text, parsed by the caller.
std::string micros_of(const db::Connection& source, const std::string& column) {
    if (on_postgresql(source))
        return "CAST(EXTRACT(EPOCH FROM " + column + ") * 1000000 AS BIGINT)";
    return column;
}

Result<UnixMicros> read_time(const db::Connection& source, db::Statement& row, int column,
                             const std::string& what) {
    if (on_postgresql(source)) return row.int64(column);
    const std::string text = row.text(column);
    if (auto micros = parse_utc_datetime(text)) return *micros;
    return fail(ErrorKind::invalid_input,
                what + " is '" + text + "', which is not a date and time as Django stores them");
}

// A driver error while reading the source says the source is not what the import
// reads (a file that is not SQLite, a table without a column): invalid input, unless
// the source went away. The import's own sentences pass unchanged.
Error invalid_source(const db::Connection& source, const Error& error) {
    if (error.kind == ErrorKind::invalid_input) return error;
    return Error{
        error.kind == ErrorKind::database_unavailable ? error.kind : ErrorKind::invalid_input,
        "cannot read the original's database " + source.display_name() + ": " + error.message};
}

}  // namespace

Result<SourceSchema> inspect(db::Connection& source) {
    auto inspected = db::read("inspect", [&]() -> Result<SourceSchema> {
        const std::string name = source.display_name();
        if (!has_table(source, "django_migrations")) {
            return fail(ErrorKind::invalid_input,
                        name +
                            " is not a database of the original: it has no django_migrations "
                            "table (nothing was imported)");
        }
        SourceSchema schema;
        db::Statement migrations(source, "SELECT name FROM django_migrations WHERE app = 'assets'");
        while (migrations.step()) {
            const std::string migration = migrations.text(0);
            const auto number = migration_number(migration);
            if (number && *number > schema.migration_number) {
                schema.migration_number = *number;
                schema.migration = migration;
            }
        }
        if (schema.migration_number == 0 || !has_table(source, "assets_image")) {
            return fail(ErrorKind::invalid_input,
                        name +
                            " is not a database of the original: it has no migrations of the "
                            "app `assets` and no table assets_image (nothing was imported)");
        }
        if (schema.migration_number < k_first_importable_migration) {
            return fail(ErrorKind::invalid_input,
                        name + " is at the original's migration assets." + schema.migration +
                            ", before 0004 gave images a client_id: nothing can be imported from "
                            "it. Run the original's migrations (python manage.py migrate) first "
                            "(nothing was imported)");
        }
        // Every column the import reads, checked once before any row is read.
        db::Statement columns(source,
                              "SELECT id, filename, image, original_filename, client_id, name,"
                              " description, size, uploaded_at FROM assets_image WHERE 1 = 0");
        columns.step();
        schema.image_count = db::query_int64(source, "SELECT COUNT(*) FROM assets_image");
        schema.has_pending_table = schema.migration_number >= k_pending_migration &&
                                   has_table(source, "assets_pendingfiledeletion");
        if (schema.has_pending_table) {
            db::Statement pending_columns(
                source,
                "SELECT id, file_path, client_id, queued_at, attempts, last_error"
                " FROM assets_pendingfiledeletion WHERE 1 = 0");
            pending_columns.step();
            schema.pending_count =
                db::query_int64(source, "SELECT COUNT(*) FROM assets_pendingfiledeletion");
        }
        schema.highest_id_given = db::highest_id_given(source, "assets_image");
        return schema;
    });
    if (!inspected) return std::unexpected(invalid_source(source, inspected.error()));
    return inspected;
}

Result<void> prefer_index_walks(db::Connection& source) {
    if (source.engine() != db::Engine::postgresql) return {};
    return db::read("plan the pages", [&] {
        // Without the bitmap scan too, the planner reads a bitmap of the rest of the
        // table and sorts it (checked with auto_explain).
        db::execute_script(source, "SET LOCAL enable_seqscan = off");
        db::execute_script(source, "SET LOCAL enable_bitmapscan = off");
    });
}

Result<std::vector<OriginalImage>> images_after(db::Connection& source, std::int64_t after_id,
                                                std::size_t limit) {
    auto page = db::read("images", [&]() -> Result<std::vector<OriginalImage>> {
        db::Statement query(source,
                            "SELECT id, filename, image, original_filename, client_id, name,"
                            " description, size, " +
                                micros_of(source, "uploaded_at") +
                                " FROM assets_image WHERE id > ?1 ORDER BY id LIMIT ?2");
        query.bind(1, after_id);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<OriginalImage> images;
        images.reserve(limit);
        while (query.step()) {
            OriginalImage image;
            image.id = query.int64(0);
            image.filename = query.text(1);
            image.storage_key = query.text(2);
            image.original_filename = query.text(3);
            image.client_id = query.text(4);
            image.name = query.optional_text(5);
            image.description = query.optional_text(6);
            image.size = query.int64(7);
            auto uploaded_at =
                read_time(source, query, 8, "image " + std::to_string(image.id) + ": uploaded_at");
            if (!uploaded_at) return std::unexpected(uploaded_at.error());
            image.uploaded_at = *uploaded_at;
            images.push_back(std::move(image));
        }
        return images;
    });
    if (!page) return std::unexpected(invalid_source(source, page.error()));
    return page;
}

Result<std::vector<OriginalPending>> pending_after(db::Connection& source, std::int64_t after_id,
                                                   std::size_t limit) {
    auto page = db::read("pending deletions", [&]() -> Result<std::vector<OriginalPending>> {
        db::Statement query(source, "SELECT id, file_path, client_id, " +
                                        micros_of(source, "queued_at") +
                                        ", attempts, last_error FROM assets_pendingfiledeletion"
                                        " WHERE id > ?1 ORDER BY id LIMIT ?2");
        query.bind(1, after_id);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<OriginalPending> rows;
        rows.reserve(limit);
        while (query.step()) {
            OriginalPending row;
            row.id = query.int64(0);
            row.file_path = query.text(1);
            row.client_id = query.optional_text(2);
            auto queued_at = read_time(
                source, query, 3, "pending deletion " + std::to_string(row.id) + ": queued_at");
            if (!queued_at) return std::unexpected(queued_at.error());
            row.queued_at = *queued_at;
            row.attempts = query.int64(4);
            row.last_error = query.optional_text(5);
            rows.push_back(std::move(row));
        }
        return rows;
    });
    if (!page) return std::unexpected(invalid_source(source, page.error()));
    return page;
}

}  // namespace gallery::original
