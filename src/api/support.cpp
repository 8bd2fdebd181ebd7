#include "api/support.hpp"

#include "gallery/api/forwarded.hpp"

#include <charconv>

#include "gallery/common/log.hpp"
#include "gallery/common/text.hpp"
#include "gallery/common/variant_key.hpp"

namespace gallery::api {

Parsed<std::int64_t> int_query(const Request& request, const std::string& name,
                               std::int64_t fallback, std::int64_t minimum) {
    const auto text = request.query_value(name);
    if (!text) return fallback;
    std::int64_t value = 0;
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::unexpected(
            Response::error(400, "Invalid parameter: " + name + " must be an integer."));
    }
    if (value < minimum) {
        return std::unexpected(Response::error(
            400,
            "Invalid parameter: " + name + " must be at least " + std::to_string(minimum) + "."));
    }
    return value;
}

Parsed<catalog::PageRequest> page_query(const Request& request) {
    // Pages past any plausible table are refused rather than turned into huge OFFSETs.
    constexpr std::int64_t k_max_page = 1'000'000'000;
    auto page = int_query(request, "page", 1, 1);
    if (!page) return std::unexpected(page.error());
    if (*page > k_max_page)
        return std::unexpected(Response::error(400, "Invalid parameter: page is too large."));
    auto page_size = int_query(request, "page_size", k_default_page_size, 1);
    if (!page_size) return std::unexpected(page_size.error());
    return catalog::PageRequest{*page, std::min(*page_size, k_max_page_size)};
}

std::optional<std::string> text_query(const Request& request, const std::string& name) {
    auto value = request.query_value(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
}

Parsed<std::optional<std::string>> search_query(const Request& request) {
    auto search = text_query(request, "search");
    if (!search) return std::nullopt;
    if (auto problem = catalog::search_problem(*search))
        return std::unexpected(Response::error(400, "Invalid parameter: " + *problem));
    return search;
}

Parsed<nlohmann::json> json_object_body(const Request& request) {
    auto parsed = nlohmann::json::parse(request.body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        return std::unexpected(Response::error(400, "Invalid JSON in request body."));
    }
    return parsed;
}

Parsed<std::string> checked_client_id(const std::string& raw) {
    const std::size_t first = raw.find_first_not_of(" \t\r\n");
    const std::string id = first == std::string::npos
                               ? ""
                               : raw.substr(first, raw.find_last_not_of(" \t\r\n") - first + 1);
    if (id.empty()) return std::unexpected(Response::error(400, "client_id is required"));
    if (auto problem = catalog::client_id_problem(id))
        return std::unexpected(Response::error(400, "client_id " + *problem));
    return id;
}

Parsed<ImageSelection> image_selection(const Request& request) {
    auto body = json_object_body(request);
    if (!body) return std::unexpected(body.error());
    const bool by_ids = body->contains("image_ids");
    const bool by_client = body->contains("client_id");
    if (by_ids == by_client) {
        return std::unexpected(Response::error(
            400, by_ids
                     ? "Give either image_ids or client_id, not both."
                     : "Give image_ids (a list of image ids) or client_id (a client's images)."));
    }
    ImageSelection selection;
    if (by_client) {
        const auto& field = (*body)["client_id"];
        if (!field.is_string())
            return std::unexpected(Response::error(400, "client_id must be a string."));
        auto client_id = checked_client_id(field.get<std::string>());
        if (!client_id) return std::unexpected(client_id.error());
        selection.client_id = std::move(*client_id);
        return selection;
    }
    auto ids = parse_image_ids(*body);
    if (!ids) return std::unexpected(ids.error());
    selection.ids = std::move(*ids);
    return selection;
}

Parsed<std::string> checked_text(const std::string& field, const std::string& raw) {
    if (auto problem = catalog::text_problem(raw))
        return std::unexpected(Response::error(400, field + " " + *problem));
    return raw;
}

std::string image_url(const catalog::Image& image, const config::Config& config) {
    return config.public_url.empty() ? "/media/" + image.storage_key
                                     : config.public_url + "/" + image.storage_key;
}

std::string thumbnail_url(const catalog::Image& image, const config::Config& config) {
    if (config.variants.empty()) return image_url(image, config);
    return "/media/" +
           variant_key(config.variants.front().name, image.storage_key, config.variant_format);
}

std::optional<std::string> presigned_media_url(const ApiContext& context, const std::string& key,
                                               long long now_seconds) {
    const std::chrono::seconds valid_for = context.config.media_url_expiry;
    const long long half = std::max<long long>(valid_for.count() / 2, 1);
    return context.storage.presigned_get(key, now_seconds - now_seconds % half, valid_for);
}

MediaLinks::MediaLinks(const ApiContext& context, const Request& request)
    : m_context(context),
      m_media_base(!context.config.base_url.empty()
                       ? context.config.base_url
                       : forwarded_origin(request, context.config).value_or("")),
      // Under public_url a variant is in the bucket from the upload on (make_at_upload);
      // otherwise gallery's route makes it on its first request.
      m_variant_base(context.config.public_url.empty() ? m_media_base + "/media"
                                                       : context.config.public_url),
      m_now_seconds(context.clock() / k_micros_per_second) {}

std::string MediaLinks::url_for(const std::string& storage_key) const {
    std::string url;
    fill_url(storage_key, url);
    return url;
}

void MediaLinks::fill_url(const std::string& storage_key, std::string& url) const {
    const config::Config& config = m_context.config;
    if (!config.public_url.empty()) {
        url.assign(config.public_url).append(1, '/').append(storage_key);
    } else if (auto presigned = presigned_media_url(m_context, storage_key, m_now_seconds)) {
        url = std::move(*presigned);
    } else {
        url.assign(m_media_base).append("/media/").append(storage_key);
    }
}

ImageLinks MediaLinks::links_for(const catalog::Image& image) const {
    ImageLinks links;
    fill_links(image, links);
    return links;
}

void MediaLinks::fill_links(const catalog::Image& image, ImageLinks& links) const {
    const config::Config& config = m_context.config;
    fill_url(image.storage_key, links.url);
    links.variants.resize(config.variants.size());
    for (std::size_t i = 0; i < config.variants.size(); ++i) {
        const config::VariantSpec& variant = config.variants[i];
        auto& [name, url] = links.variants[i];
        name.assign(variant.name);
        url.assign(m_variant_base).append(1, '/');
        append_variant_key(url, variant.name, image.storage_key, config.variant_format);
    }
}

nlohmann::json image_json(const catalog::Image& image, const MediaLinks& links) {
    return image_json(image, links.links_for(image));
}

nlohmann::json image_json(const catalog::Image& image, const ImageLinks& links) {
    const auto optional = [](const std::optional<std::string>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    nlohmann::json variants = nlohmann::json::object();
    for (const auto& [name, url] : links.variants) variants[name] = url;
    return {
        {"id", image.id},
        {"filename", image.filename},
        {"url", links.url},
        {"original_filename", image.original_filename},
        {"client_id", image.client_id},
        {"name", optional(image.name)},
        {"description", optional(image.description)},
        {"size", image.size},
        {"uploaded_at", to_iso8601(image.uploaded_at)},
        {"thumbnail_url", links.variants.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(links.variants.front().second)},
        {"variants", std::move(variants)}};
}

nlohmann::json pagination_json(const catalog::PageRequest& page, std::int64_t total_count) {
    // As Django's Paginator: an empty result still has one (empty) page.
    const std::int64_t total_pages =
        std::max<std::int64_t>(1, (total_count + page.page_size - 1) / page.page_size);
    return {{"page", page.page},
            {"page_size", page.page_size},
            {"total_count", total_count},
            {"total_pages", total_pages},
            {"has_next", page.page < total_pages},
            {"has_previous", page.page > 1}};
}

Response overloaded(const std::string& sentence, std::chrono::seconds retry_after) {
    Response busy = Response::error(503, sentence);
    add_retry_after(busy, Error{ErrorKind::overloaded, sentence, retry_after});
    return busy;
}

Response no_connection_in_time() {
    return overloaded(
        "The server is busy: no database connection came free in time; nothing was changed. "
        "Try again shortly.",
        std::chrono::seconds{2});
}

Response error_response(const Error& error) {
    const int status = http_status_for(error.kind);
    if (status >= 500 && error.kind != ErrorKind::overloaded &&
        error.kind != ErrorKind::database_unavailable) {
        log::error(error.message);
    } else {
        log::warn(error.message);
    }
    std::string sentence;
    switch (error.kind) {
        case ErrorKind::invalid_input:
        case ErrorKind::not_found:
        case ErrorKind::overloaded:
        case ErrorKind::disk_full:
            sentence = error.message;
            break;
        case ErrorKind::database_unavailable:
            sentence = "The database is unavailable; try again in a few seconds.";
            break;
        case ErrorKind::storage_transient:
        case ErrorKind::storage_permanent:
        case ErrorKind::io:
            sentence = "Storage could not be reached; nothing was changed. Please try again.";
            break;
        case ErrorKind::database:
        case ErrorKind::system:
            sentence = "Internal server error.";
            break;
    }
    Response response = Response::error(status, sentence);
    add_retry_after(response, error);
    return response;
}

// A JSON integer, or a string the original's int() accepts: surrounding ASCII
// whitespace, an optional sign, decimal digits. Booleans and floats are not ids.
namespace {

std::optional<catalog::ImageId> image_id_of(const nlohmann::json& element) {
    if (element.is_number_integer()) {
        if (element.is_number_unsigned() && element.get<std::uint64_t>() > INT64_MAX)
            return std::nullopt;
        return element.get<catalog::ImageId>();
    }
    if (!element.is_string()) return std::nullopt;
    const std::string& text = element.get_ref<const std::string&>();
    constexpr const char* k_whitespace = " \t\n\v\f\r";
    const std::size_t first = text.find_first_not_of(k_whitespace);
    if (first == std::string::npos) return std::nullopt;
    const std::size_t last = text.find_last_not_of(k_whitespace) + 1;
    const char* begin = text.data() + first;
    const char* end = text.data() + last;
    if (*begin == '+') ++begin;  // from_chars takes '-' but not '+'
    if (begin == end || *begin == '+' || (*begin == '-' && begin != text.data() + first))
        return std::nullopt;
    catalog::ImageId id = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, id);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return id;
}

}  // namespace

Parsed<std::vector<catalog::ImageId>> parse_image_ids(const nlohmann::json& body) {
    const auto missing = [] {
        return std::unexpected(
            Response::error(400, "image_ids must be a non-empty array of integers."));
    };
    if (!body.contains("image_ids") || !body["image_ids"].is_array() || body["image_ids"].empty())
        return missing();
    const auto& array = body["image_ids"];
    if (array.size() > k_max_image_ids) {
        return std::unexpected(
            Response::error(400, "image_ids may hold at most " + std::to_string(k_max_image_ids) +
                                     " ids per request; send several requests."));
    }
    std::vector<catalog::ImageId> ids;
    ids.reserve(array.size());
    for (const auto& element : array) {
        const auto id = image_id_of(element);
        if (!id)
            return std::unexpected(Response::error(400, "All image_ids must be valid integers."));
        ids.push_back(*id);
    }
    return ids;
}

}  // namespace gallery::api
