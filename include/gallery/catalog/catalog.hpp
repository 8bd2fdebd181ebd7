#pragma once
// Image rows. Deleting rows queues their objects for deletion in the same
// transaction (invariant 1) and never touches storage.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::catalog {

using ImageId = std::int64_t;

struct NewImage {
    std::string filename;     // <uuid4><ext>
    std::string storage_key;  // images/<filename>
    std::string original_filename;
    std::string client_id;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::uint64_t size = 0;
    std::string content_type;
};

struct Image {
    ImageId id = 0;
    std::string filename;
    std::string storage_key;
    std::string original_filename;
    std::string client_id;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::uint64_t size = 0;
    std::string content_type;
    UnixMicros uploaded_at = 0;
};

Result<Image> insert_image(db::Connection& connection, const NewImage& image, UnixMicros now);

struct DeleteOutcome {
    std::vector<ImageId> deleted_ids;
    std::size_t files_queued = 0;  // newly queued keys (a key already pending counts once)
};

// Deletes the rows that exist among `ids` and queues their objects, in one transaction.
Result<DeleteOutcome> delete_images(db::Connection& connection, std::span<const ImageId> ids, UnixMicros now);

// Same for every image of `client_id` (matched case-insensitively).
Result<DeleteOutcome> delete_client_images(db::Connection& connection, const std::string& client_id,
                                           UnixMicros now);

// For each key, whether a live image row references it (same order as `keys`).
Result<std::vector<bool>> keys_in_use(db::Connection& connection, std::span<const std::string> keys);

struct ClientUsage {
    std::string client_id;
    std::int64_t count = 0;
    std::uint64_t total_size = 0;
};

struct Stats {
    std::int64_t total_images = 0;
    std::uint64_t total_size = 0;
    std::int64_t unique_clients = 0;
    std::vector<ClientUsage> by_client;  // by count, descending
};

// `top_clients`: how many entries of by_client to return (nullopt: all).
Result<Stats> stats(db::Connection& connection, std::optional<std::size_t> top_clients);

}  // namespace gallery::catalog
