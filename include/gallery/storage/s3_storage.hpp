#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "gallery/storage/storage.hpp"

namespace gallery::storage {

struct S3Options {
    std::string endpoint;  // "https://<account>.r2.cloudflarestorage.com", "http://127.0.0.1:4568"
    std::string bucket;
    std::string region = "auto";
    std::string access_key;
    std::string secret_key;
    std::string session_token;
    bool path_style = true;  // false: virtual-hosted (<bucket>.<endpoint host>)
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{60000};
    int concurrency = 8;                 // DeleteObjects requests in flight
    std::size_t keys_per_delete = 1000;  // at most 1000 (S3's limit)
};

// An S3-compatible backend signed with our SigV4 code over libcurl. Throws
// StartupError for an unusable endpoint. Never puts the secret in a message.
std::unique_ptr<Storage> make_s3_storage(const S3Options& options);

}  // namespace gallery::storage
