#include "gallery/cleanup/orphan_sweep.hpp"

#include "gallery/common/variant_key.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::cleanup {

namespace {

// The keys whose queue rows delete `keys` (a variant is deleted with its image).
std::vector<std::string> deleted_with(const std::vector<std::string>& keys) {
    std::vector<std::string> owners;
    owners.reserve(keys.size());
    for (const std::string& key : keys) owners.emplace_back(image_key_of(key));
    return owners;
}

void sweep_prefix(db::Connection& connection, storage::Storage& storage,
                  const SweepOptions& options, std::string_view prefix, const Clock& clock,
                  const std::function<void(const storage::ObjectInfo&)>& on_orphan,
                  const std::function<void(const SweepReport&)>& on_page, SweepReport& report) {
    const UnixMicros started = clock();
    const UnixMicros newest_allowed =
        started - static_cast<UnixMicros>(options.older_than.count()) * k_micros_per_second;
    for (;;) {
        auto page = storage.list(prefix, report.last_key, options.page_size);
        if (!page) {
            report.stopped_by =
                with_context("orphan sweep: list after '" + report.last_key + "'", page.error());
            return;
        }
        std::vector<std::string> keys;
        keys.reserve(page->objects.size());
        for (const auto& object : page->objects) keys.push_back(object.key);
        auto live = queue::keys_in_use(connection, keys);
        // A variant is written with its image (public_url: at upload, under the image's
        // intent) and deleted with it: both checks go by the image's key.
        const std::vector<std::string> owners = deleted_with(keys);
        auto flying = queue::keys_in_flight(connection, owners, clock());
        auto queued = queue::keys_queued(connection, owners);
        for (const auto* failed :
             {live ? nullptr : &live.error(), flying ? nullptr : &flying.error(),
              queued ? nullptr : &queued.error()}) {
            if (failed) {
                report.stopped_by = *failed;
                return;
            }
        }
        std::vector<const storage::ObjectInfo*> orphans;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const storage::ObjectInfo& object = page->objects[i];
            ++report.scanned;
            if (!options.protected_prefix.empty() &&
                object.key.starts_with(options.protected_prefix))
                ++report.protected_keys;
            else if ((*live)[i])
                ++report.referenced;
            else if ((*flying)[i])
                ++report.in_flight;
            else if ((*queued)[i])
                ++report.already_queued;
            else if (object.last_modified > newest_allowed)
                ++report.too_young;
            else
                orphans.push_back(&object);
        }
        if (!options.dry_run && !orphans.empty()) {
            std::vector<queue::EnqueueRequest> requests;
            requests.reserve(orphans.size());
            for (const auto* object : orphans)
                requests.push_back({object->key, options.client_id, object->size});
            auto inserted = queue::enqueue_all(connection, requests, clock());
            if (!inserted) {
                report.stopped_by = inserted.error();
                return;
            }
            report.queued += *inserted;
        }
        for (const auto* object : orphans) {
            ++report.orphans;
            report.orphan_bytes += object->size;
            if (on_orphan) on_orphan(*object);
        }
        if (!page->objects.empty()) report.last_key = page->objects.back().key;
        if (on_page) on_page(report);
        if (!page->truncated || page->objects.empty()) return;
    }
}

}  // namespace

SweepReport sweep_orphans(db::Connection& connection, storage::Storage& storage,
                          const SweepOptions& options, const Clock& clock,
                          const std::function<void(const storage::ObjectInfo&)>& on_orphan,
                          const std::function<void(const SweepReport&)>& on_page) {
    SweepReport report;
    report.last_key = options.start_after;
    sweep_prefix(connection, storage, options, options.prefix, clock, on_orphan, on_page, report);
    // Variants' keys sort after the images' (v > i), so one start_after resumes both.
    if (!report.stopped_by && options.prefix == config::media_prefix)
        sweep_prefix(connection, storage, options, variant_prefix, clock, on_orphan, on_page,
                     report);
    return report;
}

}  // namespace gallery::cleanup
