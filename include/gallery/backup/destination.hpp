#pragma once
// Where finished backups are kept (`backup_to`): the backup folder, or the configured
// S3 bucket under `backup_prefix` (our SigV4 client; never under the images' prefix,
// which the orphan sweep walks). A backup is two files there, NAME.db.gz then
// NAME.json (its manifest, written last). Backups are made and restored through the
// work folder (`backup_dir`), which for the folder destination is the folder itself.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"

namespace gallery::storage {
class Storage;
}

namespace gallery::backup {

// Every backup's files are named "gallery-<UTC time>..." (backup.hpp).
inline constexpr std::string_view k_backup_file_prefix = "gallery-";

class Destination {
  public:
    virtual ~Destination() = default;

    // "/var/lib/gallery/backups" or "s3://bucket/backups/", for messages and records.
    virtual std::string location() const = 0;
    // The location of one of its files.
    virtual std::string location_of(const std::string& file_name) const = 0;
    // Local files of backups being made or restored go here.
    virtual const std::filesystem::path& work_folder() const = 0;

    // Makes the finished local file `from` (in the work folder) the destination's
    // `file_name`, whole or not at all; `from` is gone afterwards either way.
    virtual Result<void> store(const std::filesystem::path& from, const std::string& file_name) = 0;
    // The names of its files that start with k_backup_file_prefix, in no order.
    virtual Result<std::vector<std::string>> file_names() = 0;
    // A small file's bytes (a manifest). Errors: not_found.
    virtual Result<std::string> read(const std::string& file_name) = 0;
    // A local path holding `file_name`'s bytes: the file itself in a folder, else a
    // copy fetched into `scratch` (which the caller removes). Errors: not_found.
    virtual Result<std::filesystem::path> local_copy(const std::string& file_name,
                                                     const std::filesystem::path& scratch) = 0;
    // Removes `file_name`; one already gone is fine.
    virtual Result<void> remove(const std::string& file_name) = 0;
};

// The folder destination: files in `folder`.
std::unique_ptr<Destination> folder_destination(std::filesystem::path folder);

// The bucket destination: objects `prefix` + file name in `bucket` (named
// `bucket_name` in messages), made and restored through `work_folder`.
std::unique_ptr<Destination> bucket_destination(std::unique_ptr<storage::Storage> bucket,
                                                std::string prefix, std::string bucket_name,
                                                std::filesystem::path work_folder);

// What `config` names (backup_to). Throws StartupError as storage::open_storage does.
std::unique_ptr<Destination> open_destination(const config::Config& config);

}  // namespace gallery::backup
