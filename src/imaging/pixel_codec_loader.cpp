#include "imaging/pixel_codec_loader.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

// The plugin's bytes, linked in by the build (pixel_codec_blob.cpp, generated).
extern "C" const unsigned char gallery_pixel_codec_start[];
extern "C" const unsigned char gallery_pixel_codec_end[];

namespace gallery::imaging {
namespace {

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0) ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return m_fd; }

  private:
    int m_fd;
};

bool write_all(int fd, const unsigned char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

// An anonymous file holding the plugin: a memfd, or else an unlinked file in the
// temporary folder (a kernel or sandbox without memfd_create).
int plugin_file(std::string& failure) {
    int fd = ::memfd_create("gallery-pixel-codec", MFD_CLOEXEC);
    if (fd < 0) {
        const char* folder = std::getenv("TMPDIR");
        std::string path =
            std::string(folder && *folder ? folder : "/tmp") + "/gallery-pixel-codec-XXXXXX";
        fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd < 0) {
            failure = std::string("no memfd and no temporary file: ") + std::strerror(errno);
            return -1;
        }
        ::unlink(path.c_str());
    }
    return fd;
}

Result<const PixelCodec*> load() {
    std::string failure;
    const FileDescriptor file(plugin_file(failure));
    if (file.get() < 0)
        return fail(ErrorKind::io, "re-encoding needs its libvips plugin: " + failure);
    const auto size = static_cast<std::size_t>(gallery_pixel_codec_end - gallery_pixel_codec_start);
    if (!write_all(file.get(), gallery_pixel_codec_start, size)) {
        return fail(ErrorKind::io,
                    std::string("re-encoding needs its libvips plugin: writing it: ") +
                        std::strerror(errno));
    }
    // Kept loaded for the life of the process: libvips cannot be shut down and
    // started again.
    const std::string path = "/proc/self/fd/" + std::to_string(file.get());
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        return fail(ErrorKind::io, std::string("re-encoding needs libvips (Debian: libvips42, "
                                               "libimagequant0, libspng0): ") +
                                       ::dlerror());
    }
    using Entry = const PixelCodec* (*)();
    const auto entry = reinterpret_cast<Entry>(::dlsym(handle, "gallery_pixel_codec"));
    if (!entry) return fail(ErrorKind::io, "the libvips plugin has no entry point");
    return entry();
}

}  // namespace

Result<const PixelCodec*> pixel_codec() {
    static std::once_flag once;
    static Result<const PixelCodec*> loaded = fail(ErrorKind::io, "not loaded");
    std::call_once(once, [] { loaded = load(); });
    return loaded;
}

}  // namespace gallery::imaging
