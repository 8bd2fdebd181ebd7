#pragma once
// S3's XML bodies, read and written with pugixml (a real parser, not string search).

#include <optional>
#include <string>
#include <vector>

#include "gallery/storage/storage.hpp"

namespace gallery::storage::s3 {

struct S3ErrorBody {
    std::string code;
    std::string message;
    std::string request_id;
};

// nullopt when the body is not an S3 <Error> document.
std::optional<S3ErrorBody> parse_error(const std::string& body);

// <Delete><Quiet>true</Quiet><Object><Key>...</Key></Object>...</Delete>
std::string delete_objects_body(const std::vector<std::string>& keys, bool quiet);

struct KeyError {
    std::string key;
    std::string code;
    std::string message;
};

// The <Error> entries of a DeleteObjects result (keys deleted are not listed in Quiet mode).
Result<std::vector<KeyError>> parse_delete_result(const std::string& body);

struct ListResult {
    std::vector<ObjectInfo> objects;
    bool truncated = false;
    std::string next_continuation_token;
};

Result<ListResult> parse_list_result(const std::string& body);

// "2026-01-05T16:55:00.000Z" -> microseconds; 0 when unparseable.
UnixMicros parse_iso8601(const std::string& text);
// "Mon, 05 Jan 2026 16:55:00 GMT" -> microseconds; 0 when unparseable.
UnixMicros parse_http_date(const std::string& text);

}  // namespace gallery::storage::s3
