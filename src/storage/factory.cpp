#include "gallery/storage/factory.hpp"

#include "gallery/storage/local_storage.hpp"
#include "gallery/storage/s3_storage.hpp"

namespace gallery::storage {

namespace {

std::unique_ptr<Storage> open_s3(const config::S3Settings& s3) {
    std::string missing;
    for (const auto& [name, value] :
         {std::pair{"s3_endpoint (GALLERY_S3_ENDPOINT)", &s3.endpoint},
          std::pair{"s3_bucket (GALLERY_S3_BUCKET)", &s3.bucket},
          std::pair{"s3_access_key (GALLERY_S3_ACCESS_KEY)", &s3.access_key},
          std::pair{"s3_secret_key (GALLERY_S3_SECRET_KEY)", &s3.secret_key}}) {
        if (value->empty()) missing += (missing.empty() ? "" : ", ") + std::string(name);
    }
    if (!missing.empty())
        throw StartupError(ErrorKind::invalid_input, "storage = s3 needs " + missing);
    S3Options options;
    options.endpoint = s3.endpoint;
    options.bucket = s3.bucket;
    options.region = s3.region;
    options.access_key = s3.access_key;
    options.secret_key = s3.secret_key;
    options.session_token = s3.session_token;
    options.path_style = s3.path_style;
    options.concurrency = s3.concurrency;
    options.keys_per_delete = static_cast<std::size_t>(s3.keys_per_delete);
    options.connect_timeout = std::chrono::seconds(s3.connect_timeout_seconds);
    options.request_timeout = std::chrono::seconds(s3.request_timeout_seconds);
    return make_s3_storage(options);
}

}  // namespace

std::unique_ptr<Storage> open_storage(const config::Config& config) {
    switch (config.storage) {
        case config::StorageKind::local:
            return make_local_storage(config.media_root);
        case config::StorageKind::s3:
            return open_s3(config.s3);
    }
    throw StartupError(ErrorKind::invalid_input, "unknown storage kind");
}

}  // namespace gallery::storage
