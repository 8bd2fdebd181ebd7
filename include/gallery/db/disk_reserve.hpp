#pragma once
// Space held beside the SQLite database for the writes that free space. A full disk
// refuses every write, deletes included, so the API could not free the space that
// would end it. serve keeps `bytes` allocated in DATABASE-reserve; when a delete meets
// a full disk (ErrorKind::disk_full) the reserve is released and the delete tried
// again once. Until the disk has room for the reserve twice over, /healthz says the
// disk is full; then the reserve is made again. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <mutex>

namespace gallery::db {

class DiskReserve {
  public:
    static constexpr std::uint64_t k_default_bytes = 32ull * 1024 * 1024;

    // Makes the reserve now when the disk has room for it (logs when it cannot).
    DiskReserve(std::filesystem::path file, std::uint64_t bytes = k_default_bytes);

    // Frees the reserve's space; false when it held none (released already, or never
    // made).
    bool release();

    // Whether the reserve holds its space, after making it again when the disk now
    // has room for it twice over (a statvfs, and an fallocate when it does).
    bool held();

    const std::filesystem::path& file() const { return m_file; }

  private:
    bool make();

    std::mutex m_mutex;
    std::filesystem::path m_file;
    std::uint64_t m_bytes;
    bool m_held = false;
};

// The reserve's file for the SQLite database at `database`: DATABASE-reserve.
std::filesystem::path reserve_file_for(const std::filesystem::path& database);

}  // namespace gallery::db
