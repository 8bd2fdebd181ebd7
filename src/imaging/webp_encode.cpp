#include "imaging/webp_encode.hpp"

#include <webp/encode.h>

#include <memory>
#include <vector>

namespace gallery::imaging {
namespace {

struct WebPBytesDeleter {
    void operator()(std::uint8_t* bytes) const { WebPFree(bytes); }
};

}  // namespace

Result<std::string> encode_webp(std::span<const std::uint8_t> pixels, int width, int height,
                                int components, int quality) {
    // WebP has no grey mode: grey is written as RGB with equal channels.
    std::vector<std::uint8_t> rgb;
    if (components == 1) {
        rgb.reserve(pixels.size() * 3);
        for (const std::uint8_t grey : pixels) rgb.insert(rgb.end(), {grey, grey, grey});
        pixels = rgb;
    }
    std::uint8_t* output = nullptr;
    const std::size_t size = WebPEncodeRGB(pixels.data(), width, height, width * 3,
                                           static_cast<float>(quality), &output);
    const std::unique_ptr<std::uint8_t, WebPBytesDeleter> owned(output);
    if (size == 0)
        return fail(ErrorKind::invalid_input, "The thumbnail could not be encoded as WebP.");
    return std::string(reinterpret_cast<const char*>(owned.get()), size);
}

}  // namespace gallery::imaging
