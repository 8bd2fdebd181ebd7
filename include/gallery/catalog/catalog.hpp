#pragma once
// Image rows. Deleting rows queues their objects for deletion in the same
// transaction (invariant 1) and never touches storage.

#include <chrono>
#include <cstdint>
#include <functional>
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

// Runs inside an image insert's transaction with the new row (e.g. to record the
// request's idempotent answer with it); an error rolls the insert back. It may run
// more than once (a transaction retried after a conflict), so it only writes rows.
using AlsoOnInsert = std::function<Result<void>(db::Connection&, const Image&)>;

Result<Image> insert_image(db::Connection& connection, const NewImage& image, UnixMicros now,
                           const AlsoOnInsert& also = {});

struct DeleteOutcome {
    std::size_t deleted_count = 0;
    std::vector<ImageId> deleted_ids;  // filled by delete_images only
    std::size_t files_queued = 0;      // newly queued keys (a key already pending counts once)
};

// Deletes the rows that exist among `ids` and queues their objects, in one transaction.
// A positive `restore_window` queues them restorable for that long, each row holding
// its image (restore_images below); zero queues them due at once.
Result<DeleteOutcome> delete_images(db::Connection& connection, std::span<const ImageId> ids,
                                    UnixMicros now,
                                    std::chrono::seconds restore_window = std::chrono::seconds{0});

// Same for every image of `client_id` (matched case-insensitively).
Result<DeleteOutcome> delete_client_images(
    db::Connection& connection, const std::string& client_id, UnixMicros now,
    std::chrono::seconds restore_window = std::chrono::seconds{0});

struct RestoreOutcome {
    std::vector<ImageId> restored_ids;  // in the order asked (by ids) or of id (by client)
};

// Brings back, in one transaction, every image among `ids` whose queue row is still
// restorable: the same id and columns, its client's totals, and the queue row gone.
// A row the cleaner has made pending (its window ended) is not restorable any more;
// neither is an id that was never an image or whose object is gone.
Result<RestoreOutcome> restore_images(db::Connection& connection, std::span<const ImageId> ids);

// Same for every restorable image of `client_id` (matched case-insensitively).
Result<RestoreOutcome> restore_client_images(db::Connection& connection,
                                             const std::string& client_id);

struct KeyedImage {
    ImageId id = 0;
    std::string storage_key;
    std::uint64_t size = 0;
};

// Images in id order after `after_id`, at most `limit`: pages for a streaming walk.
Result<std::vector<KeyedImage>> image_keys_after(db::Connection& connection, ImageId after_id,
                                                 std::size_t limit);

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

namespace gallery::catalog {

Result<std::optional<Image>> get_image(db::Connection& connection, ImageId id);

// Each field set is changed; name and description may be set to null.
struct ImageUpdate {
    std::optional<std::optional<std::string>> name;
    std::optional<std::optional<std::string>> description;
    std::optional<std::string> client_id;
};

// nullopt when there is no such image.
Result<std::optional<Image>> update_image(db::Connection& connection, ImageId id,
                                          const ImageUpdate& update);

struct PageRequest {
    std::int64_t page = 1;        // 1-based
    std::int64_t page_size = 20;  // already capped by the caller
};

struct ImageQuery {
    std::optional<std::string> client_id;  // case-insensitive exact match
    std::optional<std::string>
        search;  // case-insensitive substring of name, description, filenames
    std::string sort_by = "-uploaded_at";  // one of image_sort_keys(); anything else: -uploaded_at
    PageRequest page;
};

// What every image's fields must be, whichever way they arrive (the API, an import of
// the original): checked by client_id_problem and text_problem.
inline constexpr std::size_t k_max_client_id = 255;
inline constexpr std::size_t k_max_text_field = 10'000;

// Why `client_id` (already trimmed by the caller) cannot be a client id, as the end of
// a sentence ("must not contain '/'."), or nullopt: at most 255 bytes of UTF-8 without
// control characters or '/' (DELETE /api/clients/<id>/delete-all/ could never name it).
std::optional<std::string> client_id_problem(std::string_view client_id);

// Why a free-text field (name, description, file name) cannot be stored, as the end of
// a sentence, or nullopt: at most 10,000 bytes of UTF-8 without NUL (PostgreSQL cannot
// store U+0000).
std::optional<std::string> text_problem(std::string_view text);

// The longest search term a list accepts, in characters: a search is a substring match,
// and a long pattern costs the database time for every row (issue 36).
inline constexpr std::size_t k_max_search_characters = 200;

// Why `term` cannot be a search, as the end of a sentence ("search must be ..."), or
// nullopt when it can: past k_max_search_characters, not UTF-8, or holding NUL (which
// PostgreSQL cannot compare and SQLite's full-text query reads as the end of the term).
std::optional<std::string> search_problem(std::string_view term);

struct ImagePage {
    std::vector<Image> images;
    std::int64_t total_count = 0;
};

Result<ImagePage> list_images(db::Connection& connection, const ImageQuery& query);

// Whether `sort_by` is accepted by list_images (else it falls back to -uploaded_at).
bool is_image_sort_key(std::string_view sort_by);

struct ClientSummary {
    std::string client_id;
    std::int64_t image_count = 0;
    std::uint64_t total_size = 0;
    UnixMicros latest_upload = 0;
    UnixMicros oldest_upload = 0;
};

struct ClientQuery {
    std::optional<std::string> search;  // case-insensitive substring of client_id
    std::string sort_by =
        "-count";  // client_id count total_size latest_upload, each with optional '-'
    PageRequest page;
};

struct ClientPage {
    std::vector<ClientSummary> clients;
    std::int64_t total_count = 0;
};

// Clients differing only in letter case are one client (as list and delete-all treat them).
Result<ClientPage> list_clients(db::Connection& connection, const ClientQuery& query);

bool is_client_sort_key(std::string_view sort_by);

}  // namespace gallery::catalog
