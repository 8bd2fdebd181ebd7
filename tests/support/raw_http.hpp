#pragma once
// Raw TCP to a loopback server, for what an HTTP client library will not send
// (chunked floods, duplicate framing headers, idle and slow connections), and the
// server's memory read from /proc.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace gallery::testing {

class RawConnection {
  public:
    enum class Transport { plain, tls };
    // TLS: any certificate is accepted (the test's own, self-signed).
    explicit RawConnection(int port, Transport transport = Transport::plain);
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    RawConnection& operator=(RawConnection&&) = delete;

    // False once the server closed (or reset) the connection.
    bool send(std::string_view bytes);
    // What the server sends until it closes the connection or `wait` passes.
    std::string read_all(std::chrono::milliseconds wait);
    // The status code of the first answer read within `wait`, or 0.
    int read_status(std::chrono::milliseconds wait);
    // Reads nothing; the kernel's receive buffer is kept small, so a large answer
    // stalls on the server's side (a slow reader).
    void shrink_receive_buffer();

  private:
    long io(bool writing, void* data, std::size_t size);

    int m_fd = -1;
    ssl_ctx_st* m_context = nullptr;
    ssl_st* m_tls = nullptr;
};

// A loopback port nothing listens on (bound once by the kernel, then closed).
int free_loopback_port();

// How much a server's VmRSS may grow under an attack that today's fixes bound. The
// attacks took hundreds of MB to 2.4 GB before; bounded, they measured 0.3 MB
// (through nginx), 2 MB (unread bodies) and 7.4 MB (five 1 MB /media/ answers
// after 1000-range requests; where those pages go was not measured). The budget
// leaves room above those figures so the check does not flake; AddressSanitizer's quarantine keeps
// freed memory resident, so its budget is larger.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::int64_t k_rss_growth_budget_kib = 96 * 1024;
#else
inline constexpr std::int64_t k_rss_growth_budget_kib = 24 * 1024;
#endif

// VmRSS of `pid` in KiB (from /proc/<pid>/status).
std::int64_t resident_kib(pid_t pid);

// Seconds `GET /healthz` took on 127.0.0.1:port (a new connection), or a large
// number when it did not answer 200 within `limit`.
double healthz_seconds(int port, std::chrono::seconds limit);

}  // namespace gallery::testing
