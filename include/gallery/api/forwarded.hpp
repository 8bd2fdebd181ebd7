#pragma once
// What a trusted front proxy says about the client: X-Forwarded-For and
// X-Forwarded-Proto are believed only from a peer listed in trusted_proxies.

#include <optional>
#include <string>

#include "gallery/api/http.hpp"
#include "gallery/config/config.hpp"

namespace gallery::api {

// The client's address: the last X-Forwarded-For entry (the one our proxy added)
// when the peer is a trusted proxy, else the peer's own address.
std::string client_address(const Request& request, const config::Config& config);

// Whether the client used HTTPS: a trusted proxy's X-Forwarded-Proto says "https".
bool came_over_https(const Request& request, const config::Config& config);

// "scheme://host[:port]" as the client addressed us, told by a trusted proxy
// (X-Forwarded-Host, else Host; X-Forwarded-Proto): nullopt from any other peer, or
// when the host is not a plain host name or address.
std::optional<std::string> forwarded_origin(const Request& request, const config::Config& config);

}  // namespace gallery::api
