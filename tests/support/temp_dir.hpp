#pragma once
// A fresh folder per test, removed afterwards, and a fresh database for it: a SQLite
// file in the folder, or, when the test runs on PostgreSQL (CTest's "postgresql"
// label sets GALLERY_TEST_POSTGRES to the file tests/support/postgres_cluster.sh
// wrote), a new database on that test cluster.

#include <filesystem>
#include <string>

#include "gallery/db/connection.hpp"

namespace gallery::testing {

// Whether this test process runs its [postgresql] tests on PostgreSQL.
bool on_postgresql();

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    // The SQLite file (tests of SQLite itself use it directly).
    std::filesystem::path db_path() const { return m_path / "gallery.db"; }
    std::filesystem::path media_root() const { return m_path / "media"; }

    // What GALLERY_DB names for this test: db_path(), or the URL of this test's own
    // PostgreSQL database (created on first use).
    std::string database() const;
    db::ConnectionOptions database_options() const;

  private:
    std::filesystem::path m_path;
    mutable std::string m_postgresql_url;
};

// How to open what GALLERY_DB names (a file, or a postgresql:// URL).
db::ConnectionOptions database_options_for(const std::string& database);

// Opens (creating and migrating) the test's database.
db::Connection open_migrated(const TempDir& dir);
// Opens (creating and migrating) the SQLite database at `path`.
db::Connection open_migrated(const std::filesystem::path& path);

// Writes a small file at media_root/key.
void write_file(const std::filesystem::path& root, const std::string& key,
                const std::string& content = "x");

}  // namespace gallery::testing
