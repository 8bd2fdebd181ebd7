#pragma once
// RAII write transaction taken with BEGIN IMMEDIATE, so the write lock is held from
// the start (no SQLITE_BUSY upgrade deadlock half-way). Rolls back unless committed.

#include "gallery/db/connection.hpp"

namespace gallery::db {

class WriteTransaction {
  public:
    explicit WriteTransaction(Connection& connection);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;

    void commit();

  private:
    Connection& m_connection;
    bool m_open = true;
};

}  // namespace gallery::db
