#pragma once
// JSON written straight into a string for the list answer, the busiest route: no
// tree of nlohmann::json objects per image (building and freeing them was serve's
// largest CPU under a list load, issue 40). The bytes are exactly those nlohmann's
// dump(-1, ' ', false, replace) writes for the same values, keys in its sorted order;
// tests/unit/json_text_test.cpp compares the two.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gallery/catalog/catalog.hpp"

namespace gallery::api {

// An image's URLs in an API answer: its own, and its variants' (issue 41), in the
// configuration's order (the first is thumbnail_url).
struct ImageLinks {
    std::string url;
    std::vector<std::pair<std::string, std::string>> variants;  // name, URL
};

}  // namespace gallery::api

namespace gallery::api::json_text {

// `text` as a JSON string: quoted, `"` `\` and control characters escaped as nlohmann
// escapes them, other characters as they are; invalid UTF-8 replaced by U+FFFD as
// nlohmann's error_handler_t::replace does.
void append_string(std::string& out, std::string_view text);

// The image as image_json writes it, with `links` as its URLs.
void append_image(std::string& out, const catalog::Image& image, const ImageLinks& links);

}  // namespace gallery::api::json_text
