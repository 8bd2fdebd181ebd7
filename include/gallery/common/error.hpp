#pragma once
// The project's one error type. Library errors (SQLite, libpq, errno, curl, S3) are
// converted into it where the library is called; callers branch on `kind`. Only
// src/main.cpp turns a kind into an exit code, and only api::http_status_for into an
// HTTP status.

#include <chrono>
#include <expected>
#include <optional>
#include <stdexcept>
#include <string>

namespace gallery {

enum class ErrorKind {
    invalid_input,         // the caller's data is wrong (bad key, bad value); retrying won't help
    not_found,             // a named thing does not exist
    database,              // the database failed (busy past the timeout, I/O, constraint)
    database_unavailable,  // the database cannot be reached (PostgreSQL down): try again
    storage_transient,  // storage failed in a way worth retrying later (timeout, 5xx, throttling)
    storage_permanent,  // storage refuses this for good (access denied, no such bucket)
    io,                 // a local file operation failed
    overloaded,         // a bounded shared resource (encode slots, connections) is exhausted
                        // or its wait passed the deadline: try again after `retry_after`
    system,             // the machine refuses what a command needs (a port in use, a folder that
                        // cannot be made)
    disk_full,          // the disk under the database is full: nothing was written; free space
};

struct Error {
    ErrorKind kind;
    std::string message;
    // Set when the failing service said how long to wait (HTTP Retry-After).
    std::optional<std::chrono::seconds> retry_after{};
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return std::unexpected(Error{kind, std::move(message)});
}

// Prefixes context to an error: "queue: claim batch: database is locked".
inline Error with_context(std::string_view context, Error error) {
    error.message = std::string(context) + ": " + error.message;
    return error;
}

// Thrown at start-up for problems a person must fix before anything can run (bad
// configuration: invalid_input; a database that cannot be opened: database; a port in
// use: system). main() turns its kind into the exit code, as for any other error.
class StartupError : public std::runtime_error {
  public:
    StartupError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), m_kind(kind) {}
    ErrorKind kind() const { return m_kind; }

  private:
    ErrorKind m_kind;
};

// Exit codes shared by every subcommand, chosen from an error's kind in src/main.cpp.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;  // database or runtime failure
inline constexpr int usage = 2;    // bad flags, bad configuration value, invalid input
inline constexpr int storage = 3;  // storage failure that stopped the run
}  // namespace exit_code

}  // namespace gallery
