#include "support/temp_dir.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gallery/db/migrator.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::testing {
namespace {

// The cluster's socket folder, written by tests/support/postgres_cluster.sh.
std::string cluster_socket() {
    const char* file = std::getenv("GALLERY_TEST_POSTGRES");
    if (!file) {
        throw std::runtime_error("GALLERY_TEST_POSTGRES is not set");
    }
    std::ifstream in(file);
    std::string socket;
    std::getline(in, socket);
    if (socket.empty()) throw std::runtime_error(std::string("no cluster socket in ") + file);
    return socket;
}

std::string url_of(const std::string& database) {
    return "postgresql:///" + database + "?host=" + cluster_socket() + "&user=gallery";
}

db::Connection migrated(const db::ConnectionOptions& options) {
    db::ConnectionOptions creating = options;
    creating.create_if_missing = true;
    db::Connection connection(creating);
    auto applied =
        db::migrate(connection, db::embedded_migrations(connection.engine()), now_micros());
    if (!applied) throw std::runtime_error(applied.error().message);
    return connection;
}

}  // namespace

bool on_postgresql() {
    return std::getenv("GALLERY_TEST_POSTGRES") != nullptr;
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gallery-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

std::string TempDir::database() const {
    if (!on_postgresql()) return db_path().string();
    if (m_postgresql_url.empty()) {
        // Unique across the test processes CTest runs side by side.
        static std::atomic<int> counter{0};
        std::ostringstream name;
        name << "test_" << ::getpid() << "_" << counter++;
        db::Connection admin({.postgresql_url = url_of("postgres")});
        db::execute_script(admin, "CREATE DATABASE " + name.str());
        m_postgresql_url = url_of(name.str());
    }
    return m_postgresql_url;
}

db::ConnectionOptions TempDir::database_options() const {
    if (!on_postgresql()) return {.path = db_path()};
    return {.postgresql_url = database()};
}

db::ConnectionOptions database_options_for(const std::string& database) {
    if (database.starts_with("postgresql://")) return {.postgresql_url = database};
    return {.path = database};
}

db::Connection open_migrated(const TempDir& dir) {
    return migrated(dir.database_options());
}

db::Connection open_migrated(const std::filesystem::path& path) {
    return migrated({.path = path});
}

void write_file(const std::filesystem::path& root, const std::string& key,
                const std::string& content) {
    const auto path = root / key;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

}  // namespace gallery::testing
