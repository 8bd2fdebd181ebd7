// Read and update queries of the catalog: one image, pages of images, clients.
// Sort orders come from fixed tables (never from the request text); values are bound.

#include "gallery/db/statement.hpp"

#include <array>
#include <utility>

#include "catalog/client_totals.hpp"
#include "catalog/image_rows.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::catalog {
namespace {

// id breaks ties so pages never overlap or skip rows. Each order is an index's
// (migration 0009), forwards or backwards, so a deep page walks the index.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> k_image_orders{{
    {"uploaded_at", "uploaded_at ASC, id ASC"},
    {"-uploaded_at", "uploaded_at DESC, id DESC"},
    {"name", "name ASC NULLS FIRST, id ASC"},  // NULL first, as SQLite sorts by default
    {"-name", "name DESC NULLS LAST, id DESC"},
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

std::int64_t offset_of(const PageRequest& page) {
    return (page.page - 1) * page.page_size;
}

}  // namespace

std::optional<std::string> client_id_problem(std::string_view client_id) {
    if (client_id.size() > k_max_client_id) return "must be at most 255 bytes long.";
    if (!is_valid_utf8(client_id)) return "must be valid UTF-8 text.";
    for (const unsigned char c : client_id) {
        if (c < 0x20 || c == 0x7f) return "must not contain control characters.";
    }
    if (client_id.find('/') != std::string_view::npos) return "must not contain '/'.";
    return std::nullopt;
}

std::optional<std::string> text_problem(std::string_view text) {
    if (text.size() > k_max_text_field) return "must be at most 10000 bytes long.";
    if (!is_valid_utf8(text)) return "must be valid UTF-8 text.";
    if (text.find('\0') != std::string_view::npos) return "must not contain NUL characters.";
    return std::nullopt;
}

std::optional<std::string> search_problem(std::string_view term) {
    if (utf8_length(term) > k_max_search_characters) {
        return "search must be at most " + std::to_string(k_max_search_characters) +
               " characters long.";
    }
    if (!is_valid_utf8(term)) return "search must be valid UTF-8 text.";
    if (term.find('\0') != std::string_view::npos) return "search must not contain NUL characters.";
    return std::nullopt;
}

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
    return db::read("catalog: get image", [&]() -> std::optional<Image> {
        db::Statement query(connection,
                            std::string("SELECT ") + k_image_columns + " FROM images WHERE id = ?");
        query.bind(1, id);
        if (!query.step()) return std::nullopt;
        return read_image(query);
    });
}

Result<std::optional<Image>> update_image(db::Connection& connection, ImageId id,
                                          const ImageUpdate& update) {
    return db::write(connection, "catalog: update image", [&]() -> std::optional<Image> {
        db::Statement before(
            connection, "SELECT client_id FROM images WHERE id = ?" + db::for_update(connection));
        before.bind(1, id);
        if (!before.step()) return std::nullopt;
        const std::string old_client = before.text(0);
        before.reset();
        if (update.client_id && !totals::same_client(old_client, *update.client_id)) {
            // Both clients' totals change: their locks in ascending order (client_totals.hpp).
            std::string first = to_lower(old_client), second = to_lower(*update.client_id);
            if (second < first) std::swap(first, second);
            totals::lock_client(connection, first);
            totals::lock_client(connection, second);
        }
        // Each column is either kept (flag 0) or replaced (flag 1); NULL is a valid new value.
        db::Statement statement(
            connection, std::string("UPDATE images SET"
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
        statement.step();
        Image image = read_image(statement);
        statement.reset();
        if (!totals::same_client(old_client, image.client_id)) {
            totals::remove_images(connection, old_client, 1, image.size);
            totals::add_image(connection, image.client_id, image.size, image.uploaded_at);
        }
        return image;
    });
}

Result<ImagePage> list_images(db::Connection& connection, const ImageQuery& query) {
    return db::read("catalog: list images", [&] {
        const std::string index_filter = search_index_filter(connection, query.search);
        const std::string where =
            " WHERE 1 = 1" + image_filters(query.client_id, query.search) + index_filter;
        const auto bind_filters = [&](db::Statement& statement) {
            bind_image_filters(statement, query.client_id, query.search);
            bind_search_index(statement, index_filter, query.search);
        };
        ImagePage page;
        // Without a search the count comes from client_totals instead of a scan.
        const std::string count_sql =
            query.search      ? "SELECT COUNT(*) FROM images" + where
            : query.client_id ? "SELECT COALESCE(SUM(image_count), 0) FROM client_totals"
                                " WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE"
                              : "SELECT COALESCE(SUM(image_count), 0) FROM client_totals";
        db::Statement count(connection, count_sql);
        bind_filters(count);
        count.step();
        page.total_count = count.int64(0);
        // A page past the last is empty: known from the count, without a scan.
        if (offset_of(query.page) >= page.total_count) return page;

        // The page's ids first, then their rows: the skipped rows are walked in the sort
        // index alone (PostgreSQL's index-only scan; every sort index holds the columns
        // it sorts by, migrations 0009 and 0013), not fetched from the table one by one
        // (a deep page by -size at 250,000 images: 75.8 ms -> 23.2 ms, BENCHMARKS).
        const std::string order(order_for(k_image_orders, query.sort_by, "-uploaded_at"));
        const std::string page_rows = " FROM images JOIN (SELECT id FROM images" + where +
                                      " ORDER BY " + order +
                                      " LIMIT ?3 OFFSET ?4) AS page USING (id) ORDER BY " + order;
        db::Statement rows(connection, std::string("SELECT ") + k_image_columns + page_rows);
        bind_filters(rows);
        rows.bind(3, query.page.page_size);
        rows.bind(4, offset_of(query.page));
        while (rows.step()) page.images.push_back(read_image(rows));
        return page;
    });
}

Result<ClientPage> list_clients(db::Connection& connection, const ClientQuery& query) {
    return db::read("catalog: list clients", [&] {
        const std::string where = query.search ? " WHERE client_id LIKE ?2 ESCAPE '\\'" : "";
        const auto bind_filters = [&](db::Statement& statement) {
            if (query.search) statement.bind(2, db::like_pattern(*query.search));
        };
        ClientPage page;
        db::Statement count(connection, "SELECT COUNT(*) FROM client_totals" + where);
        bind_filters(count);
        count.step();
        page.total_count = count.int64(0);
        if (offset_of(query.page) >= page.total_count) return page;

        db::Statement rows(connection,
                           "SELECT client_id, image_count, total_size, latest_upload, oldest_upload"
                           " FROM client_totals" +
                               where + " ORDER BY " +
                               std::string(order_for(k_client_orders, query.sort_by, "-count")) +
                               " LIMIT ?3 OFFSET ?4");
        bind_filters(rows);
        rows.bind(3, query.page.page_size);
        rows.bind(4, offset_of(query.page));
        while (rows.step()) {
            page.clients.push_back({rows.text(0), rows.int64(1),
                                    static_cast<std::uint64_t>(rows.int64(2)), rows.int64(3),
                                    rows.int64(4)});
        }
        return page;
    });
}

}  // namespace gallery::catalog
