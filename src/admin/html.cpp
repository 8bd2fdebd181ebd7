#include "admin/html.hpp"

#include <cstdio>

namespace gallery::admin {
namespace {

constexpr const char* k_css = R"CSS(
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; --accent: #0b57d0;
  --danger: #b3261e; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; }
header { background: var(--ink); color: #fff; padding: .6rem 1rem; display: flex;
  flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; }
header strong { margin-right: .5rem; }
header a { color: #fff; text-decoration: none; padding: .2rem .1rem; }
header a[aria-current] { border-bottom: 2px solid #fff; }
header form { margin-left: auto; }
main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible {
  outline: 3px solid #ffb000; outline-offset: 2px; }
button, .button { font: inherit; padding: .4rem .8rem; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; border-radius: 6px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
header button { background: transparent; border-color: #fff; }
input, select { font: inherit; padding: .35rem .5rem; border: 1px solid var(--muted);
  border-radius: 6px; max-width: 100%; }
label { display: inline-flex; flex-direction: column; gap: .15rem; font-size: .85rem;
  color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-end;
  margin-bottom: 1rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; }
.flash { background: #dafbe1; border: 1px solid var(--ok); padding: .6rem .8rem;
  border-radius: 6px; margin-bottom: 1rem; }
.error { background: #ffebe9; border: 1px solid var(--danger); padding: .6rem .8rem;
  border-radius: 6px; margin-bottom: 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
  gap: .8rem; margin-bottom: 1.5rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem;
  background: var(--bg); }
.card .value { font-size: 1.5rem; font-weight: 600; }
.card .label { color: var(--muted); font-size: .85rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
td.key { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
.state-dead { color: var(--danger); font-weight: 600; }
.state-leased { color: var(--accent); }
details summary { cursor: pointer; color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
  gap: .8rem; }
.tile { border: 1px solid var(--line); border-radius: 8px; overflow: hidden; background: var(--bg); }
.tile img { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; display: block; background: #ddd; }
.tile .meta { padding: .4rem .5rem; font-size: .85rem; word-break: break-all; }
.tile label { flex-direction: row; align-items: center; gap: .4rem; color: var(--ink); }
.muted { color: var(--muted); }
.pager { margin-top: 1rem; display: flex; gap: 1rem; }
.login { max-width: 22rem; margin: 4rem auto; }
.login input { width: 100%; }
@media (max-width: 40rem) { th.optional, td.optional { display: none; } main { padding: .6rem; } }
)CSS";

// Select-all checkboxes and confirmation dialogs; the pages work without it.
constexpr const char* k_js = R"JS(
document.querySelectorAll('input[data-select-all]').forEach(function (box) {
  box.addEventListener('change', function () {
    document.querySelectorAll('input[name="id"][form="' + box.dataset.selectAll + '"]')
      .forEach(function (item) { item.checked = box.checked; });
  });
});
document.querySelectorAll('button[data-confirm]').forEach(function (button) {
  button.addEventListener('click', function (event) {
    if (!window.confirm(button.dataset.confirm)) event.preventDefault();
  });
});
)JS";

api::Response static_asset(const char* content_type, const char* body) {
    api::Response response;
    response.content_type = content_type;
    response.body = body;
    response.headers.emplace_back("Cache-Control", "max-age=300");
    return response;
}

std::string nav_link(const Frame& frame, const char* id, const char* href, const char* label) {
    const bool current = frame.active == id;
    return std::string("<a href=\"") + href + "\"" + (current ? " aria-current=\"page\"" : "") +
           ">" + label + "</a>";
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::string out;
    for (const auto& [name, value] : pairs) {
        if (value.empty()) continue;
        out += (out.empty() ? "?" : "&") + name + "=" + url_encode(value);
    }
    return out;
}

std::string format_time(UnixMicros time) {
    const std::string iso = to_iso8601(time);  // 2026-11-27T17:45:19.123456+00:00
    return iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
}

std::string format_duration(std::int64_t seconds) {
    if (seconds < 60) return std::to_string(std::max<std::int64_t>(seconds, 0)) + " s";
    if (seconds < 3600) return std::to_string(seconds / 60) + " min";
    if (seconds < 86400)
        return std::to_string(seconds / 3600) + " h " + std::to_string(seconds % 3600 / 60) +
               " min";
    return std::to_string(seconds / 86400) + " d " + std::to_string(seconds % 86400 / 3600) + " h";
}

std::string pager(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& filters,
                  std::int64_t current_page, std::int64_t pages) {
    const auto link = [&](std::int64_t page, const char* rel, const char* label) {
        auto query = filters;
        query.emplace_back("page", std::to_string(page));
        return "<a href=\"" + path + query_string(query) + "\" rel=\"" + rel + "\">" + label +
               "</a>";
    };
    std::string html = "<nav class=\"pager\" aria-label=\"Pages\">";
    if (current_page > 1) html += link(current_page - 1, "prev", "Previous");
    html += "<span class=\"muted\">Page " + std::to_string(current_page) + " of " +
            std::to_string(std::max<std::int64_t>(pages, 1)) + "</span>";
    if (current_page < pages) html += link(current_page + 1, "next", "Next");
    return html + "</nav>";
}

std::string select_option(const std::string& value, const std::string& label,
                          const std::string& current) {
    return "<option value=\"" + escape(value) + "\"" + (value == current ? " selected" : "") + ">" +
           escape(label) + "</option>";
}

std::string csrf_field(const std::string& token) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(token) + "\">";
}

api::Response page(int status, const Frame& frame, const std::string& body) {
    std::string html =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" +
        escape(frame.title) +
        " · gallery admin</title><link rel=\"stylesheet\" href=\"/admin/static/admin.css\">"
        "</head><body><header><strong>gallery admin</strong>";
    if (!frame.csrf_token.empty()) {
        html += "<nav aria-label=\"Admin\">" +
                nav_link(frame, "dashboard", "/admin/", "Dashboard") + " " +
                nav_link(frame, "queue", "/admin/queue", "Deletion queue") + " " +
                nav_link(frame, "images", "/admin/images", "Images") + " " +
                nav_link(frame, "clients", "/admin/clients", "Clients") + " " +
                nav_link(frame, "deleted", "/admin/deleted", "Recently deleted") +
                "</nav><form method=\"post\" action=\"/admin/logout\">" +
                csrf_field(frame.csrf_token) + "<button type=\"submit\">Sign out</button></form>";
    }
    html += "</header><main>";
    if (!frame.flash.empty())
        html += "<p class=\"flash\" role=\"status\">" + escape(frame.flash) + "</p>";
    html += body + "</main><script src=\"/admin/static/admin.js\"></script></body></html>";

    api::Response response;
    response.status = status;
    response.content_type = "text/html; charset=utf-8";
    response.body = std::move(html);
    // Thumbnails may come from the public bucket URL (https:); nothing else leaves the server.
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'self'; img-src 'self' https: data:; "
                                  "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
    return response;
}

api::Response redirect(const std::string& location) {
    api::Response response;
    response.status = 303;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "See " + location;
    response.headers.emplace_back("Location", location);
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

api::Response stylesheet() {
    return static_asset("text/css; charset=utf-8", k_css);
}
api::Response script() {
    return static_asset("text/javascript; charset=utf-8", k_js);
}

}  // namespace gallery::admin
