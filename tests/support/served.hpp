#pragma once
// The real `gallery serve` process on a kernel-chosen loopback port, started the
// way an operator does, for tests that signal or kill it.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <httplib.h>

#include "support/temp_dir.hpp"

namespace gallery::testing {

struct ServedProcess {
    pid_t pid = -1;
    int port = 0;
    std::string generated_key;  // empty when GALLERY_API_KEY was given
};

// Starts `gallery serve --port 0` with `env`, output to `out` and `out`.err, and
// waits (up to 5 s) for its banner. Throws with the output when it does not start.
// `wrapper` runs before the binary (e.g. setpriv to serve as an unprivileged user);
// `binary` is the gallery executable to start.
ServedProcess start_serve(const std::map<std::string, std::string>& env,
                          const std::filesystem::path& out,
                          const std::vector<std::string>& wrapper = {},
                          const std::string& binary = GALLERY_BINARY);

std::string read_text_file(const std::filesystem::path& path);

// A migrated database of the test's engine, a media root and a real `gallery serve`
// on them, with `extra` settings added to its environment; stopped (SIGTERM) at the end.
struct ServedGallery {
    static constexpr const char* k_api_key = "served-gallery-api-key-0123456789";

    explicit ServedGallery(std::map<std::string, std::string> extra = {});
    ~ServedGallery();
    ServedGallery(const ServedGallery&) = delete;
    ServedGallery& operator=(const ServedGallery&) = delete;

    // A client sending the API key, with `timeout` for reads and writes.
    httplib::Client client(std::chrono::seconds timeout = std::chrono::seconds{10}) const;
    int port() const { return served.port; }
    // VmRSS and VmHWM (the most the server has held at once) from /proc, in KiB.
    std::int64_t rss_kib() const;
    std::int64_t peak_kib() const;
    // What the server has written so far: its standard output, then its standard error.
    std::string output() const;

    TempDir dir;
    std::map<std::string, std::string> env;
    ServedProcess served;
};

}  // namespace gallery::testing
