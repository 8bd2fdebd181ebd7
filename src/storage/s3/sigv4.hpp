#pragma once
// AWS Signature Version 4 as small pure functions: the clock, the credentials and
// the request are all passed in, so each step is tested against AWS's vectors.
// S3 rules: the path is URI-encoded once by the caller ('/' kept) and never
// normalised; every header given is signed.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gallery::storage::s3 {

struct Credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token;  // empty: none
};

struct Scope {
    std::string date;     // YYYYMMDD
    std::string region;   // "auto" for R2
    std::string service;  // "s3"
    std::string text() const { return date + "/" + region + "/" + service + "/aws4_request"; }
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct SigningRequest {
    std::string method;
    std::string canonical_uri;  // the encoded path exactly as sent
    Pairs query;                // raw (decoded) names and values
    Pairs headers;              // as sent, in order; all are signed
    std::string payload_hash;   // lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

inline constexpr std::string_view k_unsigned_payload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view k_empty_payload_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding of every byte but A-Z a-z 0-9 - . _ ~ (and '/' when kept).
std::string uri_encode(std::string_view text, bool keep_slash);
// Decodes %XX (and leaves anything else as is); for parsing query strings.
std::string uri_decode(std::string_view text);

std::string canonical_query(const Pairs& query);

struct CanonicalHeaders {
    std::string lines;         // "name:value\n" each, sorted by lowercase name
    std::string signed_names;  // "host;x-amz-date"
};
// Names lowercased; values trimmed with inner runs of whitespace collapsed; repeated
// names joined with ',' in the order sent. Sorted after lowercasing.
CanonicalHeaders canonical_headers(const Pairs& headers);

std::string canonical_request(const SigningRequest& request);
std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request);
std::string signing_key(std::string_view secret_key, const Scope& scope);              // raw bytes
std::string signature(std::string_view signing_key, std::string_view string_to_sign);  // hex

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes

// Every intermediate value, for tests and for debug logs of SignatureDoesNotMatch.
struct Signed {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
    std::string signed_names;
};

Signed sign(const SigningRequest& request, const Credentials& credentials, const Scope& scope,
            std::string_view amz_date);

// "AWS4-HMAC-SHA256 Credential=AK/scope,SignedHeaders=...,Signature=..." (the form AWS documents)
std::string authorization(const Signed& signed_request, const Credentials& credentials,
                          const Scope& scope);

// Adds the X-Amz-* parameters of a presigned URL (all but the signature) to
// request.query; sign() the result, then append X-Amz-Signature.
SigningRequest with_presign_parameters(SigningRequest request, const Credentials& credentials,
                                       const Scope& scope, std::string_view amz_date,
                                       long expires_seconds);

// "20130524T000000Z" for a time in seconds since the epoch.
std::string amz_date(long long unix_seconds);

}  // namespace gallery::storage::s3
