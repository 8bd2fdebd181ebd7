#include "support/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gallery::testing {
namespace {

// A child gets a known, small environment, plus the sanitizers' options of the test
// run: without TSAN_OPTIONS a ThreadSanitizer build of `gallery` would lose the
// suppressions file (tests/tsan.supp) and exit 66 on the known races inside Debian's
// uninstrumented cpp-httplib.
std::vector<std::string> environment_strings(const ProcessOptions& options) {
    std::vector<std::string> env{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"};
    for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
        if (const char* value = std::getenv(name);
            value != nullptr && !options.environment.contains(name))
            env.push_back(std::string(name) + "=" + value);
    }
    for (const auto& [name, value] : options.environment) env.push_back(name + "=" + value);
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

pid_t spawn(const std::vector<std::string>& argv, const ProcessOptions& options, int in_fd,
            int out_fd, int err_fd) {
    std::vector<std::string> args = argv;
    std::vector<std::string> env = environment_strings(options);
    auto arg_pointers = pointers(args);
    auto env_pointers = pointers(env);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(in_fd, STDIN_FILENO);
        ::dup2(out_fd, STDOUT_FILENO);
        ::dup2(err_fd, STDERR_FILENO);
        if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0)
            ::_exit(126);
        ::execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
        ::_exit(127);
    }
    return pid;
}

std::string temp_path(const char* what) {
    char pattern[] = "/tmp/gallery-proc-XXXXXX";
    const int fd = ::mkstemp(pattern);
    if (fd < 0) throw std::runtime_error(std::string("mkstemp for ") + what);
    ::close(fd);
    return pattern;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
    const std::string in_path = temp_path("stdin"), out_path = temp_path("stdout"),
                      err_path = temp_path("stderr");
    std::ofstream(in_path, std::ios::binary) << options.input;
    const int in_fd = ::open(in_path.c_str(), O_RDONLY);
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    const pid_t pid = spawn(argv, options, in_fd, out_fd, err_fd);
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
    ProcessResult result;
    result.exit_code = wait_process(pid);
    result.out = read_all(out_path);
    result.err = read_all(err_path);
    std::remove(in_path.c_str());
    std::remove(out_path.c_str());
    std::remove(err_path.c_str());
    return result;
}

pid_t start_process(const std::vector<std::string>& argv, const ProcessOptions& options,
                    const std::string& stdout_path) {
    const int in_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open((stdout_path + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const pid_t pid = spawn(argv, options, in_fd, out_fd, err_fd);
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
    return pid;
}

int wait_process(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return -1;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return -2;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace gallery::testing
