#include "gallery/common/random.hpp"
#include "gallery/common/text.hpp"

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

std::string hex_of(const unsigned char* data, std::size_t size) {
    return to_hex(std::string_view(reinterpret_cast<const char*>(data), size));
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> data(bytes);
    fill_random(data.data(), data.size());
    return hex_of(data.data(), data.size());
}

std::string uuid4() {
    std::array<unsigned char, 16> data{};
    fill_random(data.data(), data.size());
    data[6] = static_cast<unsigned char>((data[6] & 0x0f) | 0x40);  // version 4
    data[8] = static_cast<unsigned char>((data[8] & 0x3f) | 0x80);  // RFC 4122 variant
    const std::string hex = hex_of(data.data(), data.size());
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace gallery
