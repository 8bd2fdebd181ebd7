#pragma once
// The table original_imports (migrations/0005): which images an import brought over
// and a fingerprint of each as it was then. Runs inside the import's transaction.

#include <cstdint>
#include <map>
#include <span>

#include "gallery/catalog/catalog.hpp"
#include "gallery/common/error.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::original::provenance {

struct Entry {
    catalog::ImageId id = 0;
    std::int64_t fingerprint = 0;
};

// A 64-bit FNV-1a hash of every field of the image (NULL told apart from '').
std::int64_t fingerprint(const catalog::Image& image);

// Images imported before with after_id < id <= through_id: id -> fingerprint.
Result<std::map<catalog::ImageId, std::int64_t>> between(db::Connection& target,
                                                         catalog::ImageId after_id,
                                                         catalog::ImageId through_id);

// Records (or updates) each entry as imported at `now`.
Result<void> record(db::Connection& target, std::span<const Entry> entries, UnixMicros now);

}  // namespace gallery::original::provenance
