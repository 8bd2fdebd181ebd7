// DCT-domain requantisation (src/imaging/jpeg_requantize.cpp) and the EXIF
// orientation reader, on JPEGs generated with libvips.

#include <catch2/catch.hpp>
#include <vips/vips8>

#include <vector>

#include "imaging/jpeg_exif.hpp"
#include "imaging/jpeg_requantize.hpp"

using namespace gallery;
using vips::VImage;

namespace {

std::string jpeg_of(const VImage& image, vips::VOption* options) {
    void* data = nullptr;
    std::size_t length = 0;
    image.write_to_buffer(".jpg", &data, &length, options);
    std::string bytes(static_cast<const char*>(data), length);
    g_free(data);
    return bytes;
}

VImage noisy_photo(int width, int height) {
    static const bool started = VIPS_INIT("gallery-unit-tests") == 0;
    REQUIRE(started);
    VImage xy = VImage::xyz(width, height);
    VImage rgb =
        (xy[0] * (255.0 / width)).bandjoin(xy[1] * (255.0 / height)).bandjoin(xy[0] * 0.1 + 60);
    VImage noise = VImage::gaussnoise(width, height, VImage::option()->set("sigma", 12.0));
    return (rgb + noise)
        .cast(VIPS_FORMAT_UCHAR)
        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

// A progressive JPEG whose last scan is repeated until it has `scans` scans: each
// repeat is a refinement libjpeg only warns about, and reads the image again.
std::string many_scans(int scans) {
    const std::string progressive =
        jpeg_of(noisy_photo(64, 48), VImage::option()->set("interlace", true));
    const std::size_t last_scan = progressive.rfind("\xFF\xDA");
    const std::size_t end = progressive.rfind("\xFF\xD9");
    REQUIRE(last_scan != std::string::npos);
    REQUIRE(end != std::string::npos);
    const std::size_t present = imaging::count_jpeg_scans(progressive);
    std::string out = progressive.substr(0, end);
    const std::string scan = progressive.substr(last_scan, end - last_scan);
    for (std::size_t i = present; i < static_cast<std::size_t>(scans); ++i) out += scan;
    return out + "\xFF\xD9";
}

}  // namespace

TEST_CASE("a JPEG's scans are counted from its markers, not from bytes that look like one") {
    const std::string progressive =
        jpeg_of(noisy_photo(64, 48), VImage::option()->set("interlace", true));
    const std::size_t scans = imaging::count_jpeg_scans(progressive);
    CHECK(scans > 1);
    CHECK(scans < 20);
    CHECK(imaging::count_jpeg_scans(jpeg_of(noisy_photo(64, 48), nullptr)) == 1);
    CHECK(imaging::count_jpeg_scans(many_scans(700)) == 700);
}

TEST_CASE("reading coefficients stops at the scan limit and at the deadline") {
    const std::string flood = many_scans(static_cast<int>(imaging::k_max_jpeg_scans) + 200);
    auto jpeg = imaging::JpegCoefficients::open(flood);
    REQUIRE(jpeg);
    auto read = (*jpeg)->read_coefficients();
    REQUIRE_FALSE(read);
    CHECK(read.error().message.find("too many scans") != std::string::npos);

    const std::string fine = many_scans(100);
    auto late = imaging::JpegCoefficients::open(fine);
    REQUIRE(late);
    auto timed_out = (*late)->read_coefficients(std::chrono::steady_clock::now());
    REQUIRE_FALSE(timed_out);
    CHECK(timed_out.error().message.find("took longer than the re-encoding time limit") !=
          std::string::npos);
    auto in_time = imaging::JpegCoefficients::open(fine);
    REQUIRE(in_time);
    CHECK((*in_time)->read_coefficients());
}

TEST_CASE("the size lower bound never exceeds the encoded size") {
    const VImage colour = noisy_photo(643, 419);  // partial MCUs on both edges
    struct Layout {
        const char* name;
        std::string jpeg;
    };
    const std::vector<Layout> layouts{
        {"4:2:0", jpeg_of(colour, VImage::option()->set("Q", 95)->set("subsample_mode",
                                                                      VIPS_FOREIGN_SUBSAMPLE_ON))},
        {"4:4:4", jpeg_of(colour, VImage::option()->set("Q", 95)->set("subsample_mode",
                                                                      VIPS_FOREIGN_SUBSAMPLE_OFF))},
        {"progressive", jpeg_of(colour, VImage::option()->set("Q", 90)->set("interlace", true))},
        {"greyscale",
         jpeg_of(colour.colourspace(VIPS_INTERPRETATION_B_W), VImage::option()->set("Q", 97))},
        {"CMYK", jpeg_of(colour.icc_transform("cmyk"), VImage::option()->set("Q", 95))},
    };
    for (const auto& layout : layouts) {
        auto jpeg = imaging::JpegCoefficients::open(layout.jpeg);
        REQUIRE(jpeg);
        CHECK((*jpeg)->width() == 643);
        CHECK((*jpeg)->height() == 419);
        REQUIRE((*jpeg)->read_coefficients());
        for (int quality = 100; quality >= 20; quality -= 5) {
            INFO(layout.name << " at quality " << quality);
            auto encoded = (*jpeg)->encode(quality);
            REQUIRE(encoded);
            const std::uint64_t bound = (*jpeg)->size_lower_bound(quality);
            CHECK(bound <= encoded->size());
            CHECK(bound >= encoded->size() * 9 / 10);  // tight enough to rule qualities out
            // Every encode starts from the upload's coefficients, not the last encode's.
            auto again = (*jpeg)->encode(quality);
            REQUIRE(again);
            CHECK(*again == *encoded);
        }
        const VImage decoded = VImage::new_from_buffer(*(*jpeg)->encode(60), "");
        CHECK(decoded.width() == 643);
        CHECK(decoded.height() == 419);
    }
}

TEST_CASE("the working memory is known from the header") {
    // 1000 x 1000 at 4:2:0: 126 x 126 luma blocks (whole MCUs), 63 x 63 per chroma
    // component, 64 coefficients of 2 bytes, held twice: 6.1 MB.
    const std::string whole =
        jpeg_of(noisy_photo(1000, 1000),
                VImage::option()->set("Q", 80)->set("subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON));
    auto jpeg = imaging::JpegCoefficients::open(whole);
    REQUIRE(jpeg);
    CHECK((*jpeg)->working_bytes() >= (126 * 126 + 2 * 63 * 63) * 64 * 2 * 2);
    CHECK((*jpeg)->working_bytes() <= 6'300'000);
}

TEST_CASE("a truncated JPEG is refused when its coefficients are read") {
    const std::string whole = jpeg_of(noisy_photo(256, 256), VImage::option()->set("Q", 90));
    auto jpeg =
        imaging::JpegCoefficients::open(std::string_view(whole).substr(0, whole.size() / 2));
    REQUIRE(jpeg);  // the header is intact
    auto read = (*jpeg)->read_coefficients();
    REQUIRE_FALSE(read);
    CHECK(read.error().message == "The image could not be decoded: Premature end of JPEG file");
    CHECK_FALSE(imaging::JpegCoefficients::open("\xFF\xD8\xFF\xE0 not a jpeg"));
}

TEST_CASE("the EXIF orientation is read in both byte orders and malformed data is ignored") {
    // "Exif\0\0", TIFF header, IFD0 with one entry: Orientation (0x0112), SHORT, 1, value.
    const std::vector<std::uint8_t> big_endian{'E', 'x', 'i', 'f', 0, 0,    'M',  'M', 0, 42, 0,
                                               0,   0,   8,   0,   1, 0x01, 0x12, 0,   3, 0,  0,
                                               0,   1,   0,   6,   0, 0,    0,    0,   0, 0};
    const std::vector<std::uint8_t> little_endian{'E', 'x', 'i', 'f', 0, 0,    'I',  'I', 42, 0, 8,
                                                  0,   0,   0,   1,   0, 0x12, 0x01, 3,   0,  1, 0,
                                                  0,   0,   8,   0,   0, 0,    0,    0,   0,  0};
    CHECK(imaging::exif_orientation(big_endian) == 6);
    CHECK(imaging::exif_orientation(little_endian) == 8);
    for (std::size_t cut = 0; cut < big_endian.size(); ++cut) {
        INFO("cut at " << cut);
        const int orientation = imaging::exif_orientation(std::span(big_endian).first(cut));
        CHECK((orientation == 1 || orientation == 6));
    }
    auto huge_offset = big_endian;
    huge_offset[13] = 0xFF;  // IFD0 far past the end
    CHECK(imaging::exif_orientation(huge_offset) == 1);
    auto out_of_range = little_endian;
    out_of_range[22] = 9;
    CHECK(imaging::exif_orientation(out_of_range) == 1);
    CHECK(imaging::exif_orientation(std::vector<std::uint8_t>{'J', 'F', 'I', 'F', 0}) == 1);
}
