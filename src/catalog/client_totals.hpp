#pragma once
// Keeps the client_totals table in step with the images table. Every function runs
// inside the caller's write transaction, next to the image change it accounts for.

#include "gallery/db/statement.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::catalog::totals {

// Holds, until the transaction ends, the lock of one client (case folded): every
// change to a client's rows or totals takes it, so that on PostgreSQL a delete-all
// and an upload of one client, or two deletes of its images, run one after the other
// (SQLite's writers do anyway). Each function below takes it for its client; a caller
// that reads the client's rows before changing them takes it first. Callers that
// lock several clients do it in ascending order of the folded ids.
void lock_client(db::Connection& connection, const std::string& client_id);

void add_image(db::Connection& connection, const std::string& client_id, std::uint64_t size,
               UnixMicros uploaded_at);

// Adds `count` images of `size` bytes in all, uploaded between the two times (a restore).
void add_images(db::Connection& connection, const std::string& client_id, std::int64_t count,
                std::uint64_t size, UnixMicros latest_upload, UnixMicros oldest_upload);

// Subtracts `count` images of `size` bytes in all, then refreshes the client's
// latest/oldest upload from the images index; drops the row when none is left.
void remove_images(db::Connection& connection, const std::string& client_id, std::int64_t count,
                   std::uint64_t size);

void drop_client(db::Connection& connection, const std::string& client_id);

// What a change of many images does to each client's totals, one entry per folded
// client id, visited in ascending order of it: the order clients are locked in.
struct ClientChange {
    std::string client_id;  // the first spelling seen
    std::int64_t count = 0;
    std::uint64_t size = 0;
    UnixMicros latest_upload = 0;
    UnixMicros oldest_upload = 0;
};

class ClientChanges {
  public:
    void add(const std::string& client_id, std::uint64_t size, UnixMicros uploaded_at = 0);
    // Entries in lock order.
    auto begin() const { return m_by_folded_id.begin(); }
    auto end() const { return m_by_folded_id.end(); }

  private:
    std::map<std::string, ClientChange> m_by_folded_id;
};

// Case-insensitive (ASCII, like SQLite's NOCASE) equality of client ids.
bool same_client(const std::string& a, const std::string& b);

}  // namespace gallery::catalog::totals
