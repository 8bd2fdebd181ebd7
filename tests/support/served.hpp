#pragma once
// The real `gallery serve` process on a kernel-chosen loopback port, started the
// way an operator does, for tests that signal or kill it.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace gallery::testing {

struct ServedProcess {
    pid_t pid = -1;
    int port = 0;
    std::string generated_key;  // empty when GALLERY_API_KEY was given
};

// Starts `gallery serve --port 0` with `env`, output to `out` and `out`.err, and
// waits (up to 5 s) for its banner. Throws with the output when it does not start.
ServedProcess start_serve(const std::map<std::string, std::string>& env,
                          const std::filesystem::path& out);

std::string read_text_file(const std::filesystem::path& path);

}  // namespace gallery::testing
