#include "gallery/api/variant_maker.hpp"

#include <optional>

#include "gallery/api/api.hpp"
#include "gallery/common/log.hpp"
#include "gallery/imaging/variant.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {
namespace {

// `variant` of the image `source` under the configured quality, limits, deadline and
// format: the one place a variant is made from, on request or at upload.
Result<std::string> make_configured(const config::Config& config, std::string_view source,
                                    const config::VariantSpec& variant,
                                    std::chrono::steady_clock::time_point arrived,
                                    imaging::EncodeAdmission& admission) {
    return imaging::make_variant({.source = source,
                                  .variant = variant,
                                  .quality = config.compression_quality,
                                  .max_pixels = config.max_image_pixels,
                                  .arrived = arrived,
                                  .max_seconds = config.compression_timeout_seconds,
                                  .format = config.variant_format},
                                 admission);
}

}  // namespace

Result<std::size_t> store_variant(storage::Storage& storage, const config::Config& config,
                                  imaging::EncodeAdmission& admission,
                                  const VariantToStore& request,
                                  const std::function<db::Connection&()>& connection,
                                  const Clock& clock) {
    auto source = storage::read_all(storage, request.image_key);
    if (!source) {
        if (source.error().kind == ErrorKind::not_found)
            return fail(ErrorKind::not_found, "The image's file is missing.");
        return std::unexpected(source.error());
    }
    auto made = make_configured(config, *source, request.variant, request.arrived, admission);
    if (!made) return std::unexpected(made.error());
    if (auto put =
            storage.put(request.variant_key, *made, variant_content_type(config.variant_format));
        !put)
        return std::unexpected(put.error());
    db::Connection& database = connection();
    const std::string image_key = request.image_key;
    auto live = queue::keys_in_use(database, std::span<const std::string>(&image_key, 1));
    if (!live) return std::unexpected(live.error());
    if (!live->front()) {
        const queue::EnqueueRequest orphan{request.variant_key, "", made->size()};
        if (auto queued = queue::enqueue_all(database, std::span(&orphan, 1), clock()); !queued)
            return std::unexpected(queued.error());
        return fail(ErrorKind::not_found, "The image was deleted.");
    }
    return made->size();
}

Result<std::vector<MadeVariant>> VariantMaker::make_at_upload(
    const ApiContext& context, std::string_view image_bytes,
    std::chrono::steady_clock::time_point arrived) {
    const config::Config& config = context.config;
    std::vector<MadeVariant> made;
    if (config.public_url.empty()) return made;
    for (const config::VariantSpec& variant : config.variants) {
        auto bytes = make_configured(config, image_bytes, variant, arrived, *context.encoding);
        if (!bytes && bytes.error().kind == ErrorKind::invalid_input) {
            log::warn("upload: no variants made: " + bytes.error().message);
            return std::vector<MadeVariant>{};
        }
        if (!bytes) return std::unexpected(bytes.error());
        made.push_back({&variant, std::move(*bytes)});
    }
    m_made += made.size();
    return made;
}

bool VariantMaker::known_stored(const std::string& variant_key) {
    const std::scoped_lock lock(m_mutex);
    return m_stored.contains(variant_key);
}

Result<void> VariantMaker::ensure(ApiContext& context, const Request& request) {
    if (known_stored(request.variant_key)) return {};
    auto stored = context.storage.head(request.variant_key);
    if (!stored) return std::unexpected(stored.error());
    const auto remember = [&] {
        const std::scoped_lock lock(m_mutex);
        if (m_stored.size() >= k_stored_remembered) m_stored.clear();
        m_stored.insert(request.variant_key);
    };
    if (*stored) {
        remember();
        return {};
    }
    std::promise<Result<void>> mine;
    std::shared_future<Result<void>> pending;
    bool making = false;
    {
        const std::scoped_lock lock(m_mutex);
        if (auto found = m_making.find(request.variant_key); found != m_making.end()) {
            pending = found->second;
        } else {
            pending = mine.get_future().share();
            m_making.emplace(request.variant_key, pending);
            making = true;
        }
    }
    if (!making) {
        const auto deadline =
            request.arrived +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(context.config.compression_timeout_seconds));
        if (pending.wait_until(deadline) != std::future_status::ready) {
            return std::unexpected(Error{ErrorKind::overloaded,
                                         "The thumbnail is still being made; try again shortly.",
                                         std::chrono::seconds{2}});
        }
        return pending.get();
    }
    const auto finished = [&] {
        const std::scoped_lock lock(m_mutex);
        m_making.erase(request.variant_key);
    };
    Result<void> result;
    try {
        result = make(context, request);
    } catch (...) {
        // The waiters get the same exception (a pool timeout is answered 503).
        mine.set_exception(std::current_exception());
        finished();
        throw;
    }
    mine.set_value(result);
    finished();
    if (result) remember();
    return result;
}

Result<void> VariantMaker::make(ApiContext& context, const Request& request) {
    std::optional<db::ConnectionPool::Lease> lease;
    auto stored = store_variant(
        context.storage, context.config, *context.encoding,
        {request.variant_key, request.image_key, context.config.variants.at(request.variant_index),
         request.arrived},
        [&]() -> db::Connection& { return *lease.emplace(context.pool.acquire()); }, context.clock);
    if (!stored) return std::unexpected(stored.error());
    ++m_made;
    return {};
}

}  // namespace gallery::api
