#pragma once
// Runs the real `gallery` binary and captures what it prints.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gallery::testing {

struct ProcessResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

struct ProcessOptions {
    std::map<std::string, std::string> environment{};  // added to a minimal environment
    std::string input{};                               // standard input
    std::string working_directory{};
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Starts without waiting; stdout and stderr go to the given files.
pid_t start_process(const std::vector<std::string>& argv, const ProcessOptions& options,
                    const std::string& stdout_path);

// The exit code (128 + N for signal N). A process still running after `limit` is
// killed and reported as -2, so a hang fails its test instead of CTest's timeout.
int wait_process(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace gallery::testing
