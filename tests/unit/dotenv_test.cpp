// The .env reader against python-dotenv's own parser cases (tests/test_parser.py):
// the original deployment's file must mean the same to gallery as to load_dotenv().

#include "gallery/config/dotenv.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace gallery::config;

namespace {

using Expected = std::vector<std::pair<std::string, std::optional<std::string>>>;

Expected bindings_of(const std::string& text) {
    Expected out;
    for (const DotenvBinding& binding : parse_dotenv(text).bindings)
        out.emplace_back(binding.name, binding.value);
    return out;
}

// The values `text` sets, the last binding of a name winning (bare names left out).
std::map<std::string, std::string> values_of(const DotenvFile& file) {
    std::map<std::string, std::string> values;
    for (const DotenvBinding& binding : file.bindings) {
        if (binding.value) values[binding.name] = *binding.value;
    }
    return values;
}

}  // namespace

TEST_CASE("dotenv statements parse as python-dotenv parses them") {
    const std::vector<std::pair<std::string, Expected>> cases{
        {"", {}},
        {"a=b", {{"a", "b"}}},
        {"'a'=b", {{"a", "b"}}},
        {"[=b", {{"[", "b"}}},
        {" a = b ", {{"a", "b"}}},
        {"export a=b", {{"a", "b"}}},
        {" export 'a'=b", {{"a", "b"}}},
        {"# a=b", {}},
        {"a=b#c", {{"a", "b#c"}}},
        {"a=b #c", {{"a", "b"}}},
        {"a= #c", {{"a", ""}}},
        {"a=  # comment", {{"a", ""}}},
        {"a=#b", {{"a", "#b"}}},
        {"a=b\t#c", {{"a", "b"}}},
        {"a=b c", {{"a", "b c"}}},
        {"a=b\tc", {{"a", "b\tc"}}},
        {"a=b  c", {{"a", "b  c"}}},
        {"a=b c ", {{"a", "b c"}}},
        {"a='b c '", {{"a", "b c "}}},
        {"a=\"b c \"", {{"a", "b c "}}},
        {"export export_a=1", {{"export_a", "1"}}},
        {"export port=8000", {{"port", "8000"}}},
        {"a=\"b\nc\"", {{"a", "b\nc"}}},
        {"a='b\nc'", {{"a", "b\nc"}}},
        {"a=\"b\\nc\"", {{"a", "b\nc"}}},
        {"a='b\\nc'", {{"a", "b\\nc"}}},
        {"a=\"b\\\"c\"", {{"a", "b\"c"}}},
        {"a='b\\'c'", {{"a", "b'c"}}},
        {"a=\xC3\xA0", {{"a", "\xC3\xA0"}}},
        {"no_value_var", {{"no_value_var", std::nullopt}}},
        {"a: b", {}},
        {"a=b\nc=d", {{"a", "b"}, {"c", "d"}}},
        {"a=b\rc=d", {{"a", "b"}, {"c", "d"}}},
        {"a=b\r\nc=d", {{"a", "b"}, {"c", "d"}}},
        {"a=\nb=c", {{"a", ""}, {"b", "c"}}},
        {"\n\n", {}},
        {"a=b\n\nc=d", {{"a", "b"}, {"c", "d"}}},
        {"a=\"\nb=c", {{"b", "c"}}},
        {"# comment\na=\"b\nc\"\nd=e\n", {{"a", "b\nc"}, {"d", "e"}}},
        {"uglyKey[%$=\"S3cr3t_P4ssw#rD\" #\na=b", {{"uglyKey[%$", "S3cr3t_P4ssw#rD"}, {"a", "b"}}},
        {"\xEF\xBB\xBF"
         "a=b\nc=d",
         {{"a", "b"}, {"c", "d"}}},
        // A quote that never closes after an escaped one: the regular expression
        // backtracks and closes at the escaped quote.
        {"a='b\\'", {{"a", "b\\"}}},
        {"a=\"x\" junk\nb=c", {{"b", "c"}}},
    };
    for (const auto& [text, expected] : cases) {
        INFO("input: " << text);
        CHECK(bindings_of(text) == expected);
    }
}

TEST_CASE("dotenv statements that do not parse are skipped and named by line") {
    const DotenvFile file = parse_dotenv("A=1\nB C\nD=\"open\nE=5\n'' = 3\nF=6");
    CHECK(file.unparsed_lines == std::vector<int>{2, 3, 5});
    CHECK(values_of(file) ==
          std::map<std::string, std::string>{{"A", "1"}, {"E", "5"}, {"F", "6"}});
}

TEST_CASE("the original's .env.example shape keeps values and drops inline comments") {
    const std::string example =
        "# Django\n"
        "SECRET_KEY=your-secret-key-here\n"
        "DEBUG=True\n"
        "\n"
        "# Database\n"
        "POSTGRES_DB=gallery_db\n"
        "POSTGRES_PASSWORD=\"p@ss w#rd\"  # quoted: the # stays\n"
        "\n"
        "# Cloudflare R2\n"
        "CLOUDFLARE_R2_ENABLED=false  # Set to true to use R2 storage\n"
        "CLOUDFLARE_R2_PUBLIC_URL=pub-xxxxxx.r2.dev  # e.g. pub-xxx.r2.dev (without https://)\n";
    const std::map<std::string, std::string> values = values_of(parse_dotenv(example));
    CHECK(values.at("POSTGRES_PASSWORD") == "p@ss w#rd");
    CHECK(values.at("CLOUDFLARE_R2_ENABLED") == "false");
    CHECK(values.at("CLOUDFLARE_R2_PUBLIC_URL") == "pub-xxxxxx.r2.dev");
    CHECK(parse_dotenv(example).unparsed_lines.empty());
}

TEST_CASE("dotenv expands ${NAME} and ${NAME:-default} as python-dotenv does") {
    const std::map<std::string, std::string> known{{"HOST", "db.local"}, {"EMPTY", ""}};
    const auto lookup = [&known](const std::string& name) -> std::optional<std::string> {
        if (auto found = known.find(name); found != known.end()) return found->second;
        return std::nullopt;
    };
    CHECK(expand_variables("postgres://${HOST}:5432", lookup) == "postgres://db.local:5432");
    CHECK(expand_variables("${MISSING}", lookup) == "");
    CHECK(expand_variables("${MISSING:-fallback}", lookup) == "fallback");
    // Set but empty: the value, not the default (unlike a POSIX shell's :-).
    CHECK(expand_variables("${EMPTY:-fallback}", lookup) == "");
    CHECK(expand_variables("$HOST ${HOST ${a:b} ${", lookup) == "$HOST ${HOST ${a:b} ${");
}
