#include <catch2/catch.hpp>

#include "gallery/common/text.hpp"

using namespace gallery;

TEST_CASE("byte counts read in binary units, one decimal past a KiB") {
    CHECK(format_bytes(0) == "0 B");
    CHECK(format_bytes(1023) == "1023 B");
    CHECK(format_bytes(1024) == "1.0 KiB");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(5ull * 1024 * 1024) == "5.0 MiB");
    CHECK(format_bytes(3ull << 40) == "3.0 TiB");
    CHECK(format_bytes(UINT64_MAX) == "16384.0 PiB");  // the largest unit caps the division
}

TEST_CASE("lower case and case-insensitive equality touch ASCII letters only") {
    CHECK(to_lower("Content-Type: ÄB") ==
          "content-type: \xC3\x84"
          "b");
    CHECK(iequals("Client-A", "client-a"));
    CHECK_FALSE(iequals("client-a", "client-b"));
    CHECK_FALSE(iequals("abc", "abcd"));
}

TEST_CASE("hex is two lower-case digits per byte") {
    CHECK(to_hex(std::string_view("\x00\x0f\xa0\xff", 4)) == "000fa0ff");
    CHECK(to_hex("").empty());
}

TEST_CASE("printable escapes what a terminal would act on and keeps UTF-8 text") {
    CHECK(gallery::printable("shop-1") == "shop-1");
    CHECK(gallery::printable("\xC3\x89mile \xE2\x9C\x93") == "\xC3\x89mile \xE2\x9C\x93");
    CHECK(gallery::printable("a\r\nb") == "a\\x0d\\x0ab");
    CHECK(gallery::printable("\x1b[2J") == "\\x1b[2J");
    CHECK(gallery::printable(std::string_view("x\0y", 3)) == "x\\x00y");
    CHECK(gallery::printable("\x7f") == "\\x7f");
    // C1 controls (U+009B is a CSI on some terminals) and bytes that are not UTF-8.
    CHECK(gallery::printable("\xC2\x9B"
                             "2J") == "\\xc2\\x9b2J");
    CHECK(gallery::printable("\xFF\xC3") == "\\xff\\xc3");
    CHECK(gallery::printable("back\\slash") == "back\\\\slash");
}
