#include "gallery/storage/storage.hpp"

namespace gallery::storage {

Result<std::optional<ObjectReader>> Storage::open(std::string_view) {
    return std::unexpected(Error{ErrorKind::storage_permanent,
                                 std::string(kind()) + ": objects cannot be opened for streaming"});
}

std::optional<std::string> Storage::presigned_get(std::string_view, long long,
                                                  std::chrono::seconds) const {
    return std::nullopt;
}

}  // namespace gallery::storage
