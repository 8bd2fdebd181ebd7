// POST /api/upload/ (multipart/form-data): checks the form, re-encodes, makes the
// variants when public_url is set, and hands the bytes to catalog::store_upload
// (objects first, then the row; nothing leaks).

#include "api/idempotency.hpp"
#include "api/support.hpp"
#include "gallery/catalog/image_format.hpp"
#include "gallery/catalog/upload.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/imaging/compression.hpp"

namespace gallery::api {
namespace {

constexpr const char* k_allowed_types =
    "Invalid file type. Allowed: .jpg, .jpeg, .png, .gif, .webp, .bmp";

// An absent field is null; a field sent empty stays "" (the original's desktop
// uploader sends name='' for an empty cell, and the original returns "").
std::optional<std::string> optional_field(const Request& request, const char* name) {
    const FormPart* part = request.part(name);
    if (!part) return std::nullopt;
    return part->content;
}

// An upload has an image and up to three text fields; thousands of parts are an attack.
constexpr std::size_t k_max_form_parts = 16;

// The 201 answer of an upload.
Response stored_answer(const catalog::Image& image, bool compressed, const MediaLinks& links) {
    nlohmann::json out = image_json(image, links);
    out["success"] = true;
    out["compressed"] = compressed;
    return Response::json(201, out);
}

Response upload(ApiContext& context, const Request& request, const KeepAnswer& keep) {
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
    const imaging::CompressionSettings settings = imaging::settings_from(context.config);
    imaging::EncodeAdmission::Place place;
    if (request.encode_place) place = std::move(*request.encode_place);
    if (!imaging::needs_reencoding(file->content.size(), *format, settings)) place.release();
    auto reencoded = imaging::compress_upload(
        {file->content, *format, request.arrived, std::move(place)}, settings, *context.encoding);
    if (!reencoded) {
        // Anything but a bounded resource being taken is the image's own fault.
        if (reencoded.error().kind == ErrorKind::overloaded)
            return error_response(reencoded.error());
        return Response::error(400, reencoded.error().message);
    }
    const std::string& stored_bytes = *reencoded ? (*reencoded)->bytes : file->content;
    auto variants = context.variants->make_at_upload(context, stored_bytes, request.arrived);
    if (!variants) return error_response(variants.error());

    auto key = [&] {
        auto connection = context.pool.acquire();
        return context.upload_keys->take(*connection, extension);
    }();
    if (!key) return error_response(key.error());
    catalog::NewImage image;
    image.filename = std::move(key->filename);
    image.storage_key = std::move(key->storage_key);
    image.original_filename = *original_filename;
    image.client_id = *client_id;
    image.name = name;
    image.description = description;
    image.size = stored_bytes.size();
    image.content_type = std::string(catalog::content_type_of(*format));

    // With an Idempotency-Key the answer is kept in the row's own transaction: a retry
    // after any failure that came later (a lost answer, a 503 after the commit) replays it.
    const bool compressed = reencoded->has_value();
    catalog::AlsoOnInsert keep_with_row;
    if (keep) {
        keep_with_row = [&](db::Connection& connection, const catalog::Image& row) {
            return keep(connection, stored_answer(row, compressed, MediaLinks(context, request)));
        };
    }
    std::vector<catalog::ObjectWithImage> with_image;
    for (const MadeVariant& variant : *variants) {
        with_image.push_back(
            {variant_key(variant.spec->name, image.storage_key, context.config.variant_format),
             variant.bytes, variant_content_type(context.config.variant_format)});
    }
    auto inserted = catalog::store_upload(context.pool, context.storage, image, stored_bytes,
                                          context.clock, keep_with_row, with_image);
    if (!inserted) {
        // Its message may name the key it left to cleanup: logged, not shown.
        if (inserted.error().kind == ErrorKind::overloaded) {
            log::warn(inserted.error().message);
            return no_connection_in_time();
        }
        return error_response(inserted.error());
    }
    return stored_answer(*inserted, compressed, MediaLinks(context, request));
}

}  // namespace

void add_upload_route(Router& router, ApiContext& context) {
    router.add("POST", "/api/upload/",
               idempotent(context, [&context](const Request& r, const KeepAnswer& keep) {
                   return upload(context, r, keep);
               }));
}

}  // namespace gallery::api
