// Config parsing on fuzzed input: a TOML file, then (after a line "---") the
// environment as NAME=value lines.
//
// Properties: no crash; a bad file or value is a StartupError (exit code 2) with a
// message, never another exception; a config that resolves has usable values.

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "cli/config_file.hpp"
#include "fuzz_check.hpp"
#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"

using namespace gallery;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t split = text.find("\n---\n");
    std::istringstream file(std::string(text.substr(0, split)));
    std::map<std::string, std::string> environment;
    if (split != std::string_view::npos) {
        std::istringstream lines(std::string(text.substr(split + 5)));
        for (std::string line; std::getline(lines, line);) {
            const std::size_t equals = line.find('=');
            if (equals != std::string::npos)
                environment[line.substr(0, equals)] = line.substr(equals + 1);
        }
    }
    try {
        config::Sources sources;
        sources.file_path = "fuzz.toml";
        sources.file = cli::read_config_file(file, sources.file_path);
        sources.environment =
            [&environment](const std::string& name) -> std::optional<std::string> {
            const auto found = environment.find(name);
            if (found == environment.end()) return std::nullopt;
            return found->second;
        };
        const config::Config config = config::resolve(sources);
        fuzz::check(config.batch_size >= 1 && config.max_attempts >= 1 && config.threads >= 1,
                    "a resolved config with a zero count");
        fuzz::check(!config.db_path.empty(), "a resolved config without a database path");
    } catch (const StartupError& e) {
        fuzz::check(e.kind() == ErrorKind::invalid_input && std::string_view(e.what()).size() > 10,
                    "a config error without exit code 2 and a sentence");
    }
    return 0;
}
