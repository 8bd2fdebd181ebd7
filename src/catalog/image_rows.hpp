#pragma once
// How an image row is read: one column list and one reader for every query of images.

#include "gallery/catalog/catalog.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::catalog {

// The columns read_image reads, in its order.
inline constexpr const char* k_image_columns =
    "id, filename, storage_key, original_filename, client_id, name, description, size, "
    "content_type, uploaded_at";

inline Image read_image(db::Statement& row) {
    Image image;
    image.id = row.int64(0);
    image.filename = row.text(1);
    image.storage_key = row.text(2);
    image.original_filename = row.text(3);
    image.client_id = row.text(4);
    image.name = row.optional_text(5);
    image.description = row.optional_text(6);
    image.size = static_cast<std::uint64_t>(row.int64(7));
    image.content_type = row.text(8);
    image.uploaded_at = row.int64(9);
    return image;
}

// The conditions images are listed by (list_images; queue::list_restorable matches the
// same columns of its copies), appended to a
// WHERE over any table with the image's column names: ?1 the client id (any case),
// ?2 a substring of name, description or either filename.
inline std::string image_filters(const std::optional<std::string>& client_id,
                                 const std::optional<std::string>& search) {
    std::string conditions;
    if (client_id) conditions += " AND client_id COLLATE NOCASE = ?1 COLLATE NOCASE";
    if (search) {
        conditions +=
            " AND (name LIKE ?2 ESCAPE '\\' OR description LIKE ?2 ESCAPE '\\'"
            " OR filename LIKE ?2 ESCAPE '\\' OR original_filename LIKE ?2 ESCAPE '\\')";
    }
    return conditions;
}

// The images table's search index (migration 0010), as a condition for a WHERE over
// `images` next to image_filters' exact test; "" when it does not apply. Its phrase
// is ?5 (bind_search_index).
inline std::string search_index_filter(const db::Connection& connection,
                                       const std::optional<std::string>& search) {
    return search ? db::trigram_prefilter(connection, "images_search", *search, 5) : "";
}

inline void bind_search_index(db::Statement& statement, const std::string& filter,
                              const std::optional<std::string>& search) {
    if (!filter.empty()) statement.bind(5, db::trigram_phrase(*search));
}

inline void bind_image_filters(db::Statement& statement,
                               const std::optional<std::string>& client_id,
                               const std::optional<std::string>& search) {
    if (client_id) statement.bind(1, *client_id);
    if (search) statement.bind(2, db::like_pattern(*search));
}

}  // namespace gallery::catalog
