#include "gallery/storage/storage.hpp"

namespace gallery::storage {

namespace {
constexpr std::size_t k_max_key_bytes = 1024;

Result<void> refuse(std::string_view key, std::string_view why) {
    std::string shown(key.substr(0, 200));
    for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return fail(ErrorKind::invalid_input,
                "invalid storage key '" + shown + "': " + std::string(why));
}
}  // namespace

Result<void> check_portable_key(std::string_view key) {
    if (key.empty()) return refuse(key, "it is empty");
    if (key.size() > k_max_key_bytes) return refuse(key, "it is longer than 1024 bytes");
    for (char c : key) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) return refuse(key, "it contains a control character");
        if (c == '\\') return refuse(key, "it contains a backslash");
    }
    if (key.front() == '/') return refuse(key, "it is an absolute path");
    for (const std::string_view segment : key_segments(key)) {
        if (segment.empty()) return refuse(key, "it has an empty path segment");
        if (segment.front() == '.') return refuse(key, "a path segment starts with '.'");
    }
    return {};
}

std::vector<std::string_view> key_segments(std::string_view key) {
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= key.size()) {
        const std::size_t end = std::min(key.find('/', start), key.size());
        segments.push_back(key.substr(start, end - start));
        start = end + 1;
    }
    return segments;
}

}  // namespace gallery::storage
