// Storage key validation on fuzzed keys: a key the local backend accepts can never
// name anything outside the media root or a hidden (temporary) file, on disk or
// as an S3 path; and it refuses what check_portable_key refuses, plus path segments
// longer than a file name may be.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "gallery/storage/local_storage.hpp"
#include "storage/s3/sigv4.hpp"

using namespace gallery;

namespace {

const std::filesystem::path k_root = "/srv/gallery/media";

storage::Storage& local() {
    static const std::unique_ptr<storage::Storage> instance = storage::make_local_storage(k_root);
    return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string key(reinterpret_cast<const char*>(data), size);
    const bool portable = storage::check_portable_key(key).has_value();
    const bool accepted = local().check_key(key).has_value();
    // The local backend refuses what the portable rule refuses, and more only for a
    // path segment longer than a file name may be.
    const auto segments = storage::key_segments(key);
    const bool long_segment =
        std::any_of(segments.begin(), segments.end(), [](auto s) { return s.size() > 255; });
    fuzz::check(accepted == (portable && !long_segment),
                "the local backend's key check disagrees with check_portable_key");
    if (!accepted) return 0;

    fuzz::check(!key.empty() && key.size() <= 1024, "an accepted key of the wrong length");
    const std::filesystem::path joined = (k_root / key).lexically_normal();
    const std::filesystem::path relative = joined.lexically_relative(k_root);
    fuzz::check(!relative.empty() && *relative.begin() != "..",
                "key escapes the media root: " + key);
    fuzz::check(relative.generic_string() == key, "key does not name itself on disk: " + key);
    for (const auto& part : relative) {
        fuzz::check(!part.string().starts_with('.'), "key names a hidden file: " + key);
    }
    // As an S3 path: encoded once, '/' kept, no segment that a URL parser would
    // resolve (. or ..) and nothing that ends the path (?, #).
    const std::string encoded = storage::s3::uri_encode(key, true);
    fuzz::check(encoded.find_first_of("?#") == std::string::npos, "encoded key ends the path");
    fuzz::check(storage::s3::uri_decode(encoded) == key, "encoded key does not decode to itself");
    return 0;
}
