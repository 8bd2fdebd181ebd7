#pragma once
// The one rule for "a live image references this key" (invariant 3: a live image's
// object is never deleted): an image row whose storage_key is the key. Written here
// once, for the statements that test it inside SQL; queue::keys_in_use asks it of
// keys in memory.

#include <string>
#include <string_view>

namespace gallery::queue {

// An SQL condition: true when a live image references `key_expression`.
inline std::string live_image_holds(std::string_view key_expression) {
    return "EXISTS (SELECT 1 FROM images WHERE images.storage_key = " +
           std::string(key_expression) + ")";
}

}  // namespace gallery::queue
