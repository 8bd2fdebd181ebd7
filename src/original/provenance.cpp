#include "original/provenance.hpp"

#include <string_view>

#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::original::provenance {
namespace {

constexpr std::uint64_t k_fnv_offset = 14695981039346656037ull;
constexpr std::uint64_t k_fnv_prime = 1099511628211ull;

void mix(std::uint64_t& hash, std::string_view bytes) {
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= k_fnv_prime;
    }
}

// Each field with its length first, so that no two different rows spell the same bytes.
void mix_field(std::uint64_t& hash, const std::optional<std::string>& value) {
    if (!value) {
        mix(hash, "N");
        return;
    }
    mix(hash, std::to_string(value->size()) + ":");
    mix(hash, *value);
}

}  // namespace

std::int64_t fingerprint(const catalog::Image& image) {
    std::uint64_t hash = k_fnv_offset;
    mix_field(hash, std::to_string(image.id));
    mix_field(hash, image.filename);
    mix_field(hash, image.storage_key);
    mix_field(hash, image.original_filename);
    mix_field(hash, image.client_id);
    mix_field(hash, image.name);
    mix_field(hash, image.description);
    mix_field(hash, std::to_string(image.size));
    mix_field(hash, image.content_type);
    mix_field(hash, std::to_string(image.uploaded_at));
    return static_cast<std::int64_t>(hash);
}

Result<std::map<catalog::ImageId, std::int64_t>> between(db::Connection& target,
                                                         catalog::ImageId after_id,
                                                         catalog::ImageId through_id) {
    return db::read("import: earlier imports", [&] {
        db::Statement query(target,
                            "SELECT image_id, fingerprint FROM original_imports"
                            " WHERE image_id > ?1 AND image_id <= ?2");
        query.bind(1, after_id);
        query.bind(2, through_id);
        std::map<catalog::ImageId, std::int64_t> entries;
        while (query.step()) entries.emplace(query.int64(0), query.int64(1));
        return entries;
    });
}

Result<void> record(db::Connection& target, std::span<const Entry> entries, UnixMicros now) {
    return db::write(target, "import: record imported images", [&] {
        db::insert_rows(target, "INSERT INTO original_imports (image_id, fingerprint, imported_at)",
                        3,
                        " ON CONFLICT (image_id) DO UPDATE SET fingerprint = excluded.fingerprint,"
                        " imported_at = excluded.imported_at",
                        entries.size(), [&](db::Statement& statement, int first, std::size_t row) {
                            statement.bind(first, entries[row].id);
                            statement.bind(first + 1, entries[row].fingerprint);
                            statement.bind(first + 2, now);
                        });
    });
}

}  // namespace gallery::original::provenance
