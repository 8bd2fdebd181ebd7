#include "gallery/db/transaction.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "db/native.hpp"
#include "gallery/common/log.hpp"

namespace gallery::db {
namespace {

std::string savepoint_name(int depth) {
    return "gallery_" + std::to_string(depth);
}

}  // namespace

namespace detail {

Error database_error(std::string_view context, const std::exception& e) {
    if (dynamic_cast<const TimedOut*>(&e) != nullptr) {
        // Shown to the client (api::error_response): no internal names in it.
        return Error{ErrorKind::overloaded,
                     "The database could not answer in time; try again shortly.",
                     std::chrono::seconds{5}};
    }
    if (dynamic_cast<const DiskFull*>(&e) != nullptr) {
        log::error(std::string(context) + ": " + e.what());
        // Shown to the client: what happened and what ends it, no file names.
        return Error{ErrorKind::disk_full,
                     "The disk that holds the database is full, so nothing was changed. Free "
                     "space there, then try again.",
                     std::chrono::seconds{60}};
    }
    ErrorKind kind = ErrorKind::database;
    if (dynamic_cast<const Unavailable*>(&e) != nullptr) kind = ErrorKind::database_unavailable;
    // A connection opened inside the transaction's body (PostgreSQL down) keeps its kind.
    if (const auto* startup = dynamic_cast<const StartupError*>(&e)) kind = startup->kind();
    return Error{kind, std::string(context) + ": " + e.what()};
}

void pause_before_retry(int attempt) {
    thread_local std::minstd_rand random(std::random_device{}());
    const int ceiling_us = 200 << std::min(attempt, 6);  // 0.4 ms .. 12.8 ms
    std::uniform_int_distribution<int> pause(ceiling_us / 4, ceiling_us);
    std::this_thread::sleep_for(std::chrono::microseconds(pause(random)));
}

void run_in_write_turn(Connection& connection, FunctionRef transaction) {
    Connection::Native& native = connection.native();
    const std::string request_id = log::request_id();
    auto in_turn = [&] {
        // It may run on the thread of the writer before it: it logs as its own request.
        const std::string runner_request_id = log::request_id();
        log::set_request_id(request_id);
        native.write_turn_held = true;
        transaction();
        native.write_turn_held = false;
        log::set_request_id(runner_request_id);
    };
    native.run_in_write_turn(in_turn);
}

}  // namespace detail

WriteTransaction::WriteTransaction(Connection& connection) : m_connection(connection) {
    Connection::Native& native = m_connection.native();
    const int depth = native.transaction_depth;
    if (depth == 0) {
        m_owns_turn = !native.write_turn_held;
        if (m_owns_turn) native.take_write_turn();
        try {
            execute_script(m_connection, native.begin_write());
        } catch (...) {
            if (m_owns_turn) native.give_back_write_turn();
            throw;
        }
    } else {
        execute_script(m_connection, "SAVEPOINT " + savepoint_name(depth));
    }
    ++native.transaction_depth;
}

WriteTransaction::~WriteTransaction() {
    if (!m_open) return;
    Connection::Native& native = m_connection.native();
    const int depth = --native.transaction_depth;
    try {
        if (depth == 0) {
            execute_script(m_connection, "ROLLBACK");
            if (m_owns_turn) native.give_back_write_turn();
        } else {
            const std::string name = savepoint_name(depth);
            execute_script(m_connection, "ROLLBACK TO " + name + "; RELEASE " + name);
        }
    } catch (...) {
        // A failed rollback (a lost connection) is rolled back by the server.
        if (depth == 0 && m_owns_turn) native.give_back_write_turn();
    }
}

void WriteTransaction::commit() {
    Connection::Native& native = m_connection.native();
    const int depth = native.transaction_depth - 1;
    execute_script(m_connection,
                   depth == 0 ? std::string("COMMIT") : "RELEASE " + savepoint_name(depth));
    native.transaction_depth = depth;
    m_open = false;
    if (depth == 0 && m_owns_turn) native.give_back_write_turn();
}

ReadSnapshot::ReadSnapshot(Connection& connection) : m_connection(connection) {
    execute_script(m_connection, m_connection.engine() == Engine::postgresql
                                     ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                     : "BEGIN DEFERRED");
    ++m_connection.native().transaction_depth;
}

ReadSnapshot::~ReadSnapshot() {
    --m_connection.native().transaction_depth;
    try {
        execute_script(m_connection, "ROLLBACK");
    } catch (...) {
        // A failed rollback (a lost connection) ends the transaction on the server.
    }
}

}  // namespace gallery::db
