#include "gallery/db/transaction.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace gallery::db {

WriteTransaction::WriteTransaction(Connection& connection) : m_connection(connection) {
    m_connection.sqlite().exec("BEGIN IMMEDIATE");
}

WriteTransaction::~WriteTransaction() {
    if (!m_open) return;
    try {
        m_connection.sqlite().exec("ROLLBACK");
    } catch (...) {
        // A failed rollback leaves SQLite to roll back when the connection closes.
    }
}

void WriteTransaction::commit() {
    m_connection.sqlite().exec("COMMIT");
    m_open = false;
}

}  // namespace gallery::db
