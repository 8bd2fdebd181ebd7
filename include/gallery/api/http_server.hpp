#pragma once
// The HTTP transport: cpp-httplib with a worker pool, timeouts and a body limit,
// turning its requests into api::Request and back. Failures the transport itself
// answers (oversized body, malformed request) also get API.md's JSON shape.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gallery/api/http.hpp"

namespace httplib {
class Server;
}

namespace gallery::api {

struct ServerSettings {
    std::string host = "127.0.0.1";
    int port = 8000;  // 0: any free port
    int threads = 8;
    std::chrono::seconds timeout{30};
    std::uint64_t max_body_bytes = 10 * 1024 * 1024;
};

class HttpServer {
  public:
    using Handle = std::function<Response(Request&)>;

    HttpServer(ServerSettings settings, Handle handle);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the socket; throws StartupError with a sentence when it cannot.
    // Returns the bound port.
    int bind();

    // Serves until stop() is called; returns after in-flight requests finish.
    void serve();

    // Safe to call from another thread.
    void stop();

  private:
    ServerSettings m_settings;
    Handle m_handle;
    std::unique_ptr<httplib::Server> m_server;
    int m_listen_socket = -1;
};

}  // namespace gallery::api
