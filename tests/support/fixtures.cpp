#include "support/fixtures.hpp"

#include <catch2/catch.hpp>

#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::testing {

catalog::Image add_image(db::Connection& connection, const std::string& key,
                         const std::string& client_id, std::uint64_t size, UnixMicros now) {
    const std::string filename = key.substr(key.rfind('/') + 1);
    auto image = catalog::insert_image(connection,
                                       {filename, key, "orig-" + filename, client_id, std::nullopt,
                                        std::nullopt, size, "image/jpeg"},
                                       now);
    if (!image) FAIL("insert_image: " << image.error().message);
    return *image;
}

void enqueue_keys(db::Connection& connection, int count, UnixMicros now, const std::string& prefix,
                  const std::function<std::string(int)>& client_of) {
    db::WriteTransaction transaction(connection);
    for (int i = 0; i < count; ++i) {
        REQUIRE(queue::enqueue(connection, {prefix + std::to_string(i), client_of(i), 10}, now)
                    .value());
    }
    transaction.commit();
}

void refuse_inserts(db::Connection& connection, const std::string& table) {
    if (connection.engine() == db::Engine::postgresql) {
        db::execute_script(connection,
                           "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS"
                           " $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;"
                           " CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table +
                               " FOR EACH ROW EXECUTE FUNCTION refuse_insert()");
        return;
    }
    db::execute_script(connection, "CREATE TRIGGER refuse_" + table + " BEFORE INSERT ON " + table +
                                       " BEGIN SELECT RAISE(ABORT, 'disk full'); END");
}

std::set<std::string> stored_keys(storage::Storage& storage) {
    std::set<std::string> keys;
    std::string after;
    for (;;) {
        auto page = storage.list("", after, 1000);
        REQUIRE(page);
        for (const auto& object : page->objects) keys.insert(object.key);
        if (!page->truncated || page->objects.empty()) break;
        after = page->objects.back().key;
    }
    return keys;
}

httplib::Result upload(httplib::Client& client, const std::string& filename,
                       const std::string& content, const std::string& client_id,
                       const std::string& name) {
    httplib::MultipartFormDataItems items{{"image", content, filename, "application/octet-stream"}};
    if (!client_id.empty()) items.push_back({"client_id", client_id, "", ""});
    if (!name.empty()) items.push_back({"name", name, "", ""});
    return client.Post("/api/upload/", items);
}

}  // namespace gallery::testing
