#include "imaging/jpeg_exif.hpp"

#include <cstring>

namespace gallery::imaging {

int exif_orientation(std::span<const std::uint8_t> app1) {
    constexpr std::uint8_t k_exif[] = {'E', 'x', 'i', 'f', 0, 0};
    if (app1.size() < sizeof k_exif + 8 || std::memcmp(app1.data(), k_exif, sizeof k_exif) != 0)
        return 1;
    const std::span<const std::uint8_t> tiff = app1.subspan(sizeof k_exif);
    bool little_endian = false;
    if (tiff[0] == 'I' && tiff[1] == 'I') {
        little_endian = true;
    } else if (!(tiff[0] == 'M' && tiff[1] == 'M')) {
        return 1;
    }
    const auto read16 = [&](std::size_t at) -> std::uint32_t {
        return little_endian ? tiff[at] | tiff[at + 1] << 8 : tiff[at] << 8 | tiff[at + 1];
    };
    const auto read32 = [&](std::size_t at) -> std::uint32_t {
        return little_endian ? read16(at) | read16(at + 2) << 16
                             : read16(at) << 16 | read16(at + 2);
    };
    if (read16(2) != 42) return 1;
    const std::size_t directory = read32(4);
    if (directory > tiff.size() - 2) return 1;
    const std::size_t entries = read16(directory);
    constexpr std::uint32_t k_orientation_tag = 0x0112;
    constexpr std::uint32_t k_type_short = 3;
    for (std::size_t i = 0; i < entries; ++i) {
        const std::size_t entry = directory + 2 + i * 12;
        if (entry > tiff.size() - 12) return 1;
        if (read16(entry) != k_orientation_tag) continue;
        if (read16(entry + 2) != k_type_short || read32(entry + 4) != 1) return 1;
        const std::uint32_t value = read16(entry + 8);
        return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
    return 1;
}

}  // namespace gallery::imaging
