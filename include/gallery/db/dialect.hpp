#pragma once
// The few SQL pieces the engines spell too differently to translate: code above the
// database asks for them by meaning.

#include <string>
#include <string_view>

#include "gallery/db/connection.hpp"

namespace gallery::db {

// A subquery of the integers in the JSON array bound to parameter `parameter`
// (`?N`), one row each, column `value`: `id IN <this>`.
std::string json_integer_array(const Connection& connection, int parameter);

// Appended to the SELECT of rows a statement is about to claim: on PostgreSQL the rows
// another transaction holds are skipped instead of waited for (" FOR UPDATE SKIP
// LOCKED"); SQLite's single writer needs nothing ("").
std::string skip_locked(const Connection& connection);

// Appended to a SELECT whose rows the transaction is about to change from what it
// read: PostgreSQL locks them (" FOR UPDATE"); SQLite's write transaction holds the
// whole database already ("").
std::string for_update(const Connection& connection);

// Inside a write transaction: waits for, then holds until the transaction ends, the
// lock called `name` (PostgreSQL: a transaction advisory lock on its hash). Writers
// that must not interleave for one thing (one client's rows and totals) take the
// same name. SQLite: nothing to do, its writers already take turns.
void lock_name(Connection& connection, std::string_view name);

// The UTC calendar day ("YYYY-MM-DD") of `micros`, an expression in microseconds
// since the Unix epoch.
std::string utc_day(const Connection& connection, std::string_view micros);

}  // namespace gallery::db
