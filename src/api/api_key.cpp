#include "gallery/api/api_key.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "gallery/db/statement.hpp"

#include <memory>

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

namespace {

bool is_loopback_address(const sockaddr* address) {
    if (address->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
        return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

}  // namespace

// Decided on the addresses the name resolves to, never on its spelling: a name
// like "127.0.0.1.example" is whatever DNS says it is.
bool is_loopback_host(std::string_view host) {
    std::string name(host);
    if (name.size() > 2 && name.front() == '[' && name.back() == ']')
        name = name.substr(1, name.size() - 2);
    if (name.empty()) return false;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return false;
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
    bool any = false;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        if (!is_loopback_address(a->ai_addr)) return false;
        any = true;
    }
    return any;
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
            ErrorKind::invalid_input,
            "refusing to listen on " + config.host +
                " without an API key: set GALLERY_API_KEY (or api_key in the config file) to a "
                "long random value, e.g. `openssl rand -hex 32`");
    }
    try {
        db::Statement find(connection, "SELECT value FROM settings WHERE key = ?");
        find.bind(1, k_generated_key_setting);
        if (find.step()) return {find.text(0), true};
        const std::string key = random_hex(32);
        db::Statement insert(connection,
                             "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                             " ON CONFLICT (key) DO NOTHING");
        insert.bind(1, k_generated_key_setting);
        insert.bind(2, key);
        insert.bind(3, now_micros());
        insert.execute();
        find.reset();
        find.step();  // another server may have won the race: use what is stored
        return {find.text(0), true};
    } catch (const std::exception& e) {
        throw StartupError(ErrorKind::database,
                           std::string("cannot keep the generated API key: ") + e.what());
    }
}

}  // namespace gallery::api
