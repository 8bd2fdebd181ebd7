// The S3 XML response parser (Error, DeleteObjects result, ListObjectsV2 result,
// timestamps) on fuzzed bodies, and the DeleteObjects request body round trip.
//
// Properties: no crash; a parsed listing holds keys that are non-empty; every
// DeleteObjects body built from keys our backends accept parses back (pugixml) to
// exactly those keys, so no key can break out of its <Key> element.

#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "gallery/storage/storage.hpp"
#include "storage/s3/xml.hpp"

using namespace gallery;
using namespace gallery::storage;

namespace {

// Keys separated by NUL in the input, keeping those check_portable_key accepts.
std::vector<std::string> portable_keys(const std::string& text) {
    std::vector<std::string> keys;
    std::size_t start = 0;
    while (start < text.size() && keys.size() < 1000) {
        const std::size_t end = std::min(text.find('\0', start), text.size());
        std::string key = text.substr(start, end - start);
        if (check_portable_key(key)) keys.push_back(std::move(key));
        start = end + 1;
    }
    return keys;
}

void check_delete_body_round_trip(const std::string& text) {
    const std::vector<std::string> keys = portable_keys(text);
    if (keys.empty()) return;
    const std::string body = s3::delete_objects_body(keys, true);
    pugi::xml_document document;
    fuzz::check(
        document.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata,
                             pugi::encoding_utf8),
        "our DeleteObjects body does not parse");
    std::vector<std::string> parsed;
    for (const auto& object : document.child("Delete").children("Object")) {
        parsed.emplace_back(object.child_value("Key"));
    }
    fuzz::check(parsed == keys, "DeleteObjects body does not round-trip its keys");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    (void)s3::parse_error(body);
    (void)s3::parse_delete_result(body);
    if (auto listing = s3::parse_list_result(body)) {
        for (const auto& object : listing->objects) {
            fuzz::check(!object.key.empty(), "a listed object with an empty key");
        }
    }
    (void)s3::parse_iso8601(body);
    (void)s3::parse_http_date(body);
    check_delete_body_round_trip(body);
    return 0;
}
