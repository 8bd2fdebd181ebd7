#include "db/postgresql/translate.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "gallery/common/text.hpp"

namespace gallery::db::postgresql {
namespace {

bool is_name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

// Copies a quoted run starting at `at` (the opening quote) and returns the index after it.
std::size_t copy_quoted(std::string_view sql, std::size_t at, std::string& out) {
    const char quote = sql[at];
    std::size_t end = at + 1;
    for (; end < sql.size(); ++end) {
        if (sql[end] != quote) continue;
        if (end + 1 < sql.size() && sql[end + 1] == quote) {
            ++end;  // a doubled quote stays inside
            continue;
        }
        break;
    }
    end = std::min(end + 1, sql.size());
    out.append(sql.substr(at, end - at));
    return end;
}

}  // namespace

Translated translate(std::string_view sql) {
    Translated result;
    std::string& out = result.sql;
    out.reserve(sql.size() + 16);
    // Where the last name or parameter starts in `out` (npos: the last token was neither).
    std::size_t operand_start = std::string::npos;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            i = copy_quoted(sql, i, out);
            operand_start = std::string::npos;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const std::size_t end = std::min(sql.find('\n', i), sql.size());
            out.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '?') {
            std::size_t end = i + 1;
            while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
            const int number = end > i + 1 ? std::stoi(std::string(sql.substr(i + 1, end - i - 1)))
                                           : result.parameter_count + 1;
            if (number < 1) throw std::invalid_argument("parameter ?0 in: " + std::string(sql));
            result.parameter_count = std::max(result.parameter_count, number);
            if (result.used.size() < static_cast<std::size_t>(number)) result.used.resize(number);
            result.used[static_cast<std::size_t>(number - 1)] = true;
            operand_start = out.size();
            out += '$' + std::to_string(number);
            i = end;
        } else if (is_name_start(c)) {
            std::size_t end = i + 1;
            while (end < sql.size() && is_name_char(sql[end])) ++end;
            const std::string_view word = sql.substr(i, end - i);
            if (iequals(word, "COLLATE")) {
                std::size_t next = end;
                while (next < sql.size() && std::isspace(static_cast<unsigned char>(sql[next])))
                    ++next;
                std::size_t next_end = next;
                while (next_end < sql.size() && is_name_char(sql[next_end])) ++next_end;
                if (iequals(sql.substr(next, next_end - next), "NOCASE")) {
                    if (operand_start == std::string::npos) {
                        throw std::invalid_argument(
                            "COLLATE NOCASE must follow a column or a parameter: " +
                            std::string(sql));
                    }
                    std::size_t operand_end = out.size();
                    while (operand_end > operand_start && out[operand_end - 1] == ' ')
                        --operand_end;
                    out.resize(operand_end);
                    out.insert(operand_start, "lower(");
                    out += " COLLATE \"C\")";
                    operand_start = std::string::npos;
                    i = next_end;
                    continue;
                }
            }
            if (iequals(word, "LIKE")) {
                out += "ILIKE";
                operand_start = std::string::npos;
            } else {
                operand_start = out.size();
                out.append(word);
            }
            i = end;
        } else {
            if (!std::isspace(static_cast<unsigned char>(c))) operand_start = std::string::npos;
            out += c;
            ++i;
        }
    }
    return result;
}

}  // namespace gallery::db::postgresql
