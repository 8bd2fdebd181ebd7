// python-dotenv's grammar (dotenv/parser.py), one reader position at a time: a
// statement that does not parse is skipped to the end of its line, as there.

#include "gallery/config/dotenv.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "gallery/common/error.hpp"
#include "gallery/common/log.hpp"

namespace gallery::config {
namespace {

// Python's \s for the characters a .env holds; "horizontal" is \s without \r and \n.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_horizontal_space(char c) {
    return is_space(c) && c != '\n' && c != '\r';
}

struct ParseFailure {};

class Reader {
  public:
    explicit Reader(std::string_view text) : m_text(text) {
        if (m_text.starts_with("\xEF\xBB\xBF")) m_text.remove_prefix(3);
    }
    bool at_end() const { return m_at >= m_text.size(); }
    char peek() const { return at_end() ? '\0' : m_text[m_at]; }
    int line() const { return m_line; }

    // Consumes characters while `take` holds; returns them.
    template <class Predicate>
    std::string_view take_while(Predicate take) {
        const std::size_t start = m_at;
        while (!at_end() && take(m_text[m_at])) advance();
        return m_text.substr(start, m_at - start);
    }
    void expect(char c) {
        if (peek() != c || at_end()) throw ParseFailure{};
        advance();
    }
    // A quoted value's content up to the closing `quote`; a backslash before the quote
    // keeps it inside. With no closing quote left, python-dotenv's regular expression
    // backtracks to the last escaped quote and closes there; throws when there is none.
    std::string_view quoted(char quote) {
        expect(quote);
        const std::size_t start = m_at;
        std::size_t last_escaped = std::string_view::npos;
        std::size_t close = start;
        while (close < m_text.size() && m_text[close] != quote) {
            if (m_text[close] == '\\' && close + 1 < m_text.size() && m_text[close + 1] == quote) {
                last_escaped = close + 1;
                ++close;
            }
            ++close;
        }
        if (close >= m_text.size()) {
            if (last_escaped == std::string_view::npos) throw ParseFailure{};
            close = last_escaped;
        }
        while (m_at < close) advance();
        advance();
        return m_text.substr(start, close - start);
    }
    // \r\n, \n, \r or the end.
    void end_of_line() {
        take_while(is_horizontal_space);
        if (at_end()) return;
        if (peek() == '\r') {
            advance();
            if (peek() == '\n') advance();
            return;
        }
        expect('\n');
    }
    // After a failure: the rest of the line and one line ending (\r, \n or \r\n).
    void skip_line() {
        take_while([](char c) { return c != '\r' && c != '\n'; });
        if (peek() == '\r') {
            advance();
        } else if (peek() == '\n') {
            advance();
        }
    }

  private:
    void advance() {
        // \r\n counts once; a lone \r or \n counts as a line ending.
        const char c = m_text[m_at++];
        if (c == '\n' || (c == '\r' && peek() != '\n')) ++m_line;
    }

    std::string_view m_text;
    std::size_t m_at = 0;
    int m_line = 1;
};

// python-dotenv decodes only these escapes ("unicode-escape" on each match).
std::string decode_escapes(std::string_view text, std::string_view escapable) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() &&
            escapable.find(text[i + 1]) != std::string_view::npos) {
            switch (const char next = text[++i]) {
                case 'a':
                    out += '\a';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'v':
                    out += '\v';
                    break;
                default:
                    out += next;
            }
            continue;
        }
        out += text[i];
    }
    return out;
}

// An unquoted value: to the end of the line, less an inline comment (whitespace then
// '#') and trailing whitespace. `KEY=  # note` (only a comment after spaces) is empty.
std::string unquoted_value(Reader& reader, bool preceded_by_whitespace) {
    const std::string_view part = reader.take_while([](char c) { return c != '\r' && c != '\n'; });
    if (preceded_by_whitespace && part.starts_with('#')) return "";
    std::size_t end = part.size();
    for (std::size_t i = 1; i < part.size(); ++i) {
        if (part[i] == '#' && is_space(part[i - 1])) {
            end = i;
            while (end > 0 && is_space(part[end - 1])) --end;
            break;
        }
    }
    while (end > 0 && is_space(part[end - 1])) --end;
    return std::string(part.substr(0, end));
}

std::string value(Reader& reader, bool preceded_by_whitespace) {
    if (reader.at_end() || reader.peek() == '\n' || reader.peek() == '\r') return "";
    if (reader.peek() == '\'') return decode_escapes(reader.quoted('\''), "\\'");
    if (reader.peek() == '"') return decode_escapes(reader.quoted('"'), "\\'\"abfnrtv");
    return unquoted_value(reader, preceded_by_whitespace);
}

// A key: 'quoted' (not empty), or up to '=', '#' or whitespace; nullopt when the
// statement is a comment.
std::optional<std::string> key(Reader& reader) {
    if (reader.peek() == '#') return std::nullopt;
    const std::string_view text =
        reader.peek() == '\''
            ? reader.quoted('\'')
            : reader.take_while([](char c) { return c != '=' && c != '#' && !is_space(c); });
    if (text.empty()) throw ParseFailure{};
    return std::string(text);
}

}  // namespace

DotenvFile parse_dotenv(std::string_view text) {
    DotenvFile file;
    Reader reader(text);
    while (!reader.at_end()) {
        reader.take_while(is_space);
        if (reader.at_end()) break;
        const int line = reader.line();
        try {
            // `export NAME=...`: "export" followed by spaces is not the key.
            std::optional<std::string> name = key(reader);
            if (name == "export" && is_horizontal_space(reader.peek())) {
                reader.take_while(is_horizontal_space);
                name = key(reader);
            }
            reader.take_while(is_horizontal_space);
            std::optional<std::string> bound;
            if (reader.peek() == '=' && !reader.at_end()) {
                reader.expect('=');
                const bool spaced = !reader.take_while(is_horizontal_space).empty();
                bound = value(reader, spaced);
            }
            // An inline comment, then the line's end.
            reader.take_while(is_horizontal_space);
            if (reader.peek() == '#') {
                reader.take_while([](char c) { return c != '\r' && c != '\n'; });
            }
            reader.end_of_line();
            if (name) file.bindings.push_back({*name, std::move(bound), line});
        } catch (const ParseFailure&) {
            reader.skip_line();
            file.unparsed_lines.push_back(line);
        }
    }
    return file;
}

std::string expand_variables(
    std::string_view value,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
    std::string out;
    std::size_t i = 0;
    while (i < value.size()) {
        if (value.substr(i, 2) == "${") {
            // ${NAME} or ${NAME:-default}; NAME holds neither '}' nor ':'.
            const std::size_t name_start = i + 2;
            const std::size_t name_end = value.find_first_of("}:", name_start);
            if (name_end != std::string_view::npos) {
                const std::string name(value.substr(name_start, name_end - name_start));
                std::optional<std::string> fallback;
                std::size_t close = std::string_view::npos;
                if (value[name_end] == '}') {
                    close = name_end;
                } else if (value.substr(name_end, 2) == ":-") {
                    close = value.find('}', name_end + 2);
                    if (close != std::string_view::npos)
                        fallback = std::string(value.substr(name_end + 2, close - name_end - 2));
                }
                if (close != std::string_view::npos) {
                    out += lookup(name).value_or(fallback.value_or(""));
                    i = close + 1;
                    continue;
                }
            }
        }
        out += value[i++];
    }
    return out;
}

namespace {

LoadedEnvFile& loaded() {
    static LoadedEnvFile file;
    return file;
}

}  // namespace

void load_env_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw StartupError(ErrorKind::invalid_input,
                           "cannot read the environment file " + path + " (--env-file)");
    }
    std::stringstream text;
    text << in.rdbuf();
    const DotenvFile file = parse_dotenv(text.str());
    for (const int line : file.unparsed_lines) {
        log::warn("could not parse the statement at line " + std::to_string(line) + " of " + path +
                  "; it was skipped (as python-dotenv skips it)");
    }
    // Expansion sees the process environment first, then the file's earlier values.
    std::map<std::string, std::optional<std::string>> values;
    const auto lookup = [&values](const std::string& name) -> std::optional<std::string> {
        if (const char* set = std::getenv(name.c_str())) return std::string(set);
        if (auto found = values.find(name); found != values.end()) return found->second;
        return std::nullopt;
    };
    for (const DotenvBinding& binding : file.bindings) {
        values[binding.name] =
            binding.value ? std::optional(expand_variables(*binding.value, lookup)) : std::nullopt;
    }
    LoadedEnvFile& record = loaded();
    record.path = path;
    for (const auto& [name, value] : values) {
        if (!value || std::getenv(name.c_str())) continue;
        ::setenv(name.c_str(), value->c_str(), 0);
        record.names.insert(name);
    }
}

const LoadedEnvFile& loaded_env_file() {
    return loaded();
}

}  // namespace gallery::config
