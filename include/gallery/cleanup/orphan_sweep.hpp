#pragma once
// The orphan sweep: walks storage under a prefix, page by page (memory stays flat),
// and queues every object that no image row references, that no unexpired upload
// intent covers, that is not queued already, and that is older than a minimum age.
// A variant (common/variant_key.hpp) counts as referenced while its image is live,
// and as queued while its image's key is queued (the cleaner deletes it with it).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::cleanup {

struct SweepOptions {
    // The images' prefix (the default) also walks variants/ after it.
    std::string prefix = "images/";
    std::chrono::seconds older_than{24 * 3600};
    bool dry_run = false;     // report orphans, queue nothing
    std::string start_after;  // resume a sweep after this key
    std::size_t page_size = 1000;
    std::string client_id;  // recorded on the queued rows
    // Keys under this prefix (backups kept in the same bucket) are never orphans,
    // whatever `prefix` is. Empty: none.
    std::string protected_prefix;
};

struct SweepReport {
    std::int64_t scanned = 0;
    std::int64_t orphans = 0;  // found (queued, or listed with dry_run)
    std::uint64_t orphan_bytes = 0;
    std::int64_t queued = 0;
    std::int64_t already_queued = 0;
    std::int64_t referenced = 0;  // live image rows
    std::int64_t in_flight = 0;   // unexpired upload intents
    std::int64_t too_young = 0;
    std::int64_t protected_keys = 0;  // under protected_prefix
    std::string last_key;             // pass as start_after to resume
    std::optional<Error> stopped_by;
};

// `on_orphan` sees each orphan (for listing); `on_page` the running totals.
SweepReport sweep_orphans(db::Connection& connection, storage::Storage& storage,
                          const SweepOptions& options, const Clock& clock,
                          const std::function<void(const storage::ObjectInfo&)>& on_orphan = {},
                          const std::function<void(const SweepReport&)>& on_page = {});

}  // namespace gallery::cleanup
