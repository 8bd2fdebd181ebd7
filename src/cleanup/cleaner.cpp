#include "gallery/cleanup/cleaner.hpp"
#include "gallery/backup/backup.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_set>

#include "gallery/common/variant_key.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::cleanup {
namespace {

constexpr UnixMicros to_micros(std::chrono::seconds s) {
    return static_cast<UnixMicros>(s.count()) * k_micros_per_second;
}

}  // namespace

Options options_from(const config::Config& config) {
    Options options;
    options.batch_size = static_cast<std::size_t>(config.batch_size);
    options.max_attempts = config.max_attempts;
    options.lease = config.lease;
    options.receipt_retention = std::chrono::seconds(std::int64_t{config.receipt_days} * 86400);
    options.backup_guard = config.backup_guard;
    if (config.backup_to == config::BackupTarget::s3)
        options.protected_prefix = config.backup_prefix;
    for (const config::VariantSpec& variant : config.variants)
        options.variant_names.push_back(variant.name);
    options.variant_format = config.variant_format;
    return options;
}

db::ConnectionOptions cleaner_connection(db::ConnectionOptions base) {
    base.cache_kib = 20 * 1024;
    base.wal_autocheckpoint_pages = 10'000;
    base.temp_in_memory = true;
    return base;
}

Cleaner::Cleaner(db::Connection& connection, storage::Storage& storage, Options options,
                 Clock clock, std::string worker)
    : m_connection(connection),
      m_storage(storage),
      m_options(std::move(options)),
      m_clock(std::move(clock)),
      m_worker(std::move(worker)) {
    m_options.batch_size = std::clamp<std::size_t>(m_options.batch_size, 1, k_max_batch_size);
    if (!m_options.sleep)
        m_options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

UnixMicros Cleaner::retry_time(int failures) {
    return m_clock() + queue::backoff_delay(m_options.backoff, failures, m_random);
}

std::chrono::seconds outage_delay(std::chrono::seconds every, int consecutive_outages) {
    const std::chrono::seconds ceiling =
        std::max<std::chrono::seconds>(every, std::chrono::hours{1});
    std::chrono::seconds delay = every;
    for (int i = 0; i < consecutive_outages && delay < ceiling; ++i) delay *= 2;
    return std::min(delay, ceiling);
}

bool stopped_by_storage(const Report& report) {
    return report.stopped_by && (report.stopped_by->kind == ErrorKind::storage_transient ||
                                 report.stopped_by->kind == ErrorKind::storage_permanent);
}

// A batch with at least this many deletes, all failed, trips the circuit breaker.
constexpr std::size_t k_outage_batch_size = 3;

Report Cleaner::run(const std::function<void(const Report&)>& on_batch) {
    static std::atomic<std::uint64_t> runs_in_process{0};
    m_owner = m_worker + ":run-" + std::to_string(++runs_in_process);
    Report report;
    const UnixMicros started = m_clock();
    // A crashed upload left an intent and maybe an object: queue it before claiming.
    if (auto queued = queue::queue_expired_intents(m_connection, started)) {
        report.intents_queued = static_cast<std::int64_t>(*queued);
    } else {
        report.stopped_by = queued.error();
        return report;
    }
    const auto out_of_time = [&] {
        return m_options.max_time && m_clock() - started >= to_micros(*m_options.max_time);
    };
    for (;;) {
        const UnixMicros now = m_clock();
        std::optional<UnixMicros> hold_queued_after;
        if (m_options.backup_guard) {
            auto held = backup::hold_since(m_connection);
            if (!held) {
                report.stopped_by = held.error();
                break;
            }
            hold_queued_after = *held;
        }
        auto items = queue::claim(m_connection, m_owner, m_options.batch_size, now,
                                  now + to_micros(m_options.lease), hold_queued_after);
        if (!items) {
            report.stopped_by = items.error();
            break;
        }
        if (items->empty()) break;
        ++report.batches;
        const bool keep_going = process_batch(*items, report);
        if (on_batch) on_batch(report);
        if (!keep_going || !m_options.until_empty || out_of_time()) break;
        if (m_options.stop_requested && m_options.stop_requested()) break;
    }
    if (!report.stopped_by) {
        const UnixMicros cutoff = m_clock() - to_micros(m_options.receipt_retention);
        if (auto pruned = queue::prune_receipts(m_connection, cutoff, m_options.prune_limit)) {
            report.receipts_pruned = static_cast<std::int64_t>(*pruned);
        } else {
            report.stopped_by = pruned.error();
        }
    }
    if (auto remaining = queue::pending_count(m_connection)) {
        report.remaining = *remaining;
    } else if (!report.stopped_by) {
        report.stopped_by = remaining.error();
    }
    if (report.processed == 0 && report.remaining > 0) {
        if (auto waiting = queue::waiting(m_connection, m_clock())) {
            report.waiting_for_retry = waiting->rows;
            report.next_attempt_at = waiting->next_attempt_at;
            report.restorable = waiting->restorable;
            report.first_window_end = waiting->first_window_end;
        } else if (!report.stopped_by) {
            report.stopped_by = waiting.error();
        }
    }
    return report;
}

bool Cleaner::process_batch(const std::vector<queue::Item>& items, Report& report) {
    report.processed += static_cast<std::int64_t>(items.size());
    auto batch = sort_out(items);
    if (!batch) {
        report.stopped_by = batch.error();
        return false;  // the rows' leases expire and they come back
    }
    // Invariant 3: a key a live image references is dropped from the queue, never deleted.
    if (auto dropped = queue::drop(m_connection, m_owner, batch->live_ids)) {
        report.skipped_live += static_cast<std::int64_t>(*dropped);
    } else {
        report.stopped_by = dropped.error();
        return false;
    }
    if (!batch->to_delete.empty()) delete_objects(*batch);
    return record(*batch, report);
}

Result<Cleaner::Batch> Cleaner::sort_out(const std::vector<queue::Item>& items) {
    std::vector<std::string> keys;
    keys.reserve(items.size());
    for (const queue::Item& item : items) keys.push_back(item.key);
    auto in_use = queue::keys_in_use(m_connection, keys);
    if (!in_use) return std::unexpected(in_use.error());
    Batch batch;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if ((*in_use)[i]) {
            batch.live_ids.push_back(items[i].id);
        } else if (!m_options.protected_prefix.empty() &&
                   items[i].key.starts_with(m_options.protected_prefix)) {
            // Charged like a failed delete, without one: after max_attempts the row is
            // dead (and shown as failed); the backup stays.
            batch.failures.push_back({items[i].id,
                                      "under backup_prefix '" + m_options.protected_prefix +
                                          "', where gallery keeps its backups: never deleted",
                                      retry_time(items[i].attempts + 1)});
        } else if (items[i].attempts >= m_options.max_attempts) {
            // max_attempts was lowered since this row last failed: give up on it now.
            batch.failures.push_back({items[i].id,
                                      "max_attempts (" + std::to_string(m_options.max_attempts) +
                                          ") reached before this run",
                                      m_clock()});
        } else {
            batch.to_delete.push_back(items[i]);
        }
    }
    return batch;
}

bool Cleaner::keep_lease(Batch& batch, UnixMicros until) {
    std::vector<queue::ItemId> ids;
    ids.reserve(batch.to_delete.size());
    for (const queue::Item& item : batch.to_delete) ids.push_back(item.id);
    auto held = queue::renew_lease(m_connection, m_owner, ids, until + to_micros(m_options.lease));
    if (!held) {
        batch.stop = held.error();
        return false;
    }
    if (held->size() == ids.size()) return true;
    // Rows another worker claimed after this run's lease on them ran out are its own.
    const std::unordered_set<queue::ItemId> still_held(held->begin(), held->end());
    std::erase_if(batch.to_delete,
                  [&](const queue::Item& item) { return !still_held.contains(item.id); });
    return true;
}

Cleaner::BatchKeys Cleaner::keys_to_delete(const std::vector<queue::Item>& items) const {
    BatchKeys batch;
    batch.keys.reserve(items.size() * (1 + m_options.variant_names.size()));
    batch.first.reserve(items.size() + 1);
    for (const queue::Item& item : items) {
        batch.first.push_back(batch.keys.size());
        batch.keys.push_back(item.key);
        // A variant's own key has no variants. A key that never had any costs a
        // delete of an absent object, which counts as gone.
        if (parse_variant_key(item.key)) continue;
        for (const std::string& name : m_options.variant_names)
            batch.keys.push_back(variant_key(name, item.key, m_options.variant_format));
    }
    batch.first.push_back(batch.keys.size());
    return batch;
}

void Cleaner::delete_objects(Batch& batch) {
    BatchKeys keys = keys_to_delete(batch.to_delete);
    auto outcomes = m_storage.remove_many(keys.keys);
    for (int retry = 0; !outcomes && outcomes.error().kind == ErrorKind::storage_transient &&
                        retry < m_options.whole_request_retries;
         ++retry) {
        const queue::BackoffPolicy in_run{std::chrono::seconds{0}, std::chrono::seconds{1},
                                          m_options.max_in_run_wait};
        auto wait =
            std::chrono::milliseconds(queue::backoff_delay(in_run, retry + 1, m_random) / 1000);
        if (outcomes.error().retry_after)
            wait = std::max<std::chrono::milliseconds>(wait, *outcomes.error().retry_after);
        wait = std::min<std::chrono::milliseconds>(wait, m_options.max_in_run_wait);
        // The lease covers the wait and the request after it.
        if (!keep_lease(batch, m_clock() + wait.count() * 1000)) return;
        if (batch.to_delete.empty()) return;
        m_options.sleep(wait);
        keys = keys_to_delete(batch.to_delete);
        outcomes = m_storage.remove_many(keys.keys);
    }
    if (outcomes) {
        judge(batch, keys, *outcomes);
        return;
    }
    // Nothing is known about any key: give the rows back without counting an attempt,
    // so an outage does not push every row towards dead.
    std::vector<queue::ItemId> ids;
    for (const queue::Item& item : batch.to_delete) ids.push_back(item.id);
    // A permanent refusal of the whole request (a wrong secret, no such bucket) says
    // nothing about the keys and stops the run until a person fixes the configuration:
    // the rows stay due, so the run after the fix deletes at once.
    UnixMicros retry_at =
        outcomes.error().kind == ErrorKind::storage_permanent ? m_clock() : retry_time(1);
    if (outcomes.error().retry_after)
        retry_at = std::max(retry_at, m_clock() + to_micros(*outcomes.error().retry_after));
    batch.stop = with_context("cleanup", outcomes.error());
    if (auto released = queue::release(m_connection, m_owner, ids, retry_at, batch.stop->message);
        !released) {
        batch.stop = released.error();
    }
}

void Cleaner::judge(Batch& batch, const BatchKeys& keys,
                    const std::vector<storage::RemoveOutcome>& outcomes) {
    const std::size_t failed_before = batch.failures.size();
    for (std::size_t i = 0; i < batch.to_delete.size(); ++i) {
        const queue::Item& item = batch.to_delete[i];
        // The row's object first, then its variants: the first failure is the row's.
        std::optional<Error> error;
        for (std::size_t k = keys.first[i]; k < keys.first[i + 1] && !error; ++k)
            error = outcomes[k].error;
        if (!error && m_options.verify) error = still_present(item.key);
        if (!error) {
            batch.gone_ids.push_back(item.id);
        } else {
            batch.failures.push_back({item.id, error->message, retry_time(item.attempts + 1)});
        }
    }
    // Circuit breaker: when every delete of a batch fails (an unwritable media root,
    // revoked credentials), storage is down, not the keys. Charge this batch and stop,
    // instead of charging every queued row an attempt.
    const std::size_t failed = batch.failures.size() - failed_before;
    if (batch.gone_ids.empty() && batch.to_delete.size() >= k_outage_batch_size &&
        failed == batch.to_delete.size()) {
        batch.stop = Error{
            ErrorKind::storage_transient,
            "cleanup: storage looks unavailable: all " + std::to_string(batch.to_delete.size()) +
                " deletes of a batch failed (first: " + batch.failures[failed_before].error +
                "); stopping this run"};
    }
}

bool Cleaner::record(Batch& batch, Report& report) {
    // Rows whose lease another worker took over are neither removed nor charged here:
    // that worker counts them.
    if (auto removed = queue::complete(m_connection, m_owner, batch.gone_ids, m_clock())) {
        report.deleted += static_cast<std::int64_t>(removed->rows);
        report.bytes_reclaimed += removed->known_bytes;
    } else {
        report.stopped_by = removed.error();
        return false;
    }
    if (auto outcome =
            queue::record_failures(m_connection, m_owner, batch.failures, m_options.max_attempts)) {
        report.failed += static_cast<std::int64_t>(outcome->retried + outcome->dead);
        report.dead += static_cast<std::int64_t>(outcome->dead);
    } else {
        report.stopped_by = outcome.error();
        return false;
    }
    if (batch.stop) {
        report.stopped_by = batch.stop;
        return false;
    }
    return true;
}

std::optional<Error> Cleaner::still_present(const std::string& key) {
    auto info = m_storage.head(key);
    if (!info) return with_context("verify '" + key + "'", info.error());
    if (info->has_value())
        return Error{ErrorKind::storage_transient,
                     "verify '" + key + "': still present after delete"};
    return std::nullopt;
}

Result<std::vector<PlanEntry>> Cleaner::plan() {
    auto items = queue::peek_due(m_connection, m_options.batch_size, m_clock());
    if (!items) return std::unexpected(items.error());
    std::vector<std::string> keys;
    for (const queue::Item& item : *items) keys.push_back(item.key);
    auto in_use = queue::keys_in_use(m_connection, keys);
    if (!in_use) return std::unexpected(in_use.error());
    std::vector<PlanEntry> entries;
    for (std::size_t i = 0; i < items->size(); ++i) {
        const queue::Item& item = (*items)[i];
        entries.push_back({item.key, item.client_id, item.attempts, (*in_use)[i]});
    }
    return entries;
}

}  // namespace gallery::cleanup
