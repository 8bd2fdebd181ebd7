// The SigV4 signer on fuzzed requests, and a differential check against libcurl's
// own signing (CURLOPT_AWS_SIGV4) for the requests both can express.
//
// Input lines: method, raw path, raw query ("a=b&c"), secret key, then the body.
// Properties on every input:
//   - uri_encode leaves only unreserved bytes, '/' (when kept) and %XX escapes,
//     and uri_decode undoes it;
//   - the canonical query and headers do not depend on the order pairs are given in
//     (for distinct names);
//   - the signature is 64 lowercase hex digits.
// Differential (GET, DELETE, PUT with the body; no dot segments in the path): curl
// sends the request to a loopback listener; our signature for the same method, path,
// canonical query, host, X-Amz-Date and body hash must equal the one curl sent.

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <thread>

#include "fuzz_check.hpp"
#include "gallery/storage/storage.hpp"
#include "storage/s3/sigv4.hpp"

using namespace gallery;
using namespace gallery::storage::s3;

namespace {

constexpr std::string_view k_region = "us-east-1";
constexpr std::string_view k_access_key = "AKIDFUZZEXAMPLE";

// Answers every HTTP/1.1 request on a loopback socket with an empty 200, keeping
// connections open so curl reuses them.
class LoopbackSink {
  public:
    LoopbackSink() {
        m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(m_listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::listen(m_listener, 16) != 0 ||
            ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            fuzz::fail("cannot listen on loopback");
        }
        m_port = ntohs(address.sin_port);
        std::thread([listener = m_listener] {
            for (;;) {
                const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
                if (connection < 0) continue;
                std::thread(serve, connection).detach();
            }
        }).detach();
    }
    int port() const { return m_port; }

  private:
    static void serve(int connection) {
        std::string pending;
        char buffer[16384];
        for (;;) {
            const std::size_t end = pending.find("\r\n\r\n");
            if (end != std::string::npos) {
                std::size_t body = 0;
                static const std::regex k_length(R"(\r\ncontent-length:\s*(\d+))",
                                                 std::regex::icase);
                std::smatch match;
                const std::string head = pending.substr(0, end);
                if (std::regex_search(head, match, k_length)) body = std::stoul(match[1].str());
                if (pending.size() >= end + 4 + body) {
                    pending.erase(0, end + 4 + body);
                    constexpr std::string_view k_reply =
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if (::write(connection, k_reply.data(), k_reply.size()) < 0) break;
                    continue;
                }
            }
            const ssize_t got = ::read(connection, buffer, sizeof buffer);
            if (got <= 0) break;
            pending.append(buffer, static_cast<std::size_t>(got));
        }
        ::close(connection);
    }

    int m_listener = -1;
    int m_port = 0;
};

struct Input {
    std::string method;
    std::string raw_path;
    Pairs query;
    std::string secret;
    std::string body;
};

Input parse(std::string_view text) {
    auto line = [&text] {
        const std::size_t end = text.find('\n');
        const std::string value(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        return value;
    };
    Input input;
    input.method = line();
    input.raw_path = line();
    std::string_view query_text;
    const std::string raw_query = line();
    query_text = raw_query;
    while (!query_text.empty()) {
        const std::size_t amp = query_text.find('&');
        const std::string_view pair = query_text.substr(0, amp);
        query_text.remove_prefix(amp == std::string_view::npos ? query_text.size() : amp + 1);
        const std::size_t equals = pair.find('=');
        input.query.emplace_back(pair.substr(0, equals),
                                 equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    }
    input.secret = line();
    input.body = std::string(text);
    return input;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

void check_encoding(const std::string& raw) {
    for (const bool keep_slash : {false, true}) {
        const std::string encoded = uri_encode(raw, keep_slash);
        for (std::size_t i = 0; i < encoded.size(); ++i) {
            const char c = encoded[i];
            const bool unreserved = std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                    c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
            if (unreserved) continue;
            fuzz::check(c == '%' && i + 2 < encoded.size() && is_hex(encoded[i + 1]) &&
                            is_hex(encoded[i + 2]),
                        "uri_encode left a reserved byte in " + encoded);
            i += 2;
        }
        fuzz::check(uri_decode(encoded) == raw, "uri_decode does not undo uri_encode");
    }
}

void check_order_independence(const Input& input) {
    Pairs distinct;
    for (const auto& pair : input.query) {
        const bool seen = std::any_of(distinct.begin(), distinct.end(),
                                      [&](const auto& p) { return p.first == pair.first; });
        if (!seen) distinct.push_back(pair);
    }
    Pairs reversed(distinct.rbegin(), distinct.rend());
    fuzz::check(canonical_query(distinct) == canonical_query(reversed),
                "the canonical query depends on the order of the pairs");
    Pairs headers;
    for (const auto& [name, value] : distinct) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower.empty() || lower.find_first_of(":\r\n") != std::string::npos) continue;
        const bool seen = std::any_of(headers.begin(), headers.end(), [&](const auto& p) {
            std::string other = p.first;
            std::transform(other.begin(), other.end(), other.begin(), ::tolower);
            return other == lower;
        });
        if (!seen) headers.emplace_back(name, value);
    }
    Pairs headers_reversed(headers.rbegin(), headers.rend());
    const auto forward = canonical_headers(headers);
    const auto backward = canonical_headers(headers_reversed);
    fuzz::check(forward.lines == backward.lines && forward.signed_names == backward.signed_names,
                "the canonical headers depend on the order they are given in");
}

bool has_dot_segment(const std::string& path) {
    for (const std::string_view segment : storage::key_segments(path)) {
        if (segment == "." || segment == "..") return true;
    }
    return false;
}

int capture_headers(CURL*, curl_infotype type, char* data, std::size_t size, void* sent) {
    if (type == CURLINFO_HEADER_OUT) static_cast<std::string*>(sent)->append(data, size);
    return 0;
}

void check_against_curl(const Input& input) {
    if (input.method != "GET" && input.method != "DELETE" && input.method != "PUT") return;
    if (input.secret.empty() || input.secret.find('\0') != std::string::npos) return;
    if (input.raw_path.find('\0') != std::string::npos || has_dot_segment(input.raw_path)) return;
    static LoopbackSink sink;
    static CURL* curl = curl_easy_init();
    const std::string canonical_uri = "/" + uri_encode(input.raw_path, true);
    const std::string query = canonical_query(input.query);
    const std::string host = "127.0.0.1:" + std::to_string(sink.port());
    const std::string url = "http://" + host + canonical_uri + (query.empty() ? "" : "?" + query);

    std::string sent;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
    curl_easy_setopt(curl, CURLOPT_USERNAME, std::string(k_access_key).c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, input.secret.c_str());
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, capture_headers);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &sent);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, input.method.c_str());
    if (input.method == "PUT") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, input.body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(input.body.size()));
    }
    const CURLcode result = curl_easy_perform(curl);
    fuzz::check(result == CURLE_OK, std::string("curl: ") + curl_easy_strerror(result));

    static const std::regex k_authorization(
        R"(Authorization: AWS4-HMAC-SHA256 Credential=[^/]+/(\d{8})/[^,]+, SignedHeaders=([^,]+), Signature=([0-9a-f]{64}))");
    static const std::regex k_date(R"(X-Amz-Date: (\d{8}T\d{6}Z))");
    static const std::regex k_request_line(R"(^[A-Z]+ (\S+) HTTP/1\.1)");
    std::smatch authorization, date, request_line;
    fuzz::check(std::regex_search(sent, authorization, k_authorization) &&
                    std::regex_search(sent, date, k_date) &&
                    std::regex_search(sent, request_line, k_request_line),
                "curl sent no SigV4 headers: " + sent);
    // curl normalises some paths in its URL parser; compare only what it sent as given.
    if (request_line[1].str() != canonical_uri + (query.empty() ? "" : "?" + query)) return;
    fuzz::check(authorization[2].str() == "host;x-amz-date",
                "curl signed other headers: " + authorization[2].str());

    SigningRequest ours;
    ours.method = input.method;
    ours.canonical_uri = canonical_uri;
    ours.query = input.query;
    ours.headers = {{"Host", host}, {"X-Amz-Date", date[1].str()}};
    ours.payload_hash = sha256_hex(input.method == "PUT" ? input.body : "");  // what curl sent
    const Scope scope{authorization[1].str(), std::string(k_region), "s3"};
    const Signed signed_request =
        sign(ours, {std::string(k_access_key), input.secret, ""}, scope, date[1].str());
    fuzz::check(signed_request.signature == authorization[3].str(),
                "signature differs from curl's for " + input.method + " " + request_line[1].str() +
                    "\ncanonical request:\n" + signed_request.canonical_request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Input input = parse(std::string_view(reinterpret_cast<const char*>(data), size));
    check_encoding(input.raw_path);
    for (const auto& [name, value] : input.query) {
        check_encoding(name);
        check_encoding(value);
    }
    check_order_independence(input);
    SigningRequest request{input.method,
                           "/" + uri_encode(input.raw_path, true),
                           input.query,
                           {{"host", "example.com"}},
                           std::string(k_empty_payload_hash)};
    const Signed signed_request =
        sign(request, {std::string(k_access_key), input.secret, ""},
             {"20261127", std::string(k_region), "s3"}, "20261127T000000Z");
    fuzz::check(
        signed_request.signature.size() == 64 &&
            signed_request.signature.find_first_not_of("0123456789abcdef") == std::string::npos,
        "the signature is not 64 hex digits");
    check_against_curl(input);
    return 0;
}
