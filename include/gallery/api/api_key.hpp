#pragma once
// Which API key `serve` accepts, and the constant-time comparison.

#include <string>
#include <string_view>

#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::api {

struct ApiKey {
    std::string value;
    bool generated = false;  // made by this server for a loopback listener, kept in the database
};

// The configured key; with none configured: on a loopback host, a random key
// generated once and kept in the database; on any other host, StartupError
// with a sentence saying how to set one.
ApiKey choose_api_key(const config::Config& config, db::Connection& connection);

bool is_loopback_host(std::string_view host);

// Constant time in the contents of both keys (compares SHA-256 digests).
bool api_key_matches(std::string_view expected, std::string_view given);

}  // namespace gallery::api
