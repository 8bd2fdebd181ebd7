#pragma once
// Queuing storage keys by hand (`gallery enqueue KEY...`): all or nothing. Every key
// is checked first (a key the backend refuses, a key a live image still references, a
// key under `protected_prefix`, where backups are kept); one refusal and nothing is
// queued.

#include <span>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::cleanup {

struct EnqueueKeysOutcome {
    std::size_t queued = 0;
    std::size_t already_pending = 0;
};

// Errors: invalid_input naming every refused key, one sentence per line, when
// nothing was queued because of them; database when the queue could not be written.
Result<EnqueueKeysOutcome> enqueue_keys(db::Connection& connection, const storage::Storage& storage,
                                        std::span<const std::string> keys,
                                        const std::string& client_id, UnixMicros now,
                                        std::string_view protected_prefix = {});

}  // namespace gallery::cleanup
