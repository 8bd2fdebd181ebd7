// POST /api/upload/ (multipart/form-data): stores the object first, then its row.
// If the row cannot be written, the object is queued for deletion: nothing leaks.

#include "api/support.hpp"
#include "gallery/catalog/image_format.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/random.hpp"
#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/imaging/compression.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::api {
namespace {

// An upload's object is written and its row committed within seconds; an intent
// older than this belongs to a crashed upload and its key is queued by cleanup.
constexpr UnixMicros k_intent_lifetime = 3600 * k_micros_per_second;

constexpr const char* k_allowed_types =
    "Invalid file type. Allowed: .jpg, .jpeg, .png, .gif, .webp, .bmp";

// An absent field is null; a field sent empty stays "" (the original's desktop
// uploader sends name='' for an empty cell, and the original returns "").
std::optional<std::string> optional_field(const Request& request, const char* name) {
    const FormPart* part = request.part(name);
    if (!part) return std::nullopt;
    return part->content;
}

// The row could not be written (or the write failed half-way): queue the key so
// cleanup removes whatever was stored, and clear the intent, in one transaction.
void queue_orphan(ApiContext& context, db::Connection& connection, const std::string& key,
                  const std::string& client_id, std::optional<std::uint64_t> size) {
    auto queued = db::guard("upload: queue orphaned object", [&] {
        db::WriteTransaction tx(connection);
        auto inserted = queue::enqueue(connection, {key, client_id, size}, context.clock());
        if (!inserted) throw std::runtime_error(inserted.error().message);
        auto cleared = queue::clear_intent(connection, key);
        if (!cleared) throw std::runtime_error(cleared.error().message);
        tx.commit();
    });
    if (!queued) {
        // Last resort: say where the orphan is; `gallery enqueue --orphans` finds it too.
        log::error("upload: object " + key +
                   " is stored without a row and could not be queued: " + queued.error().message);
    }
}

// An upload has an image and up to three text fields; thousands of parts are an attack.
constexpr std::size_t k_max_form_parts = 16;

Response upload(ApiContext& context, const Request& request) {
    if (request.parts.size() > k_max_form_parts) {
        return Response::error(400, "Too many form fields: an upload has at most " +
                                        std::to_string(k_max_form_parts) + ".");
    }
    const FormPart* file = request.part("image");
    if (!file || file->filename.empty()) {
        return Response::error(400,
                               "No image file provided. Please send a file with key \"image\".");
    }
    const FormPart* client_part = request.part("client_id");
    auto client_id = checked_client_id(client_part ? client_part->content : "");
    if (!client_id) return client_id.error();
    if (!context.clients.accepts(*client_id)) {
        return Response::error(
            403, "Invalid client ID. Client ID '" + *client_id + "' is not registered.");
    }
    const std::string extension = catalog::lowercase_extension(file->filename);
    const auto format = catalog::format_for_extension(extension);
    if (!format) return Response::error(400, k_allowed_types);
    auto original_filename = checked_text("the file name", file->filename);
    if (!original_filename) return original_filename.error();
    std::optional<std::string> name = optional_field(request, "name");
    std::optional<std::string> description = optional_field(request, "description");
    for (auto* field : {&name, &description}) {
        if (!*field) continue;
        auto text = checked_text(field == &name ? "name" : "description", **field);
        if (!text) return text.error();
    }
    if (file->content.empty()) return Response::error(400, "The image file is empty.");
    const auto sniffed = catalog::sniff_format(file->content);
    if (sniffed != format) {
        return Response::error(400, "The file's content is not a " +
                                        std::string(catalog::format_name(*format)) +
                                        " image, as its " + extension + " extension says.");
    }

    // Re-encoding happens before anything is recorded: a refused image leaves no trace.
    auto reencoded =
        imaging::compress_upload(file->content, *format, imaging::settings_from(context.config));
    if (!reencoded) return Response::error(400, reencoded.error().message);
    const std::string& stored_bytes = *reencoded ? (*reencoded)->bytes : file->content;

    catalog::NewImage image;
    image.filename = uuid4() + extension;
    image.storage_key = "images/" + image.filename;
    image.original_filename = *original_filename;
    image.client_id = *client_id;
    image.name = name;
    image.description = description;
    image.size = stored_bytes.size();
    image.content_type = std::string(catalog::content_type_of(*format));

    auto connection = context.pool.acquire();
    const UnixMicros now = context.clock();
    if (auto intent = queue::record_intent(*connection, image.storage_key, image.client_id, now,
                                           now + k_intent_lifetime);
        !intent) {
        return internal_error(intent.error());
    }
    if (auto stored = context.storage.put(image.storage_key, stored_bytes, image.content_type);
        !stored) {
        log::error("upload: " + stored.error().message);
        // A timed-out write may still have landed: let cleanup make sure it is gone.
        queue_orphan(context, *connection, image.storage_key, image.client_id, std::nullopt);
        return Response::error(503, "The image could not be stored; please try again.");
    }
    auto inserted = catalog::insert_image(*connection, image, context.clock());
    if (!inserted) {
        queue_orphan(context, *connection, image.storage_key, image.client_id, image.size);
        return internal_error(inserted.error());
    }
    nlohmann::json out = image_json(*inserted, context.config);
    out["success"] = true;
    out["compressed"] = reencoded->has_value();
    return Response::json(201, out);
}

}  // namespace

void add_upload_route(Router& router, ApiContext& context) {
    router.add("POST", "/api/upload/", [&context](const Request& r) { return upload(context, r); });
}

}  // namespace gallery::api
