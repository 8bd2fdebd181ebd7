#pragma once
// The cleaner: claims due queue rows with a lease, deletes their objects from
// storage, and records each outcome. Used by `gallery cleanup`, the API's
// cleanup/run endpoint and the in-process scheduler alike.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/queue/backoff.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::cleanup {

struct Options {
    std::size_t batch_size = 100;  // rows per claim, at most k_max_batch_size
    int max_attempts = 3;
    std::chrono::seconds lease{300};
    bool until_empty = false;                      // keep claiming batches until none is due
    std::optional<std::chrono::seconds> max_time;  // with until_empty: stop claiming after this
    queue::BackoffPolicy backoff{};
    int whole_request_retries = 2;             // in-run retries of a batch whose request failed
    std::chrono::seconds max_in_run_wait{30};  // longest in-run wait before such a retry
    std::function<void(std::chrono::milliseconds)> sleep;  // default: std::this_thread::sleep_for
    // Checked between batches: when it returns true the run ends after the current batch.
    std::function<bool()> stop_requested;
    // Confirm each deleted object is gone (HEAD after delete) before removing its row.
    bool verify = false;
    // Deletion receipts older than this are pruned, at most prune_limit per run.
    std::chrono::seconds receipt_retention{30 * 24 * 3600};
    std::size_t prune_limit = 10'000;
    // Restore-safe deletion (backup_guard): objects queued after the oldest retained
    // backup are not deleted while it is retained (backup::hold_since, read per batch).
    bool backup_guard = true;
    // Keys under this prefix (backups kept in the media bucket: backup_to = s3) are
    // never deleted: such a row fails at once, whatever queued it. Empty: none.
    std::string protected_prefix;
    // The configured variants' names (issue 41): a row's key that could be an image's
    // has its variants' keys deleted with it, and the row is gone only when all are.
    std::vector<std::string> variant_names;
    // Their format: a variant made in another (before variant_format changed) is left
    // to the orphan sweep once its image is gone.
    VariantFormat variant_format = VariantFormat::jpeg;
};

inline constexpr std::size_t k_max_batch_size = 1000;

// How long a scheduler running every `every` waits after `consecutive_outages`
// runs in a row found storage down: doubling from `every`, at most an hour (or
// `every`, when that is longer). No outage: `every`.
std::chrono::seconds outage_delay(std::chrono::seconds every, int consecutive_outages);

// The configured batch size, max attempts, lease and receipt retention; the rest default.
Options options_from(const config::Config& config);

// A cleaner's own database connection: `base` with the settings its batches need on
// SQLite (issue 40). Keys are random, so a batch changes about a page per row of the
// queue's and the receipts' file_path indexes: a 20 MiB page cache holds them from one
// batch to the next, and a checkpoint every 10,000 WAL pages (where commits checkpoint
// at all: not in serve, whose checkpointer thread does) copies such a page once for
// many batches. Statement journals stay in memory: a batch is at most
// k_max_batch_size rows, so they are bounded. PostgreSQL ignores these settings.
db::ConnectionOptions cleaner_connection(db::ConnectionOptions base);

struct Report {
    std::int64_t processed = 0;     // rows claimed and handled this run
    std::int64_t deleted = 0;       // objects confirmed gone; their rows removed
    std::int64_t failed = 0;        // per-key failures (each counted one attempt)
    std::int64_t dead = 0;          // rows that reached max_attempts this run (the API's "skipped")
    std::int64_t skipped_live = 0;  // rows dropped because a live image still references the key
    std::int64_t remaining = 0;     // pending and restorable rows after the run
    // Filled when the run processed nothing while rows remain: how many wait for a
    // retry (or a lease held elsewhere) and when the first becomes due.
    std::int64_t waiting_for_retry = 0;
    std::optional<UnixMicros> next_attempt_at;
    // Likewise: rows in their restore window, and when the first window ends.
    std::int64_t restorable = 0;
    std::optional<UnixMicros> first_window_end;
    std::uint64_t bytes_reclaimed = 0;
    std::int64_t batches = 0;
    std::int64_t intents_queued = 0;  // keys of crashed uploads found this run and queued
    std::int64_t receipts_pruned = 0;
    // Set when a failure stopped the run: a storage error that is not per key, or a database error.
    std::optional<Error> stopped_by;
};

// Whether a run stopped because storage (not the database) failed.
bool stopped_by_storage(const Report& report);

// What one run would do, without changing anything.
struct PlanEntry {
    std::string key;
    std::string client_id;
    int attempts = 0;
    bool live = false;  // would be dropped from the queue, not deleted
};

class Cleaner {
  public:
    // `worker` names the process (queue::make_lease_owner(), with a role if it has
    // several); each run leases as "<worker>:run-N", N unique in the process, so two
    // runs never pass each other's owner checks.
    Cleaner(db::Connection& connection, storage::Storage& storage, Options options, Clock clock,
            std::string worker);

    // Runs one batch, or batches until none is due (until_empty). `on_batch` sees
    // the running totals after each batch. The lease of the batch in hand is renewed
    // before each in-run retry of its storage request, covering the retry's wait; the
    // first request follows the claim, so a lease must outlast one storage request.
    Report run(const std::function<void(const Report&)>& on_batch = {});

    Result<std::vector<PlanEntry>> plan();

    // The lease owner of the current (or last) run.
    const std::string& lease_owner() const { return m_owner; }

  private:
    // One claimed batch, sorted by what happens to each row.
    struct Batch {
        std::vector<queue::ItemId> live_ids;   // a live image holds the key: dropped
        std::vector<queue::Item> to_delete;    // still this run's to delete
        std::vector<queue::Failure> failures;  // charged one attempt each
        std::vector<queue::ItemId> gone_ids;   // object confirmed gone
        std::optional<Error> stop;             // ends the run after recording
    };

    // Returns false when the run must stop (report.stopped_by is then set).
    bool process_batch(const std::vector<queue::Item>& items, Report& report);
    Result<Batch> sort_out(const std::vector<queue::Item>& items);
    // Deletes the batch's objects, retrying a whole-request failure within the run;
    // fills gone_ids, failures and stop.
    void delete_objects(Batch& batch);
    // Renews the lease of the rows still to delete until `until` plus a lease, and keeps
    // only those this run still holds. False when the database failed (batch.stop set).
    bool keep_lease(Batch& batch, UnixMicros until);
    // The storage keys a batch deletes: each row's key, then its variants' keys;
    // `first[i]` is where row i's keys start (first.back(): the end).
    struct BatchKeys {
        std::vector<std::string> keys;
        std::vector<std::size_t> first;
    };
    BatchKeys keys_to_delete(const std::vector<queue::Item>& items) const;
    void judge(Batch& batch, const BatchKeys& keys,
               const std::vector<storage::RemoveOutcome>& outcomes);
    bool record(Batch& batch, Report& report);
    UnixMicros retry_time(int failures);
    // With verify: an error when `key` still exists after its delete.
    std::optional<Error> still_present(const std::string& key);

    std::mt19937_64 m_random{std::random_device{}()};

    db::Connection& m_connection;
    storage::Storage& m_storage;
    Options m_options;
    Clock m_clock;
    std::string m_worker;
    std::string m_owner;
};

}  // namespace gallery::cleanup
