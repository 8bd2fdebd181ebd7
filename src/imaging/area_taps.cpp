#include "imaging/area_taps.hpp"

#include <algorithm>

namespace gallery::imaging {

std::vector<Tap> area_taps(int in, int out) {
    const double ratio = static_cast<double>(in) / out;
    std::vector<Tap> taps(static_cast<std::size_t>(out));
    for (int o = 0; o < out; ++o) {
        const double start = o * ratio;
        const double end = std::min<double>(in, (o + 1) * ratio);
        Tap& tap = taps[static_cast<std::size_t>(o)];
        tap.first = static_cast<int>(start);
        for (int i = tap.first; i < in && i < end; ++i) {
            const double covered = std::min<double>(end, i + 1) - std::max<double>(start, i);
            tap.weights.push_back(static_cast<float>(covered / ratio));
        }
    }
    return taps;
}

}  // namespace gallery::imaging
