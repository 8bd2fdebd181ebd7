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

void record_cleanup_run(Metrics& metrics, db::Connection& connection, std::string_view trigger,
                        UnixMicros started_at, UnixMicros finished_at,
                        const cleanup::Report& report) {
    metrics.record_cleanup(report, std::string(trigger));
    cleanup::record_run(connection, trigger, started_at, finished_at, report);
    cleanup::log_run(trigger, started_at, finished_at, report);
}

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
            cleanup::Cleaner cleaner(*connection, context.storage, options, context.clock,
                                     context.lease_owner);
            const UnixMicros started_at = context.clock();
            const cleanup::Report report = cleaner.run();
            record_cleanup_run(*context.metrics, *connection, trigger, started_at, context.clock(),
                               report);
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
