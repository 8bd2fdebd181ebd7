#include "gallery/api/client_registry.hpp"

#include <nlohmann/json.hpp>

#include "gallery/common/log.hpp"
#include "gallery/net/http_client.hpp"

namespace gallery::api {
namespace {

constexpr UnixMicros k_cache_for = 5 * 60 * k_micros_per_second;
// After a failed fetch, try again sooner than the cache period, but not on every request.
constexpr UnixMicros k_retry_failed_after = 30 * k_micros_per_second;

}  // namespace

std::string normalize_client_id(const std::string& client_id) {
    const std::size_t first = client_id.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    const std::size_t last = client_id.find_last_not_of(" \t\r\n");
    std::string id = client_id.substr(first, last - first + 1);
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
}

std::optional<std::string> http_get(const std::string& url) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
        log::warn("client ids: the URL '" + url + "' is not an http(s) URL");
        return std::nullopt;
    }
    net::HttpClient client({.connect = std::chrono::seconds(3), .total = std::chrono::seconds(6)});
    net::HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.follow_redirects = true;
    auto response = client.perform(request);
    if (!response) {
        log::warn("client ids: fetching " + url + " failed: " + response.error().message);
        return std::nullopt;
    }
    if (response->status != 200) {
        log::warn("client ids: fetching " + url + " answered HTTP " +
                  std::to_string(response->status));
        return std::nullopt;
    }
    return response->body;
}

ClientRegistry::ClientRegistry(std::string url, Clock clock, Fetch fetch)
    : m_url(std::move(url)),
      m_clock(std::move(clock)),
      m_fetch(fetch ? std::move(fetch) : Fetch(http_get)) {}

std::optional<std::set<std::string>> ClientRegistry::current_list() {
    if (m_url.empty()) return std::nullopt;
    std::lock_guard lock(m_mutex);
    const UnixMicros now = m_clock();
    const UnixMicros max_age = m_list ? k_cache_for : k_retry_failed_after;
    if (m_fetched && now - m_fetched_at < max_age) return m_list;

    m_fetched = true;
    m_fetched_at = now;
    m_list.reset();
    const auto body = m_fetch(m_url);
    if (!body) {
        log::warn("client ids: list unavailable; accepting every client id for now");
        return m_list;
    }
    const auto parsed = nlohmann::json::parse(*body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("client_ids") ||
        !parsed["client_ids"].is_array()) {
        log::warn("client ids: " + m_url +
                  " did not answer {\"client_ids\": [...]}; accepting every client id for now");
        return m_list;
    }
    std::set<std::string> ids;
    for (const auto& id : parsed["client_ids"]) {
        if (id.is_string()) ids.insert(normalize_client_id(id.get<std::string>()));
    }
    m_list = std::move(ids);
    return m_list;
}

bool ClientRegistry::accepts(const std::string& client_id) {
    const auto list = current_list();
    return !list || list->contains(normalize_client_id(client_id));
}

}  // namespace gallery::api
