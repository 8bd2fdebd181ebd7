#pragma once
// CORS as the original served it (django-cors-headers with an origin list and
// CORS_ALLOW_CREDENTIALS = True), for the /api/ paths only: the admin pages sign
// in with a cookie, and no other origin may read them with it.

#include "gallery/api/http.hpp"
#include "gallery/config/config.hpp"

namespace gallery::api {

// Whether the request is a CORS preflight for an /api/ path: OPTIONS with
// Access-Control-Request-Method. It is answered 200 with an empty body and no API
// key, whatever the origin (an origin that is not configured gets no CORS headers,
// so the browser refuses it).
bool is_api_preflight(const Request& request);

// Adds the CORS headers to an /api/ answer, exactly once each: `Vary: Origin`
// always; for a configured origin (or "*" in cors_origins) the request's origin in
// Access-Control-Allow-Origin with Access-Control-Allow-Credentials, and for a
// preflight the allowed methods, headers and max age.
void add_cors_headers(const config::Config& config, const Request& request, Response& response);

}  // namespace gallery::api
