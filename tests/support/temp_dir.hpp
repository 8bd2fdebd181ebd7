#pragma once
// A fresh folder per test, removed afterwards, with a migrated database in it on request.

#include <filesystem>

#include "gallery/db/connection.hpp"

namespace gallery::testing {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path db_path() const { return m_path / "gallery.db"; }
    std::filesystem::path media_root() const { return m_path / "media"; }

  private:
    std::filesystem::path m_path;
};

// Opens (creating and migrating) the database at `path`.
db::Connection open_migrated(const std::filesystem::path& path);

// Writes a small file at media_root/key.
void write_file(const std::filesystem::path& root, const std::string& key,
                const std::string& content = "x");

}  // namespace gallery::testing
