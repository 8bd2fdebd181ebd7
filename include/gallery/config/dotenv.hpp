#pragma once
// The original deployment's `.env`, read as python-dotenv's load_dotenv() reads it,
// so the same file configures gallery unchanged: `KEY=value  # comment`, `export KEY=`,
// 'single' and "double" quotes (double quotes understand \n, \t, \" ...; values may
// span lines), `${NAME}` and `${NAME:-default}` expanded, and the process environment
// winning over the file.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gallery::config {

struct DotenvBinding {
    std::string name;
    std::optional<std::string> value;  // nullopt for a bare `NAME` line (never set)
    int line = 0;
};

struct DotenvFile {
    std::vector<DotenvBinding> bindings;  // in file order; a later one wins
    std::vector<int> unparsed_lines;      // lines skipped, as python-dotenv skips them
};

DotenvFile parse_dotenv(std::string_view text);

// `${NAME}` and `${NAME:-default}` in `value`, looked up with `lookup` (nullopt: unset,
// which expands to "" or the default).
std::string expand_variables(
    std::string_view value,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

// The .env that load_env_file() read: its path and the names it set.
struct LoadedEnvFile {
    std::string path;
    std::set<std::string> names;
};

// Reads `path` and sets each name the process environment does not already have
// (expansions see the environment first, then the file's earlier names), as
// load_dotenv() does. Call before any thread starts (setenv). Throws StartupError
// (exit code 2) when the file cannot be read. Lines that cannot be parsed are
// skipped with a warning naming them.
void load_env_file(const std::string& path);

// What load_env_file() read (empty path when nothing was).
const LoadedEnvFile& loaded_env_file();

}  // namespace gallery::config
