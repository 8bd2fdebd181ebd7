#pragma once
// The property both thumbnailers' fuzz targets check (jpeg_fuzz.cpp, png_fuzz.cpp):
// a thumbnail that was made is a JPEG that fits its box.

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "imaging/jpeg_requantize.hpp"

namespace gallery::fuzz {

inline void check_thumbnail_fits(const std::string& thumbnail, std::uint64_t box) {
    auto made = imaging::JpegCoefficients::open(thumbnail);
    check(made.has_value(), "a thumbnail is not a JPEG");
    if (!made) return;
    check((*made)->width() >= 1 && (*made)->width() <= box && (*made)->height() >= 1 &&
              (*made)->height() <= box,
          "a thumbnail does not fit its " + std::to_string(box) + " x " + std::to_string(box) +
              " box");
}

}  // namespace gallery::fuzz
