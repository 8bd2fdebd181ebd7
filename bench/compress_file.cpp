// Benchmark helper for scripts/bench: re-encodes one image file with gallery's
// compressor (default settings: 1 MB limit, quality 80 down to 45) and prints
// "<seconds> <peak RSS MB> <stored bytes> <compressed> <quality or colours>".
// Not installed; the Pillow side of the comparison is scripts/bench_pillow.py.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "gallery/imaging/compression.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: compress_bench IMAGE.(jpg|png|webp)\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::string bytes;
    if (in) bytes.assign(std::istreambuf_iterator<char>(in), {});
    const auto format = gallery::catalog::sniff_format(bytes);
    if (!format) {
        std::fprintf(stderr, "compress_bench: cannot read an image from %s\n", argv[1]);
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    gallery::imaging::EncodeAdmission admission({});
    auto result = gallery::imaging::compress_upload({bytes, *format}, {}, admission);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    if (!result) {
        std::fprintf(stderr, "compress_bench: %s\n", result.error().message.c_str());
        return 1;
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("%.3f %.1f %zu %d %d\n", seconds.count(),
                static_cast<double>(usage.ru_maxrss) / 1024.0,
                *result ? (*result)->bytes.size() : bytes.size(), *result ? 1 : 0,
                *result ? (*result)->quality : 0);
}
