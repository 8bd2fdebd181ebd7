#include "gallery/api/router.hpp"

#include <algorithm>

namespace gallery::api {
namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> segments;
    std::size_t start = 1;  // paths start with '/'
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        segments.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    // "/a/b/" and "/a/b" are the same path.
    if (!segments.empty() && segments.back().empty()) segments.pop_back();
    return segments;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
    m_routes.push_back(Route{method, split_path(pattern), false, {}, std::move(handler), pattern});
}

void Router::add_prefix(const std::string& method, const std::string& prefix, Handler handler) {
    m_routes.push_back(Route{method, {}, true, prefix, std::move(handler), prefix + "*"});
}

bool Router::matches(const Route& route, const std::string& path,
                     std::vector<std::string>* params) const {
    if (route.prefix)
        return path.size() > route.prefix_text.size() && path.starts_with(route.prefix_text);
    const std::vector<std::string> segments = split_path(path);
    if (segments.size() != route.segments.size()) return false;
    std::vector<std::string> found;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (route.segments[i] == "{}") {
            if (segments[i].empty()) return false;
            found.push_back(segments[i]);
        } else if (route.segments[i] != segments[i]) {
            return false;
        }
    }
    if (params) *params = std::move(found);
    return true;
}

std::vector<std::string> Router::allowed_methods(const std::string& path) const {
    std::vector<std::string> methods;
    for (const Route& route : m_routes) {
        if (matches(route, path, nullptr) &&
            std::ranges::find(methods, route.method) == methods.end()) {
            methods.push_back(route.method);
        }
    }
    return methods;
}

Response Router::dispatch(Request& request) const {
    // HEAD is answered by the GET handler (the transport drops the body).
    const std::string method = request.method == "HEAD" ? "GET" : request.method;
    for (const Route& route : m_routes) {
        if (route.method == method && matches(route, request.path, &request.path_params)) {
            request.route = route.pattern;
            return route.handler(request);
        }
    }
    const std::vector<std::string> allowed = allowed_methods(request.path);
    if (!allowed.empty()) {
        std::string allow;
        for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        Response response =
            Response::error(405, "Method " + request.method + " is not allowed on " + request.path +
                                     " (allowed: " + allow + ").");
        response.headers.emplace_back("Allow", allow);
        return response;
    }
    return Response::error(404, "Not found: " + request.path);
}

}  // namespace gallery::api
