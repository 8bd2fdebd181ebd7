#include "gallery/storage/local_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <system_error>
#include <utility>

#include "storage/local/beneath.hpp"
#include "storage/local/file_descriptor.hpp"

namespace gallery::storage {
namespace {

namespace fs = std::filesystem;

Error from_errno(int error_number, std::string_view action, std::string_view key) {
    return Error{ErrorKind::io, "local: " + std::string(action) + " '" + std::string(key) +
                                    "': " + std::strerror(error_number)};
}

UnixMicros modified_micros(const struct stat& info) {
    return static_cast<UnixMicros>(info.st_mtim.tv_sec) * k_micros_per_second +
           info.st_mtim.tv_nsec / 1000;
}

std::string random_suffix() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    constexpr char k_digits[] = "0123456789abcdef";
    std::string suffix(16, '0');
    for (char& c : suffix) c = k_digits[generator() % 16];
    return suffix;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

// Copies what remains of `from` to the end of `to`; false with errno set on a failure.
bool copy_all(int from, int to) {
    std::string buffer(256 * 1024, '\0');
    for (;;) {
        const ssize_t got = ::read(from, buffer.data(), buffer.size());
        if (got == 0) return true;
        if (got < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (!write_all(to, std::string_view(buffer.data(), static_cast<std::size_t>(got))))
            return false;
    }
}

// Fills a new object's file; false with errno set on a failure.
using FillFile = std::function<bool(int fd)>;

// Where a stored object is named: its folder (open beneath the root) and its name.
struct Target {
    int folder;
    std::string name;
};

constexpr std::size_t k_max_name_bytes = 255;  // NAME_MAX on Linux file systems

class LocalStorage final : public Storage {
  public:
    explicit LocalStorage(fs::path root) : m_root(std::move(root)) {}

    std::string_view kind() const override { return "local"; }

    // The portable rules, and no path segment longer than a file name may be
    // (NAME_MAX): such a key could never name a stored file (a 404, not an I/O error).
    Result<void> check_key(std::string_view key) const override {
        if (auto portable = check_portable_key(key); !portable) return portable;
        for (const std::string_view segment : key_segments(key)) {
            if (segment.size() > k_max_name_bytes) {
                return std::unexpected(Error{ErrorKind::invalid_input,
                                             "local: refusing key '" +
                                                 std::string(key.substr(0, 64)) +
                                                 "...': a path segment is longer than 255 bytes"});
            }
        }
        return {};
    }

    Result<void> put(std::string_view key, std::string_view bytes, std::string_view) override {
        return store(key, [bytes](int fd) { return write_all(fd, bytes); });
    }

    Result<void> put_file(std::string_view key, const fs::path& file, std::string_view) override {
        FileDescriptor source{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
        if (!source.valid()) return std::unexpected(from_errno(errno, "read", file.string()));
        // From the start each time: store() may fill a second file after a failed link.
        return store(key, [&source](int fd) {
            return ::lseek(source.get(), 0, SEEK_SET) == 0 && copy_all(source.get(), fd);
        });
    }

    Result<void> get_file(std::string_view key, const fs::path& file) override {
        if (auto ok = check_key(key); !ok) return ok;
        FileDescriptor source = open_object(key, O_RDONLY);
        struct stat info {};
        if (!source.valid() || ::fstat(source.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
            if (!source.valid() && !is_absent(errno))
                return std::unexpected(from_errno(errno, "open", key));
            return fail(ErrorKind::not_found, "local: no object '" + std::string(key) + "'");
        }
        FileDescriptor out{::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
        if (!out.valid()) return std::unexpected(from_errno(errno, "write", file.string()));
        if (!copy_all(source.get(), out.get()) || out.close() != 0)
            return std::unexpected(from_errno(errno, "write", file.string()));
        return {};
    }

  private:
    Result<void> store(std::string_view key, const FillFile& fill) {
        if (auto ok = check_key(key); !ok) return ok;
        const auto [folder_key, name] = split_key(key);
        FileDescriptor root = open_root();
        if (!root.valid())
            return std::unexpected(from_errno(errno, "open the media root for", key));
        FileDescriptor folder = open_folder_beneath(root.get(), folder_key, true);
        if (!folder.valid()) return std::unexpected(from_errno(errno, "create folder for", key));
        const Target target{folder.get(), std::string(name)};
        if (auto unnamed = put_unnamed(target, fill, key)) return *unnamed;
        return put_named(target, fill, key);
    }

  public:
    Result<std::optional<ObjectInfo>> head(std::string_view key) override {
        if (auto ok = check_key(key); !ok) return std::unexpected(ok.error());
        FileDescriptor fd = open_object(key, O_PATH);
        struct stat info {};
        if (!fd.valid() || ::fstat(fd.get(), &info) != 0) {
            if (is_absent(errno)) return std::optional<ObjectInfo>{};
            return std::unexpected(from_errno(errno, "stat", key));
        }
        if (!S_ISREG(info.st_mode)) return std::optional<ObjectInfo>{};
        return ObjectInfo{std::string(key), static_cast<std::uint64_t>(info.st_size),
                          modified_micros(info)};
    }

    Result<std::optional<ObjectReader>> open(std::string_view key) override {
        if (auto ok = check_key(key); !ok) return std::unexpected(ok.error());
        auto fd = std::make_shared<FileDescriptor>(open_object(key, O_RDONLY));
        struct stat info {};
        if (!fd->valid() || ::fstat(fd->get(), &info) != 0) {
            if (is_absent(errno)) return std::optional<ObjectReader>{};
            return std::unexpected(from_errno(errno, "open", key));
        }
        if (!S_ISREG(info.st_mode)) return std::optional<ObjectReader>{};
        ObjectReader reader;
        reader.info = ObjectInfo{std::string(key), static_cast<std::uint64_t>(info.st_size),
                                 modified_micros(info)};
        reader.read_at = [fd](std::uint64_t offset, char* buffer,
                              std::size_t size) -> std::optional<std::size_t> {
            for (;;) {
                const ssize_t got = ::pread(fd->get(), buffer, size, static_cast<off_t>(offset));
                if (got >= 0) return static_cast<std::size_t>(got);
                if (errno != EINTR) return std::nullopt;
            }
        };
        return std::optional<ObjectReader>{std::move(reader)};
    }

    // One root opened per batch, and each folder once: the keys are taken folder by
    // folder (a stable order of their folders), so a batch whose keys share a folder
    // (images/) opens it once and a delete is a single unlinkat. The outcomes keep the
    // keys' order. The link itself goes, never what it points to: unlinkat in the folder
    // opened beneath the root. A key whose folder is a symlink names nothing of ours:
    // absent.
    Result<std::vector<RemoveOutcome>> remove_many(std::span<const std::string> keys) override {
        std::vector<std::size_t> order(keys.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        const auto folder_of = [&](std::size_t i) {
            const std::string_view key = keys[i];
            const std::size_t slash = key.rfind('/');
            return slash == std::string_view::npos ? std::string_view{} : key.substr(0, slash);
        };
        std::ranges::stable_sort(order, {}, folder_of);
        std::vector<RemoveOutcome> outcomes(keys.size());
        FolderCache folders;
        for (const std::size_t i : order) {
            auto removed = remove_with(folders, keys[i]);
            outcomes[i] = RemoveOutcome{
                keys[i], removed ? std::nullopt : std::optional<Error>(removed.error())};
        }
        return outcomes;
    }

    Result<ListPage> list(std::string_view prefix, std::string_view start_after,
                          std::size_t max_keys) override {
        std::lock_guard lock(m_scan_mutex);
        // A sweep asks for page after page: serve them from the last walk's sorted
        // batch instead of walking the folder again for every page, but only while
        // every folder of that walk is unchanged, so the answer is always the one a
        // fresh walk would give (the batch is a cache, not state).
        const bool continues = !m_scan.keys.empty() && m_scan.prefix == prefix &&
                               m_scan.served_up_to == start_after && folders_unchanged();
        if (!continues) {
            auto scanned = scan(prefix, start_after, std::max(max_keys, k_scan_batch));
            if (!scanned) return std::unexpected(scanned.error());
        }
        ListPage page;
        while (page.objects.size() < max_keys && m_scan.next < m_scan.keys.size()) {
            const std::string& key = m_scan.keys[m_scan.next++];
            auto info = head(key);
            if (!info) return std::unexpected(info.error());
            if (*info) page.objects.push_back(std::move(**info));  // vanished meanwhile: skip
            m_scan.served_up_to = key;
        }
        page.truncated = m_scan.next < m_scan.keys.size() || m_scan.more_after_batch;
        if (m_scan.next >= m_scan.keys.size()) m_scan.keys.clear();
        return page;
    }

  private:
    // Writes into an unnamed file (O_TMPFILE) and names it only when complete, so a
    // process killed mid-write leaves nothing behind. nullopt: the filesystem (or a
    // missing /proc) does not allow it, use put_named. Replacing an existing object
    // still needs a rename through a hidden name (uploads never replace: uuid keys).
    std::optional<Result<void>> put_unnamed(const Target& target, const FillFile& fill,
                                            std::string_view key) {
        FileDescriptor fd{::openat(target.folder, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644)};
        if (!fd.valid()) {
            if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return std::nullopt;
            return std::unexpected(from_errno(errno, "create", key));
        }
        if (!fill(fd.get()) || ::fsync(fd.get()) != 0) {
            return std::unexpected(from_errno(errno, "write", key));
        }
        const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        if (::linkat(AT_FDCWD, self.c_str(), target.folder, target.name.c_str(),
                     AT_SYMLINK_FOLLOW) == 0) {
            ::fsync(target.folder);
            return Result<void>{};
        }
        if (errno != EEXIST) return std::nullopt;
        const std::string temporary = hidden_temporary(target.name);
        if (::linkat(AT_FDCWD, self.c_str(), target.folder, temporary.c_str(), AT_SYMLINK_FOLLOW) !=
            0) {
            return std::unexpected(from_errno(errno, "link", key));
        }
        return rename_into_place(target, temporary, key);
    }

    // The portable way: a hidden named file renamed over the target. A process
    // killed mid-write leaves the hidden file (list() skips it).
    Result<void> put_named(const Target& target, const FillFile& fill, std::string_view key) {
        const std::string temporary = hidden_temporary(target.name);
        FileDescriptor fd{::openat(target.folder, temporary.c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)};
        if (!fd.valid()) return std::unexpected(from_errno(errno, "create", key));
        if (!fill(fd.get()) || ::fsync(fd.get()) != 0 || fd.close() != 0) {
            const int error_number = errno;
            ::unlinkat(target.folder, temporary.c_str(), 0);
            return std::unexpected(from_errno(error_number, "write", key));
        }
        return rename_into_place(target, temporary, key);
    }

    // Hidden name: list() skips it and check_key() refuses it as a key.
    static std::string hidden_temporary(const std::string& name) {
        return "." + name + ".tmp-" + random_suffix();
    }

    // renameat replaces a symlink at the target name itself, never what it points to.
    static Result<void> rename_into_place(const Target& target, const std::string& temporary,
                                          std::string_view key) {
        if (::renameat(target.folder, temporary.c_str(), target.folder, target.name.c_str()) != 0) {
            const int error_number = errno;
            ::unlinkat(target.folder, temporary.c_str(), 0);
            return std::unexpected(from_errno(error_number, "rename into place", key));
        }
        ::fsync(target.folder);
        return {};
    }

    static std::pair<std::string_view, std::string_view> split_key(std::string_view key) {
        const std::size_t slash = key.rfind('/');
        if (slash == std::string_view::npos) return {std::string_view{}, key};
        return {key.substr(0, slash), key.substr(slash + 1)};
    }

    // A missing object, or one whose path runs through a symlink (never ours to serve
    // or delete), is absent.
    static bool is_absent(int error_number) {
        return error_number == ENOENT || error_number == ENOTDIR || error_number == ELOOP;
    }

    // The media root and the last folder opened beneath it, for a run of deletes. A
    // folder found absent stays known as absent for the run: every key under it is gone
    // without a syscall (a queue of objects already gone, or of variants never made,
    // would otherwise try to open the same missing folder once per key).
    struct FolderCache {
        FileDescriptor root;
        std::string folder_key;
        FileDescriptor folder;
        bool folder_absent = false;
    };

    Result<bool> remove_with(FolderCache& cache, std::string_view key) const {
        if (auto ok = check_key(key); !ok) return std::unexpected(ok.error());
        const auto [folder_key, name] = split_key(key);
        if (!cache.root.valid()) {
            cache.root = open_root();
            if (!cache.root.valid())
                return std::unexpected(from_errno(errno, "open the media root for", key));
        }
        if (cache.folder_key != folder_key || (!cache.folder.valid() && !cache.folder_absent)) {
            FileDescriptor opened = open_folder_beneath(cache.root.get(), folder_key, false);
            const int open_error = errno;  // before the old descriptor is closed below
            cache.folder_key = folder_key;
            cache.folder = std::move(opened);
            cache.folder_absent = !cache.folder.valid() && is_absent(open_error);
            if (!cache.folder.valid() && !cache.folder_absent)
                return std::unexpected(from_errno(open_error, "delete", key));
        }
        if (cache.folder_absent) return false;
        if (::unlinkat(cache.folder.get(), std::string(name).c_str(), 0) == 0) return true;
        if (is_absent(errno)) return false;
        return std::unexpected(from_errno(errno, "delete", key));
    }

    FileDescriptor open_root() const {
        return FileDescriptor{::open(m_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    }

    FileDescriptor open_object(std::string_view key, int flags) const {
        FileDescriptor root = open_root();
        if (!root.valid()) return root;
        return open_beneath(root.get(), key, flags);
    }

    // Walks only the folder the prefix names and keeps the `limit` smallest keys
    // after `start_after` in a max-heap: memory is bounded by the batch, and a
    // walk of N objects in batches of B reads the folder N/B times.
    // A folder's modification time, taken before its entries are read.
    static std::optional<timespec> modified_at(const fs::path& folder) {
        struct stat status {};
        if (::stat(folder.c_str(), &status) != 0) return std::nullopt;
        return status.st_mtim;
    }

    static std::int64_t nanoseconds(const timespec& time) {
        return static_cast<std::int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
    }

    // Whether every folder the batch came from still has the time it had before the
    // walk read it. The kernel stamps folders from a coarse clock (a tick behind the
    // real time), so a time within k_settle of the walk's start is not trusted: a
    // change during or after the walk could carry the same stamp.
    bool folders_unchanged() const {
        for (const auto& [folder, seen] : m_scan.folders) {
            const auto current = modified_at(folder);
            if (!current || nanoseconds(*current) != nanoseconds(seen)) return false;
            if (nanoseconds(seen) > m_scan.walk_started - k_settle_nanoseconds) return false;
        }
        return true;
    }

    Result<void> scan(std::string_view prefix, std::string_view start_after, std::size_t limit) {
        timespec started{};
        ::clock_gettime(CLOCK_REALTIME, &started);
        m_scan = Scan{std::string(prefix), {}, 0, std::string(start_after), false, {},
                      nanoseconds(started)};
        const std::size_t slash = prefix.rfind('/');
        const std::string folder_key =
            slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
        const fs::path start = folder_key.empty() ? m_root : m_root / folder_key;
        const auto note_folder = [&](const fs::path& folder) {
            if (auto time = modified_at(folder))
                m_scan.folders.emplace_back(folder, *time);
            else
                m_scan.folders.emplace_back(folder, timespec{});  // never matches: no cache
        };
        note_folder(start);
        std::priority_queue<std::string> smallest;
        std::error_code ec;
        fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied,
                                            ec);
        if (ec) {
            if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory)
                return {};
            return fail(ErrorKind::io,
                        "local: list '" + std::string(prefix) + "': " + ec.message());
        }
        for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec)
                return fail(ErrorKind::io,
                            "local: list '" + std::string(prefix) + "': " + ec.message());
            const std::string name = it->path().filename().string();
            if (name.starts_with('.')) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_directory() && !it->is_symlink()) note_folder(it->path());
            if (!it->is_regular_file()) continue;
            std::string key = it->path().lexically_relative(m_root).generic_string();
            if (!key.starts_with(prefix) || key <= start_after) continue;
            if (smallest.size() <= limit) {
                smallest.push(std::move(key));
            } else if (key < smallest.top()) {
                smallest.pop();
                smallest.push(std::move(key));
            }
        }
        m_scan.more_after_batch = smallest.size() > limit;
        if (m_scan.more_after_batch) smallest.pop();
        m_scan.keys.resize(smallest.size());
        for (std::size_t i = smallest.size(); i-- > 0;) {
            m_scan.keys[i] = smallest.top();
            smallest.pop();
        }
        return {};
    }

    static constexpr std::size_t k_scan_batch = 50'000;
    static constexpr std::int64_t k_settle_nanoseconds = 100'000'000;  // 100 ms: many ticks

    struct Scan {
        std::string prefix;
        std::vector<std::string> keys;  // sorted batch from the last walk
        std::size_t next = 0;           // first key not yet served
        std::string served_up_to;       // the last key served (a continuing call passes it)
        bool more_after_batch = false;  // keys beyond the batch exist
        std::vector<std::pair<fs::path, timespec>> folders;  // walked, with their times
        std::int64_t walk_started = 0;                       // CLOCK_REALTIME, ns
    };

    fs::path m_root;
    std::mutex m_scan_mutex;
    Scan m_scan;
};

}  // namespace

std::unique_ptr<Storage> make_local_storage(const std::filesystem::path& root) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) {
        throw StartupError(ErrorKind::system,
                           "cannot create the media folder " + root.string() + ": " + ec.message());
    }
    return std::make_unique<LocalStorage>(root);
}

}  // namespace gallery::storage
