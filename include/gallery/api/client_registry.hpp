#pragma once
// The registered client ids, fetched from a configured URL returning
// {"client_ids": [...]}, compared trimmed and upper-cased, cached for a while.
// With no URL, or when the fetch fails (logged), every client id is accepted.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "gallery/common/time.hpp"

namespace gallery::api {

class ClientRegistry {
  public:
    // `fetch` returns the body of the URL or nullopt on failure; the default uses HTTP.
    using Fetch = std::function<std::optional<std::string>(const std::string& url)>;

    ClientRegistry(std::string url, Clock clock, Fetch fetch = {});

    // True when the id is registered, or when no list is available.
    bool accepts(const std::string& client_id);

  private:
    std::optional<std::set<std::string>> current_list();

    std::string m_url;
    Clock m_clock;
    Fetch m_fetch;
    std::mutex m_mutex;
    std::optional<std::set<std::string>> m_list;
    UnixMicros m_fetched_at = 0;
    bool m_fetched = false;
};

// "  ab-1 " -> "AB-1"
std::string normalize_client_id(const std::string& client_id);

// GET over HTTP(S) with short timeouts; nullopt on any failure (logged).
std::optional<std::string> http_get(const std::string& url);

}  // namespace gallery::api
