#include "gallery/net/http_client.hpp"
#include "gallery/common/text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <mutex>

namespace gallery::net {
namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

void initialise_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::size_t read_body_file(char* data, std::size_t size, std::size_t count, void* user) {
    return std::fread(data, size, count, static_cast<std::FILE*>(user)) * size;
}

// Where a response body goes: a 2xx body to `path` (opened at its first byte), any
// other status's body to `body` (an error message is small and read as text).
struct ResponseSink {
    CURL* curl = nullptr;
    std::filesystem::path path;
    std::string* body = nullptr;
    File file;
    bool write_failed = false;

    bool success() const {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        return status >= 200 && status < 300;
    }
    bool open() {
        if (!file) file.reset(std::fopen(path.c_str(), "wb"));
        write_failed = !file;
        return file != nullptr;
    }
};

std::size_t write_response(char* data, std::size_t size, std::size_t count, void* user) {
    auto* sink = static_cast<ResponseSink*>(user);
    const std::size_t bytes = size * count;
    if (!sink->success()) {
        sink->body->append(data, bytes);
        return bytes;
    }
    if (!sink->open()) return 0;  // aborts the transfer
    if (std::fwrite(data, 1, bytes, sink->file.get()) != bytes) {
        sink->write_failed = true;
        return 0;
    }
    return bytes;
}

std::size_t record_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    const std::string line(data, size * count);
    const std::size_t colon = line.find(':');
    if (line.starts_with("HTTP/")) {
        headers->clear();  // a new response (after a redirect or 1xx) starts over
    } else if (colon != std::string::npos) {
        std::string name = to_lower(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r\n") + 1);
        (*headers)[name] = value;
    }
    return size * count;
}

// Converts a libcurl failure into our error type; here and nowhere else.
Error from_curl(CURLcode code, const char* detail, const std::string& method) {
    std::string message = method + " request failed: " + curl_easy_strerror(code);
    if (detail && *detail) message += " (" + std::string(detail) + ")";
    return Error{ErrorKind::storage_transient, message};
}

}  // namespace

struct HttpClient::Handle {
    CurlHandle curl{nullptr, &curl_easy_cleanup};
};

HttpClient::HttpClient(HttpTimeouts timeouts)
    : m_handle(std::make_unique<Handle>()), m_timeouts(timeouts) {
    initialise_curl_once();
    m_handle->curl.reset(curl_easy_init());
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::perform(const HttpRequest& request) {
    CURL* curl = m_handle->curl.get();
    if (!curl) return fail(ErrorKind::storage_transient, "cannot create a curl handle");
    curl_easy_reset(curl);  // keeps the connection cache: reuse survives reset

    HeaderList headers{nullptr, &curl_slist_free_all};
    const auto add_header = [&](const std::string& line) {
        curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
        if (grown) {
            (void)headers.release();
            headers.reset(grown);
        }
    };
    for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
    add_header("Expect:");  // no 100-continue round trip

    HttpResponse response;
    char error_detail[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // the bytes sent are the bytes signed
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(m_timeouts.connect.count()));
    if (request.body_file.empty() && request.response_file.empty()) {
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(m_timeouts.total.count()));
    } else {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(
            curl, CURLOPT_LOW_SPEED_TIME,
            static_cast<long>(std::max<long long>(1, m_timeouts.total.count() / 1000)));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    ResponseSink sink{curl, request.response_file, &response.body, nullptr, false};
    if (request.response_file.empty()) {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    } else {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_response);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, record_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_detail);
    if (request.follow_redirects) {
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    File upload;
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        if (!request.body_file.empty()) {
            upload.reset(std::fopen(request.body_file.c_str(), "rb"));
            std::error_code ec;
            const auto size = std::filesystem::file_size(request.body_file, ec);
            if (!upload || ec) {
                return fail(ErrorKind::io, "cannot read " + request.body_file.string());
            }
            curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body_file);
            curl_easy_setopt(curl, CURLOPT_READDATA, upload.get());
            curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        } else if (request.method != "DELETE" || !request.body.empty()) {
            // Sets Content-Length, also for an empty body.
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
        }
    }
    const CURLcode code = curl_easy_perform(curl);
    if (sink.write_failed) return fail(ErrorKind::io, "cannot write " + sink.path.string());
    if (code != CURLE_OK) return std::unexpected(from_curl(code, error_detail, request.method));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (!request.response_file.empty() && sink.success()) {
        // An empty 2xx body wrote nothing: the file still has to exist.
        if (!sink.open()) return fail(ErrorKind::io, "cannot write " + sink.path.string());
        if (std::fflush(sink.file.get()) != 0)
            return fail(ErrorKind::io, "cannot write " + sink.path.string() + " (disk full?)");
    }
    return response;
}

}  // namespace gallery::net
