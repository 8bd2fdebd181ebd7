#pragma once
// One JSON shape for a cleanup run, shared by `gallery cleanup --json` and
// POST /api/cleanup/run/: the original's fields (processed, deleted, failed,
// skipped, remaining_in_queue) plus dead, skipped_live, bytes_reclaimed, batches.
// "skipped" keeps the original's meaning, "gave up this run": here, moved to dead.

#include <nlohmann/json.hpp>

#include "gallery/cleanup/cleaner.hpp"

namespace gallery::cleanup {

// Without "error": the caller decides how much of a failure to show.
nlohmann::json report_json(const Report& report);

}  // namespace gallery::cleanup
