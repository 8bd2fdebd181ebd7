#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "gallery/db/migrator.hpp"

namespace gallery::testing {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gallery-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

db::Connection open_migrated(const std::filesystem::path& path) {
    db::Connection connection({.path = path, .create_if_missing = true});
    auto applied = db::migrate(connection, db::embedded_migrations(), now_micros());
    if (!applied) throw std::runtime_error(applied.error().message);
    return connection;
}

void write_file(const std::filesystem::path& root, const std::string& key,
                const std::string& content) {
    const auto path = root / key;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

}  // namespace gallery::testing
