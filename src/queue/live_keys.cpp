#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "gallery/common/variant_key.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "queue/live_key.hpp"

namespace gallery::queue {

namespace {

Result<std::vector<bool>> image_keys_in_use(db::Connection& connection,
                                            std::span<const std::string> keys) {
    return db::read("queue: check live keys", [&] {
        std::unordered_set<std::string> live;
        // One key (a /media/ request): the plain lookup. Many (a cleaner's batch, an
        // import): one statement per chunk of 1,000, the keys as one JSON array.
        std::optional<db::Statement> single;
        const auto look_up_each = [&](std::span<const std::string> chunk) {
            if (!single) single.emplace(connection, "SELECT 1 WHERE " + live_image_holds("?1"));
            for (const std::string& key : chunk) {
                single->bind(1, key);
                if (single->step()) live.insert(key);
                single->reset();
            }
        };
        std::optional<db::Statement> many;
        constexpr std::size_t chunk_size = 1000;
        for (std::size_t start = 0; start < keys.size(); start += chunk_size) {
            const auto chunk = keys.subspan(start, std::min(chunk_size, keys.size() - start));
            if (chunk.size() == 1) {
                look_up_each(chunk);
                continue;
            }
            nlohmann::json array = nlohmann::json::array();
            for (const std::string& key : chunk) array.push_back(key);
            std::string encoded;
            try {
                encoded = array.dump();
            } catch (const nlohmann::json::type_error&) {
                // A key that is not UTF-8 (a local file's name can be any bytes) has no
                // JSON spelling: this chunk is looked up key by key.
                look_up_each(chunk);
                continue;
            }
            // The same rule as live_image_holds, for a chunk of keys at once.
            if (!many) {
                many.emplace(connection, "SELECT storage_key FROM images WHERE " +
                                             db::in_json_text_array(connection, "storage_key", 1));
            }
            many->bind(1, encoded);
            while (many->step()) live.insert(many->text(0));
            many->reset();
        }
        std::vector<bool> in_use;
        in_use.reserve(keys.size());
        for (const std::string& key : keys) in_use.push_back(live.contains(key));
        return in_use;
    });
}

}  // namespace

Result<std::vector<bool>> keys_in_use(db::Connection& connection,
                                      std::span<const std::string> keys) {
    // A variant's key is in use while its image is (issue 41): the variant of a live
    // image is never deleted.
    std::vector<std::string> image_keys;
    image_keys.reserve(keys.size());
    for (const std::string& key : keys) image_keys.emplace_back(image_key_of(key));
    return image_keys_in_use(connection, image_keys);
}

}  // namespace gallery::queue
