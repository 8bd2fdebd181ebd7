#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace gallery::testing {

RawConnection::RawConnection(int port, Transport transport)
    : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    if (transport == Transport::tls) {
        m_context = SSL_CTX_new(TLS_client_method());
        m_tls = SSL_new(m_context);
        SSL_set_fd(m_tls, m_fd);
        if (SSL_connect(m_tls) != 1)
            throw std::runtime_error("TLS handshake with 127.0.0.1:" + std::to_string(port) +
                                     " failed");
    }
}

RawConnection::~RawConnection() {
    if (m_tls) SSL_free(m_tls);
    if (m_context) SSL_CTX_free(m_context);
    if (m_fd >= 0) ::close(m_fd);
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)),
      m_context(std::exchange(other.m_context, nullptr)),
      m_tls(std::exchange(other.m_tls, nullptr)) {}

long RawConnection::io(bool writing, void* data, std::size_t size) {
    const int length = static_cast<int>(std::min<std::size_t>(size, 1 << 20));
    if (m_tls) {
        const int done = writing ? SSL_write(m_tls, data, length) : SSL_read(m_tls, data, length);
        return done > 0 ? done : -1;
    }
    return writing ? ::send(m_fd, data, static_cast<std::size_t>(length), MSG_NOSIGNAL)
                   : ::recv(m_fd, data, static_cast<std::size_t>(length), 0);
}

bool RawConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const long sent = io(true, const_cast<char*>(bytes.data()), bytes.size());
        if (sent <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
}

std::string RawConnection::read_all(std::chrono::milliseconds wait) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char buffer[16 * 1024];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return out;
        pollfd ready{m_fd, POLLIN, 0};
        const bool buffered = m_tls && SSL_pending(m_tls) > 0;
        if (!buffered && ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return out;
        const long got = io(false, buffer, sizeof buffer);
        if (got <= 0) return out;
        out.append(buffer, static_cast<std::size_t>(got));
    }
}

int RawConnection::read_status(std::chrono::milliseconds wait) {
    const std::string answer = read_all(wait);
    if (!answer.starts_with("HTTP/1.1 ") || answer.size() < 12) return 0;
    return std::stoi(answer.substr(9, 3));
}

void RawConnection::shrink_receive_buffer() {
    const int size = 4096;
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

std::int64_t resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6));
    }
    throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

double healthz_seconds(int port, std::chrono::seconds limit) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(limit);
    client.set_read_timeout(limit);
    const auto started = std::chrono::steady_clock::now();
    auto answer = client.Get("/healthz");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!answer || answer->status != 200) return 1e9;
    return seconds;
}

}  // namespace gallery::testing
