#include "gallery/api/http_server.hpp"

#include <algorithm>

#include <httplib.h>
#include <sys/socket.h>

#include "gallery/common/error.hpp"
#include "gallery/common/log.hpp"

namespace gallery::api {
namespace {

constexpr int k_listen_backlog = 1024;

Request from_httplib(const httplib::Request& in) {
    Request out;
    out.method = in.method;
    out.path = in.path;
    for (const auto& [name, value] : in.params) out.query.emplace(name, value);
    for (const auto& [name, value] : in.headers)
        out.headers.emplace(name, value);  // first value wins
    out.body = in.body;
    for (const auto& [name, part] : in.files) {
        out.parts.push_back(FormPart{part.name, part.filename, part.content_type, part.content});
    }
    return out;
}

void to_httplib(const Response& in, httplib::Response& out) {
    out.status = in.status;
    for (const auto& [name, value] : in.headers) out.set_header(name, value);
    if (!in.content_type.empty()) out.set_content(in.body, in.content_type);
}

std::string transport_error_message(int status) {
    switch (status) {
        case 400:
            return "Malformed request.";
        case 413:
            return "Request body too large.";
        case 414:
            return "Request URI too long.";
        case 416:
            return "Requested range not satisfiable.";
        default:
            return "Request failed.";
    }
}

}  // namespace

HttpServer::HttpServer(ServerSettings settings, Handle handle)
    : m_settings(std::move(settings)),
      m_handle(std::move(handle)),
      m_server(std::make_unique<httplib::Server>()) {
    const int threads = m_settings.threads;
    m_server->new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<std::size_t>(threads));
    };
    m_server->set_read_timeout(m_settings.timeout);
    m_server->set_write_timeout(m_settings.timeout);
    // A connection holds a worker while it waits for its first (or next) request,
    // so that wait is bounded by the read timeout too (at most 5 s between requests).
    m_server->set_keep_alive_timeout(std::min<time_t>(5, m_settings.timeout.count()));
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle and the
    // peer's delayed ACK add 40 ms to every keep-alive response.
    m_server->set_tcp_nodelay(true);
    m_server->set_payload_max_length(m_settings.max_body_bytes);
    // httplib's default also sets SO_REUSEPORT, which would let a second server bind
    // the same port silently. Only SO_REUSEADDR here; remember the listening socket.
    m_server->set_socket_options([this](int socket) {
        int yes = 1;
        ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (m_listen_socket < 0) m_listen_socket = socket;
    });

    const auto route = [this](const httplib::Request& request, httplib::Response& response) {
        Request plain = from_httplib(request);
        const Response answer = m_handle(plain);
        to_httplib(answer, response);
        if (request.ranges.empty()) return;
        if (answer.allow_ranges && answer.status == 200) {
            response.status = 206;  // httplib slices the body and sets Content-Range
        } else {
            // httplib would slice any body a Range header names; the request object is
            // httplib's own non-const local, so clearing its ranges here is sound.
            const_cast<httplib::Request&>(request).ranges.clear();
        }
    };
    m_server->Get(".*", route);
    m_server->Post(".*", route);
    m_server->Put(".*", route);
    m_server->Delete(".*", route);
    m_server->Patch(".*", route);
    m_server->Options(".*", route);
    // Bodies for the answers the transport gives on its own (413, 400, ...).
    m_server->set_error_handler([](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) return;
        const Response error =
            Response::error(response.status, transport_error_message(response.status));
        response.set_content(error.body, error.content_type);
    });
    m_server->set_exception_handler(
        [](const httplib::Request& request, httplib::Response& response, std::exception_ptr) {
            log::error("unhandled exception on " + request.method + " " + request.path);
            const Response error = Response::error(500, "Internal server error.");
            response.status = 500;
            response.set_content(error.body, error.content_type);
        });
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
    int port = m_settings.port;
    if (port == 0) {
        port = m_server->bind_to_any_port(m_settings.host);
    } else if (!m_server->bind_to_port(m_settings.host, port)) {
        port = -1;
    }
    // httplib listens with a backlog of 5: a burst of connections would see SYNs
    // dropped and retried a second later. Widen it (listen again updates the backlog).
    if (port >= 0 && m_listen_socket >= 0) ::listen(m_listen_socket, k_listen_backlog);
    if (port < 0) {
        throw StartupError(exit_code::failure,
                           "cannot listen on " + m_settings.host + ":" +
                               std::to_string(m_settings.port) +
                               " (address in use, or not an address of this machine)");
    }
    return port;
}

void HttpServer::serve() {
    m_server->listen_after_bind();
}

void HttpServer::stop() {
    m_server->stop();
}

}  // namespace gallery::api
