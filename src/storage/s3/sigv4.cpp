#include "storage/s3/sigv4.hpp"
#include "gallery/common/text.hpp"
#include "gallery/common/time.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace gallery::storage::s3 {

std::string uri_encode(std::string_view text, bool keep_slash) {
    constexpr char k_digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (keep_slash && c == '/')) {
            out += c;
        } else {
            out += '%';
            out += k_digits[byte >> 4];
            out += k_digits[byte & 0x0f];
        }
    }
    return out;
}

std::string uri_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() &&
            std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string canonical_query(const Pairs& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query)
        encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
    std::ranges::sort(encoded);
    std::string out;
    for (const auto& [name, value] : encoded) out += (out.empty() ? "" : "&") + name + "=" + value;
    return out;
}

namespace {

// Trims and collapses every run of whitespace (including folded line breaks) to one space.
std::string normalize_value(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (const char c : value) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += c;
    }
    return out;
}

}  // namespace

CanonicalHeaders canonical_headers(const Pairs& headers) {
    std::map<std::string, std::string> joined;  // sorted by lowercase name
    for (const auto& [name, value] : headers) {
        const std::string key = to_lower(name);
        auto [it, inserted] = joined.try_emplace(key, normalize_value(value));
        if (!inserted) it->second += "," + normalize_value(value);
    }
    CanonicalHeaders out;
    for (const auto& [name, value] : joined) {
        out.lines += name + ":" + value + "\n";
        out.signed_names += (out.signed_names.empty() ? "" : ";") + name;
    }
    return out;
}

std::string canonical_request(const SigningRequest& request) {
    const CanonicalHeaders headers = canonical_headers(request.headers);
    return request.method + "\n" + request.canonical_uri + "\n" + canonical_query(request.query) +
           "\n" + headers.lines + "\n" + headers.signed_names + "\n" + request.payload_hash;
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical) {
    return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope.text() + "\n" +
           sha256_hex(canonical);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string signing_key(std::string_view secret_key, const Scope& scope) {
    const std::string date_key = hmac_sha256("AWS4" + std::string(secret_key), scope.date);
    const std::string region_key = hmac_sha256(date_key, scope.region);
    const std::string service_key = hmac_sha256(region_key, scope.service);
    return hmac_sha256(service_key, "aws4_request");
}

std::string signature(std::string_view key, std::string_view to_sign) {
    return to_hex(hmac_sha256(key, to_sign));
}

Signed sign(const SigningRequest& request, const Credentials& credentials, const Scope& scope,
            std::string_view date) {
    Signed out;
    out.canonical_request = canonical_request(request);
    out.string_to_sign = string_to_sign(date, scope, out.canonical_request);
    out.signature = signature(signing_key(credentials.secret_key, scope), out.string_to_sign);
    out.signed_names = canonical_headers(request.headers).signed_names;
    return out;
}

std::string authorization(const Signed& signed_request, const Credentials& credentials,
                          const Scope& scope) {
    return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope.text() +
           ",SignedHeaders=" + signed_request.signed_names +
           ",Signature=" + signed_request.signature;
}

SigningRequest with_presign_parameters(SigningRequest request, const Credentials& credentials,
                                       const Scope& scope, std::string_view date,
                                       long expires_seconds) {
    request.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    request.query.emplace_back("X-Amz-Credential", credentials.access_key + "/" + scope.text());
    request.query.emplace_back("X-Amz-Date", std::string(date));
    request.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
    if (!credentials.session_token.empty())
        request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
    request.query.emplace_back("X-Amz-SignedHeaders",
                               canonical_headers(request.headers).signed_names);
    return request;
}

std::string amz_date(long long unix_seconds) {
    return format_utc(unix_seconds * k_micros_per_second, "%Y%m%dT%H%M%SZ");
}

}  // namespace gallery::storage::s3
