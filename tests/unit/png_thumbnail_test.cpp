// The PNG thumbnailer against libvips: the colours libvips' thumbnail gives for RGB,
// transparent, grey, palette and 16-bit PNGs; the box never exceeded nor an image
// enlarged; interlaced PNGs left to libvips; bad input refused with a sentence.
#include <catch2/catch.hpp>
#include <memory>
#include <vips/vips8>

#include "imaging/png_thumbnail.hpp"
#include "support/vips_images.hpp"

using namespace gallery;
using testing::quadrants;
using vips::VImage;

namespace {

std::string png_of(const VImage& image, vips::VOption* options = nullptr) {
    return testing::encode_image(image, ".png", options);
}

VImage decoded(const std::string& bytes) {
    return VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
}

imaging::ThumbnailJob job(const std::string& png, int box) {
    return {png, box, box, 90, 50'000'000, std::chrono::steady_clock::time_point::max()};
}

// libvips' thumbnail of the same PNG, flattened on white as gallery's plugin does.
VImage reference(const std::string& png, int box) {
    const std::unique_ptr<VipsBlob, void (*)(VipsBlob*)> blob(
        vips_blob_new(nullptr, png.data(), png.size()),
        [](VipsBlob* b) { vips_area_unref(reinterpret_cast<VipsArea*>(b)); });
    VImage image = VImage::thumbnail_buffer(
        blob.get(), box, VImage::option()->set("height", box)->set("size", VIPS_SIZE_DOWN));
    if (image.has_alpha())
        image = image.flatten(VImage::option()->set("background", std::vector<double>{255.0}));
    return image.cast(VIPS_FORMAT_UCHAR).copy_memory();
}

void check_like_libvips(const std::string& png, int box, int bands) {
    auto made = imaging::png_thumbnail(job(png, box));
    REQUIRE(made);
    REQUIRE(*made);
    const VImage ours = decoded(**made);
    const VImage theirs = reference(png, box);
    CHECK(ours.width() == theirs.width());
    CHECK(ours.height() == theirs.height());
    CHECK(ours.bands() == bands);
    // Away from the quadrants' edges, where libvips' kernel (lanczos3 after the
    // shrink) and an area average rightly differ.
    for (const double fy : {0.1, 0.25, 0.4, 0.6, 0.75, 0.9}) {
        for (const double fx : {0.1, 0.25, 0.4, 0.6, 0.75, 0.9}) {
            CAPTURE(fx, fy);
            const int x = static_cast<int>(fx * ours.width());
            const int y = static_cast<int>(fy * ours.height());
            const auto mine = ours(x, y);
            const auto expected = theirs(x, y);
            for (int band = 0; band < bands; ++band)
                CHECK(std::abs(mine[band] - expected[band]) < 16);
        }
    }
}

}  // namespace

TEST_CASE("a PNG thumbnail has the colours libvips gives in every PNG kind") {
    const VImage rgb = quadrants(800, 400);
    SECTION("8-bit RGB") {
        check_like_libvips(png_of(rgb), 200, 3);
    }
    SECTION("RGBA, half transparent: flattened on white") {
        const VImage alpha = (VImage::xyz(800, 400)[0] / 800 * 255).cast(VIPS_FORMAT_UCHAR);
        check_like_libvips(png_of(rgb.bandjoin(alpha)), 200, 3);
    }
    SECTION("grey stays one band") {
        check_like_libvips(png_of(rgb[0]), 200, 1);
    }
    SECTION("palette") {
        check_like_libvips(png_of(rgb, VImage::option()->set("palette", true)), 200, 3);
    }
    SECTION("16-bit") {
        const VImage deep =
            (rgb.cast(VIPS_FORMAT_USHORT) * 257)
                .cast(VIPS_FORMAT_USHORT)
                .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
        check_like_libvips(png_of(deep), 200, 3);
    }
    SECTION("a side that does not divide evenly") {
        check_like_libvips(png_of(quadrants(777, 333)), 100, 3);
    }
}

TEST_CASE("a PNG thumbnail fits its box and is never enlarged and can be WebP") {
    auto made = imaging::png_thumbnail(job(png_of(quadrants(1000, 750)), 320));
    REQUIRE(made);
    REQUIRE(*made);
    CHECK(decoded(**made).width() == 320);
    CHECK(decoded(**made).height() == 240);
    auto small = imaging::png_thumbnail(job(png_of(quadrants(120, 90)), 320));
    REQUIRE(small);
    REQUIRE(*small);
    CHECK(decoded(**small).width() == 120);
    CHECK(decoded(**small).height() == 90);
    const std::string large = png_of(quadrants(1000, 750));
    auto webp_job = job(large, 320);
    webp_job.format = VariantFormat::webp;
    auto webp = imaging::png_thumbnail(webp_job);
    REQUIRE(webp);
    REQUIRE(*webp);
    CHECK((*webp)->substr(8, 4) == "WEBP");
    CHECK(decoded(**webp).width() == 320);
    // Interlaced rows come a pass at a time: libvips makes those.
    auto interlaced = imaging::png_thumbnail(
        job(png_of(quadrants(64, 64), VImage::option()->set("interlace", true)), 32));
    REQUIRE(interlaced);
    CHECK_FALSE(*interlaced);
}

TEST_CASE("a PNG thumbnail refuses truncated, oversized and late input with a sentence") {
    const std::string png = png_of(quadrants(800, 600));
    auto truncated = imaging::png_thumbnail(job(png.substr(0, png.size() / 2), 100));
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().kind == ErrorKind::invalid_input);
    CHECK(truncated.error().message.starts_with("The image could not be decoded: "));
    auto garbage = imaging::png_thumbnail(job("\x89PNG\r\n\x1a\n not a png", 100));
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().kind == ErrorKind::invalid_input);
    auto limited = job(png, 100);
    limited.max_pixels = 1000;
    auto oversized = imaging::png_thumbnail(limited);
    REQUIRE_FALSE(oversized);
    CHECK(oversized.error().message.find("over the limit of 1000 pixels") != std::string::npos);
    auto late = job(png, 100);
    late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds{1};
    auto too_slow = imaging::png_thumbnail(late);
    REQUIRE_FALSE(too_slow);
    CHECK(too_slow.error().message.find("time limit") != std::string::npos);
}
