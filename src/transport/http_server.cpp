#include "gallery/transport/http_server.hpp"
#include "gallery/common/text.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include <sys/socket.h>

#include "gallery/common/error.hpp"
#include "gallery/common/log.hpp"

namespace gallery::transport {

using api::FormPart;

namespace {

constexpr int k_listen_backlog = 1024;

constexpr std::size_t k_stream_chunk = 64 * 1024;

Request headers_of(const httplib::Request& in) {
    Request out;
    out.method = in.method;
    out.path = in.path;
    out.remote_address = in.remote_addr;
    for (const auto& [name, value] : in.params) out.query.emplace(name, value);
    for (const auto& [name, value] : in.headers)
        out.headers.emplace(name, value);  // first value wins
    return out;
}

Request from_httplib(const httplib::Request& in) {
    Request out = headers_of(in);
    out.body = in.body;
    for (const auto& [name, part] : in.files) {
        out.parts.push_back(FormPart{part.name, part.filename, part.content_type, part.content});
    }
    return out;
}

void to_httplib(const Response& in, httplib::Response& out) {
    out.status = in.status;
    for (const auto& [name, value] : in.headers) out.set_header(name, value);
    out.set_header("X-Content-Type-Options", "nosniff");
    if (in.stream) {
        // A piece at a time, as the client takes it: 64 KiB per request in memory.
        const auto read_at = in.stream;
        const std::uint64_t start = in.stream_offset;
        out.set_content_provider(
            static_cast<std::size_t>(in.stream_length), in.content_type,
            [read_at, start](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                std::string buffer(std::min(length, k_stream_chunk), '\0');
                const auto got = read_at(start + offset, buffer.data(), buffer.size());
                if (!got || *got == 0) return false;  // the file shrank or failed: cut the answer
                return sink.write(buffer.data(), *got);
            });
        return;
    }
    if (!in.content_type.empty()) out.set_content(in.body, in.content_type);
}

// An answer given before the body was read: the unread body must never be taken for
// the next request, so the connection closes after it. cpp-httplib 0.11.4 keeps a
// connection open unless the request asked otherwise or writing failed: the body
// goes out through a content provider that reports failure once it has written all.
void refuse_and_close(const Response& refusal, httplib::Response& out) {
    out.status = refusal.status;
    for (const auto& [name, value] : refusal.headers) out.set_header(name, value);
    out.set_header("X-Content-Type-Options", "nosniff");
    out.set_header("Connection", "close");
    const std::string body = refusal.body;
    out.set_content_provider(
        body.size(), refusal.content_type,
        [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            if (offset < body.size()) {
                sink.write(body.data() + offset, std::min(length, body.size() - offset));
            }
            return false;
        });
}

bool is_decimal(const std::string& text) {
    return !text.empty() && text.size() <= 19 &&
           std::ranges::all_of(text, [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// Framing a front proxy could read differently, and bodies that would be read
// without a bound: refused before a byte of the body is read.
std::optional<Response> framing_refusal(const httplib::Request& request,
                                        std::uint64_t max_body_bytes) {
    const std::size_t lengths = request.get_header_value_count("Content-Length");
    const bool transfer_encoding = request.has_header("Transfer-Encoding");
    if (lengths > 1)
        return Response::error(400, "Malformed request: more than one Content-Length.");
    if (lengths == 1 && transfer_encoding) {
        return Response::error(400,
                               "Malformed request: both Content-Length and Transfer-Encoding.");
    }
    if (transfer_encoding) {
        return Response::error(411,
                               "Length required: send the body with a Content-Length "
                               "(chunked request bodies are not accepted).");
    }
    if (request.has_header("Content-Encoding")) {
        const std::string encoding = to_lower(request.get_header_value("Content-Encoding"));
        if (encoding != "identity") {
            return Response::error(415,
                                   "Unsupported Content-Encoding: request bodies must not "
                                   "be compressed.");
        }
    }
    if (lengths == 1) {
        const std::string length = request.get_header_value("Content-Length");
        if (!is_decimal(length))
            return Response::error(400, "Malformed request: Content-Length is not a number.");
        const std::uint64_t declared = std::stoull(length);
        if (declared > max_body_bytes) return Response::error(413, "Request body too large.");
        // httplib never reads the body of these methods: it would be taken for the
        // next request on the connection.
        const bool reads_body = request.method == "POST" || request.method == "PUT" ||
                                request.method == "PATCH" || request.method == "DELETE";
        if (declared > 0 && !reads_body) {
            return Response::error(
                400, "Malformed request: a " + request.method + " request has no body.");
        }
    }
    return std::nullopt;
}

std::string transport_error_message(int status) {
    switch (status) {
        case 400:
            return "Malformed request.";
        case 411:
            return "Length required: send the body with a Content-Length.";
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

HttpServer::HttpServer(ServerSettings settings, Handle handle, Admit admit)
    : m_settings(std::move(settings)),
      m_handle(std::move(handle)),
      m_admit(std::move(admit)),
      m_server(std::make_unique<httplib::Server>()) {
    if (m_settings.threads < 1) throw std::invalid_argument("HttpServer: threads must be >= 1");
    set_up_connections();
    refuse_before_bodies();
    route_requests();
    answer_errors();
}

void HttpServer::set_up_connections() {
    const int threads = m_settings.threads;
    m_server->new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<std::size_t>(threads));
    };
    m_server->set_read_timeout(m_settings.timeout);
    m_server->set_write_timeout(m_settings.timeout);
    // A connection holds a worker while it waits for its first (or next) request:
    // that wait is short and apart from the read timeout of a request under way.
    m_server->set_keep_alive_timeout(
        std::min<time_t>(m_settings.idle_timeout.count(), m_settings.timeout.count()));
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
}

// Refusals on the headers alone: framing, then the API key (Admit).
void HttpServer::refuse_before_bodies() {
    // Every routed request passes here first, before anything past its headers is
    // read. Ranges are the handlers' to answer (/media/ does, one range at most):
    // httplib would otherwise slice any answer a Range header names, and build a
    // multipart answer in memory for many ranges. The request object is httplib's
    // own non-const local, so clearing its ranges here is sound.
    m_server->set_pre_routing_handler([this](const httplib::Request& request,
                                             httplib::Response& response) {
        const_cast<httplib::Request&>(request).ranges.clear();
        const std::optional<Response> refusal = framing_refusal(request, m_settings.max_body_bytes);
        if (!refusal) return httplib::Server::HandlerResponse::Unhandled;
        refuse_and_close(*refusal, response);
        return httplib::Server::HandlerResponse::Handled;
    });

    // Framing, then the API key, on the headers alone.
    const auto refusal_before_body =
        [this](const httplib::Request& request) -> std::optional<Response> {
        if (auto refusal = framing_refusal(request, m_settings.max_body_bytes)) return refusal;
        if (!m_admit) return std::nullopt;
        Request plain = headers_of(request);
        return m_admit(plain);
    };

    // A client that asks before sending its body (curl does past 1 MB) hears a
    // refusal instead of "100 Continue", and never sends the body at all.
    m_server->set_expect_100_continue_handler(
        [refusal_before_body](const httplib::Request& request, httplib::Response& response) {
            const std::optional<Response> refusal = refusal_before_body(request);
            if (!refusal) return 100;
            to_httplib(*refusal, response);
            response.set_header("Connection", "close");
            return refusal->status;
        });
}

void HttpServer::route_requests() {
    const auto refusal_of = [this](Request& plain) -> std::optional<Response> {
        return m_admit ? m_admit(plain) : std::nullopt;
    };
    // Requests without a body (their framing checked: none was sent).
    const auto route = [this, refusal_of](const httplib::Request& request,
                                          httplib::Response& response) {
        Request plain = from_httplib(request);
        const std::optional<Response> refusal = refusal_of(plain);
        to_httplib(refusal ? *refusal : m_handle(plain), response);
    };
    // Requests with a body: Admit sees the headers first; a refused request's body is
    // read and thrown away (memory bounded, the connection stays in step), and only
    // an admitted one is kept, up to max_body_bytes (the transport's limit).
    const auto route_with_body = [this, refusal_of](const httplib::Request& request,
                                                    httplib::Response& response,
                                                    const httplib::ContentReader& read) {
        Request plain = headers_of(request);
        // Neither Content-Length nor Transfer-Encoding (refused above): the body is empty
        // (RFC 9112 section 6.3), as `curl -X POST URL` sends it. httplib would read to
        // the end of the connection instead, and answer 400 at the read timeout.
        const bool framed = request.has_header("Content-Length");
        if (auto refusal = refusal_of(plain)) {
            if (!framed) {
                to_httplib(*refusal, response);
                return;
            }
            // httplib reads a multipart body only through the two-callback form (the
            // one-callback form calls an empty function on it: bad_function_call).
            const auto discard = [](const char*, std::size_t) { return true; };
            const bool drained =
                request.is_multipart_form_data()
                    ? read([](const httplib::MultipartFormData&) { return true; }, discard)
                    : read(discard);
            if (drained) to_httplib(*refusal, response);
            return;
        }
        if (!framed) {
            to_httplib(m_handle(plain), response);
            return;
        }
        bool complete = false;
        if (request.is_multipart_form_data()) {
            complete = read(
                [&](const httplib::MultipartFormData& header) {
                    plain.parts.push_back(
                        FormPart{header.name, header.filename, header.content_type, {}});
                    return true;
                },
                [&](const char* data, std::size_t length) {
                    if (!plain.parts.empty()) plain.parts.back().content.append(data, length);
                    return true;
                });
        } else {
            complete = read([&](const char* data, std::size_t length) {
                plain.body.append(data, length);
                return true;
            });
        }
        // httplib has set the answer (400, or 413 past max_body_bytes) when reading failed.
        if (complete) to_httplib(m_handle(plain), response);
    };
    m_server->Get(".*", route);
    m_server->Options(".*", route);
    m_server->Post(".*", route_with_body);
    m_server->Put(".*", route_with_body);
    m_server->Delete(".*", route_with_body);
    m_server->Patch(".*", route_with_body);
}

void HttpServer::answer_errors() {
    // Bodies for the answers the transport gives on its own (413, 400, ...).
    m_server->set_error_handler([](const httplib::Request&, httplib::Response& response) {
        response.set_header("X-Content-Type-Options", "nosniff");
        // A body already set, or one written by a content provider (a refusal that
        // closes the connection, see refuse_and_close), is kept.
        if (!response.body.empty() || response.has_header("Connection")) return;
        const Response error =
            Response::error(response.status, transport_error_message(response.status));
        response.set_content(error.body, error.content_type);
    });
    m_server->set_exception_handler([](const httplib::Request& request, httplib::Response& response,
                                       std::exception_ptr exception) {
        std::string what = "unknown";
        try {
            if (exception) std::rethrow_exception(exception);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        log::error("unhandled exception on " + request.method + " " + request.path + ": " + what);
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
        throw StartupError(ErrorKind::system,
                           "cannot listen on " + m_settings.host + ":" +
                               std::to_string(m_settings.port) +
                               " (address in use, or not an address of this machine)");
    }
    return port;
}

void HttpServer::serve() {
    // Sequentially consistent: either this sees the stop request, or stop() sees
    // that serve() has begun and waits for the accept loop.
    m_serve_begun = true;
    if (!m_stop_requested) m_server->listen_after_bind();
    m_serve_returned = true;
}

void HttpServer::stop() {
    m_stop_requested = true;
    if (!m_serve_begun) return;  // serve() will see the request and return at once
    // serve() is entering httplib's accept loop, whose stop() does nothing until it runs.
    while (!m_server->is_running() && !m_serve_returned) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    m_server->stop();
}

}  // namespace gallery::transport
