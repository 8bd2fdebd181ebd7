#include "catalog/client_totals.hpp"
#include "gallery/common/text.hpp"

#include <algorithm>
#include <cctype>

#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::catalog::totals {

void lock_client(db::Connection& connection, const std::string& client_id) {
    db::lock_name(connection, "gallery client " + to_lower(client_id));
}

void add_image(db::Connection& connection, const std::string& client_id, std::uint64_t size,
               UnixMicros uploaded_at) {
    add_images(connection, client_id, 1, size, uploaded_at, uploaded_at);
}

void add_images(db::Connection& connection, const std::string& client_id, std::int64_t count,
                std::uint64_t size, UnixMicros latest_upload, UnixMicros oldest_upload) {
    lock_client(connection, client_id);
    db::Statement upsert(
        connection,
        "INSERT INTO client_totals (client_id, image_count, total_size, latest_upload, "
        "oldest_upload)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (client_id COLLATE NOCASE) DO UPDATE SET"
        " image_count = client_totals.image_count + excluded.image_count,"
        " total_size = client_totals.total_size + excluded.total_size,"
        // CASE, not two-argument MAX/MIN: PostgreSQL spells those GREATEST/LEAST.
        " latest_upload = CASE WHEN excluded.latest_upload > client_totals.latest_upload"
        "   THEN excluded.latest_upload ELSE client_totals.latest_upload END,"
        " oldest_upload = CASE WHEN excluded.oldest_upload < client_totals.oldest_upload"
        "   THEN excluded.oldest_upload ELSE client_totals.oldest_upload END");
    upsert.bind(1, client_id);
    upsert.bind(2, count);
    upsert.bind(3, static_cast<std::int64_t>(size));
    upsert.bind(4, latest_upload);
    upsert.bind(5, oldest_upload);
    upsert.execute();
}

void remove_images(db::Connection& connection, const std::string& client_id, std::int64_t count,
                   std::uint64_t size) {
    lock_client(connection, client_id);
    db::Statement drop(
        connection,
        "DELETE FROM client_totals WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE"
        " AND image_count <= ?2");
    drop.bind(1, client_id);
    drop.bind(2, count);
    if (drop.execute() > 0) return;
    // MIN/MAX over the (client_id NOCASE, uploaded_at) index: two index probes.
    db::Statement update(
        connection,
        "UPDATE client_totals SET image_count = image_count - ?2, total_size = total_size - ?3,"
        " latest_upload = (SELECT MAX(uploaded_at) FROM images"
        " WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE),"
        " oldest_upload = (SELECT MIN(uploaded_at) FROM images"
        " WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE)"
        " WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE");
    update.bind(1, client_id);
    update.bind(2, count);
    update.bind(3, static_cast<std::int64_t>(size));
    update.execute();
}

void drop_client(db::Connection& connection, const std::string& client_id) {
    lock_client(connection, client_id);
    db::Statement drop(
        connection, "DELETE FROM client_totals WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE");
    drop.bind(1, client_id);
    drop.execute();
}

void ClientChanges::add(const std::string& client_id, std::uint64_t size, UnixMicros uploaded_at) {
    ClientChange& change = m_by_folded_id[to_lower(client_id)];
    if (change.count == 0) {
        change.client_id = client_id;
        change.latest_upload = change.oldest_upload = uploaded_at;
    }
    ++change.count;
    change.size += size;
    change.latest_upload = std::max(change.latest_upload, uploaded_at);
    change.oldest_upload = std::min(change.oldest_upload, uploaded_at);
}

bool same_client(const std::string& a, const std::string& b) {
    return iequals(a, b);
}

}  // namespace gallery::catalog::totals
