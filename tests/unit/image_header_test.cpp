// Dimensions read from image headers without decoding: what re-encoding admission
// charges (issue 36). Images written by libvips in every layout the header reader knows.

#include "imaging/image_header.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

#include "support/vips_images.hpp"

using namespace gallery;
using vips::VImage;

TEST_CASE("image dimensions are read from JPEG and PNG and WebP headers without decoding") {
    testing::start_vips();
    const VImage rgb = VImage::black(123, 45, VImage::option()->set("bands", 3));
    const VImage rgba = VImage::black(321, 54, VImage::option()->set("bands", 4));
    struct Case {
        std::string bytes;
        catalog::ImageFormat format;
        std::uint64_t width, height;
    };
    const std::vector<Case> cases{
        {testing::encode_image(rgb, ".jpg"), catalog::ImageFormat::jpeg, 123, 45},
        {testing::encode_image(rgb, ".jpg", VImage::option()->set("interlace", true)),
         catalog::ImageFormat::jpeg, 123, 45},
        {testing::encode_image(rgb, ".png"), catalog::ImageFormat::png, 123, 45},
        {testing::encode_image(rgb, ".webp"), catalog::ImageFormat::webp, 123, 45},  // VP8
        {testing::encode_image(rgb, ".webp", VImage::option()->set("lossless", true)),
         catalog::ImageFormat::webp, 123, 45},                                        // VP8L
        {testing::encode_image(rgba, ".webp"), catalog::ImageFormat::webp, 321, 54},  // VP8X
    };
    for (const Case& image : cases) {
        const auto dimensions = imaging::header_dimensions(image.bytes, image.format);
        REQUIRE(dimensions);
        CHECK(dimensions->width == image.width);
        CHECK(dimensions->height == image.height);
        // A header cut short is unreadable, never read past its end.
        CHECK_FALSE(imaging::header_dimensions(image.bytes.substr(0, 12), image.format));
    }
    CHECK_FALSE(imaging::header_dimensions("\xFF\xD8\xFF\xDA garbage", catalog::ImageFormat::jpeg));
}

TEST_CASE("a PNG is made a row at a time unless interlaced or carrying a profile or EXIF") {
    // The signature, an IHDR chunk (interlace flag last), then the chunks given.
    const auto png = [](char interlace, const std::string& before_idat) {
        std::string bytes = "\x89PNG\r\n\x1a\n";
        bytes += std::string("\0\0\0\x0dIHDR", 8) + std::string(12, '\1') + interlace + "crc!";
        return bytes + before_idat + std::string("\0\0\0\0IDAT", 8) + "crc!";
    };
    const auto chunk = [](const std::string& type) {
        return std::string("\0\0\0\x02", 4) + type + "ab" + "crc!";
    };
    CHECK(imaging::png_rows_streamable(png('\0', "")));
    CHECK(imaging::png_rows_streamable(png('\0', chunk("tEXt") + chunk("gAMA"))));
    CHECK_FALSE(imaging::png_rows_streamable(png('\1', "")));
    CHECK_FALSE(imaging::png_rows_streamable(png('\0', chunk("tEXt") + chunk("iCCP"))));
    CHECK_FALSE(imaging::png_rows_streamable(png('\0', chunk("eXIf"))));
    // No IDAT before the bytes end; a length that runs past the end.
    const std::string whole = png('\0', chunk("tEXt"));
    CHECK_FALSE(imaging::png_rows_streamable(whole.substr(0, 40)));
    CHECK_FALSE(imaging::png_rows_streamable(png('\0', std::string("\xff\xff\xff\xfftEXt", 8))));
    CHECK_FALSE(imaging::png_rows_streamable("not a png"));
}
