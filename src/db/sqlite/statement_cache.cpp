#include "db/sqlite/statement_cache.hpp"

#include <algorithm>
#include <string>

#include "gallery/db/statement.hpp"

namespace gallery::db {

StatementHandle StatementCache::take(sqlite3* database, std::string_view sql) {
    const auto found = std::find_if(m_idle.begin(), m_idle.end(), [&](const auto& idle) {
        return std::string_view(sqlite3_sql(idle.get())) == sql;
    });
    if (found != m_idle.end()) {
        StatementHandle statement = std::move(*found);
        m_idle.erase(found);
        return statement;
    }
    sqlite3_stmt* prepared = nullptr;
    if (sqlite3_prepare_v2(database, sql.data(), static_cast<int>(sql.size()), &prepared,
                           nullptr) != SQLITE_OK) {
        sqlite3_finalize(prepared);
        throw Failure(sqlite3_errmsg(database));
    }
    if (!prepared) throw Failure("no SQL statement in: " + std::string(sql));
    return StatementHandle(prepared);
}

void StatementCache::give_back(StatementHandle statement) noexcept {
    if (!statement || sqlite3_reset(statement.get()) != SQLITE_OK) return;
    sqlite3_clear_bindings(statement.get());
    m_idle.push_front(std::move(statement));
    if (m_idle.size() > k_capacity) m_idle.pop_back();
}

}  // namespace gallery::db
