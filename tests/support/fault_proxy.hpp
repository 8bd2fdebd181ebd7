#pragma once
// A small HTTP proxy in front of a real S3 server that injects the faults the
// server will not produce on demand: throttling (503 SlowDown with Retry-After),
// internal errors (500), and a stalled response. Everything else is forwarded
// byte for byte (Host included, so the server's signature check still holds).

#include <httplib.h>

#include <atomic>
#include <thread>

namespace gallery::testing {

enum class Fault { none, slow_down, internal_error, stall, not_implemented };

class FaultProxy {
  public:
    explicit FaultProxy(int target_port) : m_target_port(target_port) {
        m_server.set_tcp_nodelay(true);
        const auto handle = [this](const httplib::Request& request, httplib::Response& response) {
            ++m_requests;
            if (m_faults_left > 0) {
                --m_faults_left;
                if (inject(response)) return;
            }
            forward(request, response);
        };
        m_server.Get(".*", handle);
        m_server.Put(".*", handle);
        m_server.Post(".*", handle);
        m_server.Delete(".*", handle);
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~FaultProxy() {
        m_server.stop();
        m_thread.join();
    }

    // The next `count` requests get `fault` instead of an answer from the server.
    void inject_faults(Fault fault, int count) {
        m_fault = fault;
        m_faults_left = count;
    }
    int requests() const { return m_requests; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  private:
    bool inject(httplib::Response& response) {
        switch (m_fault.load()) {
            case Fault::none:
                return false;
            case Fault::slow_down:
                response.status = 503;
                response.set_header("Retry-After", "1");
                response.set_content(
                    "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce "
                    "your "
                    "request rate.</Message><RequestId>fault</RequestId></Error>",
                    "application/xml");
                return true;
            case Fault::internal_error:
                response.status = 500;
                response.set_content(
                    "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>We "
                    "encountered "
                    "an internal error.</Message></Error>",
                    "application/xml");
                return true;
            case Fault::not_implemented:
                response.status = 501;
                response.set_content(
                    "<?xml version=\"1.0\"?><Error><Code>NotImplemented</Code><Message>A header "
                    "you "
                    "provided implies functionality that is not implemented.</Message></Error>",
                    "application/xml");
                return true;
            case Fault::stall:
                std::this_thread::sleep_for(std::chrono::milliseconds(2500));
                response.status = 503;
                return true;
        }
        return false;
    }

    void forward(const httplib::Request& request, httplib::Response& response) {
        httplib::Client client("127.0.0.1", m_target_port);
        client.set_url_encode(false);
        httplib::Headers headers;
        for (const auto& [name, value] : request.headers) {
            if (name != "Content-Length" && name != "REMOTE_ADDR" && name != "REMOTE_PORT" &&
                name != "LOCAL_ADDR" && name != "LOCAL_PORT") {
                headers.emplace(name, value);
            }
        }
        const std::string content_type = request.get_header_value("Content-Type");
        httplib::Result result{nullptr, httplib::Error::Unknown};
        if (request.method == "GET")
            result = client.Get(request.target, headers);
        else if (request.method == "HEAD")
            result = client.Head(request.target, headers);
        else if (request.method == "DELETE")
            result = client.Delete(request.target, headers);
        else if (request.method == "PUT")
            result = client.Put(request.target, headers, request.body, content_type);
        else if (request.method == "POST")
            result = client.Post(request.target, headers, request.body, content_type);
        if (!result) {
            response.status = 502;
            return;
        }
        response.status = result->status;
        response.body = result->body;
        for (const auto& [name, value] : result->headers) {
            if (name != "Content-Length" && name != "Transfer-Encoding" && name != "Connection")
                response.set_header(name, value);
        }
    }

    int m_target_port;
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
    std::atomic<Fault> m_fault{Fault::none};
    std::atomic<int> m_faults_left{0};
    std::atomic<int> m_requests{0};
};

}  // namespace gallery::testing
