#pragma once
// Maps method + path to a handler. Paths match with or without a trailing slash;
// a known path with the wrong method answers 405; anything else under /api/ is a
// JSON 404. Routes are segment patterns: "/api/delete/{}/" ({} = one segment),
// or prefixes: "/media/" matches every path below it.

#include <functional>
#include <string>
#include <vector>

#include "gallery/api/http.hpp"

namespace gallery::api {

using Handler = std::function<Response(const Request&)>;

class Router {
  public:
    void add(const std::string& method, const std::string& pattern, Handler handler);
    void add_prefix(const std::string& method, const std::string& prefix, Handler handler);

    // Fills request.path_params for the matched route.
    Response dispatch(Request& request) const;

    // The methods a path accepts (empty when no route matches it), for 405 and CORS.
    std::vector<std::string> allowed_methods(const std::string& path) const;

  private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // "{}" matches any one non-empty segment
        bool prefix = false;
        std::string prefix_text;
        Handler handler;
        std::string pattern;
    };
    bool matches(const Route& route, const std::string& path,
                 std::vector<std::string>* params) const;

    std::vector<Route> m_routes;
};

}  // namespace gallery::api
