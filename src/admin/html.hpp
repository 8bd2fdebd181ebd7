#pragma once
// HTML building blocks for the admin pages: escaping, the page frame, formatting.
// Everything is compiled in: no CDN, no build step, no third-party request.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gallery/api/http.hpp"
#include "gallery/common/text.hpp"
#include "gallery/common/time.hpp"

namespace gallery::admin {

// Escapes & < > " ' for text and attribute values.
std::string escape(std::string_view text);
std::string url_encode(std::string_view text);
// "?a=1&b=x" from the non-empty pairs (values encoded); "" when none.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs);
// Previous / "Page N of M" / Next links to `path` with `filters` kept in the query.
std::string pager(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& filters,
                  std::int64_t current_page, std::int64_t pages);

std::string format_time(UnixMicros time);           // "2026-11-27 17:45 UTC"
std::string format_duration(std::int64_t seconds);  // "3 h 12 min"

struct Frame {
    std::string title;
    std::string active;      // nav entry to highlight: dashboard, queue, images, clients
    std::string csrf_token;  // empty on the sign-in page (no nav, no sign-out)
    std::string flash;       // one-time message
};

// A complete HTML page, with the headers every admin page carries (CSP, no caching).
api::Response page(int status, const Frame& frame, const std::string& body);
api::Response redirect(const std::string& location);
// An <option>, selected when `value` is `current`.
std::string select_option(const std::string& value, const std::string& label,
                          const std::string& current);
// A hidden CSRF field for a form.
std::string csrf_field(const std::string& token);

api::Response stylesheet();
api::Response script();

}  // namespace gallery::admin
