#pragma once
// JPEG re-encoding without going back to pixels: the upload's DCT coefficients are
// read once (entropy decoding only) and each quality is written by requantising
// them to that quality's tables, with optimised Huffman coding. Same format,
// dimensions and chroma subsampling; no metadata is written. libjpeg-turbo does the
// reading and writing (the jpegtran way); only the requantisation is ours.

#include <memory>
#include <string>
#include <string_view>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

class JpegCoefficients {
  public:
    // A truncated or corrupt JPEG is an invalid_input error naming libjpeg's reason.
    // `jpeg` must outlive the object.
    static Result<std::unique_ptr<JpegCoefficients>> read(std::string_view jpeg);
    ~JpegCoefficients();
    JpegCoefficients(const JpegCoefficients&) = delete;
    JpegCoefficients& operator=(const JpegCoefficients&) = delete;

    // The image at `quality` (1..100, libjpeg's scale of the standard tables). Not
    // for concurrent calls on one object.
    Result<std::string> encode(int quality);

    struct State;  // libjpeg's structures, defined in the .cpp

  private:
    explicit JpegCoefficients(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

}  // namespace gallery::imaging
