#pragma once
// Admin sign-in sessions, held in memory (a restart signs everyone out). A session
// is a 256-bit random token in an HttpOnly, SameSite=Strict cookie, plus a second
// random token that every state-changing form must echo (CSRF).

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace gallery::admin {

struct Session {
    std::string csrf_token;
    std::chrono::steady_clock::time_point expires;
    std::string flash;  // a one-time message shown on the next page
};

class Sessions {
  public:
    static constexpr std::chrono::hours k_lifetime{12};
    static constexpr const char* k_cookie = "gallery_admin";

    // Returns the new session's token.
    std::string create();
    // A copy of the live session for `token`, if any.
    std::optional<Session> find(const std::string& token);
    void destroy(const std::string& token);
    void set_flash(const std::string& token, std::string message);
    std::string take_flash(const std::string& token);

  private:
    std::mutex m_mutex;
    std::map<std::string, Session> m_sessions;
};

// The value of cookie `name` in a Cookie header, or empty.
std::string cookie_value(const std::string& header, const std::string& name);

}  // namespace gallery::admin
