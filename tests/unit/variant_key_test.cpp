#include <catch2/catch.hpp>

#include "gallery/common/variant_key.hpp"
#include "gallery/imaging/variant.hpp"

using namespace gallery;

TEST_CASE("a variant's key names its image and only a variant's key parses as one") {
    const std::string key = variant_key("thumb", "images/0b7e.png", VariantFormat::jpeg);
    CHECK(key == "variants/thumb/images/0b7e.png.jpg");
    const auto parsed = parse_variant_key(key);
    REQUIRE(parsed);
    CHECK(parsed->name == "thumb");
    CHECK(parsed->image_key == "images/0b7e.png");
    CHECK(parsed->format == VariantFormat::jpeg);
    // An original's key kept as it was (no images/ prefix) has variants too.
    CHECK(parse_variant_key(variant_key("m", "legacy.jpg", VariantFormat::jpeg))->image_key ==
          "legacy.jpg");
    for (const std::string not_a_variant :
         {"images/0b7e.png", "variants/thumb/images/a.png", "variants/thumb.jpg",
          "variants//images/a.png.jpg", "variants/Thumb/images/a.png.jpg", "variants/thumb/.jpg",
          "variants/thumb/variants/thumb/a.png.jpg.jpg", "backups/variants/thumb/a.png.jpg",
          "variants/thumb/images/a.png.png", "variants/thumb/.webp",
          "variants/thumb/variants/thumb/a.png.webp.jpg"}) {
        CAPTURE(not_a_variant);
        CHECK_FALSE(parse_variant_key(not_a_variant));
    }
    CHECK(image_key_of(key) == "images/0b7e.png");
    CHECK(image_key_of("images/0b7e.png") == "images/0b7e.png");
    CHECK(valid_variant_name("thumb_2-x"));
    CHECK_FALSE(valid_variant_name(""));
    CHECK_FALSE(valid_variant_name(std::string(33, 'a')));
}

TEST_CASE("a WebP variant's key ends in .webp and parses in either format") {
    const std::string webp = variant_key("thumb", "images/0b7e.png", VariantFormat::webp);
    CHECK(webp == "variants/thumb/images/0b7e.png.webp");
    const auto parsed = parse_variant_key(webp);
    REQUIRE(parsed);
    CHECK(parsed->format == VariantFormat::webp);
    CHECK(parsed->image_key == "images/0b7e.png");
    // A variant made before variant_format changed still names its image.
    CHECK(image_key_of(webp) == image_key_of("variants/thumb/images/0b7e.png.jpg"));
    CHECK(variant_content_type(VariantFormat::webp) == "image/webp");
    CHECK(variant_content_type(VariantFormat::jpeg) == "image/jpeg");
}

TEST_CASE("a JPEG variant is charged the memory of the scale libjpeg decodes at") {
    const config::VariantSpec thumb{"thumb", 320, 320};
    constexpr std::uint64_t per_pixel = imaging::k_bytes_per_pixel;
    constexpr auto jpeg = imaging::VariantDecode::jpeg_scaled;
    constexpr auto whole = imaging::VariantDecode::whole;
    // 4000 x 3000 is scaled by 1/12.5 (to 320 x 240): decoded at 1/8.
    CHECK(imaging::variant_decode_bytes(4000, 3000, jpeg, thumb) == 500 * 375 * per_pixel);
    // 1600 x 1200 is scaled by 1/5: decoded at 1/4 (400 x 300, still over 320 x 240).
    CHECK(imaging::variant_decode_bytes(1600, 1200, jpeg, thumb) == 400 * 300 * per_pixel);
    CHECK(imaging::variant_decode_bytes(1280, 960, jpeg, thumb) == 320 * 240 * per_pixel);
    // Other formats decode whole.
    CHECK(imaging::variant_decode_bytes(4000, 3000, whole, thumb) == 4000 * 3000 * per_pixel);
    CHECK(imaging::variant_decode_bytes(100, 80, jpeg, thumb) == 100 * 80 * per_pixel);
    // A box that is not square: 1000 x 2000 fits 640 x 320 at 1/6.25 (decoded at 1/4),
    // but stored rotated it fits 320 x 640 at 1/3.125 (decoded at 1/2): the larger.
    const config::VariantSpec wide{"wide", 640, 320};
    CHECK(imaging::variant_decode_bytes(1000, 2000, jpeg, wide) == 500 * 1000 * per_pixel);
}

TEST_CASE("a PNG variant made a row at a time is charged its small image and one row") {
    const config::VariantSpec thumb{"thumb", 320, 320};
    constexpr std::uint64_t per_pixel = imaging::k_bytes_per_pixel;
    constexpr auto rows = imaging::VariantDecode::png_rows;
    // 4000 x 3000 fits 320 x 240; a row is 4000 pixels at 16 bytes.
    CHECK(imaging::variant_decode_bytes(4000, 3000, rows, thumb) ==
          320 * 240 * per_pixel + 4000 * 2 * per_pixel);
    CHECK(imaging::variant_decode_bytes(100, 80, rows, thumb) ==
          100 * 80 * per_pixel + 100 * 2 * per_pixel);
}
