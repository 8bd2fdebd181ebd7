#pragma once
// `gallery migrate --from-django SOURCE`: the import of an original deployment, the
// part of `gallery migrate` that reads another database (src/original/).

#include <string>

#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"

namespace gallery::cli {

struct ImportFlags {
    std::string source;  // a postgresql:// URI, `env` (the POSTGRES_* variables) or a file
    bool dry_run = false;
    bool verify_storage = false;
    bool json = false;
};

// Migrates gallery's database (unless a dry run), imports, prints the summary.
Result<void> run_import_from_django(const config::Config& config, const ImportFlags& flags);

}  // namespace gallery::cli
