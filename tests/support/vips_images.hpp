#pragma once
// libvips for tests that make real images (tests link libvips; gallery links it only
// in its plugin).

#include <catch2/catch.hpp>
#include <string>
#include <vips/vips8>

namespace gallery::testing {

// Starts libvips once per process.
inline void start_vips() {
    static const bool started = VIPS_INIT("gallery-tests") == 0;
    REQUIRE(started);
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
