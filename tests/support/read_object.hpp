#pragma once
// Reads a whole object back, for tests only: storage::Storage has no whole-object read
// because gallery never needs one. A backend gallery serves itself is read through
// open(); S3 through the presigned URL a browser would be sent to.

#include <httplib.h>

#include <optional>
#include <string>
#include <string_view>

#include "gallery/common/time.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::testing {

inline Result<std::optional<std::string>> read_object(storage::Storage& store,
                                                      std::string_view key) {
    if (auto checked = store.check_key(key); !checked) return std::unexpected(checked.error());
    const long long now_seconds = now_micros() / k_micros_per_second;
    if (auto url = store.presigned_get(key, now_seconds, std::chrono::seconds{60})) {
        const std::size_t path_start = url->find('/', url->find("://") + 3);
        httplib::Client client(url->substr(0, path_start));
        client.set_url_encode(false);  // the signed path is encoded already
        auto answer = client.Get(url->substr(path_start));
        if (!answer) return fail(ErrorKind::storage_transient, "GET " + *url + " failed");
        if (answer->status == 404) return std::optional<std::string>{};
        if (answer->status != 200) {
            return fail(ErrorKind::storage_permanent,
                        "GET answered " + std::to_string(answer->status) + ": " + answer->body);
        }
        return std::optional<std::string>{answer->body};
    }
    auto reader = store.open(key);
    if (!reader) return std::unexpected(reader.error());
    if (!*reader) return std::optional<std::string>{};
    std::string content((*reader)->info.size, '\0');
    std::size_t done = 0;
    while (done < content.size()) {
        auto got = (*reader)->read_at(done, content.data() + done, content.size() - done);
        if (!got) return fail(ErrorKind::io, "read failed");
        if (*got == 0) break;
        done += *got;
    }
    content.resize(done);
    return std::optional<std::string>{std::move(content)};
}

// Deletes one object through the batch delete, as the cleaner does.
inline Result<void> remove_object(storage::Storage& store, const std::string& key) {
    auto outcomes = store.remove_many(std::span<const std::string>(&key, 1));
    if (!outcomes) return std::unexpected(outcomes.error());
    if ((*outcomes)[0].error) return std::unexpected(*(*outcomes)[0].error);
    return {};
}

}  // namespace gallery::testing
