// Read and update queries of the catalog: one image, pages of images, clients.
// Sort orders come from fixed tables (never from the request text); values are bound.

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <utility>

#include "catalog/client_totals.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/db/guard.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::catalog {
namespace {

constexpr const char* k_image_columns =
    "id, filename, storage_key, original_filename, client_id, name, description, size, "
    "content_type, uploaded_at";

// id breaks ties so pages never overlap or skip rows.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> k_image_orders{{
    {"uploaded_at", "uploaded_at ASC, id ASC"},
    {"-uploaded_at", "uploaded_at DESC, id DESC"},
    {"name", "name ASC, id ASC"},
    {"-name", "name DESC, id DESC"},
    {"size", "size ASC, id ASC"},
    {"-size", "size DESC, id DESC"},
    {"client_id", "client_id COLLATE NOCASE ASC, uploaded_at ASC, id ASC"},
    {"-client_id", "client_id COLLATE NOCASE DESC, uploaded_at DESC, id DESC"},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 8> k_client_orders{{
    {"client_id", "client_id COLLATE NOCASE ASC"},
    {"-client_id", "client_id COLLATE NOCASE DESC"},
    {"count", "image_count ASC, client_id COLLATE NOCASE ASC"},
    {"-count", "image_count DESC, client_id COLLATE NOCASE ASC"},
    {"total_size", "total_size ASC, client_id COLLATE NOCASE ASC"},
    {"-total_size", "total_size DESC, client_id COLLATE NOCASE ASC"},
    {"latest_upload", "latest_upload ASC, client_id COLLATE NOCASE ASC"},
    {"-latest_upload", "latest_upload DESC, client_id COLLATE NOCASE ASC"},
}};

template <std::size_t N>
std::string_view order_for(
    const std::array<std::pair<std::string_view, std::string_view>, N>& orders,
    std::string_view key, std::string_view fallback) {
    for (const auto& [name, sql] : orders) {
        if (name == key) return sql;
    }
    return order_for(orders, fallback, fallback);
}

std::optional<std::string> optional_text(const SQLite::Column& column) {
    if (column.isNull()) return std::nullopt;
    return column.getString();
}

Image read_image(SQLite::Statement& row) {
    Image image;
    image.id = row.getColumn(0).getInt64();
    image.filename = row.getColumn(1).getString();
    image.storage_key = row.getColumn(2).getString();
    image.original_filename = row.getColumn(3).getString();
    image.client_id = row.getColumn(4).getString();
    image.name = optional_text(row.getColumn(5));
    image.description = optional_text(row.getColumn(6));
    image.size = static_cast<std::uint64_t>(row.getColumn(7).getInt64());
    image.content_type = row.getColumn(8).getString();
    image.uploaded_at = row.getColumn(9).getInt64();
    return image;
}

std::int64_t offset_of(const PageRequest& page) {
    return (page.page - 1) * page.page_size;
}

}  // namespace

bool is_image_sort_key(std::string_view sort_by) {
    for (const auto& [name, sql] : k_image_orders) {
        if (name == sort_by) return true;
    }
    return false;
}

bool is_client_sort_key(std::string_view sort_by) {
    for (const auto& [name, sql] : k_client_orders) {
        if (name == sort_by) return true;
    }
    return false;
}

Result<std::optional<Image>> get_image(db::Connection& connection, ImageId id) {
    return db::guard("catalog: get image", [&]() -> std::optional<Image> {
        SQLite::Statement query(connection.sqlite(), std::string("SELECT ") + k_image_columns +
                                                         " FROM images WHERE id = ?");
        query.bind(1, id);
        if (!query.executeStep()) return std::nullopt;
        return read_image(query);
    });
}

Result<std::optional<Image>> update_image(db::Connection& connection, ImageId id,
                                          const ImageUpdate& update) {
    return db::guard("catalog: update image", [&]() -> std::optional<Image> {
        db::WriteTransaction tx(connection);
        SQLite::Statement before(connection.sqlite(), "SELECT client_id FROM images WHERE id = ?");
        before.bind(1, id);
        if (!before.executeStep()) return std::nullopt;
        const std::string old_client = before.getColumn(0).getString();
        // Each column is either kept (flag 0) or replaced (flag 1); NULL is a valid new value.
        SQLite::Statement statement(
            connection.sqlite(),
            std::string("UPDATE images SET"
                        " name = CASE WHEN ?1 THEN ?2 ELSE name END,"
                        " description = CASE WHEN ?3 THEN ?4 ELSE description END,"
                        " client_id = CASE WHEN ?5 THEN ?6 ELSE client_id END"
                        " WHERE id = ?7 RETURNING ") +
                k_image_columns);
        statement.bind(1, update.name.has_value() ? 1 : 0);
        if (update.name && *update.name) statement.bind(2, **update.name);
        statement.bind(3, update.description.has_value() ? 1 : 0);
        if (update.description && *update.description) statement.bind(4, **update.description);
        statement.bind(5, update.client_id.has_value() ? 1 : 0);
        statement.bind(6, update.client_id.value_or(""));
        statement.bind(7, id);
        statement.executeStep();
        Image image = read_image(statement);
        statement.reset();
        if (!totals::same_client(old_client, image.client_id)) {
            totals::remove_images(connection.sqlite(), old_client, 1, image.size);
            totals::add_image(connection.sqlite(), image.client_id, image.size, image.uploaded_at);
        }
        tx.commit();
        return image;
    });
}

Result<ImagePage> list_images(db::Connection& connection, const ImageQuery& query) {
    return db::guard("catalog: list images", [&] {
        std::string where = " WHERE 1";
        if (query.client_id) where += " AND client_id = :client COLLATE NOCASE";
        if (query.search) {
            where +=
                " AND (name LIKE :search ESCAPE '\\' OR description LIKE :search ESCAPE '\\'"
                " OR filename LIKE :search ESCAPE '\\' OR original_filename LIKE :search ESCAPE "
                "'\\')";
        }
        const auto bind_filters = [&](SQLite::Statement& statement) {
            if (query.client_id) statement.bind(":client", *query.client_id);
            if (query.search) statement.bind(":search", db::like_pattern(*query.search));
        };
        ImagePage page;
        // Without a search the count comes from client_totals instead of a scan.
        const std::string count_sql =
            query.search      ? "SELECT COUNT(*) FROM images" + where
            : query.client_id ? "SELECT COALESCE(SUM(image_count), 0) FROM client_totals"
                                " WHERE client_id = :client"
                              : "SELECT COALESCE(SUM(image_count), 0) FROM client_totals";
        SQLite::Statement count(connection.sqlite(), count_sql);
        bind_filters(count);
        count.executeStep();
        page.total_count = count.getColumn(0).getInt64();

        SQLite::Statement rows(
            connection.sqlite(),
            std::string("SELECT ") + k_image_columns + " FROM images" + where + " ORDER BY " +
                std::string(order_for(k_image_orders, query.sort_by, "-uploaded_at")) +
                " LIMIT :limit OFFSET :offset");
        bind_filters(rows);
        rows.bind(":limit", query.page.page_size);
        rows.bind(":offset", offset_of(query.page));
        while (rows.executeStep()) page.images.push_back(read_image(rows));
        return page;
    });
}

Result<ClientPage> list_clients(db::Connection& connection, const ClientQuery& query) {
    return db::guard("catalog: list clients", [&] {
        const std::string where = query.search ? " WHERE client_id LIKE :search ESCAPE '\\'" : "";
        const auto bind_filters = [&](SQLite::Statement& statement) {
            if (query.search) statement.bind(":search", db::like_pattern(*query.search));
        };
        ClientPage page;
        SQLite::Statement count(connection.sqlite(), "SELECT COUNT(*) FROM client_totals" + where);
        bind_filters(count);
        count.executeStep();
        page.total_count = count.getColumn(0).getInt64();

        SQLite::Statement rows(
            connection.sqlite(),
            "SELECT client_id, image_count, total_size, latest_upload, oldest_upload"
            " FROM client_totals" +
                where + " ORDER BY " +
                std::string(order_for(k_client_orders, query.sort_by, "-count")) +
                " LIMIT :limit OFFSET :offset");
        bind_filters(rows);
        rows.bind(":limit", query.page.page_size);
        rows.bind(":offset", offset_of(query.page));
        while (rows.executeStep()) {
            page.clients.push_back({rows.getColumn(0).getString(), rows.getColumn(1).getInt64(),
                                    static_cast<std::uint64_t>(rows.getColumn(2).getInt64()),
                                    rows.getColumn(3).getInt64(), rows.getColumn(4).getInt64()});
        }
        return page;
    });
}

}  // namespace gallery::catalog
