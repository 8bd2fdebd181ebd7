#include "gallery/db/transaction.hpp"

#include <string>

#include "db/sqlite/native.hpp"

namespace gallery::db {
namespace {

std::string savepoint_name(int depth) {
    return "gallery_" + std::to_string(depth);
}

}  // namespace

WriteTransaction::WriteTransaction(Connection& connection) : m_connection(connection) {
    Connection::Native& native = m_connection.native();
    const int depth = native.transaction_depth;
    execute_script(m_connection, depth == 0 ? std::string("BEGIN IMMEDIATE")
                                            : "SAVEPOINT " + savepoint_name(depth));
    ++native.transaction_depth;
}

WriteTransaction::~WriteTransaction() {
    if (!m_open) return;
    Connection::Native& native = m_connection.native();
    const int depth = --native.transaction_depth;
    try {
        if (depth == 0) {
            execute_script(m_connection, "ROLLBACK");
        } else {
            const std::string name = savepoint_name(depth);
            execute_script(m_connection, "ROLLBACK TO " + name + "; RELEASE " + name);
        }
    } catch (...) {
        // A failed rollback leaves SQLite to roll back when the connection closes.
    }
}

void WriteTransaction::commit() {
    Connection::Native& native = m_connection.native();
    const int depth = native.transaction_depth - 1;
    execute_script(m_connection,
                   depth == 0 ? std::string("COMMIT") : "RELEASE " + savepoint_name(depth));
    native.transaction_depth = depth;
    m_open = false;
}

}  // namespace gallery::db
