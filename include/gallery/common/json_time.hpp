#pragma once
// A time that may be absent, as JSON: its ISO-8601 text or null (API and --json).

#include <nlohmann/json.hpp>
#include <optional>

#include "gallery/common/time.hpp"

namespace gallery {

inline nlohmann::json time_or_null(const std::optional<UnixMicros>& time) {
    return time ? nlohmann::json(to_iso8601(*time)) : nlohmann::json(nullptr);
}

}  // namespace gallery
