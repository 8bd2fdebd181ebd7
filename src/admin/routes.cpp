// Sign-in, sign-out, static assets and the session/CSRF guard of every admin page.

#include <atomic>
#include <charconv>
#include <thread>

#include "admin/guard.hpp"
#include "admin/sign_in_throttle.hpp"
#include "gallery/admin/admin.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/api/forwarded.hpp"
#include "gallery/api/http.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/log.hpp"

namespace gallery::admin {
namespace {

// A wrong password costs the caller this long. At most k_max_delayed_sign_ins
// requests wait at once, so guessing cannot hold every worker; the throttle before
// the check is what bounds the guesses.
constexpr std::chrono::seconds k_wrong_password_delay{1};
constexpr int k_max_delayed_sign_ins = 2;
std::atomic<int> g_delayed_sign_ins{0};
constexpr std::chrono::seconds k_failure_log_interval{10};

bool is_form(const api::Request& request) {
    return request.header("Content-Type")
        .value_or("")
        .starts_with("application/x-www-form-urlencoded");
}

// A POST's fields come from its body only: a password or CSRF token in a URL ends
// up in logs, histories and Referer headers.
std::multimap<std::string, std::string> post_fields(const api::Request& request) {
    return is_form(request) ? api::parse_form(request.body)
                            : std::multimap<std::string, std::string>{};
}

std::optional<std::string> first(const std::multimap<std::string, std::string>& fields,
                                 const std::string& name) {
    if (auto it = fields.find(name); it != fields.end()) return it->second;
    return std::nullopt;
}

std::string session_token(const api::Request& request) {
    return cookie_value(request.header("Cookie").value_or(""), Sessions::k_cookie);
}

// Secure when the browser reached us over HTTPS (a trusted proxy says so): the
// cookie is then never sent over plain HTTP.
std::string session_cookie(const std::string& token, std::chrono::seconds max_age, bool secure) {
    return std::string(Sessions::k_cookie) + "=" + token +
           "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count()) +
           (secure ? "; Secure" : "");
}

// A browser names the page a form came from; another site's page must not act here.
bool same_origin(const api::Request& request) {
    const auto origin = request.header("Origin");
    if (!origin || *origin == "null") return !origin.has_value();
    const auto host = request.header("Host").value_or("");
    return *origin == "http://" + host || *origin == "https://" + host;
}

api::Response refused(int status, const std::string& message) {
    return page(status, Frame{"Not allowed", "", "", ""},
                "<h1>Not allowed</h1><p class=\"error\">" + escape(message) +
                    "</p><p><a href=\"/admin/login\">Sign in</a></p>");
}

api::Response login_page(int status, const std::string& error) {
    std::string body =
        "<div class=\"login\"><h1>Sign in</h1>" +
        (error.empty() ? "" : "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>") +
        "<form method=\"post\" action=\"/admin/login\"><p><label>Password"
        "<input type=\"password\" name=\"password\" autocomplete=\"current-password\" required "
        "autofocus></label></p><p><button type=\"submit\">Sign in</button></p></form>"
        "<p class=\"muted\">The admin password, or the API key when none is set.</p></div>";
    return page(status, Frame{"Sign in", "", "", ""}, body);
}

}  // namespace

Frame AdminRequest::frame(std::string title, std::string active) const {
    return Frame{std::move(title), std::move(active), session.csrf_token,
                 sessions.take_flash(token)};
}

std::string AdminRequest::field(const std::string& name) const {
    const auto& source = request.method == "POST" ? form : request.query;
    return first(source, name).value_or("");
}

std::vector<std::string> AdminRequest::fields(const std::string& name) const {
    const auto& source = request.method == "POST" ? form : request.query;
    std::vector<std::string> values;
    auto [begin, end] = source.equal_range(name);
    for (auto it = begin; it != end; ++it) values.push_back(it->second);
    return values;
}

api::Response AdminRequest::done(const std::string& message, const std::string& location) const {
    sessions.set_flash(token, message);
    return redirect(location);
}

std::int64_t page_number(const AdminRequest& request) {
    const std::string text = request.field("page");
    std::int64_t page = 1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), page);
    if (error != std::errc{} || end != text.data() + text.size() || page < 1) return 1;
    return page;
}

std::optional<std::vector<std::int64_t>> selected_ids(const AdminRequest& request) {
    std::vector<std::int64_t> ids;
    for (const std::string& text : request.fields("id")) {
        std::int64_t id = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (error != std::errc{} || end != text.data() + text.size() || id <= 0)
            return std::nullopt;
        ids.push_back(id);
        if (ids.size() > 1000) return std::nullopt;
    }
    return ids;
}

std::expected<std::string, api::Response> search_field(AdminRequest& request) {
    std::string term = request.field("q");
    if (auto problem = catalog::search_problem(term)) {
        return std::unexpected(page(
            400, request.frame("Search", ""),
            "<h1>Search not understood</h1><p class=\"error\">The " + escape(*problem) + "</p>"));
    }
    return term;
}

api::Response database_failure(AdminRequest& request, const Error& error) {
    log::error("admin: " + error.message);
    // The API's status for the error (api::http_status_for), as an HTML page.
    api::Response answer =
        page(api::http_status_for(error.kind), request.frame("Error", ""),
             "<h1>Something went wrong</h1><p class=\"error\">The database could not be used; "
             "the server log has the details. Nothing was changed.</p>");
    api::add_retry_after(answer, error);
    return answer;
}

void AdminRoutes::get(const std::string& pattern, AdminHandler handler) {
    m_router.add("GET", pattern, [sessions = m_sessions, handler](const api::Request& request) {
        const std::string token = session_token(request);
        auto session = sessions->find(token);
        if (!session) return redirect("/admin/login");
        AdminRequest admin{request, token, *session, *sessions, {}};
        return handler(admin);
    });
}

void AdminRoutes::post(const std::string& pattern, AdminHandler handler) {
    m_router.add("POST", pattern, [sessions = m_sessions, handler](const api::Request& request) {
        const std::string token = session_token(request);
        auto session = sessions->find(token);
        if (!session) return refused(403, "Your session is missing or has expired: sign in again.");
        if (!same_origin(request)) return refused(403, "This form was sent from another site.");
        auto form = post_fields(request);
        const auto csrf = first(form, "csrf");
        if (!csrf || !api::api_key_matches(session->csrf_token, *csrf))
            return refused(403,
                           "This form is stale or forged (CSRF token mismatch): reload the page.");
        AdminRequest admin{request, token, *session, *sessions, std::move(form)};
        return handler(admin);
    });
}

void add_admin_routes(api::Router& router, api::ApiContext& context) {
    auto sessions = std::make_shared<Sessions>();
    auto throttle = std::make_shared<SignInThrottle>();
    auto failures = std::make_shared<FailureLog>(k_failure_log_interval);
    router.add("GET", "/admin/static/admin.css", [](const api::Request&) { return stylesheet(); });
    router.add("GET", "/admin/static/admin.js", [](const api::Request&) { return script(); });
    router.add("GET", "/admin/login", [sessions](const api::Request& request) {
        if (sessions->find(session_token(request))) return redirect("/admin/");
        return login_page(200, "");
    });
    router.add(
        "POST", "/admin/login",
        [sessions, throttle, failures, &context](const api::Request& request) {
            // Another site's page must not sign a browser in (login CSRF).
            if (!same_origin(request)) return refused(403, "This form was sent from another site.");
            const auto now = SignInThrottle::Clock::now();
            const std::string address = api::client_address(request, context.config);
            if (!throttle->try_check(address, now)) {
                failures->refused(now);
                return login_page(429, "Too many sign-in attempts; wait a few seconds.");
            }
            const std::string& expected = context.config.admin_password.empty()
                                              ? context.api_key
                                              : context.config.admin_password;
            const std::string given = first(post_fields(request), "password").value_or("");
            if (given.empty() || !api::api_key_matches(expected, given)) {
                failures->wrong_password(address, now);
                if (g_delayed_sign_ins.fetch_add(1) < k_max_delayed_sign_ins) {
                    std::this_thread::sleep_for(k_wrong_password_delay);
                }
                --g_delayed_sign_ins;
                return login_page(401, "Wrong password.");
            }
            const std::string token = sessions->create();
            api::Response response = redirect("/admin/");
            response.headers.emplace_back(
                "Set-Cookie",
                session_cookie(
                    token, std::chrono::duration_cast<std::chrono::seconds>(Sessions::k_lifetime),
                    api::came_over_https(request, context.config)));
            return response;
        });

    AdminRoutes routes(router, context, sessions);
    routes.post("/admin/logout", [&context](AdminRequest& request) {
        request.sessions.destroy(request.token);
        api::Response response = redirect("/admin/login");
        response.headers.emplace_back(
            "Set-Cookie", session_cookie("", std::chrono::seconds{0},
                                         api::came_over_https(request.request, context.config)));
        return response;
    });
    add_dashboard_page(routes);
    add_queue_pages(routes);
    add_image_pages(routes);
    add_client_pages(routes);
    add_deleted_pages(routes);
}

}  // namespace gallery::admin
