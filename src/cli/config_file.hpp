#pragma once
// The config file (TOML; keys are the setting names) read into config::Sources::file,
// with CLI11's TOML reader (which is why it lives with the CLI).

#include <istream>
#include <map>
#include <string>

namespace gallery::cli {

// Each key with its value as text (an array's items joined with ','). Throws
// StartupError (exit code 2) naming `path` and the reason when the text is not
// readable TOML.
std::map<std::string, std::string> read_config_file(std::istream& in, const std::string& path);

// The same for a file on disk; a file that cannot be opened is a StartupError too.
std::map<std::string, std::string> read_config_file(const std::string& path);

}  // namespace gallery::cli
