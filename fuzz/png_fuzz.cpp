// The PNG thumbnailer (src/imaging/png_thumbnail.cpp) on fuzzed files: libspng's
// row-at-a-time decoding under our limits, the flattening and the streamed area
// average.
//
// Properties: no crash, leak or undefined behaviour; a thumbnail is a JPEG that fits
// its box, or the PNG is left to libvips, or it fails with a message.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "imaging/png_thumbnail.hpp"
#include "thumbnail_check.hpp"

using namespace gallery;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view png(reinterpret_cast<const char*>(data), size);
    // Small images only (about 40,000 pixels): a header may claim 60000 x 60000, and
    // inputs per second matter more here than size.
    auto thumbnail = imaging::png_thumbnail(
        {.source = png, .width = 32, .height = 32, .quality = 80, .max_pixels = 40'000});
    if (!thumbnail) {
        fuzz::check(!thumbnail.error().message.empty(), "a thumbnail failed without a message");
        return 0;
    }
    if (*thumbnail) fuzz::check_thumbnail_fits(**thumbnail, 32);
    return 0;
}
