#include "gallery/api/http.hpp"

#include <algorithm>
#include <cctype>

namespace gallery::api {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string form_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](unsigned char x, unsigned char y) { return std::tolower(x) < std::tolower(y); });
}

std::optional<std::string> Request::header(std::string_view name) const {
    if (auto it = headers.find(name); it != headers.end()) return it->second;
    return std::nullopt;
}

std::optional<std::string> Request::query_value(std::string_view name) const {
    if (auto it = query.find(std::string(name)); it != query.end()) return it->second;
    return std::nullopt;
}

const FormPart* Request::part(std::string_view name) const {
    for (const FormPart& p : parts) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

void Response::set_header(const std::string& name, const std::string& value) {
    std::erase_if(headers, [&](const auto& header) {
        return !CaseInsensitiveLess{}(header.first, name) &&
               !CaseInsensitiveLess{}(name, header.first);
    });
    headers.emplace_back(name, value);
}

Response Response::json(int status, const nlohmann::json& value) {
    Response response;
    response.status = status;
    response.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

Response Response::error(int status, const std::string& message) {
    return json(status, {{"success", false}, {"error", message}});
}

std::multimap<std::string, std::string> parse_form(std::string_view body) {
    std::multimap<std::string, std::string> fields;
    while (!body.empty()) {
        const std::size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        fields.emplace(form_decode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1)));
    }
    return fields;
}

int http_status_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return 400;
        case ErrorKind::not_found:
            return 404;
        case ErrorKind::overloaded:
        case ErrorKind::database_unavailable:
        case ErrorKind::storage_transient:
        case ErrorKind::storage_permanent:
        case ErrorKind::io:
        case ErrorKind::disk_full:
            return 503;
        case ErrorKind::database:
        case ErrorKind::system:
            break;
    }
    return 500;
}

void add_retry_after(Response& response, const Error& error) {
    if (response.status != 503) return;
    const auto after = error.retry_after.value_or(std::chrono::seconds{5});
    response.headers.emplace_back("Retry-After", std::to_string(after.count()));
}

}  // namespace gallery::api
