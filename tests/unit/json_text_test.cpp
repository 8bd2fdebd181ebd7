#include "api/json_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "api/support.hpp"

using namespace gallery;

namespace {

std::string dumped(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

TEST_CASE("the list's JSON text is byte for byte what nlohmann writes for the same image") {
    std::mt19937 random{20261207};
    // Every byte value, valid multi-byte UTF-8, and broken sequences; and plain runs
    // longer than a word, so an escape falls at every offset of the 8 bytes the writer
    // tests at once.
    const std::vector<std::string> pieces{"photo_2026",
                                          "images/0123456789abcdef.jpg",
                                          "a",
                                          "Z",
                                          " ",
                                          "\"",
                                          "\\",
                                          "/",
                                          "\b",
                                          "\f",
                                          "\n",
                                          "\r",
                                          "\t",
                                          "\x01",
                                          "\x1f",
                                          "\x7f",
                                          "\xC3\xA9",
                                          "\xE2\x82\xAC",
                                          "\xF0\x9F\x98\x80",
                                          "\xC3",
                                          "\xFF",
                                          "\xE2\x82",
                                          "\xED\xA0\x80"};
    const auto some_text = [&](bool valid_only) {
        std::string text;
        for (int n = std::uniform_int_distribution<int>(0, 12)(random); n > 0; --n) {
            const std::size_t pick = std::uniform_int_distribution<std::size_t>(
                0, pieces.size() - (valid_only ? 5 : 1))(random);
            text += pieces[pick];
        }
        // Every ASCII byte (valid UTF-8: the writer's own escaping runs), and in the
        // texts that may be invalid, the bytes above (nlohmann's replacement runs).
        if (std::uniform_int_distribution<int>(0, 3)(random) == 0) {
            for (int b = 0; b < 128; ++b) text += static_cast<char>(b);
        }
        if (!valid_only && std::uniform_int_distribution<int>(0, 7)(random) == 0) {
            for (int b = 128; b < 256; ++b) text += static_cast<char>(b);
        }
        return text;
    };
    std::string ascii;
    for (int b = 0; b < 128; ++b) ascii += static_cast<char>(b);
    std::string all_ascii;
    api::json_text::append_string(all_ascii, ascii);
    CHECK(all_ascii == dumped(nlohmann::json(ascii)));
    for (int round = 0; round < 2000; ++round) {
        catalog::Image image;
        image.id = std::uniform_int_distribution<std::int64_t>(1, 1LL << 62)(random);
        image.filename = some_text(true);
        image.storage_key = "images/" + some_text(true);
        image.original_filename = some_text(false);
        image.client_id = some_text(false);
        if (round % 3) image.name = some_text(false);
        if (round % 5) image.description = some_text(false);
        image.size = std::uniform_int_distribution<std::uint64_t>(0, ~0ULL)(random);
        image.uploaded_at =
            std::uniform_int_distribution<std::int64_t>(0, 4'102'444'800'000'000)(random);
        // Variants in an order that is not their names' (nlohmann sorts members).
        api::ImageLinks links{"/media/" + some_text(false), {}};
        const std::vector<std::string> names{"thumb", "medium", "a-1", "z_2"};
        for (int v = 0; v < round % 5; ++v)
            links.variants.emplace_back(names[static_cast<std::size_t>(v)],
                                        "/media/variants/" + some_text(false));
        std::string written;
        api::json_text::append_image(written, image, links);
        CAPTURE(round);
        REQUIRE(written == dumped(api::image_json(image, links)));
        const std::string text = some_text(false);
        std::string as_string;
        api::json_text::append_string(as_string, text);
        REQUIRE(as_string == dumped(nlohmann::json(text)));
    }
}
