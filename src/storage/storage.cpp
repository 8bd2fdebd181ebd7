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
        std::string bytes((*opened)->info.size, '\0');
        std::uint64_t done = 0;
        while (done < bytes.size()) {
            auto read = (*opened)->read_at(done, bytes.data() + done, bytes.size() - done);
            if (!read) return fail(ErrorKind::io, "reading '" + std::string(key) + "' failed");
            if (*read == 0) break;
            done += *read;
        }
        bytes.resize(done);
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
