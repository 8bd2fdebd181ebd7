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

// The UTC calendar day ("YYYY-MM-DD") of `micros`, an expression in microseconds
// since the Unix epoch.
std::string utc_day(const Connection& connection, std::string_view micros);

}  // namespace gallery::db
