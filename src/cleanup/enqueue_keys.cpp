#include "gallery/cleanup/enqueue_keys.hpp"

#include "gallery/queue/queue.hpp"

namespace gallery::cleanup {

Result<EnqueueKeysOutcome> enqueue_keys(db::Connection& connection, const storage::Storage& storage,
                                        std::span<const std::string> keys,
                                        const std::string& client_id, UnixMicros now,
                                        std::string_view protected_prefix) {
    if (keys.empty()) {
        return fail(ErrorKind::invalid_input,
                    "no keys given (pass keys as arguments, or - to read them from standard "
                    "input)");
    }
    std::vector<std::string> problems;
    for (const std::string& key : keys) {
        if (auto checked = storage.check_key(key); !checked)
            problems.push_back(checked.error().message);
        else if (!protected_prefix.empty() && key.starts_with(protected_prefix))
            problems.push_back("'" + key + "' is under backup_prefix '" +
                               std::string(protected_prefix) +
                               "', where gallery keeps its backups");
    }
    auto in_use = queue::keys_in_use(connection, keys);
    if (!in_use) return std::unexpected(in_use.error());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if ((*in_use)[i])
            problems.push_back("'" + keys[i] +
                               "' is still referenced by an image: delete the image instead");
    }
    if (!problems.empty()) {
        std::string message;
        for (const std::string& problem : problems) message += problem + "\n";
        message += "nothing was queued (" + std::to_string(problems.size()) + " of " +
                   std::to_string(keys.size()) + " keys refused)";
        return fail(ErrorKind::invalid_input, std::move(message));
    }
    std::vector<queue::EnqueueRequest> requests;
    requests.reserve(keys.size());
    for (const std::string& key : keys) requests.push_back({key, client_id, std::nullopt});
    auto queued = queue::enqueue_all(connection, requests, now);
    if (!queued) return std::unexpected(queued.error());
    return EnqueueKeysOutcome{*queued, keys.size() - *queued};
}

}  // namespace gallery::cleanup
