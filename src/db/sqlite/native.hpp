#pragma once
// What a db::Connection and a db::Statement hold on SQLite. Included only by
// src/db/ (the build's include check refuses it anywhere else).

#include <SQLiteCpp/SQLiteCpp.h>

#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::db {

struct Connection::Native {
    SQLite::Database database;
    // Open write transactions: 0 none, 1 a BEGIN, more are SAVEPOINTs inside it.
    int transaction_depth = 0;
};

inline SQLite::Database& sqlite_of(Connection& connection) {
    return connection.native().database;
}

}  // namespace gallery::db
