#include "storage/s3/xml.hpp"

#include <pugixml.hpp>

#include <ctime>
#include <iomanip>
#include <sstream>

namespace gallery::storage::s3 {
namespace {

// Whitespace-only text is kept (pugixml drops it by default): a key of spaces
// must come back as itself, or a per-key error would not match its key.
constexpr unsigned k_parse_options = pugi::parse_default | pugi::parse_ws_pcdata;

Result<pugi::xml_document> load(const std::string& body, const char* what) {
    pugi::xml_document document;
    const pugi::xml_parse_result parsed =
        document.load_buffer(body.data(), body.size(), k_parse_options);
    if (!parsed) {
        return fail(ErrorKind::storage_transient,
                    std::string("s3: unreadable ") + what + " response: " + parsed.description());
    }
    return document;
}

UnixMicros from_tm(std::tm& utc) {
    return static_cast<UnixMicros>(timegm(&utc)) * k_micros_per_second;
}

}  // namespace

std::optional<S3ErrorBody> parse_error(const std::string& body) {
    pugi::xml_document document;
    if (!document.load_buffer(body.data(), body.size(), k_parse_options)) return std::nullopt;
    const pugi::xml_node error = document.child("Error");
    if (!error) return std::nullopt;
    return S3ErrorBody{error.child_value("Code"), error.child_value("Message"),
                       error.child_value("RequestId")};
}

std::string delete_objects_body(const std::vector<std::string>& keys, bool quiet) {
    pugi::xml_document document;
    pugi::xml_node root = document.append_child("Delete");
    root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
    root.append_child("Quiet").text() = quiet ? "true" : "false";
    for (const std::string& key : keys)
        root.append_child("Object").append_child("Key").text() = key.c_str();
    std::ostringstream out;
    document.save(out, "", pugi::format_raw);
    return out.str();
}

Result<std::vector<KeyError>> parse_delete_result(const std::string& body) {
    auto document = load(body, "DeleteObjects");
    if (!document) return std::unexpected(document.error());
    const pugi::xml_node result = document->child("DeleteResult");
    if (!result)
        return fail(ErrorKind::storage_transient, "s3: DeleteObjects response has no DeleteResult");
    std::vector<KeyError> errors;
    for (pugi::xml_node error : result.children("Error")) {
        errors.push_back(
            {error.child_value("Key"), error.child_value("Code"), error.child_value("Message")});
    }
    return errors;
}

Result<ListResult> parse_list_result(const std::string& body) {
    auto document = load(body, "ListObjectsV2");
    if (!document) return std::unexpected(document.error());
    const pugi::xml_node result = document->child("ListBucketResult");
    if (!result)
        return fail(ErrorKind::storage_transient,
                    "s3: ListObjectsV2 response has no ListBucketResult");
    ListResult out;
    for (pugi::xml_node entry : result.children("Contents")) {
        // An entry without a key cannot be named to any later request.
        if (*entry.child_value("Key") == '\0')
            return fail(ErrorKind::storage_transient,
                        "s3: ListObjectsV2 response lists an object without a key");
        out.objects.push_back({entry.child_value("Key"), entry.child("Size").text().as_ullong(),
                               parse_iso8601(entry.child_value("LastModified"))});
    }
    out.truncated = std::string(result.child_value("IsTruncated")) == "true";
    out.next_continuation_token = result.child_value("NextContinuationToken");
    return out;
}

UnixMicros parse_iso8601(const std::string& text) {
    std::tm utc{};
    std::istringstream in(text);
    in >> std::get_time(&utc, "%Y-%m-%dT%H:%M:%S");
    return in.fail() ? 0 : from_tm(utc);
}

UnixMicros parse_http_date(const std::string& text) {
    std::tm utc{};
    std::istringstream in(text);
    in >> std::get_time(&utc, "%a, %d %b %Y %H:%M:%S");
    return in.fail() ? 0 : from_tm(utc);
}

}  // namespace gallery::storage::s3
