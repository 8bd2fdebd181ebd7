#pragma once
// JPEG re-encoding without going back to pixels: the upload's DCT coefficients are
// read once (entropy decoding only) and each quality is written by requantising
// them to that quality's tables, with optimised Huffman coding. Same dimensions,
// components and chroma subsampling; no metadata is written. libjpeg-turbo reads
// and writes (the jpegtran way); the requantisation and the size bound are ours.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

// A progressive JPEG has about 10 scans; each one makes a decoder walk the whole
// image again, so thousands of (empty) scans cost minutes. libjpeg-turbo suggests
// a limit like this one for untrusted input.
inline constexpr std::size_t k_max_jpeg_scans = 500;

// The scans (SOS segments) of a JPEG, counted by walking its markers without
// decoding: the pixel path (libvips) checks this before it decodes.
std::size_t count_jpeg_scans(std::string_view jpeg);

class JpegCoefficients {
  public:
    // Reads the header only. Not a JPEG: an invalid_input error naming libjpeg's
    // reason. `jpeg` must outlive the object.
    static Result<std::unique_ptr<JpegCoefficients>> open(std::string_view jpeg);
    ~JpegCoefficients();
    JpegCoefficients(const JpegCoefficients&) = delete;
    JpegCoefficients& operator=(const JpegCoefficients&) = delete;

    std::uint64_t width() const;
    std::uint64_t height() const;
    int orientation() const;  // EXIF, 1..8; 1 when absent
    // What read_coefficients() will hold: two bytes per coefficient, twice.
    std::uint64_t working_bytes() const;

    // Entropy-decodes the whole image (about 2 bytes per pixel and component, twice:
    // libjpeg's arrays and an intact copy). Truncated or corrupt, more than
    // k_max_jpeg_scans scans, or still reading at `deadline`: invalid_input.
    Result<void> read_coefficients(std::chrono::steady_clock::time_point deadline =
                                       std::chrono::steady_clock::time_point::max());

    // A number encode(quality) never goes below: the entropy of its AC symbols plus
    // their extra bits (no Huffman code beats the entropy; DC, tables and headers
    // only add). Costs a fraction of an encode, so a quality that cannot fit is
    // ruled out without writing it. After read_coefficients().
    std::uint64_t size_lower_bound(int quality) const;

    // The image at `quality` (1..100, libjpeg's scaling of the standard tables).
    // After read_coefficients(); not for concurrent calls on one object.
    Result<std::string> encode(int quality);

    struct State;  // libjpeg's structures, defined in the .cpp

  private:
    explicit JpegCoefficients(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

}  // namespace gallery::imaging
