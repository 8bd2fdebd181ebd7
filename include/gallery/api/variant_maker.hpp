#pragma once
// Variants made on their first request (issue 41), once: concurrent first requests
// for one variant wait for the one that makes it.

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/imaging/admission.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::api {

struct ApiContext;

struct VariantToStore {
    std::string variant_key;
    std::string image_key;
    const config::VariantSpec& variant;
    std::chrono::steady_clock::time_point arrived;  // the deadline counts from here
};

// Reads the image's object, makes the variant under `admission` and stores it. The
// image may have been deleted, and its variants' keys cleaned, while this one was
// made: then the new object is queued like any other key of a deleted image (the
// cleaner leaves it if the image is restored first) and the answer is not_found.
// `connection` is called once, after the variant is stored (serve lends a pooled
// connection only then). Returns the variant's size.
Result<std::size_t> store_variant(storage::Storage& storage, const config::Config& config,
                                  imaging::EncodeAdmission& admission,
                                  const VariantToStore& request,
                                  const std::function<db::Connection&()>& connection,
                                  const Clock& clock);

// A variant made at upload, before its image has a key.
struct MadeVariant {
    const config::VariantSpec* spec = nullptr;
    std::string bytes;
};

class VariantMaker {
  public:
    struct Request {
        std::string variant_key;
        std::string image_key;
        std::size_t variant_index = 0;  // in config.variants
        std::chrono::steady_clock::time_point arrived;
    };

    // Makes sure the variant is stored: already there, made by a concurrent request,
    // or made now from the image's object and stored. A variant whose image was
    // deleted while it was made is queued for deletion (the cleaner then deletes it
    // unless the image came back). Errors: overloaded (503) from re-encode admission
    // or a wait past the deadline, invalid_input for an image that cannot be decoded,
    // storage errors.
    Result<void> ensure(ApiContext& context, const Request& request);

    // With public_url the API's variant URLs point into the bucket, where nothing but
    // the upload would make them: every configured variant of `image_bytes`, made now
    // under re-encode admission (the deadline counts from `arrived`), to be stored
    // with the image. Empty without public_url, and for an image that cannot be
    // decoded (logged: it is stored without variants, which no route could make
    // either). Errors: overloaded (503 with Retry-After; the upload stores nothing).
    Result<std::vector<MadeVariant>> make_at_upload(const ApiContext& context,
                                                    std::string_view image_bytes,
                                                    std::chrono::steady_clock::time_point arrived);

    std::uint64_t made() const { return m_made.load(); }

  private:
    Result<void> make(ApiContext& context, const Request& request);
    bool known_stored(const std::string& variant_key);

    std::mutex m_mutex;
    std::map<std::string, std::shared_future<Result<void>>, std::less<>> m_making;
    // Variants this process saw stored, so that a grid's requests do not each cost a
    // HEAD (a request to the bucket on S3). Safe to trust: a variant is deleted only
    // with its image, and the route checks that the image is live first. Bounded:
    // emptied when full.
    std::unordered_set<std::string> m_stored;
    static constexpr std::size_t k_stored_remembered = 100'000;
    std::atomic<std::uint64_t> m_made{0};
};

}  // namespace gallery::api
