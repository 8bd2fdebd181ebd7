#pragma once
// Route plumbing shared by the admin page files: a handler runs only with a live
// session, and a POST only with that session's CSRF token and a same-origin Origin.

#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/html.hpp"
#include "admin/sessions.hpp"
#include "gallery/api/api.hpp"

namespace gallery::admin {

struct AdminRequest {
    const api::Request& request;
    std::string token;
    Session session;
    Sessions& sessions;
    // A POST's form fields, from its body only (a GET's fields are its query).
    std::multimap<std::string, std::string> form;

    Frame frame(std::string title, std::string active) const;
    // A form field or query parameter ("" when absent).
    std::string field(const std::string& name) const;
    std::vector<std::string> fields(const std::string& name) const;
    // Flash `message` and redirect (the POST-redirect-GET pattern).
    api::Response done(const std::string& message, const std::string& location) const;
};

using AdminHandler = std::function<api::Response(AdminRequest&)>;

class AdminRoutes {
  public:
    AdminRoutes(api::Router& router, api::ApiContext& context, std::shared_ptr<Sessions> sessions)
        : m_router(router), m_context(context), m_sessions(std::move(sessions)) {}

    void get(const std::string& pattern, AdminHandler handler);
    void post(const std::string& pattern, AdminHandler handler);
    api::ApiContext& context() { return m_context; }

  private:
    api::Router& m_router;
    api::ApiContext& m_context;
    std::shared_ptr<Sessions> m_sessions;
};

// The "page" parameter: 1 when absent, not a number, or below 1.
std::int64_t page_number(const AdminRequest& request);

// Up to 1000 row ids from the "id" fields; nullopt when one is not a number.
std::optional<std::vector<std::int64_t>> selected_ids(const AdminRequest& request);

// The "q" field as a search term ("" when absent), or a 400 page with the sentence of
// catalog::search_problem.
std::expected<std::string, api::Response> search_field(AdminRequest& request);

// Logs the database error; the page says only that it happened.
api::Response database_failure(AdminRequest& request, const Error& error);

void add_dashboard_page(AdminRoutes& routes);
void add_queue_pages(AdminRoutes& routes);
void add_image_pages(AdminRoutes& routes);
void add_client_pages(AdminRoutes& routes);
void add_deleted_pages(AdminRoutes& routes);

}  // namespace gallery::admin
