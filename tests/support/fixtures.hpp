#pragma once
// Rows and objects the tests set up, and what they read back: one copy each.

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "gallery/catalog/catalog.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::testing {

// Inserts an image row for `key` (filename = the key's last part) through the catalog.
catalog::Image add_image(db::Connection& connection, const std::string& key,
                         const std::string& client_id = "c", std::uint64_t size = 100,
                         UnixMicros now = 1);

// Queues `count` keys prefix0, prefix1, ... (10 bytes each) in one transaction.
void enqueue_keys(
    db::Connection& connection, int count, UnixMicros now, const std::string& prefix = "images/k",
    const std::function<std::string(int)>& client_of = [](int) { return std::string("client"); });

// From now on every INSERT into `table` fails with "disk full" (as a full disk
// would), on either engine: a trigger that raises.
void refuse_inserts(db::Connection& connection, const std::string& table);

// Every key the storage lists, page by page.
std::set<std::string> stored_keys(storage::Storage& storage);

// POST /api/upload/ with one file part and, when not empty, client_id and name.
httplib::Result upload(httplib::Client& client, const std::string& filename,
                       const std::string& content, const std::string& client_id,
                       const std::string& name = "");

}  // namespace gallery::testing
