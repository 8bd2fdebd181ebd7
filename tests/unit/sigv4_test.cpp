// The signer against AWS's published vectors (tests/data/sigv4, Apache-2.0, see its
// LICENSE and NOTICE): every S3-applicable case of the aws-c-auth suite in header and
// query form, and every S3 documentation example. Each intermediate value is checked.

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gallery/storage/s3_storage.hpp"
#include "storage/s3/sigv4.hpp"

using namespace gallery::storage::s3;
using nlohmann::json;

namespace {

const std::filesystem::path k_vectors = std::filesystem::path(GALLERY_TEST_DATA) / "sigv4";

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct RawRequest {
    std::string method, path, body;
    Pairs query, headers;
};

// request.txt: "METHOD target HTTP/1.1", header lines (a line starting with
// whitespace continues the previous value), a blank line, the body.
RawRequest parse_request(const std::string& text) {
    RawRequest request;
    std::istringstream lines(text);
    std::string line;
    std::getline(lines, line);
    const std::size_t first_space = line.find(' ');
    const std::size_t last_space = line.rfind(' ');
    request.method = line.substr(0, first_space);
    const std::string target = line.substr(first_space + 1, last_space - first_space - 1);
    const std::size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) {
        std::istringstream parts(target.substr(question + 1));
        std::string part;
        while (std::getline(parts, part, '&')) {
            const std::size_t equals = part.find('=');
            request.query.emplace_back(
                uri_decode(part.substr(0, equals)),
                equals == std::string::npos ? "" : uri_decode(part.substr(equals + 1)));
        }
    }
    while (std::getline(lines, line)) {
        if (line.empty()) break;
        if ((line[0] == ' ' || line[0] == '\t') && !request.headers.empty()) {
            request.headers.back().second += "\n" + line;
            continue;
        }
        const std::size_t colon = line.find(':');
        request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    std::string rest;
    while (std::getline(lines, line)) rest += (rest.empty() ? "" : "\n") + line;
    request.body = rest;
    return request;
}

std::string compact_date(const std::string& iso) {  // 2015-08-30T12:36:00Z -> 20150830T123600Z
    std::string out;
    for (char c : iso) {
        if (c != '-' && c != ':') out += c;
    }
    return out;
}

}  // namespace

TEST_CASE("the signer reproduces every S3-applicable aws-c-auth case in header and query form") {
    const json applicability = json::parse(read_text(k_vectors / "s3-applicability.json"));
    const auto cases =
        applicability["aws-c-auth-v4"]["reproduced_by_s3_mode"].get<std::vector<std::string>>();
    REQUIRE(cases.size() >= 30);
    for (const std::string& name : cases) {
        const auto folder = k_vectors / "aws-c-auth-v4" / name;
        if (!std::filesystem::exists(folder)) continue;  // listed for completeness, not shipped
        INFO("case " << name);
        const json context = json::parse(read_text(folder / "context.json"));
        const RawRequest raw = parse_request(read_text(folder / "request.txt"));
        const std::string date = compact_date(context["timestamp"]);
        const Scope scope{date.substr(0, 8), context["region"], context["service"]};
        Credentials credentials{context["credentials"]["access_key_id"],
                                context["credentials"]["secret_access_key"],
                                context["credentials"].value("token", "")};
        const bool sign_token =
            !credentials.session_token.empty() && !context.value("omit_session_token", false);
        const std::string body_hash = sha256_hex(raw.body);

        SigningRequest header_form{raw.method, uri_encode(raw.path, true), raw.query, raw.headers,
                                   body_hash};
        header_form.headers.emplace_back("X-Amz-Date", date);
        if (sign_token)
            header_form.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
        if (context.value("sign_body", false))
            header_form.headers.emplace_back("x-amz-content-sha256", body_hash);
        const Signed header_signed = sign(header_form, credentials, scope, date);
        CHECK(header_signed.canonical_request ==
              read_text(folder / "header-canonical-request.txt"));
        CHECK(header_signed.string_to_sign == read_text(folder / "header-string-to-sign.txt"));
        CHECK(header_signed.signature == read_text(folder / "header-signature.txt"));

        Credentials query_credentials = credentials;
        if (!sign_token) query_credentials.session_token.clear();
        const SigningRequest query_form = with_presign_parameters(
            {raw.method, uri_encode(raw.path, true), raw.query, raw.headers, body_hash},
            query_credentials, scope, date, context["expiration_in_seconds"].get<long>());
        const Signed query_signed = sign(query_form, query_credentials, scope, date);
        CHECK(query_signed.canonical_request == read_text(folder / "query-canonical-request.txt"));
        CHECK(query_signed.string_to_sign == read_text(folder / "query-string-to-sign.txt"));
        CHECK(query_signed.signature == read_text(folder / "query-signature.txt"));
    }
}

TEST_CASE("the signer reproduces every S3 documentation example") {
    const json examples = json::parse(read_text(k_vectors / "s3-docs-examples.json"));
    const Credentials credentials{examples["credentials"]["access_key_id"],
                                  examples["credentials"]["secret_access_key"], ""};
    std::vector<json> cases = examples["cases"];
    for (const auto& extra : examples["third_party_cases"]) cases.push_back(extra);
    REQUIRE(cases.size() >= 8);
    for (const json& example : cases) {
        INFO("example " << example["name"].get<std::string>());
        const std::string date =
            example.value("timestamp", examples["timestamp"].get<std::string>());
        const Scope scope{date.substr(0, 8),
                          example.value("region", examples["region"].get<std::string>()),
                          examples["service"]};
        CHECK(uri_encode(example["path"].get<std::string>(), true) == example["canonical_uri"]);
        SigningRequest request{example["method"],
                               uri_encode(example["path"].get<std::string>(), true),
                               {},
                               {},
                               example["payload_sha256"]};
        for (const auto& pair : example["query"]) request.query.emplace_back(pair[0], pair[1]);
        if (example.contains("headers")) {
            for (const auto& pair : example["headers"])
                request.headers.emplace_back(pair[0], pair[1]);
        } else {
            request.headers.emplace_back("Host", examples["host"]);
        }
        if (example.contains("payload"))
            CHECK(sha256_hex(example["payload"].get<std::string>()) == example["payload_sha256"]);
        const Signed result = sign(request, credentials, scope, date);
        CHECK(result.canonical_request == example["expected_canonical_request"]);
        CHECK(result.string_to_sign == example["expected_string_to_sign"]);
        CHECK(result.signature == example["expected_signature"]);
        CHECK(result.signed_names == example["signed_headers"]);
        if (example.contains("expected_authorization")) {
            CHECK(authorization(result, credentials, scope) == example["expected_authorization"]);
        }
    }
}

TEST_CASE("a presigned URL carries every X-Amz parameter and the signature AWS documents") {
    const json examples = json::parse(read_text(k_vectors / "s3-docs-examples.json"));
    const Credentials credentials{examples["credentials"]["access_key_id"],
                                  examples["credentials"]["secret_access_key"], ""};
    const Scope scope{"20130524", "us-east-1", "s3"};
    const SigningRequest request =
        with_presign_parameters({"GET",
                                 "/test.txt",
                                 {},
                                 {{"Host", "examplebucket.s3.amazonaws.com"}},
                                 std::string(k_unsigned_payload)},
                                credentials, scope, "20130524T000000Z", 86400);
    const Signed result = sign(request, credentials, scope, "20130524T000000Z");
    CHECK(result.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK(canonical_query(request.query) ==
          "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
          "east-1%2Fs3%2F"
          "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host");
}

TEST_CASE("the S3 backend's presigned GET is the URL AWS documents") {
    const json examples = json::parse(read_text(k_vectors / "s3-docs-examples.json"));
    gallery::storage::S3Options options;
    options.endpoint = "https://s3.amazonaws.com";
    options.bucket = "examplebucket";
    options.region = "us-east-1";
    options.access_key = examples["credentials"]["access_key_id"];
    options.secret_key = examples["credentials"]["secret_access_key"];
    options.path_style = false;
    const auto store = gallery::storage::make_s3_storage(options);
    // 2013-05-24T00:00:00Z, valid for a day: AWS's example.
    const auto url = store->presigned_get("test.txt", 1369353600, std::chrono::hours{24});
    REQUIRE(url);
    std::string expected;
    for (const json& example : examples["cases"])
        if (example.contains("expected_url")) expected = example["expected_url"];
    REQUIRE_FALSE(expected.empty());
    CHECK(*url == expected);
    CHECK(url->find(options.secret_key) == std::string::npos);
}

TEST_CASE("keys are encoded the way S3 signs them") {
    CHECK(uri_encode("images/a b+c$&,:=@~ሴ.jpg", true) ==
          "images/a%20b%2Bc%24%26%2C%3A%3D%40~%E1%88%B4.jpg");
    CHECK(uri_encode("a/b", false) == "a%2Fb");
    CHECK(uri_decode("a%2Fb%20c%zz") == "a/b c%zz");
    CHECK(amz_date(1369353600) == "20130524T000000Z");
}
