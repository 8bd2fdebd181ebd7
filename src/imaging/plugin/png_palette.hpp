#pragma once
// PNG colour reduction: libimagequant picks the palette, libspng writes the
// indexed PNG (libvips' own palette writer only offers 2^bitdepth colours).

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

// An 8-bit RGBA image held in memory (not owned), rows packed.
struct RgbaPixels {
    std::span<const std::uint8_t> bytes;
    int width = 0;
    int height = 0;
};

// Encodes one image as indexed PNGs of given colour counts. The histogram is built
// and pixels are remapped in strips of rows, so the working memory beyond the
// pixels and the index map stays a few megabytes whatever the image size.
class PaletteEncoder {
  public:
    // `pixels` must outlive the encoder.
    static Result<PaletteEncoder> create(const RgbaPixels& pixels);
    PaletteEncoder(PaletteEncoder&&) noexcept;
    ~PaletteEncoder();

    // Quantises to at most `colours` (2..256), without dithering (as Pillow's
    // quantize), and deflates at level 9. Safe to call from several threads.
    Result<std::string> encode(int colours) const;

  private:
    struct State;
    explicit PaletteEncoder(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

}  // namespace gallery::imaging
