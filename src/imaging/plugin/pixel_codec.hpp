#pragma once
// The boundary between the binary and its libvips plugin: re-encoding through
// pixels (PNG, WebP, rotated or very large JPEGs). The plugin is a shared object
// built from src/imaging/plugin/ with libvips, libimagequant and libspng, carried
// inside the binary and loaded on the first upload that needs it
// (pixel_codec_loader.cpp): a server or a command that never re-encodes through
// pixels never maps libvips and its ~100 libraries (RSS, start-up time).
//
// Both sides are built together by one compiler, so the types below (and
// gallery::Result) cross the boundary as they are. The plugin refers to no symbol of
// the binary: what it needs from it (the log) comes as an argument.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gallery/catalog/image_format.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/imaging/compression.hpp"
#include "imaging/ladder.hpp"

namespace gallery::imaging {

struct PixelJob {
    std::string_view upload;
    catalog::ImageFormat format;
    CompressionSettings settings;
    SteadyTime deadline;
};

// A variant (issue 41): the image fitted inside width x height, never enlarged,
// upright, flattened on white, without metadata, as a baseline JPEG or a lossy WebP.
struct ThumbnailJob {
    std::string_view source;
    int width = 0;
    int height = 0;
    int quality = 80;
    std::uint64_t max_pixels = 0;  // a larger source is refused before decoding
    SteadyTime deadline = SteadyTime::max();
    VariantFormat format = VariantFormat::jpeg;
};

using LogWarning = void (*)(const std::string& message);

struct PixelCodec {
    // The re-encoded image, nullopt for an image to store as it is (animated), or
    // invalid_input with a sentence. Thread-safe; never throws.
    Result<std::optional<Compressed>> (*reencode)(const PixelJob& job, LogWarning warn);
    // The variant's bytes, or invalid_input with a sentence. Thread-safe; never throws.
    Result<std::string> (*thumbnail)(const ThumbnailJob& job, LogWarning warn);
};

}  // namespace gallery::imaging

// The one symbol the plugin exports.
extern "C" const gallery::imaging::PixelCodec* gallery_pixel_codec();
