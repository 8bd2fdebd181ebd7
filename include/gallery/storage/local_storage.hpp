#pragma once

#include <filesystem>
#include <memory>

#include "gallery/storage/storage.hpp"

namespace gallery::storage {

// Objects as files under `root` (created when missing). Writes go to a temporary
// file that is fsync'ed and renamed into place. Throws StartupError when `root`
// cannot be created.
std::unique_ptr<Storage> make_local_storage(const std::filesystem::path& root);

}  // namespace gallery::storage
