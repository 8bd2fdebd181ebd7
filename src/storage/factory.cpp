#include "gallery/storage/factory.hpp"

#include "gallery/storage/local_storage.hpp"

namespace gallery::storage {

std::unique_ptr<Storage> open_storage(const config::Config& config) {
    switch (config.storage) {
        case config::StorageKind::local:
            return make_local_storage(config.media_root);
        case config::StorageKind::s3:
            break;
    }
    throw StartupError(exit_code::usage,
                       "storage = s3 is not available in this build yet (the S3 backend is tracked as "
                       "its own issue); use storage = local");
}

}  // namespace gallery::storage
