#include "gallery/storage/storage.hpp"

namespace gallery::storage {

Result<std::optional<ObjectReader>> Storage::open(std::string_view) {
    return std::unexpected(Error{ErrorKind::storage_permanent,
                                 std::string(kind()) + ": objects cannot be opened for streaming"});
}

}  // namespace gallery::storage
