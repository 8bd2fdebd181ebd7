#include "gallery/api/cleanup_runner.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "gallery/cleanup/run_log.hpp"

namespace gallery::api {
namespace {

// Runs past their budget at once; more requests are refused until one ends.
constexpr std::size_t k_max_background_runs = 4;

// Each run leases under its own name ("<process owner>:run-N"): two runs of one
// process at once must not pass each other's owner checks (a batch that outlived its
// lease would otherwise be completed, or charged an attempt, by both).
std::string run_owner(const std::string& process_owner) {
    static std::atomic<std::uint64_t> runs{0};
    return process_owner + ":run-" + std::to_string(++runs);
}

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
            cleanup::Cleaner cleaner(*connection, context.storage, options, context.clock,
                                     run_owner(context.lease_owner));
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
