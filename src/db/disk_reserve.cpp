#include "gallery/db/disk_reserve.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gallery/common/log.hpp"

namespace gallery::db {

DiskReserve::DiskReserve(std::filesystem::path file, std::uint64_t bytes)
    : m_file(std::move(file)), m_bytes(bytes) {
    std::lock_guard lock(m_mutex);
    m_held = make();
    if (!m_held) {
        log::warn("disk reserve: cannot hold " + std::to_string(m_bytes >> 20) + " MiB in " +
                  m_file.string() +
                  "; a full disk would refuse deletes too (it is made when there is room)");
    }
}

bool DiskReserve::release() {
    std::lock_guard lock(m_mutex);
    if (!m_held) return false;
    ::unlink(m_file.c_str());
    m_held = false;
    log::error("disk reserve: the disk under the database is full; released the " +
               std::to_string(m_bytes >> 20) + " MiB reserve (" + m_file.string() +
               ") so deletes can go on: free space there");
    return true;
}

bool DiskReserve::held() {
    std::lock_guard lock(m_mutex);
    if (m_held) return true;
    const std::filesystem::path folder =
        m_file.has_parent_path() ? m_file.parent_path() : std::filesystem::path(".");
    struct statvfs disk {};
    if (::statvfs(folder.c_str(), &disk) != 0) return false;
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(disk.f_bavail) * disk.f_frsize;
    if (free_bytes < 2 * m_bytes) return false;
    m_held = make();
    if (m_held) log::info("disk reserve: made again in " + m_file.string());
    return m_held;
}

bool DiskReserve::make() {
    const int fd = ::open(m_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const int result = ::posix_fallocate(fd, 0, static_cast<off_t>(m_bytes));
    ::close(fd);
    if (result != 0) {
        ::unlink(m_file.c_str());
        return false;
    }
    return true;
}

std::filesystem::path reserve_file_for(const std::filesystem::path& database) {
    return database.string() + "-reserve";
}

}  // namespace gallery::db
