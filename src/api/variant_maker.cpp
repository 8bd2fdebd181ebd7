#include "gallery/api/variant_maker.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gallery/api/api.hpp"
#include "gallery/imaging/variant.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {
namespace {

// The whole object: read in pieces where the backend streams (local disk), else
// through a temporary file (S3's get_file).
Result<std::string> read_object(storage::Storage& storage, const std::string& key) {
    auto opened = storage.open(key);
    if (opened && !*opened) return fail(ErrorKind::not_found, "The image's file is missing.");
    if (opened) {
        std::string bytes((*opened)->info.size, '\0');
        std::uint64_t done = 0;
        while (done < bytes.size()) {
            auto read = (*opened)->read_at(done, bytes.data() + done, bytes.size() - done);
            if (!read) return fail(ErrorKind::io, "reading '" + key + "' failed");
            if (*read == 0) break;
            done += *read;
        }
        bytes.resize(done);
        return bytes;
    }
    if (opened.error().kind != ErrorKind::storage_permanent) return std::unexpected(opened.error());
    const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                       ("gallery-variant-source-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(std::hash<std::string>{}(key)));
    struct Removed {
        const std::filesystem::path& file;
        ~Removed() {
            std::error_code ignored;
            std::filesystem::remove(file, ignored);
        }
    } removed{file};
    if (auto got = storage.get_file(key, file); !got) {
        if (got.error().kind == ErrorKind::not_found)
            return fail(ErrorKind::not_found, "The image's file is missing.");
        return std::unexpected(got.error());
    }
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

Result<void> VariantMaker::ensure(ApiContext& context, const Request& request) {
    auto stored = context.storage.head(request.variant_key);
    if (!stored) return std::unexpected(stored.error());
    if (*stored) return {};
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
    return result;
}

Result<void> VariantMaker::make(ApiContext& context, const Request& request) {
    const config::Config& config = context.config;
    auto source = read_object(context.storage, request.image_key);
    if (!source) return std::unexpected(source.error());
    auto made = imaging::make_variant({.source = *source,
                                       .variant = config.variants.at(request.variant_index),
                                       .quality = config.compression_quality,
                                       .max_pixels = config.max_image_pixels,
                                       .arrived = request.arrived,
                                       .max_seconds = config.compression_timeout_seconds},
                                      *context.encoding);
    if (!made) return std::unexpected(made.error());
    if (auto put = context.storage.put(request.variant_key, *made, "image/jpeg"); !put)
        return std::unexpected(put.error());
    ++m_made;
    // The image may have been deleted, and its variants' keys cleaned, while this one
    // was made: then the new object is queued like any other key of a deleted image
    // (the cleaner leaves it if the image is restored first).
    auto connection = context.pool.acquire();
    const std::string image_key = request.image_key;
    auto live = queue::keys_in_use(*connection, std::span<const std::string>(&image_key, 1));
    if (!live) return std::unexpected(live.error());
    if (!live->front()) {
        const queue::EnqueueRequest orphan{request.variant_key, "", made->size()};
        if (auto queued = queue::enqueue_all(*connection, std::span(&orphan, 1), context.clock());
            !queued)
            return std::unexpected(queued.error());
        return fail(ErrorKind::not_found, "The image was deleted.");
    }
    return {};
}

}  // namespace gallery::api
