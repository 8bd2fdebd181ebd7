#pragma once
// SQLite's spelling of a statement, as PostgreSQL runs it with the same answers.
// Included only by src/db/.

#include <string>
#include <string_view>
#include <vector>

namespace gallery::db::postgresql {

struct Translated {
    std::string sql;
    int parameter_count = 0;  // the highest $N
    // Whether each of $1..$parameter_count appears: a statement may skip a number
    // (a filter left out), and PostgreSQL must then be told that parameter's type.
    std::vector<bool> used;
};

// - `?N` becomes `$N`; a bare `?` takes the number after the highest so far (SQLite's rule).
// - `operand COLLATE NOCASE` (a column or a parameter) becomes
//   `lower(operand COLLATE "C")`: under the C collation PostgreSQL's lower() folds
//   ASCII letters only, exactly as SQLite's NOCASE, and compares bytes after.
// - LIKE becomes ILIKE: SQLite's LIKE ignores ASCII case; ILIKE over the schema's
//   C-collated columns folds ASCII only too.
// Quoted strings, quoted names and comments are copied as they are. Throws
// std::invalid_argument for `COLLATE NOCASE` after anything but a name or parameter.
Translated translate(std::string_view sqlite_sql);

}  // namespace gallery::db::postgresql
