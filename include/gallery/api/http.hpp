#pragma once
// Plain request and response structs: handlers take one and return the other, so
// every route is testable without a socket. Only src/api/http_server.cpp knows httplib.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gallery/common/error.hpp"

#include <nlohmann/json.hpp>

#include "gallery/imaging/admission.hpp"

namespace gallery::api {

struct CaseInsensitiveLess {
    bool operator()(std::string_view a, std::string_view b) const;
    using is_transparent = void;
};

struct FormPart {
    std::string name;
    std::string filename;  // empty for a plain field
    std::string content_type;
    std::string content;
};

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string path;    // decoded, without the query string
    std::multimap<std::string, std::string> query;
    std::map<std::string, std::string, CaseInsensitiveLess> headers;
    std::string body;
    std::vector<FormPart> parts;  // multipart/form-data fields and files
    // Set by the router: the {placeholders} of the matched route, in order, and the
    // route's pattern (a bounded label for logs and metrics; "unmatched" otherwise).
    std::vector<std::string> path_params;
    std::string route = "unmatched";
    // The peer's IP address as the socket saw it (a trusted proxy's, behind one).
    std::string remote_address;
    // When its headers had been read: deadlines count from here, waits included.
    std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
    // A place among the re-encodes, taken by admit_request before the body was read.
    std::shared_ptr<imaging::EncodeAdmission::Place> encode_place;

    std::optional<std::string> header(std::string_view name) const;
    std::optional<std::string> query_value(std::string_view name) const;
    const FormPart* part(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // A body streamed from a stored object instead of `body`: `stream_length` bytes
    // from `stream_offset`, read in small pieces while the client takes them, so an
    // answer never holds a whole object in memory.
    std::function<std::optional<std::size_t>(std::uint64_t offset, char* buffer, std::size_t size)>
        stream;
    std::uint64_t stream_offset = 0;
    std::uint64_t stream_length = 0;

    // Sets `name` to `value`, replacing every earlier value (names match in any case).
    void set_header(const std::string& name, const std::string& value);

    // Never throws on invalid UTF-8 (it is replaced): a response can always be sent.
    static Response json(int status, const nlohmann::json& value);
    // API.md's failure shape: {"success": false, "error": message}.
    static Response error(int status, const std::string& message);
};

// application/x-www-form-urlencoded text as name/value pairs ('+' is a space,
// %XX decoded); malformed escapes are kept as they are.
std::multimap<std::string, std::string> parse_form(std::string_view body);

// The one mapping of error kinds to HTTP statuses: invalid_input 400, not_found 404;
// 503 where a retry can succeed (overloaded, database_unavailable, and storage
// failures: an object that could not be written or read now); 500 for the database
// failing otherwise.
int http_status_for(ErrorKind kind);

// Adds Retry-After to a 503: the error's own, or 5 s. Every 503 carries it.
void add_retry_after(Response& response, const Error& error);

}  // namespace gallery::api
