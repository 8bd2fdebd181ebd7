#include "gallery/storage/s3_storage.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <thread>

#include "gallery/common/log.hpp"
#include "gallery/common/sha256.hpp"
#include "gallery/common/time.hpp"
#include "gallery/net/http_client.hpp"
#include "storage/s3/sigv4.hpp"
#include "storage/s3/xml.hpp"

namespace gallery::storage {
namespace {

using net::HttpRequest;
using net::HttpResponse;

constexpr std::size_t k_max_delete_keys = 1000;

struct Endpoint {
    std::string scheme;  // "http" or "https"
    std::string host;    // without port
    std::string port;    // empty for the scheme's default
    std::string host_header() const { return port.empty() ? host : host + ":" + port; }
};

Endpoint parse_endpoint(const std::string& url) {
    static const std::regex k_url(R"(^(https?)://([^/:]+)(?::(\d+))?/?$)");
    std::smatch parts;
    if (!std::regex_match(url, parts, k_url)) {
        throw StartupError(ErrorKind::invalid_input,
                           "invalid value '" + url +
                               "' for s3_endpoint: expected http(s)://host[:port] with no path");
    }
    Endpoint endpoint{parts[1].str(), parts[2].str(), parts[3].str()};
    if ((endpoint.scheme == "http" && endpoint.port == "80") ||
        (endpoint.scheme == "https" && endpoint.port == "443")) {
        endpoint.port.clear();
    }
    return endpoint;
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

std::string content_md5(const std::string& body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(body.data(), body.size(), digest, &length, EVP_md5(), nullptr);
    return base64(digest, length);
}

bool is_permanent_code(const std::string& code) {
    return code == "AccessDenied" || code == "InvalidAccessKeyId" ||
           code == "SignatureDoesNotMatch" || code == "NoSuchBucket" ||
           code == "AllAccessDisabled" || code == "InvalidBucketName" ||
           code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" ||
           code == "AccountProblem";
}

// HTTP clients of one S3Storage, shared by its callers and remove_many's workers: a
// borrowed client goes back when the request is done, so its connections are
// reused by the next request on any thread, and every client has this instance's
// timeouts.
class ClientPool {
  public:
    explicit ClientPool(net::HttpTimeouts timeouts) : m_timeouts(timeouts) {}

    Result<HttpResponse> perform(const HttpRequest& request) {
        std::unique_ptr<net::HttpClient> client;
        {
            std::lock_guard lock(m_mutex);
            if (!m_idle.empty()) {
                client = std::move(m_idle.back());
                m_idle.pop_back();
            }
        }
        if (!client) client = std::make_unique<net::HttpClient>(m_timeouts);
        auto response = client->perform(request);
        std::lock_guard lock(m_mutex);
        m_idle.push_back(std::move(client));
        return response;
    }

  private:
    net::HttpTimeouts m_timeouts;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<net::HttpClient>> m_idle;
};

class S3Storage final : public Storage {
  public:
    explicit S3Storage(S3Options options)
        : m_options(std::move(options)),
          m_endpoint(parse_endpoint(m_options.endpoint)),
          m_credentials{m_options.access_key, m_options.secret_key, m_options.session_token},
          m_clients({m_options.connect_timeout, m_options.request_timeout}) {
        m_options.keys_per_delete =
            std::clamp<std::size_t>(m_options.keys_per_delete, 1, k_max_delete_keys);
        m_options.concurrency = std::max(1, m_options.concurrency);
    }

    std::string_view kind() const override { return "s3"; }

    Result<void> check_key(std::string_view key) const override { return check_portable_key(key); }

    Result<void> put(std::string_view key, std::string_view bytes,
                     std::string_view content_type) override {
        if (auto ok = check_key(key); !ok) return ok;
        HttpRequest request = object_request("PUT", key, std::string(bytes),
                                             {{"Content-Type", std::string(content_type)}});
        auto response = exchange(request, "put '" + std::string(key) + "'", {200});
        if (!response) return std::unexpected(response.error());
        return {};
    }

    Result<void> put_file(std::string_view key, const std::filesystem::path& file,
                          std::string_view content_type) override {
        if (auto ok = check_key(key); !ok) return ok;
        // The payload's hash is signed (as for put): one pass to hash, one to send.
        auto payload_hash = sha256_file_hex(file);
        if (!payload_hash) return std::unexpected(payload_hash.error());
        HttpRequest request = build("PUT", object_path(key), {}, {},
                                    {{"Content-Type", std::string(content_type)}}, *payload_hash);
        request.body_file = file;
        auto response = exchange(request, "put '" + std::string(key) + "'", {200});
        if (!response) return std::unexpected(response.error());
        return {};
    }

    Result<void> get_file(std::string_view key, const std::filesystem::path& file) override {
        if (auto ok = check_key(key); !ok) return ok;
        HttpRequest request = object_request("GET", key);
        request.response_file = file;
        auto response = exchange(request, "get '" + std::string(key) + "'", {200, 404});
        if (!response) return std::unexpected(response.error());
        if (response->status == 404)
            return fail(ErrorKind::not_found, "s3: no object '" + std::string(key) + "'");
        return {};
    }

    Result<std::optional<ObjectInfo>> head(std::string_view key) override {
        if (auto ok = check_key(key); !ok) return std::unexpected(ok.error());
        auto response =
            exchange(object_request("HEAD", key), "head '" + std::string(key) + "'", {200, 404});
        if (!response) return std::unexpected(response.error());
        if (response->status == 404) return std::optional<ObjectInfo>{};
        ObjectInfo info{std::string(key), 0, 0};
        if (auto it = response->headers.find("content-length"); it != response->headers.end()) {
            info.size = std::stoull(it->second);
        }
        if (auto it = response->headers.find("last-modified"); it != response->headers.end()) {
            info.last_modified = s3::parse_http_date(it->second);
        }
        return std::optional<ObjectInfo>{info};
    }

    // Query-string authentication (AWS's "presigned URL"): the host is the only signed
    // header and the payload is UNSIGNED-PAYLOAD, so any client may send the GET.
    std::optional<std::string> presigned_get(std::string_view key, long long signed_at,
                                             std::chrono::seconds valid_for) const override {
        const std::string date = s3::amz_date(signed_at);
        const s3::Scope scope{date.substr(0, 8), m_options.region, "s3"};
        const s3::SigningRequest unsigned_request = s3::with_presign_parameters(
            {"GET",
             object_path(key),
             {},
             {{"Host", host_header()}},
             std::string(s3::k_unsigned_payload)},
            m_credentials, scope, date, static_cast<long>(valid_for.count()));
        const s3::Signed signed_request = s3::sign(unsigned_request, m_credentials, scope, date);
        return m_endpoint.scheme + "://" + host_header() + object_path(key) + "?" +
               s3::canonical_query(unsigned_request.query) +
               "&X-Amz-Signature=" + signed_request.signature;
    }

    Result<std::vector<RemoveOutcome>> remove_many(std::span<const std::string> keys) override {
        std::vector<RemoveOutcome> outcomes(keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
            outcomes[i].key = keys[i];
            if (auto ok = check_key(keys[i]); !ok) outcomes[i].error = ok.error();
        }
        // Spread the keys over up to `concurrency` requests of at most keys_per_delete each.
        const std::size_t per_request = std::clamp<std::size_t>(
            (keys.size() + static_cast<std::size_t>(m_options.concurrency) - 1) /
                static_cast<std::size_t>(m_options.concurrency),
            std::min<std::size_t>(100, m_options.keys_per_delete), m_options.keys_per_delete);
        std::vector<std::pair<std::size_t, std::size_t>> chunks;
        for (std::size_t start = 0; start < keys.size(); start += per_request) {
            chunks.emplace_back(start, std::min(keys.size(), start + per_request));
        }
        std::mutex mutex;
        std::optional<Error> whole_failure;
        std::size_t next_chunk = 0;
        const auto worker = [&] {
            for (;;) {
                std::pair<std::size_t, std::size_t> chunk;
                {
                    std::lock_guard lock(mutex);
                    if (next_chunk >= chunks.size() || whole_failure) return;
                    chunk = chunks[next_chunk++];
                }
                auto failure = delete_chunk(keys, chunk.first, chunk.second, outcomes);
                if (failure) {
                    std::lock_guard lock(mutex);
                    if (!whole_failure || failure->kind == ErrorKind::storage_permanent)
                        whole_failure = failure;
                }
            }
        };
        const std::size_t threads =
            std::min<std::size_t>(chunks.size(), static_cast<std::size_t>(m_options.concurrency));
        if (threads <= 1) {
            worker();
        } else {
            std::vector<std::jthread> pool;
            for (std::size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
        }
        if (whole_failure) return std::unexpected(*whole_failure);
        return outcomes;
    }

    Result<ListPage> list(std::string_view prefix, std::string_view start_after,
                          std::size_t max_keys) override {
        s3::Pairs query{{"list-type", "2"},
                        {"prefix", std::string(prefix)},
                        {"max-keys", std::to_string(std::clamp<std::size_t>(max_keys, 1, 1000))}};
        if (!start_after.empty()) query.emplace_back("start-after", std::string(start_after));
        HttpRequest request = bucket_request("GET", query, "");
        auto response = exchange(request, "list '" + std::string(prefix) + "'", {200});
        if (!response) return std::unexpected(response.error());
        auto parsed = s3::parse_list_result(response->body);
        if (!parsed) return std::unexpected(parsed.error());
        ListPage page;
        page.objects = std::move(parsed->objects);
        page.truncated = parsed->truncated;
        if (page.objects.size() > max_keys) {
            page.objects.resize(max_keys);
            page.truncated = true;
        }
        return page;
    }

  private:
    // Deletes keys[begin, end) with one DeleteObjects request; fills per-key errors.
    // Returns an error when the request as a whole failed.
    std::optional<Error> delete_chunk(std::span<const std::string> keys, std::size_t begin,
                                      std::size_t end, std::vector<RemoveOutcome>& outcomes) {
        std::vector<std::string> chunk;
        for (std::size_t i = begin; i < end; ++i) {
            if (!outcomes[i].error) chunk.push_back(keys[i]);
        }
        if (chunk.empty()) return std::nullopt;
        const std::string context = "delete batch of " + std::to_string(chunk.size()) + " keys";
        const std::string body = s3::delete_objects_body(chunk, true);
        HttpRequest request = bucket_request(
            "POST", {{"delete", ""}}, body,
            {{"Content-MD5", content_md5(body)}, {"Content-Type", "application/xml"}});
        auto response = send(request, context);
        if (!response) return response.error();
        if (response->status == 501 || error_code(*response) == "NotImplemented") {
            return delete_one_by_one(keys, begin, end, outcomes);
        }
        if (response->status != 200) return http_error(*response, context);
        auto errors = s3::parse_delete_result(response->body);
        if (!errors) return with_context("s3: " + context, errors.error());
        for (const s3::KeyError& error : *errors) {
            for (std::size_t i = begin; i < end; ++i) {
                if (keys[i] != error.key || outcomes[i].error) continue;
                const bool permanent = is_permanent_code(error.code);
                outcomes[i].error =
                    Error{permanent ? ErrorKind::storage_permanent : ErrorKind::storage_transient,
                          "s3: delete '" + error.key + "': " + error.code +
                              (error.message.empty() ? "" : ": " + error.message)};
            }
        }
        return std::nullopt;
    }

    // For servers without DeleteObjects.
    std::optional<Error> delete_one_by_one(std::span<const std::string> keys, std::size_t begin,
                                           std::size_t end, std::vector<RemoveOutcome>& outcomes) {
        for (std::size_t i = begin; i < end; ++i) {
            if (outcomes[i].error) continue;
            auto response = send(object_request("DELETE", keys[i]), "delete '" + keys[i] + "'");
            if (!response) return response.error();
            if (response->status != 204 && response->status != 200 && response->status != 404) {
                Error error = http_error(*response, "delete '" + keys[i] + "'");
                if (error.kind == ErrorKind::storage_permanent) return error;
                outcomes[i].error = error;
            }
        }
        return std::nullopt;
    }

    std::string object_path(std::string_view key) const {
        const std::string encoded = s3::uri_encode(key, true);
        return m_options.path_style ? "/" + s3::uri_encode(m_options.bucket, false) + "/" + encoded
                                    : "/" + encoded;
    }

    std::string bucket_path() const {
        return m_options.path_style ? "/" + s3::uri_encode(m_options.bucket, false) : "/";
    }

    std::string host_header() const {
        return m_options.path_style ? m_endpoint.host_header()
                                    : m_options.bucket + "." + m_endpoint.host_header();
    }

    HttpRequest object_request(const std::string& method, std::string_view key,
                               std::string body = {}, s3::Pairs extra_headers = {}) const {
        return build(method, object_path(key), {}, std::move(body), std::move(extra_headers));
    }

    HttpRequest bucket_request(const std::string& method, const s3::Pairs& query, std::string body,
                               s3::Pairs extra_headers = {}) const {
        return build(method, bucket_path(), query, std::move(body), std::move(extra_headers));
    }

    // `payload_hash`: the hash of a body sent from a file; empty: the hash of `body`.
    HttpRequest build(const std::string& method, const std::string& path, const s3::Pairs& query,
                      std::string body, s3::Pairs headers, std::string payload_hash = {}) const {
        const std::string date = s3::amz_date(now_micros() / k_micros_per_second);
        const s3::Scope scope{date.substr(0, 8), m_options.region, "s3"};
        if (payload_hash.empty()) payload_hash = s3::sha256_hex(body);
        headers.emplace_back("Host", host_header());
        headers.emplace_back("x-amz-content-sha256", payload_hash);
        headers.emplace_back("x-amz-date", date);
        if (!m_credentials.session_token.empty())
            headers.emplace_back("x-amz-security-token", m_credentials.session_token);
        const s3::SigningRequest signing{method, path, query, headers, payload_hash};
        const s3::Signed signed_request = s3::sign(signing, m_credentials, scope, date);
        log::debug("s3: canonical request:\n" + signed_request.canonical_request);
        headers.emplace_back("Authorization",
                             s3::authorization(signed_request, m_credentials, scope));

        std::string url = m_endpoint.scheme + "://" + host_header() + path;
        std::string query_text;
        for (const auto& [name, value] : query) {
            query_text +=
                (query_text.empty() ? "?" : "&") + s3::uri_encode(name, false) +
                (value.empty() && name == "delete" ? "" : "=" + s3::uri_encode(value, false));
        }
        HttpRequest request;
        request.method = method;
        request.url = url + query_text;
        request.headers = std::move(headers);
        request.body = std::move(body);
        return request;
    }

    // Sends; a transport failure comes back with "s3: <context>: " in front.
    Result<HttpResponse> send(const HttpRequest& request, const std::string& context) {
        auto response = m_clients.perform(request);
        if (!response) return std::unexpected(with_context("s3: " + context, response.error()));
        return response;
    }

    // Sends and accepts only the `expected` statuses: any other is http_error's Error.
    Result<HttpResponse> exchange(const HttpRequest& request, const std::string& context,
                                  std::initializer_list<long> expected) {
        auto response = send(request, context);
        if (!response) return response;
        if (std::ranges::find(expected, response->status) == expected.end())
            return std::unexpected(http_error(*response, context));
        return response;
    }

    static std::string error_code(const HttpResponse& response) {
        auto body = s3::parse_error(response.body);
        return body ? body->code : "";
    }

    // "s3: delete batch of 1000 keys: HTTP 403 AccessDenied: Access Denied"
    static Error http_error(const HttpResponse& response, const std::string& context) {
        const auto body = s3::parse_error(response.body);
        const std::string code = body ? body->code : "";
        std::string message = "s3: " + context + ": HTTP " + std::to_string(response.status);
        if (!code.empty()) message += " " + code;
        if (body && !body->message.empty()) message += ": " + body->message;
        const bool transient = response.status >= 500 || response.status == 429 ||
                               code == "SlowDown" || code == "RequestTimeout" ||
                               code == "InternalError";
        Error error{transient ? ErrorKind::storage_transient : ErrorKind::storage_permanent,
                    message};
        if (auto it = response.headers.find("retry-after"); it != response.headers.end()) {
            char* end = nullptr;
            const long seconds = std::strtol(it->second.c_str(), &end, 10);
            if (end != it->second.c_str() && seconds >= 0)
                error.retry_after = std::chrono::seconds(seconds);
        }
        return error;
    }

    S3Options m_options;
    Endpoint m_endpoint;
    s3::Credentials m_credentials;
    ClientPool m_clients;
};

}  // namespace

std::unique_ptr<Storage> make_s3_storage(const S3Options& options) {
    return std::make_unique<S3Storage>(options);
}

}  // namespace gallery::storage
