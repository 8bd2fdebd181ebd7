#pragma once
// Small text helpers used across modules (one copy of each).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gallery {

// ASCII lower case; other bytes unchanged (header names, extensions, settings).
std::string to_lower(std::string_view text);

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

// Whether `text` is UTF-8: no overlong forms, surrogates or values past U+10FFFF.
bool is_valid_utf8(std::string_view text);

// Characters of UTF-8 text: the bytes that start one (continuation bytes do not).
std::size_t utf8_length(std::string_view text);

// `text` fit for a terminal: control characters (C0, DEL and C1, the latter as UTF-8)
// and bytes that are not UTF-8 become \xNN escapes, and a backslash becomes \\, so a
// client id or key can never move the cursor, recolour or retitle the terminal.
std::string printable(std::string_view text);

// Lower-case hex of raw bytes.
std::string to_hex(std::string_view bytes);

// A byte count for people, in binary units: "512 B", "1.4 KiB", "3.0 MiB".
std::string format_bytes(std::uint64_t bytes);

// A database URL fit for a message: the password of `scheme://user:password@host`
// and the value of every `password=` (a URI parameter or a libpq key=value pair)
// become "****".
std::string redact_url(std::string_view url);

}  // namespace gallery
