// Every route of the API (and the admin pages) with a fuzzed request, in process,
// over a real SQLite file and a real media folder.
//
// Input: an HTTP-like text, so seeds are readable and mutations stay meaningful:
//   METHOD TARGET            (target: percent-encoded path, optional ?query)
//   Header: value            (any number)
//   <empty line>
//   body                     (up to the first "\n--part ")
//   --part NAME [FILENAME [CONTENT-TYPE]]
//   content                  (a multipart field; any number of parts)
//
// Properties: no crash and no exception escapes; no 500 (a request's input is never
// an internal error); a JSON response is valid JSON; after every request the
// per-client totals still match the image rows (every change is one transaction).

#include "gallery/db/statement.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gallery/admin/admin.hpp"
#include "gallery/api/api.hpp"
#include "gallery/common/log.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/local_storage.hpp"
#include "storage/s3/sigv4.hpp"

using namespace gallery;

namespace {

constexpr std::string_view k_part_marker = "\n--part ";

struct Fixture {
    std::filesystem::path dir;
    config::Config config = config::defaults();
    std::unique_ptr<db::ConnectionPool> pool;
    std::unique_ptr<storage::Storage> storage;
    std::unique_ptr<api::ClientRegistry> clients;
    std::unique_ptr<api::ApiContext> context;
    std::unique_ptr<api::Router> router;
    std::unique_ptr<db::Connection> checker;

    Fixture() {
        if (!std::getenv("GALLERY_FUZZ_VERBOSE")) log::set_level(log::Level::error);
        char pattern[] = "/tmp/gallery-fuzz-routes-XXXXXX";
        dir = ::mkdtemp(pattern);
        config.db_path = dir / "gallery.db";
        config.media_root = dir / "media";
        // Small limits so fuzzed images reach the re-encoder and stay quick to decode.
        config.max_upload_bytes = 512;
        config.max_image_pixels = 1'000'000;
        config.compression_timeout_seconds = 5;
        {
            db::Connection connection({.path = config.db_path, .create_if_missing = true});
            if (!db::migrate(connection, db::embedded_migrations(), now_micros())) std::abort();
        }
        pool =
            std::make_unique<db::ConnectionPool>(db::ConnectionOptions{.path = config.db_path}, 2);
        storage = storage::make_local_storage(config.media_root);
        clients = std::make_unique<api::ClientRegistry>("", system_clock());
        context = std::make_unique<api::ApiContext>(
            api::ApiContext{*pool, *storage, config, *clients, "fuzz-api-key-0123456789abcdef",
                            system_clock(), queue::make_lease_owner()});
        router = std::make_unique<api::Router>(admin::make_server_router(*context));
        checker = std::make_unique<db::Connection>(db::ConnectionOptions{.path = config.db_path});
    }
    ~Fixture() {
        context->background->wait_all();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

Fixture& fixture() {
    static Fixture instance;
    return instance;
}

std::string_view next_line(std::string_view& text) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

std::string_view next_word(std::string_view& text) {
    const std::size_t end = text.find(' ');
    const std::string_view word = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    return word;
}

api::Request parse_request(std::string_view text) {
    api::Request request;
    std::string_view first = next_line(text);
    request.method = std::string(next_word(first));
    const std::string_view target = first;
    const std::size_t question = target.find('?');
    request.path = storage::s3::uri_decode(target.substr(0, question));
    if (question != std::string_view::npos) {
        std::string_view query = target.substr(question + 1);
        while (!query.empty()) {
            const std::size_t amp = query.find('&');
            const std::string_view pair = query.substr(0, amp);
            query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
            const std::size_t equals = pair.find('=');
            request.query.emplace(storage::s3::uri_decode(pair.substr(0, equals)),
                                  equals == std::string_view::npos
                                      ? ""
                                      : storage::s3::uri_decode(pair.substr(equals + 1)));
        }
    }
    while (!text.empty()) {
        const std::string_view line = next_line(text);
        if (line.empty()) break;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (value.starts_with(' ')) value.remove_prefix(1);
        request.headers[std::string(line.substr(0, colon))] = std::string(value);
    }
    std::size_t marker = text.find(k_part_marker);
    request.body = std::string(text.substr(0, marker));
    while (marker != std::string_view::npos) {
        text.remove_prefix(marker + k_part_marker.size());
        std::string_view header = next_line(text);
        api::FormPart part;
        part.name = std::string(next_word(header));
        part.filename = std::string(next_word(header));
        part.content_type = std::string(header);
        marker = text.find(k_part_marker);
        part.content = std::string(text.substr(0, marker));
        request.parts.push_back(std::move(part));
    }
    return request;
}

void check_totals_match_rows(db::Connection& connection) {
    db::Statement mismatch(
        connection,
        "SELECT COUNT(*) FROM (SELECT client_id COLLATE NOCASE AS c, COUNT(*) AS n,"
        " SUM(size) AS s FROM images GROUP BY 1) AS i"
        " FULL OUTER JOIN client_totals t ON t.client_id = i.c"
        " WHERE t.image_count IS NOT i.n OR t.total_size IS NOT i.s");
    mismatch.step();
    fuzz::check(mismatch.int64(0) == 0, "client_totals disagree with the image rows");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fixture& f = fixture();
    api::Request request =
        parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
    const api::Response response = api::handle_request(*f.router, *f.context, request);
    if (std::getenv("GALLERY_FUZZ_VERBOSE")) {
        std::fprintf(stderr, "%s %s -> %d %.200s\n", request.method.c_str(), request.path.c_str(),
                     response.status, response.body.c_str());
    }
    fuzz::check(response.status >= 100 && response.status <= 599,
                "status out of range: " + std::to_string(response.status));
    fuzz::check(response.status != 500,
                request.method + " " + request.path + " answered 500: " + response.body);
    if (response.content_type.starts_with("application/json")) {
        fuzz::check(nlohmann::json::accept(response.body),
                    "invalid JSON from " + request.path + ": " + response.body);
    }
    f.context->background->wait_all();
    check_totals_match_rows(*f.checker);
    return 0;
}
