#pragma once
// gallery's one HTTP client (the S3 backend, the client-id list): one libcurl easy
// handle, so connections are reused. The only module that links libcurl.
// Not thread-safe: one per thread. Sends exactly the method, URL bytes (PATH_AS_IS)
// and headers given, never "Expect: 100-continue".

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gallery/common/error.hpp"

namespace gallery::net {

struct HttpRequest {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // Large transfers stream through files instead of memory. `body_file` (when set)
    // is sent as the body in place of `body`. `response_file` (when set) receives the
    // body of a 2xx answer; any other answer's body stays in HttpResponse::body, for
    // its error message. Either one replaces the total timeout by a stall limit: the
    // transfer fails when it moves under 1 KiB/s for the whole `total` period, so a
    // large file over a slow link is not cut off while it moves.
    std::filesystem::path body_file;
    std::filesystem::path response_file;
    // Follows 3xx answers (http and https only). Off for S3: a signed request is
    // answered where it was sent.
    bool follow_redirects = false;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;  // empty when a 2xx body went to HttpRequest::response_file
};

struct HttpTimeouts {
    std::chrono::milliseconds connect{5000};
    std::chrono::milliseconds total{60000};
};

class HttpClient {
  public:
    explicit HttpClient(HttpTimeouts timeouts);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // A transport failure (refused, reset, timeout) is Error{storage_transient}, the
    // class every caller retries;
    // any HTTP status is a response.
    Result<HttpResponse> perform(const HttpRequest& request);

  private:
    struct Handle;
    std::unique_ptr<Handle> m_handle;
    HttpTimeouts m_timeouts;
};

}  // namespace gallery::net
