#pragma once

#include <memory>

#include "gallery/config/config.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::storage {

// The backend the configuration names. Throws StartupError with a sentence when
// the configuration cannot work (missing settings, unusable media folder).
std::unique_ptr<Storage> open_storage(const config::Config& config);

}  // namespace gallery::storage
