#pragma once
// RAII for a POSIX file descriptor.

#include <unistd.h>

#include <utility>

namespace gallery::storage {

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd = -1) : m_fd(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    // Closes now and reports close(2)'s result (a deferred write error shows up here).
    int close() { return ::close(std::exchange(m_fd, -1)); }

  private:
    void reset() {
        if (m_fd >= 0) ::close(std::exchange(m_fd, -1));
    }
    int m_fd;
};

}  // namespace gallery::storage
