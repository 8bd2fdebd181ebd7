#pragma once

#include <string>

namespace gallery::db {

// '%term%' for `LIKE ? ESCAPE '\'`, with LIKE's own wildcards escaped so they match literally.
inline std::string like_pattern(const std::string& term) {
    std::string pattern = "%";
    for (char c : term) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    return pattern + "%";
}

}  // namespace gallery::db
