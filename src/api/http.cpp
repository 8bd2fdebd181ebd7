#include "gallery/api/http.hpp"

#include <algorithm>
#include <cctype>

namespace gallery::api {

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

}  // namespace gallery::api
