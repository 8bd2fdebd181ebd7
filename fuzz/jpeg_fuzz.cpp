// The DCT-domain JPEG re-encoder (src/imaging/jpeg_requantize.cpp) and the JPEG
// thumbnailer (src/imaging/jpeg_thumbnail.cpp) on fuzzed files: libjpeg under our
// error manager (setjmp/longjmp), the EXIF reader, the requantiser, the size bound,
// scaled decoding, the area average and the orientation.
//
// Properties: no crash, leak or undefined behaviour; a file that opens and reads
// encodes at any quality or fails with a message; the bound never exceeds the size
// of the encode it bounds; a thumbnail fits its box, or fails with a message.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "imaging/jpeg_requantize.hpp"
#include "imaging/jpeg_thumbnail.hpp"
#include "thumbnail_check.hpp"

using namespace gallery;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view jpeg(reinterpret_cast<const char*>(data), size);
    auto opened = imaging::JpegCoefficients::open(jpeg);
    if (!opened) return 0;
    auto& coefficients = **opened;
    fuzz::check(coefficients.orientation() >= 1 && coefficients.orientation() <= 8,
                "orientation out of range");
    // Small images only (about 40,000 pixels): a header may claim 60000 x 60000, and
    // inputs per second matter more here than size.
    if (coefficients.working_bytes() > 256 * 1024) return 0;
    auto thumbnail = imaging::jpeg_thumbnail(
        {.source = jpeg, .width = 32, .height = 32, .quality = 80, .max_pixels = 40'000});
    if (!thumbnail) {
        fuzz::check(!thumbnail.error().message.empty(), "a thumbnail failed without a message");
    } else if (*thumbnail) {
        fuzz::check_thumbnail_fits(**thumbnail, 32);
    }
    if (!coefficients.read_coefficients()) return 0;
    for (const int quality : {90, 45}) {
        auto encoded = coefficients.encode(quality);
        if (!encoded) {
            fuzz::check(!encoded.error().message.empty(), "an encode failed without a message");
            continue;
        }
        const std::uint64_t bound = coefficients.size_lower_bound(quality);
        fuzz::check(bound <= encoded->size(), "the size bound " + std::to_string(bound) +
                                                  " exceeds the encoded size " +
                                                  std::to_string(encoded->size()));
    }
    return 0;
}
