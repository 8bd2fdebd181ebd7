#pragma once
// libvips for tests that make real images (tests link libvips; gallery links it only
// in its plugin).

#include <catch2/catch.hpp>
#include <string>
#include <vector>
#include <vips/vips8>

namespace gallery::testing {

// Starts libvips once per process.
inline void start_vips() {
    static const bool started = VIPS_INIT("gallery-tests") == 0;
    REQUIRE(started);
}

// A width x height sRGB image of four quadrants of different colours, so that every
// turn, mirror or wrong row order looks different.
inline vips::VImage quadrants(int width, int height) {
    using vips::VImage;
    start_vips();
    const VImage xy = VImage::xyz(width, height);
    const VImage right = xy[0] >= width / 2;
    const VImage bottom = xy[1] >= height / 2;
    const VImage top_colour =
        right.ifthenelse(std::vector<double>{255, 0, 0}, std::vector<double>{0, 255, 0});
    const VImage bottom_colour =
        right.ifthenelse(std::vector<double>{0, 0, 255}, std::vector<double>{255, 255, 0});
    return bottom.ifthenelse(bottom_colour, top_colour)
        .cast(VIPS_FORMAT_UCHAR)
        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

// `image` encoded as `suffix` (".jpg", ".png", ...) with `options`.
inline std::string encode_image(const vips::VImage& image, const char* suffix,
                                vips::VOption* options = nullptr) {
    void* data = nullptr;
    std::size_t length = 0;
    image.write_to_buffer(suffix, &data, &length, options);
    std::string bytes(static_cast<const char*>(data), length);
    g_free(data);
    return bytes;
}

}  // namespace gallery::testing
