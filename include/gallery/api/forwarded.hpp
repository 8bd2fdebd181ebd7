#pragma once
// What a trusted front proxy says about the client: X-Forwarded-For and
// X-Forwarded-Proto are believed only from a peer listed in trusted_proxies.

#include <string>

#include "gallery/api/http.hpp"
#include "gallery/config/config.hpp"

namespace gallery::api {

// The client's address: the last X-Forwarded-For entry (the one our proxy added)
// when the peer is a trusted proxy, else the peer's own address.
std::string client_address(const Request& request, const config::Config& config);

// Whether the client used HTTPS: a trusted proxy's X-Forwarded-Proto says "https".
bool came_over_https(const Request& request, const config::Config& config);

// application/x-www-form-urlencoded text as name/value pairs ('+' is a space,
// %XX decoded); malformed escapes are kept as they are.
std::multimap<std::string, std::string> parse_form(std::string_view body);

}  // namespace gallery::api
