#pragma once
// Counters for GET /metrics (Prometheus text format): HTTP requests by route,
// method and status, a request duration histogram, cleanup runs and their counts.
// Queue gauges are read from the database at scrape time, the encode admission's
// and the connection pool's state from them. Thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/db/pool.hpp"
#include "gallery/imaging/admission.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {

class Metrics {
  public:
    void record_request(const std::string& route, const std::string& method, int status,
                        double seconds);
    // `trigger`: "api", "scheduler".
    void record_cleanup(const cleanup::Report& report, const std::string& trigger);

    // The in-process scheduler's state: whether its last run found storage down,
    // and how long it waits before the next run.
    void set_scheduler_state(bool storage_down, std::chrono::seconds next_run_in);

    // What the shared resources say at scrape time (issue 36).
    struct Resources {
        imaging::EncodeAdmission::Snapshot encoding;
        db::ConnectionPool::WaitStats pool;
        std::uint64_t search_refusals = 0;  // searches answered 503 (api::Budget)
        std::uint64_t variants_made = 0;    // variants made on their first request
    };

    // The whole exposition, with the queue gauges of `queue` taken at `now`.
    std::string render(const queue::Stats& queue, UnixMicros now, const std::string& version,
                       const Resources& resources) const;

  private:
    static constexpr std::array<double, 11> k_buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,   1,    2.5,   5};

    mutable std::mutex m_mutex;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> m_requests;
    std::array<std::uint64_t, k_buckets.size()> m_bucket_counts{};
    std::uint64_t m_duration_count = 0;
    double m_duration_sum = 0;
    std::map<std::string, std::uint64_t> m_cleanup_runs;      // by trigger
    std::map<std::string, std::uint64_t> m_cleanup_failures;  // by kind of the stopping error
    std::uint64_t m_objects_deleted = 0;
    std::uint64_t m_objects_failed = 0;
    std::uint64_t m_bytes_reclaimed = 0;
    bool m_storage_down = false;
    std::int64_t m_scheduler_delay_seconds = -1;  // -1: no scheduler
};

}  // namespace gallery::api
