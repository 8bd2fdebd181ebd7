#include "gallery/storage/storage.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>

namespace gallery::storage {

Result<std::optional<ObjectReader>> Storage::open(std::string_view) {
    return std::unexpected(Error{ErrorKind::storage_permanent,
                                 std::string(kind()) + ": objects cannot be opened for streaming"});
}

std::optional<std::string> Storage::presigned_get(std::string_view, long long,
                                                  std::chrono::seconds) const {
    return std::nullopt;
}

Result<std::string> read_all(Storage& storage, std::string_view key) {
    auto opened = storage.open(key);
    if (opened && !*opened)
        return fail(ErrorKind::not_found, "no object '" + std::string(key) + "'");
    if (opened) {
        // Read straight into the string (no zero-fill of a many-megabyte buffer first).
        std::string bytes;
        bool failed = false;
        bytes.resize_and_overwrite((*opened)->info.size, [&](char* data, std::size_t size) {
            std::size_t done = 0;
            while (done < size) {
                auto read = (*opened)->read_at(done, data + done, size - done);
                if (!read) failed = true;
                if (!read || *read == 0) break;
                done += *read;
            }
            return done;
        });
        if (failed) return fail(ErrorKind::io, "reading '" + std::string(key) + "' failed");
        return bytes;
    }
    if (opened.error().kind != ErrorKind::storage_permanent) return std::unexpected(opened.error());
    static std::atomic<std::uint64_t> reads{0};
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() /
        ("gallery-read-" + std::to_string(::getpid()) + "-" + std::to_string(++reads));
    struct Removed {
        const std::filesystem::path& file;
        ~Removed() {
            std::error_code ignored;
            std::filesystem::remove(file, ignored);
        }
    } removed{file};
    if (auto got = storage.get_file(key, file); !got) return std::unexpected(got.error());
    std::ifstream in(file, std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    if (!in.eof() && in.fail())
        return fail(ErrorKind::io, "reading the copy of '" + std::string(key) + "' failed");
    return bytes;
}

}  // namespace gallery::storage
