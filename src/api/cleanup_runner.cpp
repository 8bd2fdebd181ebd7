#include "gallery/api/cleanup_runner.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "gallery/cleanup/run_log.hpp"

namespace gallery::api {
namespace {

// Runs past their budget at once; more requests are refused until one ends.
constexpr std::size_t k_max_background_runs = 4;

}  // namespace

RequestedRun run_cleanup_for_request(ApiContext& context, const cleanup::Options& options,
                                     std::string_view trigger) {
    struct Outcome {
        std::mutex mutex;
        std::condition_variable finished;
        std::optional<cleanup::Report> report;
    };
    auto outcome = std::make_shared<Outcome>();
    const bool started = context.background->start(
        [&context, options, outcome, trigger = std::string(trigger)] {
            auto connection = context.pool.acquire();
            // Each run leases under a name of its own (cleanup::Cleaner::run).
            cleanup::Cleaner cleaner(*connection, context.storage, options, context.clock,
                                     context.lease_owner);
            const cleanup::Report report =
                cleanup::run_and_record(cleaner, *connection, trigger, context.clock,
                                        cleanup::RunLogLine::write)
                    .report;
            context.metrics->record_cleanup(report, trigger);
            std::lock_guard lock(outcome->mutex);
            outcome->report = report;
            outcome->finished.notify_all();
        },
        k_max_background_runs);
    if (!started) return {};
    std::unique_lock lock(outcome->mutex);
    outcome->finished.wait_for(lock, context.config.cleanup_request_budget,
                               [&] { return outcome->report.has_value(); });
    return {true, outcome->report};
}

}  // namespace gallery::api
