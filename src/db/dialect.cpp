#include "gallery/db/dialect.hpp"

#include "gallery/common/text.hpp"
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

std::string in_json_text_array(const Connection& connection, std::string_view column,
                               int parameter) {
    const std::string bound = "?" + std::to_string(parameter);
    if (connection.engine() == Engine::postgresql) {
        return std::string(column) + " = ANY(ARRAY(SELECT json_array_elements_text(CAST(" + bound +
               " AS JSON))))";
    }
    return std::string(column) + " IN (SELECT value FROM json_each(" + bound + "))";
}

namespace {

// PostgreSQL: the sequence behind `table`.id, schema-qualified and quoted, or "".
std::string postgresql_sequence(Connection& connection, std::string_view table) {
    Statement query(connection, "SELECT pg_get_serial_sequence(?1, 'id')");
    query.bind(1, table);
    return query.step() && !query.is_null(0) ? query.text(0) : std::string();
}

}  // namespace

std::optional<std::int64_t> highest_id_given(Connection& connection, std::string_view table) {
    if (connection.engine() == Engine::postgresql) {
        const std::string sequence = postgresql_sequence(connection, table);
        if (sequence.empty()) return std::nullopt;
        Statement query(connection, "SELECT last_value, is_called FROM " + sequence);
        if (!query.step()) return std::nullopt;
        // Before its first nextval a sequence reports its start value, not yet given.
        if (query.int64(1) == 0) return std::nullopt;
        return query.int64(0);
    }
    Statement sequences(
        connection,
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
    if (!sequences.step()) return std::nullopt;
    Statement query(connection, "SELECT seq FROM sqlite_sequence WHERE name = ?1");
    query.bind(1, table);
    if (!query.step() || query.is_null(0)) return std::nullopt;
    return query.int64(0);
}

void raise_id_sequence(Connection& connection, std::string_view table, std::int64_t at_least) {
    if (at_least <= highest_id_given(connection, table).value_or(0)) return;
    if (connection.engine() == Engine::postgresql) {
        const std::string sequence = postgresql_sequence(connection, table);
        if (sequence.empty()) throw Failure("table " + std::string(table) + " has no id sequence");
        Statement set(connection, "SELECT setval(CAST(?1 AS regclass), ?2)");
        set.bind(1, sequence);
        set.bind(2, at_least);
        set.step();
        return;
    }
    Statement update(connection, "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1");
    update.bind(1, table);
    update.bind(2, at_least);
    if (update.execute() > 0) return;
    Statement insert(connection, "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)");
    insert.bind(1, table);
    insert.bind(2, at_least);
    insert.execute();
}

std::string skip_locked(const Connection& connection) {
    return connection.engine() == Engine::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
}

std::string trigram_prefilter(const Connection& connection, std::string_view index,
                              std::string_view term, int parameter) {
    if (connection.engine() == Engine::postgresql) return "";
    if (utf8_length(term) < 3) return "";
    const std::string table(index);
    return " AND id IN (SELECT rowid FROM " + table + " WHERE " + table + " MATCH ?" +
           std::to_string(parameter) + ")";
}

std::string trigram_phrase(std::string_view term) {
    std::string phrase = "\"";
    for (const char c : term) {
        if (c == '"') phrase += '"';
        phrase += c;
    }
    return phrase + "\"";
}

std::string for_update(const Connection& connection) {
    return connection.engine() == Engine::postgresql ? " FOR UPDATE" : "";
}

std::string usually_true(const Connection& connection, std::string_view condition) {
    if (connection.engine() == Engine::postgresql) return std::string(condition);
    return "likely(" + std::string(condition) + ")";
}

void refresh_statistics(Connection& connection, std::initializer_list<std::string_view> tables) {
    if (connection.engine() != Engine::postgresql || tables.size() == 0) return;
    std::string list;
    for (const std::string_view table : tables) {
        if (!list.empty()) list += ", ";
        list += table;
    }
    execute_script(connection, "ANALYZE " + list);
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
