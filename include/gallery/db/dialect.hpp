#pragma once
// The few SQL pieces the engines spell too differently to translate: code above the
// database asks for them by meaning.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "gallery/db/connection.hpp"

namespace gallery::db {

// A subquery of the integers in the JSON array bound to parameter `parameter`
// (`?N`), one row each, column `value`: `id IN <this>`.
std::string json_integer_array(const Connection& connection, int parameter);

// `column` is one of the strings in the JSON array bound to parameter `parameter`: a
// predicate that checks many keys in one statement. On PostgreSQL it is `= ANY` of an
// array computed once, which probes the column's index key by key whatever the
// planner believes of the table's size (a table growing inside a long transaction
// made `IN (SELECT ...)` a hash join over the whole table).
std::string in_json_text_array(const Connection& connection, std::string_view column,
                               int parameter);

// The highest id the sequence of `table`'s `id` column has given (SQLite: the
// AUTOINCREMENT counter in sqlite_sequence; PostgreSQL: the column's sequence or
// identity), or nullopt when it has none or has given none. `table` is an identifier
// the caller trusts, not user input.
std::optional<std::int64_t> highest_id_given(Connection& connection, std::string_view table);

// Inside a write transaction: makes the sequence of `table`'s `id` give only ids above
// `at_least` from now on (never lowers it).
void raise_id_sequence(Connection& connection, std::string_view table, std::int64_t at_least);

// Appended to the SELECT of rows a statement is about to claim: on PostgreSQL the rows
// another transaction holds are skipped instead of waited for (" FOR UPDATE SKIP
// LOCKED"); SQLite's single writer needs nothing ("").
std::string skip_locked(const Connection& connection);

// Appended to a SELECT whose rows the transaction is about to change from what it
// read: PostgreSQL locks them (" FOR UPDATE"); SQLite's write transaction holds the
// whole database already ("").
std::string for_update(const Connection& connection);

// `condition`, marked as true for most rows. SQLite's planner, which keeps no statistics
// here, then walks the order's own index and tests it row by row instead of reading
// every row it holds through an index on the condition's column and sorting them
// ("likely(...)"); PostgreSQL's planner knows from its statistics (the condition as is).
// One comparison, not an AND of several: SQLite looks through likely() at an AND and
// plans its terms as if unmarked.
std::string usually_true(const Connection& connection, std::string_view condition);

// After a bulk write (an import), PostgreSQL's planner statistics of `tables` are
// gathered again (ANALYZE), so the next queries are planned for the rows now there.
// Until autovacuum's next pass they would be planned for what the tables held at its
// last one: a list of 1,000,000 images just written into a table last analyzed empty
// read and sorted every row (668 ms in psql; past serve's 5 s read limit under load).
// SQLite: nothing; gallery's queries there are written for a planner without
// statistics, and it never gathers any. `tables` are identifiers the caller trusts.
void refresh_statistics(Connection& connection, std::initializer_list<std::string_view> tables);

// Inside a write transaction: waits for, then holds until the transaction ends, the
// lock called `name` (PostgreSQL: a transaction advisory lock on its hash). Writers
// that must not interleave for one thing (one client's rows and totals) take the
// same name. SQLite: nothing to do, its writers already take turns.
void lock_name(Connection& connection, std::string_view name);

// A condition on `id` that keeps (a superset of) the rows whose indexed text holds
// `term` in any letter case, read from the trigram index `index`: on SQLite an FTS5
// table with the trigram tokenizer, " AND id IN (SELECT rowid FROM <index> WHERE
// <index> MATCH ?N)", with trigram_phrase(term) bound to ?N (`parameter`). "" when
// there is nothing to add and nothing to bind: on PostgreSQL (pg_trgm's GIN indexes
// serve the caller's ILIKE by themselves) and for a term under 3 characters (no
// trigram). The caller keeps its exact test. `index` is an identifier it trusts.
std::string trigram_prefilter(const Connection& connection, std::string_view index,
                              std::string_view term, int parameter);

// `term` as an FTS5 phrase ("..." with quotes doubled): the value trigram_prefilter's
// parameter takes.
std::string trigram_phrase(std::string_view term);

// The UTC calendar day ("YYYY-MM-DD") of `micros`, an expression in microseconds
// since the Unix epoch.
std::string utc_day(const Connection& connection, std::string_view micros);

}  // namespace gallery::db
