#include "admin/sessions.hpp"

#include <utility>

#include "gallery/common/random.hpp"

namespace gallery::admin {

std::string Sessions::create() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(m_mutex);
    std::erase_if(m_sessions, [&](const auto& entry) { return entry.second.expires <= now; });
    std::string token = random_hex(32);
    m_sessions[token] = Session{random_hex(32), now + k_lifetime, {}};
    return token;
}

std::optional<Session> Sessions::find(const std::string& token) {
    if (token.empty()) return std::nullopt;
    std::lock_guard lock(m_mutex);
    const auto found = m_sessions.find(token);
    if (found == m_sessions.end()) return std::nullopt;
    if (found->second.expires <= std::chrono::steady_clock::now()) {
        m_sessions.erase(found);
        return std::nullopt;
    }
    return found->second;
}

void Sessions::destroy(const std::string& token) {
    std::lock_guard lock(m_mutex);
    m_sessions.erase(token);
}

void Sessions::set_flash(const std::string& token, std::string message) {
    std::lock_guard lock(m_mutex);
    if (auto found = m_sessions.find(token); found != m_sessions.end())
        found->second.flash = std::move(message);
}

std::string Sessions::take_flash(const std::string& token) {
    std::lock_guard lock(m_mutex);
    auto found = m_sessions.find(token);
    if (found == m_sessions.end()) return {};
    return std::exchange(found->second.flash, {});
}

std::string cookie_value(const std::string& header, const std::string& name) {
    std::size_t position = 0;
    while (position < header.size()) {
        std::size_t end = header.find(';', position);
        if (end == std::string::npos) end = header.size();
        std::string pair = header.substr(position, end - position);
        const auto first = pair.find_first_not_of(' ');
        if (first != std::string::npos) pair.erase(0, first);
        if (pair.starts_with(name + "=")) return pair.substr(name.size() + 1);
        position = end + 1;
    }
    return {};
}

}  // namespace gallery::admin
