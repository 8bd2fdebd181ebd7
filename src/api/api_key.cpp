#include "gallery/api/api_key.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "gallery/common/error.hpp"
#include "gallery/common/random.hpp"
#include "gallery/common/time.hpp"

namespace gallery::api {
namespace {

constexpr const char* k_generated_key_setting = "generated_api_key";

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view text) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
    return out;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

bool api_key_matches(std::string_view expected, std::string_view given) {
    if (expected.empty()) return false;
    const auto a = digest(expected);
    const auto b = digest(given);
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

ApiKey choose_api_key(const config::Config& config, db::Connection& connection) {
    if (!config.api_key.empty()) return {config.api_key, false};
    if (!is_loopback_host(config.host)) {
        throw StartupError(
            exit_code::usage,
            "refusing to listen on " + config.host +
                " without an API key: set GALLERY_API_KEY (or api_key in the config file) to a "
                "long random value, e.g. `openssl rand -hex 32`");
    }
    try {
        SQLite::Database& db = connection.sqlite();
        SQLite::Statement find(db, "SELECT value FROM settings WHERE key = ?");
        find.bind(1, k_generated_key_setting);
        if (find.executeStep()) return {find.getColumn(0).getString(), true};
        const std::string key = random_hex(32);
        SQLite::Statement insert(
            db, "INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)");
        insert.bind(1, k_generated_key_setting);
        insert.bind(2, key);
        insert.bind(3, now_micros());
        insert.exec();
        find.reset();
        find.executeStep();  // another server may have won the race: use what is stored
        return {find.getColumn(0).getString(), true};
    } catch (const std::exception& e) {
        throw StartupError(exit_code::failure,
                           std::string("cannot keep the generated API key: ") + e.what());
    }
}

}  // namespace gallery::api
