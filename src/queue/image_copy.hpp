#pragma once
// The columns of deletion_queue that hold a restorable row's copy of its image
// (migration 0007), written once for every statement that fills, reads or clears them.

#include <string>

#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/queue/deleted_images.hpp"

namespace gallery::queue {

// A restorable row's image, in ImageCopy's order (read_image_copy reads it). file_path,
// client_id and size_bytes every row has; the others only a restorable row.
inline constexpr const char* k_image_copy_columns =
    "image_id, filename, file_path, original_filename, client_id, name, description,"
    " size_bytes, content_type, uploaded_at";

// The SET list that drops the copy when a row stops being restorable (its window ran
// out, or a purge ended it): from then on a restore refuses the row.
inline constexpr const char* k_clear_image_copy =
    "image_id = NULL, filename = NULL, original_filename = NULL, name = NULL,"
    " description = NULL, content_type = NULL, uploaded_at = NULL";

inline ImageCopy read_image_copy(db::Statement& row, int first = 0) {
    ImageCopy image;
    image.id = row.int64(first);
    image.filename = row.text(first + 1);
    image.storage_key = row.text(first + 2);
    image.original_filename = row.text(first + 3);
    image.client_id = row.text(first + 4);
    image.name = row.optional_text(first + 5);
    image.description = row.optional_text(first + 6);
    image.size = static_cast<std::uint64_t>(row.int64(first + 7));
    image.content_type = row.text(first + 8);
    image.uploaded_at = row.int64(first + 9);
    return image;
}

// `selection` as a condition over a table whose image id column is `id_column` and
// whose client column is client_id, its one parameter numbered `parameter`
// (bind_selection binds it).
inline std::string selection_condition(const db::Connection& connection,
                                       const ImageSelection& selection,
                                       const std::string& id_column, int parameter) {
    switch (selection.scope) {
        case ImageSelection::Scope::images:
            return id_column + " IN " + db::json_integer_array(connection, parameter);
        case ImageSelection::Scope::client:
            return "client_id COLLATE NOCASE = ?" + std::to_string(parameter) + " COLLATE NOCASE";
        case ImageSelection::Scope::all:
            break;
    }
    return "1 = 1";
}

void bind_selection(db::Statement& statement, const ImageSelection& selection, int parameter);

}  // namespace gallery::queue
