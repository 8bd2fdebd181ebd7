#pragma once
// A real `serve` stack on a loopback socket (port chosen by the kernel) over a
// real SQLite file and a real media folder, plus an HTTP client for it.

#include <httplib.h>

#include <thread>

#include "gallery/admin/admin.hpp"
#include "gallery/api/api.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/local_storage.hpp"
#include "gallery/transport/http_server.hpp"
#include "support/temp_dir.hpp"

namespace gallery::testing {

inline const std::string k_test_api_key = "test-api-key-0123456789abcdef";

class ApiServer {
  public:
    explicit ApiServer(std::function<void(config::Config&)> adjust = {},
                       std::uint64_t max_body = 10 * 1024 * 1024)
        : m_config(make_config(m_dir, adjust)),
          m_pool(m_dir.database_options(), 6),
          m_storage(storage::make_local_storage(m_config.media_root)),
          m_clients(m_config.client_ids_url, system_clock()),
          m_context{m_pool,
                    *m_storage,
                    m_config,
                    m_clients,
                    k_test_api_key,
                    system_clock(),
                    queue::make_lease_owner()},
          m_router(admin::make_server_router(m_context)),
          m_server(
              {"127.0.0.1", 0, 4, std::chrono::seconds{10}, max_body},
              [this](api::Request& request) {
                  return api::handle_request(m_router, m_context, request);
              },
              [this](api::Request& request) { return api::admit_request(m_context, request); }) {
        m_port = m_server.bind();
        m_thread = std::thread([this] { m_server.serve(); });
    }
    ~ApiServer() {
        m_server.stop();
        m_thread.join();
    }

    int port() const { return m_port; }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", m_port);
        c.set_default_headers({{"X-API-Key", k_test_api_key}});
        return c;
    }
    const TempDir& dir() const { return m_dir; }
    const config::Config& config() const { return m_config; }
    db::ConnectionPool& pool() { return m_pool; }
    storage::Storage& storage() { return *m_storage; }

  private:
    static config::Config make_config(const TempDir& dir,
                                      const std::function<void(config::Config&)>& adjust) {
        config::Config config = config::defaults();
        config.db_path = dir.db_path();
        if (on_postgresql()) config.db_url = dir.database();
        config.media_root = dir.media_root();
        open_migrated(dir);
        if (adjust) adjust(config);
        return config;
    }

    TempDir m_dir;
    config::Config m_config;
    db::ConnectionPool m_pool;
    std::unique_ptr<storage::Storage> m_storage;
    api::ClientRegistry m_clients;
    api::ApiContext m_context;
    api::Router m_router;
    transport::HttpServer m_server;
    int m_port = 0;
    std::thread m_thread;
};

// Bytes that pass the magic-byte check for each extension.
inline std::string fake_image(const std::string& extension, std::size_t size = 64) {
    std::string head;
    if (extension == ".jpg" || extension == ".jpeg")
        head = "\xFF\xD8\xFF\xE0";
    else if (extension == ".png")
        head = "\x89PNG\r\n\x1A\n";
    else if (extension == ".gif")
        head = "GIF89a";
    else if (extension == ".webp")
        head = std::string("RIFF\x10\0\0\0WEBP", 12);
    else if (extension == ".bmp")
        head = "BM";
    head.resize(std::max(size, head.size() + 26), 'p');
    return head;
}

}  // namespace gallery::testing
