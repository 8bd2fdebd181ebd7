#include "gallery/original/import.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "gallery/catalog/bulk.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/catalog/image_format.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "original/provenance.hpp"
#include "original/source.hpp"

namespace gallery::original {
namespace {

// Source rows per batch: memory stays bounded by it whatever the source's size.
constexpr std::size_t k_batch_size = 2000;

catalog::Image as_gallery_image(const OriginalImage& original) {
    return catalog::Image{original.id,
                          original.filename,
                          original.storage_key,
                          original.original_filename,
                          original.client_id,
                          original.name,
                          original.description,
                          static_cast<std::uint64_t>(original.size),
                          std::string(catalog::content_type_for_key(original.filename)),
                          original.uploaded_at};
}

// The fields that differ, for a conflict's sentence: "name, description".
std::string differences(const catalog::Image& here, const catalog::Image& there) {
    std::vector<std::string> fields;
    if (here.filename != there.filename) fields.emplace_back("filename");
    if (here.storage_key != there.storage_key) fields.emplace_back("storage key");
    if (here.original_filename != there.original_filename) fields.emplace_back("original_filename");
    if (here.client_id != there.client_id) fields.emplace_back("client_id");
    if (here.name != there.name) fields.emplace_back("name");
    if (here.description != there.description) fields.emplace_back("description");
    if (here.size != there.size) fields.emplace_back("size");
    if (here.content_type != there.content_type) fields.emplace_back("content type");
    if (here.uploaded_at != there.uploaded_at) fields.emplace_back("uploaded_at");
    std::string text;
    for (const std::string& field : fields) text += (text.empty() ? "" : ", ") + field;
    return text;
}

// Why a row of the original cannot be written as it is, under the API's rules for the
// same fields (a client id the API could never name, text it would refuse), or nullopt.
std::optional<std::string> field_problem(const catalog::Image& image) {
    const std::string_view id = image.client_id;
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    if (!id.empty() && (space(id.front()) || space(id.back())))
        return "its client_id begins or ends with spaces (the API trims them)";
    if (auto problem = catalog::client_id_problem(id)) return "its client_id " + *problem;
    const std::pair<const char*, const std::optional<std::string>*> texts[] = {
        {"name", &image.name}, {"description", &image.description}};
    if (auto problem = catalog::text_problem(image.original_filename))
        return "its original_filename " + *problem;
    for (const auto& [field, value] : texts) {
        if (!*value) continue;
        if (auto problem = catalog::text_problem(**value))
            return std::string("its ") + field + " " + *problem;
    }
    return std::nullopt;
}

class Importer {
  public:
    Importer(db::Connection& source, db::Connection& target, const ImportOptions& options,
             UnixMicros now)
        : m_source(source), m_target(target), m_options(options), m_now(now) {}

    Result<ImportReport> run();

  private:
    Result<void> import_images(const SourceSchema& schema);
    // One batch of the original's images, against gallery's rows of the same ids.
    struct Batch {
        std::unordered_map<catalog::ImageId, catalog::Image> here;  // gallery's rows now
        std::map<catalog::ImageId, std::int64_t> imported_before;   // id -> fingerprint
        std::vector<catalog::Image> candidates;  // not here yet and never imported
        std::vector<provenance::Entry> recorded;
        std::unordered_set<catalog::ImageId> in_source;
    };
    Result<void> import_batch(std::span<const OriginalImage> batch, catalog::ImageId after_id,
                              catalog::ImageId through_id);
    // An image both sides have: unchanged, updated from the original, or a conflict.
    Result<void> reconcile_existing(Batch& batch, const catalog::Image& current,
                                    const catalog::Image& there);
    // The candidates whose key no other image holds, inserted as they are.
    Result<void> insert_new(Batch& batch);
    // Imported before, gone from the source now: the original deleted them since.
    Result<void> remove_deleted_in_source(const Batch& batch);
    Result<void> import_pending(const SourceSchema& schema);
    void conflict(std::string row, std::string reason);
    void touch(const std::string& client_id) { m_touched.emplace(to_lower(client_id), client_id); }

    db::Connection& m_source;
    db::Connection& m_target;
    const ImportOptions& m_options;
    UnixMicros m_now;
    ImportReport m_report;
    std::map<std::string, std::set<std::string>> m_spellings;  // folded id -> spellings
    std::map<std::string, std::string> m_touched;              // folded id -> a spelling
    catalog::ImageId m_highest_source_id = 0;
};

void Importer::conflict(std::string row, std::string reason) {
    ++m_report.conflict_count;
    if (m_report.conflicts.size() < k_listed_conflicts)
        m_report.conflicts.push_back({std::move(row), std::move(reason)});
}

Result<ImportReport> Importer::run() {
    // One snapshot of the source for the whole run: the original may keep running.
    std::optional<db::ReadSnapshot> snapshot;
    if (auto opened = db::read("cannot read the original's database " + m_source.display_name(),
                               [&] { snapshot.emplace(m_source); });
        !opened) {
        return std::unexpected(opened.error());
    }
    auto schema = inspect(m_source);
    if (!schema) return std::unexpected(schema.error());
    if (auto planned = prefer_index_walks(m_source); !planned)
        return std::unexpected(planned.error());
    m_report.source = m_source.display_name();
    m_report.migration = schema->migration;
    m_report.has_pending_table = schema->has_pending_table;
    m_report.source_images = schema->image_count;
    m_report.source_pending = schema->pending_count;

    return db::read("import", [&]() -> Result<ImportReport> {
        db::WriteTransaction transaction(m_target);
        // Into an empty catalog (the first import), the indexes only reads use are built
        // once at the end instead of row by row.
        std::optional<catalog::SetAsideIndexes> set_aside;
        if (!m_options.dry_run) {
            auto empty = catalog::has_no_images(m_target);
            if (!empty) return std::unexpected(empty.error());
            if (*empty) {
                auto aside = catalog::set_aside_read_indexes(m_target);
                if (!aside) return std::unexpected(aside.error());
                set_aside = std::move(*aside);
            }
        }
        if (auto done = import_images(*schema); !done) return std::unexpected(done.error());
        if (auto done = import_pending(*schema); !done) return std::unexpected(done.error());

        std::vector<std::string> touched;
        for (const auto& [folded, spelling] : m_touched) touched.push_back(spelling);
        if (auto done = catalog::recount_client_totals(m_target, touched); !done)
            return std::unexpected(done.error());
        const catalog::ImageId reserved =
            std::max(m_highest_source_id, schema->highest_id_given.value_or(0));
        if (auto done = catalog::reserve_ids_through(m_target, reserved); !done)
            return std::unexpected(done.error());
        m_report.next_id_above = db::highest_id_given(m_target, "images").value_or(reserved);

        for (const auto& [folded, spellings] : m_spellings) {
            if (spellings.size() > 1)
                m_report.merged_clients.emplace_back(spellings.begin(), spellings.end());
        }
        if (!m_options.dry_run && m_report.conflict_count == 0) {
            if (set_aside) {
                if (auto built = catalog::restore_indexes(m_target, *set_aside); !built)
                    return std::unexpected(built.error());
            }
            transaction.commit();
            m_report.written = true;
            // The import is committed whatever this says: a failure is only logged.
            if (auto analyzed = db::read("import: planner statistics",
                                         [&] {
                                             db::refresh_statistics(
                                                 m_target,
                                                 {"images", "deletion_queue", "client_totals"});
                                         });
                !analyzed) {
                log::warn(analyzed.error().message);
            }
        }
        return m_report;
    });
}

Result<void> Importer::import_images(const SourceSchema& schema) {
    catalog::ImageId after_id = 0;
    std::int64_t done = 0;
    for (;;) {
        auto batch = images_after(m_source, after_id, k_batch_size);
        if (!batch) return std::unexpected(batch.error());
        // The last batch also covers every id above the source's highest: images
        // imported earlier and deleted in the original since.
        const catalog::ImageId through_id = batch->size() < k_batch_size
                                                ? std::numeric_limits<catalog::ImageId>::max()
                                                : batch->back().id;
        if (auto imported = import_batch(*batch, after_id, through_id); !imported) return imported;
        done += static_cast<std::int64_t>(batch->size());
        if (m_options.progress) m_options.progress("images", done, schema.image_count);
        if (through_id == std::numeric_limits<catalog::ImageId>::max()) return {};
        after_id = through_id;
    }
}

Result<void> Importer::import_batch(std::span<const OriginalImage> originals,
                                    catalog::ImageId after_id, catalog::ImageId through_id) {
    Batch batch;
    auto existing = catalog::images_between(m_target, after_id + 1, through_id);
    if (!existing) return std::unexpected(existing.error());
    for (catalog::Image& image : *existing) batch.here.emplace(image.id, std::move(image));
    auto imported_before = provenance::between(m_target, after_id, through_id);
    if (!imported_before) return std::unexpected(imported_before.error());
    batch.imported_before = std::move(*imported_before);

    for (const OriginalImage& original : originals) {
        const catalog::Image there = as_gallery_image(original);
        const std::string row = "image " + std::to_string(original.id);
        batch.in_source.insert(original.id);
        m_highest_source_id = std::max(m_highest_source_id, original.id);
        m_spellings[to_lower(original.client_id)].insert(original.client_id);
        if (const auto found = batch.here.find(original.id); found != batch.here.end()) {
            if (auto done = reconcile_existing(batch, found->second, there); !done) return done;
            continue;
        }
        if (batch.imported_before.contains(original.id)) {
            ++m_report.images_deleted_here;  // deleted in gallery since: stays deleted
            continue;
        }
        if (original.size < 0) {
            conflict(row, "its size is negative");
        } else if (auto problem = field_problem(there)) {
            conflict(row, *problem);
        } else if (auto key = storage::check_portable_key(original.storage_key); !key) {
            conflict(row, "its storage key cannot be stored by gallery: " + key.error().message);
        } else {
            batch.candidates.push_back(there);
        }
    }
    if (auto done = insert_new(batch); !done) return done;
    if (auto done = remove_deleted_in_source(batch); !done) return done;
    return provenance::record(m_target, batch.recorded, m_now);
}

Result<void> Importer::reconcile_existing(Batch& batch, const catalog::Image& current,
                                          const catalog::Image& there) {
    const std::string row = "image " + std::to_string(there.id);
    const auto before = batch.imported_before.find(there.id);
    const bool imported = before != batch.imported_before.end();
    const std::string changed = differences(current, there);
    if (changed.empty()) {
        ++m_report.images_unchanged;
        if (!imported) batch.recorded.push_back({there.id, provenance::fingerprint(there)});
        return {};
    }
    if (auto problem = field_problem(there)) {
        conflict(row, "edited in the original since, and " + *problem);
        return {};
    }
    // Unchanged here since the import: the original's edit comes over.
    if (imported && before->second == provenance::fingerprint(current) &&
        current.storage_key == there.storage_key) {
        if (auto updated = catalog::overwrite_image(m_target, there); !updated) return updated;
        ++m_report.images_updated;
        touch(current.client_id);
        touch(there.client_id);
        batch.recorded.push_back({there.id, provenance::fingerprint(there)});
        return {};
    }
    conflict(row, imported
                      ? "changed in gallery since it was imported, and in the original too (" +
                            changed + ")"
                      : "gallery has an image with this id and other content (" + changed + ")");
    return {};
}

Result<void> Importer::insert_new(Batch& batch) {
    // A key another gallery image (or an earlier row of this source) already uses.
    std::vector<std::string> keys;
    keys.reserve(batch.candidates.size());
    for (const catalog::Image& image : batch.candidates) keys.push_back(image.storage_key);
    auto in_use = queue::keys_in_use(m_target, keys);
    if (!in_use) return std::unexpected(in_use.error());
    std::vector<catalog::Image> inserted;
    std::unordered_set<std::string> batch_keys;
    for (std::size_t i = 0; i < batch.candidates.size(); ++i) {
        catalog::Image& candidate = batch.candidates[i];
        if ((*in_use)[i] || !batch_keys.insert(candidate.storage_key).second) {
            conflict(
                "image " + std::to_string(candidate.id),
                "its storage key " + candidate.storage_key + " belongs to another image already");
            continue;
        }
        inserted.push_back(std::move(candidate));
    }
    if (auto done = catalog::insert_images_as_is(m_target, inserted); !done) return done;
    for (const catalog::Image& image : inserted) {
        touch(image.client_id);
        batch.recorded.push_back({image.id, provenance::fingerprint(image)});
    }
    m_report.images_imported += static_cast<std::int64_t>(inserted.size());
    return {};
}

Result<void> Importer::remove_deleted_in_source(const Batch& batch) {
    std::vector<catalog::ImageId> removed;
    for (const auto& [id, print] : batch.imported_before) {
        if (batch.in_source.contains(id)) continue;
        const auto found = batch.here.find(id);
        if (found == batch.here.end()) continue;  // deleted in gallery too
        if (provenance::fingerprint(found->second) != print) {
            conflict("image " + std::to_string(id),
                     "deleted in the original, but changed in gallery since it was imported");
            continue;
        }
        removed.push_back(id);
        touch(found->second.client_id);
    }
    if (removed.empty()) return {};
    auto deleted = catalog::delete_images(m_target, removed, m_now);
    if (!deleted) return std::unexpected(deleted.error());
    m_report.images_removed += static_cast<std::int64_t>(deleted->deleted_count);
    return {};
}

Result<void> Importer::import_pending(const SourceSchema& schema) {
    if (!schema.has_pending_table) return {};
    std::int64_t after_id = 0;
    std::int64_t done = 0;
    for (;;) {
        auto batch = pending_after(m_source, after_id, k_batch_size);
        if (!batch) return std::unexpected(batch.error());
        if (batch->empty()) return {};
        after_id = batch->back().id;
        std::vector<std::string> keys;
        for (const OriginalPending& row : *batch) keys.push_back(row.file_path);
        auto in_use = queue::keys_in_use(m_target, keys);
        if (!in_use) return std::unexpected(in_use.error());
        std::vector<queue::CarriedOver> rows;
        for (std::size_t i = 0; i < batch->size(); ++i) {
            const OriginalPending& row = (*batch)[i];
            if ((*in_use)[i]) {
                ++m_report.pending_still_referenced;
                continue;
            }
            if (auto key = storage::check_portable_key(row.file_path); !key) {
                conflict("pending deletion " + std::to_string(row.id),
                         "its key cannot be deleted by gallery: " + key.error().message);
                continue;
            }
            rows.push_back({row.file_path, row.client_id.value_or(""), row.queued_at,
                            static_cast<int>(std::clamp<std::int64_t>(row.attempts, 0, 1'000'000)),
                            row.last_error});
        }
        auto carried = queue::carry_over(m_target, rows, m_now);
        if (!carried) return std::unexpected(carried.error());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            switch ((*carried)[i]) {
                case queue::CarryOutcome::queued:
                    ++m_report.pending_queued;
                    if (rows[i].attempts >= m_options.max_attempts)
                        ++m_report.pending_at_max_attempts;
                    break;
                case queue::CarryOutcome::already_pending:
                    ++m_report.pending_already_queued;
                    break;
                case queue::CarryOutcome::already_deleted:
                    ++m_report.pending_already_deleted;
                    break;
            }
        }
        done += static_cast<std::int64_t>(batch->size());
        if (m_options.progress) m_options.progress("pending deletions", done, schema.pending_count);
    }
}

}  // namespace

Result<ImportReport> import_original(db::Connection& source, db::Connection& target,
                                     const ImportOptions& options, UnixMicros now) {
    Importer importer(source, target, options, now);
    return importer.run();
}

}  // namespace gallery::original
