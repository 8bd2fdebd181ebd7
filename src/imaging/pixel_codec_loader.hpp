#pragma once
// Loads the libvips plugin carried inside the binary (plugin/pixel_codec.hpp) on
// the first call, once per process.

#include "gallery/common/error.hpp"
#include "imaging/plugin/pixel_codec.hpp"

namespace gallery::imaging {

// The plugin's entry points, or an io error naming what failed (libvips missing
// from the system, no memfd and no writable temporary folder). A failure is
// remembered: the process does not retry.
Result<const PixelCodec*> pixel_codec();

}  // namespace gallery::imaging
