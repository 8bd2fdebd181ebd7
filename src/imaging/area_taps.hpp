#pragma once
// The area average both thumbnail paths shrink with (jpeg_thumbnail.cpp,
// png_thumbnail.cpp): every input pixel counts by how much of it falls inside an
// output pixel.

#include <vector>

namespace gallery::imaging {

// One output pixel along one axis: the first input pixel it covers, and each covered
// pixel's share of it (the shares add up to 1).
struct Tap {
    int first = 0;
    std::vector<float> weights;
};

// The taps of `out` pixels made from `in` (out <= in).
std::vector<Tap> area_taps(int in, int out);

}  // namespace gallery::imaging
