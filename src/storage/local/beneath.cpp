#include "storage/local/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "gallery/storage/storage.hpp"

namespace gallery::storage {
namespace {

// Set once a kernel answered ENOSYS: every later call goes per segment at once.
std::atomic<bool> g_no_openat2{false};

int openat2_beneath(int root, const std::string& path, int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

// The fallback: each folder segment opened O_PATH | O_NOFOLLOW from the last.
// Checked keys have no "." or ".." segments, so no segment can climb out.
FileDescriptor open_per_segment(int root, std::string_view relative, int flags, mode_t mode) {
    const std::vector<std::string_view> segments = key_segments(relative);
    FileDescriptor current{::fcntl(root, F_DUPFD_CLOEXEC, 0)};
    for (std::size_t i = 0; i + 1 < segments.size() && current.valid(); ++i) {
        current = FileDescriptor{::openat(current.get(), std::string(segments[i]).c_str(),
                                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    }
    if (!current.valid()) return current;
    const std::string last = relative.empty() ? "." : std::string(segments.back());
    return FileDescriptor{::openat(current.get(), last.c_str(), flags, mode)};
}

}  // namespace

FileDescriptor open_beneath(int root, std::string_view relative, int flags, mode_t mode) {
    flags |= O_CLOEXEC;
    // O_TMPFILE includes O_DIRECTORY and names a folder; O_NOFOLLOW does not mix with it.
    if ((flags & O_TMPFILE) != O_TMPFILE) flags |= O_NOFOLLOW;
    const std::string path = relative.empty() ? "." : std::string(relative);
    if (!g_no_openat2.load(std::memory_order_relaxed)) {
        const int fd = openat2_beneath(root, path, flags, mode);
        if (fd >= 0 || errno != ENOSYS) {
            // RESOLVE_BENEATH answers EXDEV for a path that would leave the root.
            if (fd < 0 && errno == EXDEV) errno = ELOOP;
            return FileDescriptor{fd};
        }
        g_no_openat2.store(true, std::memory_order_relaxed);
    }
    return open_per_segment(root, relative, flags, mode);
}

FileDescriptor open_folder_beneath(int root, std::string_view relative, bool create) {
    constexpr int k_folder = O_RDONLY | O_DIRECTORY;
    FileDescriptor folder = open_beneath(root, relative, k_folder);
    if (folder.valid() || !create || errno != ENOENT) return folder;
    // Create one segment at a time, each opened (never followed) before the next.
    FileDescriptor current = open_beneath(root, "", k_folder);
    for (const std::string_view segment : key_segments(relative)) {
        if (!current.valid()) return current;
        const std::string name(segment);
        if (::mkdirat(current.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
            return FileDescriptor{};
        }
        current = open_beneath(current.get(), name, k_folder);
    }
    return current;
}

}  // namespace gallery::storage
