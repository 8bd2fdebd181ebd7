#pragma once
// The HTTP transport: cpp-httplib with a worker pool, timeouts and a body limit,
// turning its requests into api::Request and back. Failures the transport itself
// answers (oversized body, malformed request) also get API.md's JSON shape.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gallery/api/http.hpp"

namespace httplib {
class Server;
}

namespace gallery::transport {

using api::Request;
using api::Response;

struct ServerSettings {
    std::string host = "127.0.0.1";
    int port = 8000;  // 0: any free port
    // Worker threads, at least 1: serve passes the `threads` setting (its default lives
    // in the settings table, config.cpp), so there is no second default here.
    int threads = 0;
    std::chrono::seconds timeout{30};  // each read and write of a request under way
    std::uint64_t max_body_bytes = 10 * 1024 * 1024;
    // How long a connection may hold a worker waiting for a request's first bytes
    // (a new connection, or the next request on a kept-alive one).
    std::chrono::seconds idle_timeout{2};
};

class HttpServer {
  public:
    using Handle = std::function<Response(Request&)>;
    // Runs on a request's line and headers before its body is read (`body` and
    // `parts` are empty): an answer refuses the request, unread, and closes the
    // connection; nullopt lets it through to Handle.
    using Admit = std::function<std::optional<Response>(Request&)>;

    // Before Admit, the transport refuses, unread and with the connection closed,
    // what a front proxy could frame differently or what would be read unbounded:
    // Transfer-Encoding (411), both Content-Length and Transfer-Encoding or two
    // Content-Lengths (400), a Content-Encoding other than identity (415), a
    // Content-Length over max_body_bytes (413).
    HttpServer(ServerSettings settings, Handle handle, Admit admit = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the socket; throws StartupError with a sentence when it cannot.
    // Returns the bound port.
    int bind();

    // Serves until stop() is called; returns after in-flight requests finish.
    // Returns at once when stop() came first.
    void serve();

    // Safe to call from another thread, before or during serve(): a stop that
    // arrives before serve() has started listening is not lost (httplib's own
    // stop() does nothing until its accept loop runs).
    void stop();

  private:
    // The constructor's parts, in order: workers, timeouts and the listening socket;
    // refusals before a body is read; routing into Handle; the transport's own answers.
    void set_up_connections();
    void refuse_before_bodies();
    void route_requests();
    void answer_errors();

    ServerSettings m_settings;
    Handle m_handle;
    Admit m_admit;
    std::unique_ptr<httplib::Server> m_server;
    int m_listen_socket = -1;
    std::atomic<bool> m_stop_requested{false};
    std::atomic<bool> m_serve_begun{false};
    std::atomic<bool> m_serve_returned{false};
};

}  // namespace gallery::transport
