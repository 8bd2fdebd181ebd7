#include "gallery/db/dialect.hpp"

#include "gallery/db/statement.hpp"

namespace gallery::db {

std::string json_integer_array(const Connection& connection, int parameter) {
    const std::string bound = "?" + std::to_string(parameter);
    if (connection.engine() == Engine::postgresql) {
        return "(SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(" + bound +
               " AS JSON)) AS ids (value))";
    }
    return "(SELECT value FROM json_each(" + bound + "))";
}

std::string skip_locked(const Connection& connection) {
    return connection.engine() == Engine::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
}

std::string for_update(const Connection& connection) {
    return connection.engine() == Engine::postgresql ? " FOR UPDATE" : "";
}

void lock_name(Connection& connection, std::string_view name) {
    if (connection.engine() != Engine::postgresql) return;
    Statement lock(connection, "SELECT pg_advisory_xact_lock(hashtext(?1))");
    lock.bind(1, name);
    lock.step();
}

std::string utc_day(const Connection& connection, std::string_view micros) {
    if (connection.engine() == Engine::postgresql) {
        return "to_char(to_timestamp((" + std::string(micros) +
               ") / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
    }
    return "date((" + std::string(micros) + ") / 1000000, 'unixepoch')";
}

}  // namespace gallery::db
