#include "gallery/common/random.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace gallery {
namespace {

void fill_random(unsigned char* out, std::size_t size) {
    if (RAND_bytes(out, static_cast<int>(size)) != 1)
        throw std::runtime_error("the system random source failed");
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    constexpr char k_digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        hex += k_digits[data[i] >> 4];
        hex += k_digits[data[i] & 0x0f];
    }
    return hex;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> data(bytes);
    fill_random(data.data(), data.size());
    return to_hex(data.data(), data.size());
}

std::string uuid4() {
    std::array<unsigned char, 16> data{};
    fill_random(data.data(), data.size());
    data[6] = static_cast<unsigned char>((data[6] & 0x0f) | 0x40);  // version 4
    data[8] = static_cast<unsigned char>((data[8] & 0x3f) | 0x80);  // RFC 4122 variant
    const std::string hex = to_hex(data.data(), data.size());
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace gallery
