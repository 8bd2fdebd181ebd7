// Benchmark helper for scripts/bench: makes one variant (thumbnail) of an image file
// with gallery's variant maker (JPEG in the binary, others through the libvips
// plugin), writes it to OUT, and prints "<seconds> <peak RSS MB> <bytes>". FORMAT is
// jpeg (the default) or webp.
// Not installed; vipsthumbnail and scripts/bench_pillow.py are the other columns.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include "gallery/imaging/variant.hpp"

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: variant_bench IMAGE WIDTH OUT [jpeg|webp]\n");
        return 2;
    }
    const bool webp = argc == 5 && std::string_view(argv[4]) == "webp";
    const auto start = std::chrono::steady_clock::now();
    std::ifstream in(argv[1], std::ios::binary | std::ios::ate);
    std::string bytes;
    // Read straight into the string, as storage::read_all does (no zero-fill first).
    bytes.resize_and_overwrite(in ? static_cast<std::size_t>(in.tellg()) : 0,
                               [&](char* data, std::size_t size) {
                                   in.seekg(0);
                                   in.read(data, static_cast<std::streamsize>(size));
                                   return static_cast<std::size_t>(in.gcount());
                               });
    const int side = std::atoi(argv[2]);
    const gallery::config::VariantSpec variant{"bench", side, side};
    gallery::imaging::EncodeAdmission admission({});
    auto made = gallery::imaging::make_variant(
        {.source = bytes,
         .variant = variant,
         .format = webp ? gallery::VariantFormat::webp : gallery::VariantFormat::jpeg},
        admission);
    if (!made) {
        std::fprintf(stderr, "variant_bench: %s\n", made.error().message.c_str());
        return 1;
    }
    std::ofstream(argv[3], std::ios::binary) << *made;
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("%.3f %.1f %zu\n", seconds.count(), static_cast<double>(usage.ru_maxrss) / 1024.0,
                made->size());
}
