#pragma once
// Where image objects live. Both backends (local disk, S3) implement this interface
// and pass the same contract tests (tests/support/storage_contract.hpp). It holds only
// what gallery itself uses: objects are written whole, served in pieces (open, or a
// presigned URL), deleted in batches and listed; never read whole into memory.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"

namespace gallery::storage {

struct ObjectInfo {
    std::string key;
    std::uint64_t size = 0;
    UnixMicros last_modified = 0;
};

// An object opened for reading in pieces: what is served is never read whole into
// memory. `read_at` reads up to `size` bytes at `offset` into `buffer` and returns
// how many it read (0 at the end), or nullopt on an I/O error. Copies share the
// open object; it closes with the last copy.
struct ObjectReader {
    ObjectInfo info;
    std::function<std::optional<std::size_t>(std::uint64_t offset, char* buffer, std::size_t size)>
        read_at;
};

struct RemoveOutcome {
    std::string key;
    // nullopt: the object is gone (deleted now, or already absent).
    std::optional<Error> error;
};

struct ListPage {
    std::vector<ObjectInfo> objects;  // ascending by key
    bool truncated = false;           // more keys follow the last one listed
};

class Storage {
  public:
    virtual ~Storage() = default;

    // "local" or "s3", for messages.
    virtual std::string_view kind() const = 0;

    // Refuses, without any I/O, a key this backend must never touch.
    virtual Result<void> check_key(std::string_view key) const = 0;

    // Stores `bytes` under `key`, replacing any object; readers see the old or the
    // new object, never a partial one.
    virtual Result<void> put(std::string_view key, std::string_view bytes,
                             std::string_view content_type) = 0;

    // put for large objects (backups): the bytes of `file`, read in pieces, never
    // whole into memory.
    virtual Result<void> put_file(std::string_view key, const std::filesystem::path& file,
                                  std::string_view content_type) = 0;

    // Writes the object's bytes into `file` (created or truncated), in pieces.
    // Errors: not_found when there is no such object (`file` is then not created).
    virtual Result<void> get_file(std::string_view key, const std::filesystem::path& file) = 0;

    // nullopt when there is no such object.
    virtual Result<std::optional<ObjectInfo>> head(std::string_view key) = 0;

    // nullopt when there is no such object. A backend whose objects gallery does not
    // serve itself (S3: the bucket serves them, or a presigned redirect) answers
    // ErrorKind::storage_permanent, saying so.
    virtual Result<std::optional<ObjectReader>> open(std::string_view key);

    // A URL that lets whoever holds it GET the object for `valid_for` from
    // `signed_at` (Unix seconds) on, without credentials: S3's presigned URL, signed
    // here with no request to storage. nullopt for a backend that has none (local
    // disk, whose objects gallery serves itself).
    virtual std::optional<std::string> presigned_get(std::string_view key, long long signed_at,
                                                     std::chrono::seconds valid_for) const;

    // One outcome per key, in the order given. An error result means the whole
    // request failed and nothing can be said about any key.
    virtual Result<std::vector<RemoveOutcome>> remove_many(std::span<const std::string> keys) = 0;

    // Objects whose key starts with `prefix` and sorts after `start_after`, at most
    // `max_keys` of them.
    virtual Result<ListPage> list(std::string_view prefix, std::string_view start_after,
                                  std::size_t max_keys) = 0;
};

// The whole object in memory (an image to make a variant of): streamed where the
// backend can open objects, else through a temporary file. not_found when absent.
Result<std::string> read_all(Storage& storage, std::string_view key);

// The rules every backend applies to keys: 1 to 1024 bytes, no control characters,
// relative '/'-separated segments that are non-empty and do not start with '.'
// (no '.', '..' or hidden names), no backslash. Our keys (images/<uuid>.<ext>) pass.
Result<void> check_portable_key(std::string_view key);

// The '/'-separated segments of a key or path, in order, empty ones included
// ("a//b/" -> "a", "", "b", "").
std::vector<std::string_view> key_segments(std::string_view key);

}  // namespace gallery::storage
