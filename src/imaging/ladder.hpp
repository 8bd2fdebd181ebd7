#pragma once
// What the two re-encoding paths share: the DCT-domain JPEG path in the binary
// (compression.cpp) and the pixel path in the libvips plugin (plugin/). Header-only,
// so the plugin carries its own copy and needs nothing from the binary.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/imaging/compression.hpp"

namespace gallery::imaging {

using SteadyTime = std::chrono::steady_clock::time_point;

inline constexpr const char* k_too_slow =
    "The image could not be decoded: it took longer than the re-encoding time limit";

// Checked on the header, before anything is decoded.
inline Result<void> check_pixels(std::uint64_t width, std::uint64_t height,
                                 std::uint64_t max_pixels) {
    if (width * height <= max_pixels) return {};
    return fail(ErrorKind::invalid_input,
                "The image is " + std::to_string(width) + " x " + std::to_string(height) +
                    " pixels, over the limit of " + std::to_string(max_pixels) + " pixels.");
}

inline Result<void> check_pixels(std::uint64_t width, std::uint64_t height,
                                 const CompressionSettings& settings) {
    return check_pixels(width, height, settings.max_pixels);
}

using EncodeAt = std::function<Result<std::string>(int quality)>;
// A size the encode at that quality cannot go below (0 when unknown).
using SizeBound = std::function<std::uint64_t(int quality)>;

// JPEG and WebP: the configured quality, then 10 lower at a time down to the floor;
// the stored result is the first quality on that ladder that fits (the floor if
// none does). When the first try does not fit, the rest of the ladder is searched
// by bisection (sizes fall with quality): the same rung in about half the encodes.
// A rung whose lower bound is over the limit is known not to fit without encoding
// it (the floor is always encoded: it is stored whatever its size).
inline Result<Compressed> search_ladder(const EncodeAt& encode_at, const SizeBound& lower_bound,
                                        SteadyTime deadline, const CompressionSettings& settings) {
    std::vector<int> ladder;
    for (int quality = settings.quality;; quality = std::max(quality - 10, settings.min_quality)) {
        ladder.push_back(quality);
        if (quality <= settings.min_quality) break;
    }
    std::map<std::size_t, std::string> encoded;
    const auto fits = [&](std::size_t rung) -> Result<bool> {
        if (std::chrono::steady_clock::now() > deadline)
            return fail(ErrorKind::invalid_input, k_too_slow);
        const bool floor = rung + 1 == ladder.size();
        if (!floor && lower_bound(ladder[rung]) > settings.max_bytes) return false;
        auto bytes = encode_at(ladder[rung]);
        if (!bytes) return std::unexpected(bytes.error());
        const bool fitting = bytes->size() <= settings.max_bytes;
        encoded[rung] = std::move(*bytes);
        return fitting;
    };
    std::size_t low = 0;
    std::size_t high = ladder.size() - 1;
    auto first = fits(0);
    if (!first) return std::unexpected(first.error());
    if (*first) {
        high = 0;
    } else {
        low = 1;
    }
    while (low < high) {
        const std::size_t middle = (low + high) / 2;
        auto fitting = fits(middle);
        if (!fitting) return std::unexpected(fitting.error());
        if (*fitting) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    if (!encoded.contains(high)) {
        auto fitting = fits(high);  // the floor, never encoded yet
        if (!fitting) return std::unexpected(fitting.error());
    }
    return Compressed{std::move(encoded[high]), ladder[high]};
}

}  // namespace gallery::imaging
