#pragma once
// Cleanup runs started by a request (POST /api/cleanup/run/, the admin page's
// "run one batch"): they run on a background thread and the request waits at most
// config.cleanup_request_budget, so a slow or stalled store never holds a worker.

#include <optional>
#include <string_view>

#include "gallery/api/api.hpp"
#include "gallery/cleanup/cleaner.hpp"

namespace gallery::api {

struct RequestedRun {
    bool started = false;                   // false: too many earlier runs are still going
    std::optional<cleanup::Report> report;  // empty: still running after the budget
};

// `options.whole_request_retries` should be 0: a request must not sleep.
RequestedRun run_cleanup_for_request(ApiContext& context, const cleanup::Options& options,
                                     std::string_view trigger);

}  // namespace gallery::api
