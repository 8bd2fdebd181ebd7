// The JPEG thumbnailer against libvips: the same upright image for every EXIF
// orientation, the box never exceeded nor an image enlarged, grey kept grey, CMYK
// left to the pixel path, and bad input refused with a sentence.
#include <catch2/catch.hpp>
#include <vips/vips8>

#include "imaging/jpeg_thumbnail.hpp"
#include "support/vips_images.hpp"

using namespace gallery;
using testing::quadrants;
using vips::VImage;

namespace {

std::string jpeg_of(const VImage& image, int orientation = 1) {
    VImage tagged = image.copy();
    if (orientation != 1) tagged.set("orientation", orientation);
    return testing::encode_image(tagged, ".jpg", VImage::option()->set("Q", 95));
}

VImage decoded(const std::string& bytes) {
    return VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
}

imaging::ThumbnailJob job(const std::string& jpeg, int box) {
    return {jpeg, box, box, 90, 50'000'000, std::chrono::steady_clock::time_point::max()};
}

}  // namespace

TEST_CASE("a JPEG thumbnail is upright for every EXIF orientation as libvips turns it") {
    const VImage stored = quadrants(800, 400);
    for (int orientation = 1; orientation <= 8; ++orientation) {
        CAPTURE(orientation);
        const std::string jpeg = jpeg_of(stored, orientation);
        auto made = imaging::jpeg_thumbnail(job(jpeg, 200));
        REQUIRE(made);
        REQUIRE(*made);
        const VImage ours = decoded(**made);
        const VImage theirs = decoded(jpeg).autorot();
        const bool turned = orientation >= 5;
        CHECK(ours.width() == (turned ? 100 : 200));
        CHECK(ours.height() == (turned ? 200 : 100));
        CHECK(vips_image_get_orientation(ours.get_image()) == 1);
        // The middle of each quadrant has the colour libvips puts there.
        for (const auto& [fx, fy] :
             {std::pair{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}) {
            const auto mine =
                ours(static_cast<int>(fx * ours.width()), static_cast<int>(fy * ours.height()));
            const auto reference = theirs(static_cast<int>(fx * theirs.width()),
                                          static_cast<int>(fy * theirs.height()));
            for (std::size_t band = 0; band < 3; ++band)
                CHECK(std::abs(mine[band] - reference[band]) < 40);
        }
    }
}

TEST_CASE("a JPEG thumbnail fits its box and is never enlarged") {
    const std::string wide = jpeg_of(quadrants(4000, 3000));
    auto made = imaging::jpeg_thumbnail(job(wide, 320));
    REQUIRE(made);
    REQUIRE(*made);
    CHECK(decoded(**made).width() == 320);
    CHECK(decoded(**made).height() == 240);
    auto small = imaging::jpeg_thumbnail(job(jpeg_of(quadrants(120, 90)), 320));
    REQUIRE(small);
    REQUIRE(*small);
    CHECK(decoded(**small).width() == 120);
    CHECK(decoded(**small).height() == 90);
    // Grey stays one band.
    auto grey = imaging::jpeg_thumbnail(job(jpeg_of(quadrants(640, 480)[1]), 320));
    REQUIRE(grey);
    REQUIRE(*grey);
    CHECK(decoded(**grey).bands() == 1);
    // CMYK goes through libvips instead.
    const std::string cmyk =
        jpeg_of(quadrants(64, 64).icc_export(VImage::option()->set("output_profile", "cmyk")));
    auto passed = imaging::jpeg_thumbnail(job(cmyk, 32));
    REQUIRE(passed);
    CHECK_FALSE(*passed);
}

TEST_CASE("a JPEG thumbnail refuses truncated, oversized and late input with a sentence") {
    const std::string jpeg = jpeg_of(quadrants(800, 600));
    auto truncated = imaging::jpeg_thumbnail(job(jpeg.substr(0, jpeg.size() / 2), 100));
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().kind == ErrorKind::invalid_input);
    CHECK(truncated.error().message.starts_with("The image could not be decoded"));
    auto garbage = imaging::jpeg_thumbnail(job("not a jpeg at all", 100));
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().kind == ErrorKind::invalid_input);
    auto limited = job(jpeg, 100);
    limited.max_pixels = 1000;
    auto oversized = imaging::jpeg_thumbnail(limited);
    REQUIRE_FALSE(oversized);
    CHECK(oversized.error().message.find("over the limit of 1000 pixels") != std::string::npos);
    auto late = job(jpeg, 100);
    late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds{1};
    auto too_slow = imaging::jpeg_thumbnail(late);
    REQUIRE_FALSE(too_slow);
    CHECK(too_slow.error().message.find("time limit") != std::string::npos);
}
