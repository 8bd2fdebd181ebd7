#include "cli/config_file.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "gallery/common/error.hpp"

namespace gallery::cli {

std::map<std::string, std::string> read_config_file(std::istream& in, const std::string& path) {
    std::map<std::string, std::string> settings;
    try {
        for (const CLI::ConfigItem& item : CLI::ConfigTOML().from_config(in)) {
            std::string value;
            for (const std::string& input : item.inputs)
                value += (value.empty() ? "" : ",") + input;
            settings[item.fullname()] = value;
        }
    } catch (const CLI::Error& e) {
        throw StartupError(ErrorKind::invalid_input,
                           "cannot read config file " + path + ": " + e.what());
    }
    return settings;
}

std::map<std::string, std::string> read_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw StartupError(ErrorKind::invalid_input,
                           "cannot read config file " + path + ": " + std::strerror(errno));
    }
    return read_config_file(in, path);
}

}  // namespace gallery::cli
