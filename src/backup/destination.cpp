#include "gallery/backup/destination.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "gallery/storage/factory.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::backup {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_whole(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!fs::exists(path, ec)) return fail(ErrorKind::not_found, "no file " + path.string());
        return fail(ErrorKind::io, "cannot read " + path.string());
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class FolderDestination final : public Destination {
  public:
    explicit FolderDestination(fs::path folder) : m_folder(std::move(folder)) {}

    std::string location() const override { return m_folder.string(); }
    std::string location_of(const std::string& file_name) const override {
        return (m_folder / file_name).string();
    }
    const fs::path& work_folder() const override { return m_folder; }

    Result<void> store(const fs::path& from, const std::string& file_name) override {
        if (std::FILE* file = std::fopen(from.c_str(), "rb")) {
            ::fsync(::fileno(file));
            std::fclose(file);
        }
        std::error_code ec;
        fs::rename(from, m_folder / file_name, ec);
        if (ec) {
            fs::remove(from, ec);
            return fail(ErrorKind::io, "cannot rename " + from.string() + " to " + file_name);
        }
        return {};
    }

    Result<std::vector<std::string>> file_names() override {
        std::vector<std::string> names;
        std::error_code ec;
        if (!fs::exists(m_folder, ec)) return names;
        for (const auto& entry : fs::directory_iterator(m_folder, ec)) {
            std::string name = entry.path().filename().string();
            if (name.starts_with(k_backup_file_prefix)) names.push_back(std::move(name));
        }
        if (ec) return fail(ErrorKind::io, "cannot list the backup folder " + m_folder.string());
        return names;
    }

    Result<std::string> read(const std::string& file_name) override {
        return read_whole(m_folder / file_name);
    }

    Result<fs::path> local_copy(const std::string& file_name, const fs::path&) override {
        std::error_code ec;
        if (!fs::exists(m_folder / file_name, ec))
            return fail(ErrorKind::not_found, "no file " + location_of(file_name));
        return m_folder / file_name;
    }

    Result<void> remove(const std::string& file_name) override {
        std::error_code ec;
        fs::remove(m_folder / file_name, ec);
        if (ec) return fail(ErrorKind::io, "cannot remove " + location_of(file_name));
        return {};
    }

  private:
    fs::path m_folder;
};

class BucketDestination final : public Destination {
  public:
    BucketDestination(std::unique_ptr<storage::Storage> bucket, std::string prefix,
                      std::string bucket_name, fs::path work_folder)
        : m_bucket(std::move(bucket)),
          m_prefix(std::move(prefix)),
          m_bucket_name(std::move(bucket_name)),
          m_work_folder(std::move(work_folder)) {}

    std::string location() const override { return "s3://" + m_bucket_name + "/" + m_prefix; }
    std::string location_of(const std::string& file_name) const override {
        return location() + file_name;
    }
    const fs::path& work_folder() const override { return m_work_folder; }

    Result<void> store(const fs::path& from, const std::string& file_name) override {
        const std::string type =
            file_name.ends_with(".json") ? "application/json" : "application/gzip";
        auto stored = m_bucket->put_file(m_prefix + file_name, from, type);
        std::error_code ec;
        fs::remove(from, ec);
        return stored;
    }

    Result<std::vector<std::string>> file_names() override {
        std::vector<std::string> names;
        std::string after;
        for (;;) {
            auto page = m_bucket->list(m_prefix + std::string(k_backup_file_prefix), after, 1000);
            if (!page) return std::unexpected(page.error());
            for (const auto& object : page->objects) {
                const std::string name = object.key.substr(m_prefix.size());
                // Only the prefix's own files: nothing under a deeper folder.
                if (name.find('/') == std::string::npos) names.push_back(name);
            }
            if (!page->truncated || page->objects.empty()) return names;
            after = page->objects.back().key;
        }
    }

    Result<std::string> read(const std::string& file_name) override {
        const fs::path scratch = m_work_folder / (file_name + ".fetched.partial");
        auto fetched = fetch(file_name, scratch);
        if (!fetched) return std::unexpected(fetched.error());
        auto bytes = read_whole(scratch);
        std::error_code ec;
        fs::remove(scratch, ec);
        return bytes;
    }

    Result<fs::path> local_copy(const std::string& file_name, const fs::path& scratch) override {
        auto fetched = fetch(file_name, scratch);
        if (!fetched) return std::unexpected(fetched.error());
        return scratch;
    }

    Result<void> remove(const std::string& file_name) override {
        const std::vector<std::string> keys{m_prefix + file_name};
        auto outcomes = m_bucket->remove_many(keys);
        if (!outcomes) return std::unexpected(outcomes.error());
        if (outcomes->front().error) return std::unexpected(*outcomes->front().error);
        return {};
    }

  private:
    Result<void> fetch(const std::string& file_name, const fs::path& to) {
        std::error_code ec;
        fs::create_directories(m_work_folder, ec);
        if (ec)
            return fail(ErrorKind::io, "cannot create the backup folder " + m_work_folder.string());
        auto got = m_bucket->get_file(m_prefix + file_name, to);
        if (!got) fs::remove(to, ec);
        return got;
    }

    std::unique_ptr<storage::Storage> m_bucket;
    std::string m_prefix;
    std::string m_bucket_name;
    fs::path m_work_folder;
};

}  // namespace

std::unique_ptr<Destination> folder_destination(fs::path folder) {
    return std::make_unique<FolderDestination>(std::move(folder));
}

std::unique_ptr<Destination> bucket_destination(std::unique_ptr<storage::Storage> bucket,
                                                std::string prefix, std::string bucket_name,
                                                fs::path work_folder) {
    return std::make_unique<BucketDestination>(std::move(bucket), std::move(prefix),
                                               std::move(bucket_name), std::move(work_folder));
}

std::unique_ptr<Destination> open_destination(const config::Config& config) {
    if (config.backup_to == config::BackupTarget::folder)
        return folder_destination(config.backup_dir);
    return bucket_destination(storage::open_storage(config), config.backup_prefix, config.s3.bucket,
                              config.backup_dir);
}

}  // namespace gallery::backup
