#include "gallery/config/config.hpp"
#include "gallery/common/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "gallery/common/error.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/config/dotenv.hpp"

namespace gallery::config {
namespace {

struct RawValue {
    std::string text;
    std::string origin;  // "--batch-size", "GALLERY_BATCH_SIZE", "config file x.toml"
};

// How an environment variable's text becomes the setting's text (for the original
// deployment's names, e.g. CLOUDFLARE_R2_ENABLED=true means storage "s3").
using Translate = std::function<std::string(const std::string&)>;

struct EnvironmentName {
    std::string name;
    Translate translate{};
    // Whether the name is read at all, given the settings resolved before this one
    // (the settings table's order); empty: always.
    std::function<bool(const Config&)> read_when{};
};

struct Setting {
    std::string name;
    std::vector<EnvironmentName> environment;
    std::string default_value;
    std::function<void(Config&, const RawValue&)> apply;
};

[[noreturn]] void invalid(const std::string& setting, const RawValue& value,
                          const std::string& expected) {
    throw StartupError(ErrorKind::invalid_input, "invalid value '" + value.text + "' for " +
                                                     setting + " (from " + value.origin +
                                                     "): " + expected);
}

// A setting with two named values: the value named, or a refusal that names both.
template <typename Value>
Value one_of(const std::string& setting, const RawValue& value,
             std::pair<std::string_view, Value> first, std::pair<std::string_view, Value> second) {
    if (value.text == first.first) return first.second;
    if (value.text == second.first) return second.second;
    invalid(setting, value,
            "expected " + std::string(first.first) + " or " + std::string(second.first));
}

// As the original's settings.py reads it: os.getenv(...).lower() == 'true'; any other
// value ("1", "yes", "False", a typo) leaves R2 off.
std::string r2_enabled_to_storage(const std::string& text) {
    return to_lower(text) == "true" ? "s3" : "local";
}

// Where an environment variable's value came from, for messages.
std::string environment_origin(const std::string& name) {
    const LoadedEnvFile& file = loaded_env_file();
    return file.names.contains(name) ? name + " in " + file.path : name;
}

// A value that still carries what a .env reader would have removed: a file passed to
// systemd's EnvironmentFile or `docker --env-file` keeps `KEY=value  # comment` whole,
// and spaces around a value are never part of a setting. The value is not repeated
// (it may be a secret).
void refuse_leftover_comment(const std::string& setting, const RawValue& value) {
    const std::string& text = value.text;
    const bool spaced = !text.empty() && (std::isspace(static_cast<unsigned char>(text.front())) ||
                                          std::isspace(static_cast<unsigned char>(text.back())));
    bool comment = false;
    for (std::size_t i = 1; i < text.size() && !comment; ++i)
        comment = text[i] == '#' && std::isspace(static_cast<unsigned char>(text[i - 1]));
    if (!spaced && !comment) return;
    throw StartupError(
        ErrorKind::invalid_input,
        "the value of " + setting + " (from " + value.origin + ") " +
            (comment ? "holds an inline comment (' #...'); an environment file read by systemd "
                       "or docker keeps comments in values: move the comment to its own line"
                     : "begins or ends with spaces: remove them") +
            " (a value that really holds them cannot be given)");
}

template <class Int>
Int parse_int(const std::string& setting, const RawValue& value, Int low, Int high) {
    Int parsed{};
    const char* end = value.text.data() + value.text.size();
    const auto [ptr, ec] = std::from_chars(value.text.data(), end, parsed);
    if (ec != std::errc{} || ptr != end || parsed < low || parsed > high) {
        invalid(
            setting, value,
            "expected a whole number from " + std::to_string(low) + " to " + std::to_string(high));
    }
    return parsed;
}

double parse_positive(const std::string& setting, const RawValue& value) {
    double parsed = 0;
    const char* end = value.text.data() + value.text.size();
    const auto [ptr, ec] = std::from_chars(value.text.data(), end, parsed);
    if (ec != std::errc{} || ptr != end || !(parsed > 0) || parsed > 1024 * 1024) {
        invalid(setting, value, "expected a positive number");
    }
    return parsed;
}

std::chrono::seconds duration_setting(const std::string& setting, const RawValue& value,
                                      const std::string& examples) {
    const auto duration = parse_duration(value.text);
    if (!duration) invalid(setting, value, "expected a duration such as " + examples);
    return *duration;
}

std::string nonempty(const std::string& setting, const RawValue& value) {
    if (value.text.empty()) invalid(setting, value, "it must not be empty");
    return value.text;
}

// The database setting: a SQLite file path, or a PostgreSQL URI. Any other
// scheme:// is refused by name (it would open a file under a folder named after
// the scheme and report success). Messages show the value without its password.
void apply_database(Config& config, const RawValue& value) {
    if (value.text.empty()) invalid("db", value, "it must not be empty");
    const std::string& text = value.text;
    const auto scheme_end = text.find("://");
    const bool has_scheme = scheme_end != std::string::npos && scheme_end > 0 &&
                            std::ranges::all_of(text.substr(0, scheme_end), [](unsigned char c) {
                                return std::isalnum(c) || c == '+' || c == '-' || c == '.';
                            });
    if (!has_scheme) {
        config.db_path = text;
        config.db_url.clear();
        return;
    }
    const std::string scheme = to_lower(text.substr(0, scheme_end));
    if (scheme != "postgres" && scheme != "postgresql") {
        invalid("db", RawValue{redact_url(text), value.origin},
                "a SQLite file path or a postgresql:// URI, not a " + scheme + ":// URL");
    }
    config.db_url = text;
}

// libpq URI percent-encoding of a user name, password or database name.
std::string uri_component(const std::string& text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

bool is_ip_address(const std::string& text) {
    in6_addr address{};
    return ::inet_pton(AF_INET, text.c_str(), &address) == 1 ||
           ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// "a, b,c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, end - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) items.push_back(std::move(item));
        start = end + 1;
    }
    return items;
}

// The original's .env gives CLOUDFLARE_R2_PUBLIC_URL as a bare host
// ("pub-xxxxxx.r2.dev", "without https://") and builds https://<host>/<key>: a value
// without a scheme gets https://, one with a scheme is kept; trailing slashes go.
std::string public_base_url(const std::string& text) {
    std::string url = text;
    while (url.ends_with('/')) url.pop_back();
    if (url.starts_with("//")) return "https:" + url;
    if (!url.empty() && url.find("://") == std::string::npos) url = "https://" + url;
    return url;
}

// gallery's own address as browsers reach it ("https://api.example.com", or with a
// path prefix): scheme and host, no query, no trailing slash.
std::string own_base_url(const RawValue& value) {
    std::string url = value.text;
    while (url.ends_with('/')) url.pop_back();
    if (url.empty()) return url;
    const bool scheme = url.starts_with("http://") || url.starts_with("https://");
    const std::size_t host = url.find("://") + 3;
    if (!scheme || host >= url.size() || url[host] == '/' ||
        url.find_first_of("?# ") != std::string::npos) {
        invalid("base_url", value,
                "expected http:// or https:// and a host, e.g. https://api.example.com");
    }
    return url;
}

// Settings of the database and its connection pool.
std::vector<Setting> database_settings() {
    return {
        {"db", {{"GALLERY_DB"}}, "./data/gallery.db", apply_database},
        {"db_pool_size",
         {{"GALLERY_DB_POOL_SIZE"}},
         "16",
         [](Config& c, const RawValue& v) {
             c.db_pool_size = parse_int("db_pool_size", v, 1, 1000);
         }},
        {"db_pool_wait_seconds",
         {{"GALLERY_DB_POOL_WAIT_SECONDS"}},
         "3",
         [](Config& c, const RawValue& v) {
             c.db_pool_wait = std::chrono::milliseconds(
                 static_cast<std::int64_t>(parse_positive("db_pool_wait_seconds", v) * 1000));
         }},
    };
}

// Settings of where objects live: local disk or S3.
std::vector<Setting> storage_settings() {
    return {
        {"storage",
         {{"GALLERY_STORAGE"}, {"CLOUDFLARE_R2_ENABLED", r2_enabled_to_storage}},
         "local",
         [](Config& c, const RawValue& v) {
             c.storage = one_of<StorageKind>("storage", v, {"local", StorageKind::local},
                                             {"s3", StorageKind::s3});
         }},
        {"media_root",
         {{"GALLERY_MEDIA_ROOT"}},
         "./data/media",
         [](Config& c, const RawValue& v) { c.media_root = nonempty("media_root", v); }},
        {"s3_endpoint",
         {{"GALLERY_S3_ENDPOINT"}, {"CLOUDFLARE_R2_BUCKET_ENDPOINT"}},
         "",
         [](Config& c, const RawValue& v) { c.s3.endpoint = v.text; }},
        {"s3_bucket",
         {{"GALLERY_S3_BUCKET"}, {"CLOUDFLARE_R2_BUCKET"}},
         "",
         [](Config& c, const RawValue& v) { c.s3.bucket = v.text; }},
        {"s3_region",
         {{"GALLERY_S3_REGION"}},
         "auto",
         [](Config& c, const RawValue& v) { c.s3.region = nonempty("s3_region", v); }},
        {"s3_access_key",
         {{"GALLERY_S3_ACCESS_KEY"}, {"CLOUDFLARE_R2_ACCESS_KEY"}},
         "",
         [](Config& c, const RawValue& v) { c.s3.access_key = v.text; }},
        {"s3_secret_key",
         {{"GALLERY_S3_SECRET_KEY"}, {"CLOUDFLARE_R2_SECRET_KEY"}},
         "",
         [](Config& c, const RawValue& v) { c.s3.secret_key = v.text; }},
        {"s3_session_token",
         {{"GALLERY_S3_SESSION_TOKEN"}},
         "",
         [](Config& c, const RawValue& v) { c.s3.session_token = v.text; }},
        {"s3_addressing",
         {{"GALLERY_S3_ADDRESSING"}},
         "path",
         [](Config& c, const RawValue& v) {
             c.s3.path_style = one_of<bool>("s3_addressing", v, {"path", true}, {"virtual", false});
         }},
        {"s3_concurrency",
         {{"GALLERY_S3_CONCURRENCY"}},
         "8",
         [](Config& c, const RawValue& v) {
             c.s3.concurrency = parse_int("s3_concurrency", v, 1, 64);
         }},
        {"s3_keys_per_delete",
         {{"GALLERY_S3_KEYS_PER_DELETE"}},
         "1000",
         [](Config& c, const RawValue& v) {
             c.s3.keys_per_delete = parse_int("s3_keys_per_delete", v, 1, 1000);
         }},
        {"s3_connect_timeout_seconds",
         {{"GALLERY_S3_CONNECT_TIMEOUT_SECONDS"}},
         "5",
         [](Config& c, const RawValue& v) {
             c.s3.connect_timeout_seconds = parse_int("s3_connect_timeout_seconds", v, 1, 600);
         }},
        {"s3_timeout_seconds",
         {{"GALLERY_S3_TIMEOUT_SECONDS"}},
         "60",
         [](Config& c, const RawValue& v) {
             c.s3.request_timeout_seconds = parse_int("s3_timeout_seconds", v, 1, 3600);
         }},
        {"public_url",
         // The original reads CLOUDFLARE_R2_PUBLIC_URL only with R2 enabled; its local
         // files are served under /media/ whatever the variable says.
         {{"GALLERY_PUBLIC_URL"},
          {"CLOUDFLARE_R2_PUBLIC_URL",
           {},
           [](const Config& c) { return c.storage == StorageKind::s3; }}},
         "",
         [](Config& c, const RawValue& v) { c.public_url = public_base_url(v.text); }},
    };
}

// "thumb:320x320,medium:1280x1280" (or "" for none): each name once, each side 16 to
// 4096 pixels.
std::vector<VariantSpec> parse_variants(const RawValue& value) {
    const auto refuse = [&](const std::string& why) {
        invalid("variants", value,
                why + " (expected name:WIDTHxHEIGHT, comma-separated, e.g. thumb:320x320)");
    };
    std::vector<VariantSpec> variants;
    if (value.text.empty()) return variants;
    std::string_view rest = value.text;
    for (bool more = true; more;) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        more = comma != std::string_view::npos;
        if (more) rest.remove_prefix(comma + 1);
        const std::size_t colon = item.find(':');
        const std::size_t by = item.find('x', colon == std::string_view::npos ? 0 : colon);
        if (colon == std::string_view::npos || by == std::string_view::npos)
            refuse("'" + std::string(item) + "' is not a variant");
        VariantSpec spec{std::string(item.substr(0, colon)), 0, 0};
        if (!valid_variant_name(spec.name))
            refuse("the name '" + spec.name + "' is not 1 to 32 of a-z, 0-9, - and _");
        const auto side = [&](std::string_view text) {
            int number = 0;
            const auto [end, error] =
                std::from_chars(text.data(), text.data() + text.size(), number);
            if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
                number < 16 || number > 4096)
                refuse("'" + std::string(text) + "' is not a side of 16 to 4096 pixels");
            return number;
        };
        spec.width = side(item.substr(colon + 1, by - colon - 1));
        spec.height = side(item.substr(by + 1));
        if (std::ranges::any_of(variants,
                                [&](const VariantSpec& v) { return v.name == spec.name; }))
            refuse("the name '" + spec.name + "' is given twice");
        variants.push_back(std::move(spec));
    }
    return variants;
}

// Settings of uploads and their re-encoding.
std::vector<Setting> upload_settings() {
    return {
        {"max_upload_mb",
         {{"GALLERY_MAX_UPLOAD_MB"}, {"IMAGE_MAX_UPLOAD_MB"}},
         "1",
         [](Config& c, const RawValue& v) {
             c.max_upload_bytes =
                 static_cast<std::uint64_t>(parse_positive("max_upload_mb", v) * 1024 * 1024);
         }},
        {"compression_quality",
         {{"GALLERY_COMPRESSION_QUALITY"}, {"IMAGE_COMPRESSION_QUALITY"}},
         "80",
         [](Config& c, const RawValue& v) {
             c.compression_quality = parse_int("compression_quality", v, 1, 100);
         }},
        {"compression_min_quality",
         {{"GALLERY_COMPRESSION_MIN_QUALITY"}, {"IMAGE_COMPRESSION_MIN_QUALITY"}},
         "45",
         [](Config& c, const RawValue& v) {
             c.compression_min_quality = parse_int("compression_min_quality", v, 1, 100);
         }},
        {"cleanup_request_budget_seconds",
         {{"GALLERY_CLEANUP_REQUEST_BUDGET_SECONDS"}},
         "5",
         [](Config& c, const RawValue& v) {
             c.cleanup_request_budget = std::chrono::milliseconds(static_cast<std::int64_t>(
                 parse_positive("cleanup_request_budget_seconds", v) * 1000));
         }},
        {"max_image_pixels",
         {{"GALLERY_MAX_IMAGE_PIXELS"}},
         "50000000",
         [](Config& c, const RawValue& v) {
             c.max_image_pixels = parse_int<std::uint64_t>("max_image_pixels", v, 1, 1'000'000'000);
         }},
        {"compression_timeout_seconds",
         {{"GALLERY_COMPRESSION_TIMEOUT_SECONDS"}},
         "20",
         [](Config& c, const RawValue& v) {
             c.compression_timeout_seconds = parse_positive("compression_timeout_seconds", v);
         }},
        {"variants",
         {{"GALLERY_VARIANTS"}},
         "thumb:320x320",
         [](Config& c, const RawValue& v) { c.variants = parse_variants(v); }},
        {"variant_format",
         {{"GALLERY_VARIANT_FORMAT"}},
         "jpeg",
         [](Config& c, const RawValue& v) {
             c.variant_format = one_of<VariantFormat>(
                 "variant_format", v, {"jpeg", VariantFormat::jpeg}, {"webp", VariantFormat::webp});
         }},
        {"encode_slots",
         {{"GALLERY_ENCODE_SLOTS"}},
         "0",
         [](Config& c, const RawValue& v) {
             c.encode_slots = parse_int("encode_slots", v, 0, 256);
         }},
        {"encode_memory_mb",
         {{"GALLERY_ENCODE_MEMORY_MB"}},
         "1024",
         [](Config& c, const RawValue& v) {
             c.encode_memory_bytes =
                 static_cast<std::uint64_t>(parse_positive("encode_memory_mb", v) * 1024 * 1024);
         }},
    };
}

// Settings of the cleaner and the restore window.
std::vector<Setting> cleanup_settings() {
    return {
        {"batch_size",
         {{"GALLERY_BATCH_SIZE"}},
         "100",
         [](Config& c, const RawValue& v) { c.batch_size = parse_int("batch_size", v, 1, 1000); }},
        {"max_attempts",
         {{"GALLERY_MAX_ATTEMPTS"}},
         "3",
         [](Config& c, const RawValue& v) {
             c.max_attempts = parse_int("max_attempts", v, 1, 1000);
         }},
        {"lease_seconds",
         {{"GALLERY_LEASE_SECONDS"}},
         "300",
         [](Config& c, const RawValue& v) {
             c.lease = std::chrono::seconds(parse_int("lease_seconds", v, 1, 86'400));
         }},
        {"receipt_days",
         {{"GALLERY_RECEIPT_DAYS"}},
         "30",
         [](Config& c, const RawValue& v) {
             c.receipt_days = parse_int("receipt_days", v, 1, 36500);
         }},
        {"restore_window",
         {{"GALLERY_RESTORE_WINDOW"}},
         "0",
         [](Config& c, const RawValue& v) {
             c.restore_window = duration_setting("restore_window", v, "0, 10m, 24h or 7d");
             if (c.restore_window > std::chrono::days{365})
                 invalid("restore_window", v, "at most 365d");
         }},
    };
}

// Settings of backups and restore-safe deletion.
std::vector<Setting> backup_settings() {
    return {
        {"backup_dir",
         {{"GALLERY_BACKUP_DIR"}},
         "./data/backups",
         [](Config& c, const RawValue& v) { c.backup_dir = nonempty("backup_dir", v); }},
        {"backup_to",
         {{"GALLERY_BACKUP_TO"}},
         "folder",
         [](Config& c, const RawValue& v) {
             c.backup_to = one_of<BackupTarget>("backup_to", v, {"folder", BackupTarget::folder},
                                                {"s3", BackupTarget::s3});
         }},
        {"backup_prefix",
         {{"GALLERY_BACKUP_PREFIX"}},
         "backups/",
         [](Config& c, const RawValue& v) {
             const std::string& prefix = v.text;
             const bool segments_ok =
                 !prefix.empty() && prefix.back() == '/' && prefix.size() <= 256 &&
                 std::ranges::all_of(prefix,
                                     [](unsigned char ch) {
                                         return std::isalnum(ch) || ch == '/' || ch == '-' ||
                                                ch == '_' || ch == '.';
                                     }) &&
                 prefix.front() != '/' && prefix.front() != '.' &&
                 prefix.find("//") == std::string::npos && prefix.find("/.") == std::string::npos;
             if (!segments_ok) {
                 invalid("backup_prefix", v,
                         "expected a key prefix such as backups/ (letters, digits, - _ . /, "
                         "ending in /)");
             }
             for (const std::string_view walked : {media_prefix, variant_prefix}) {
                 if (prefix.starts_with(walked) || walked.starts_with(prefix)) {
                     invalid("backup_prefix", v,
                             "it overlaps the prefix " + std::string(walked) +
                                 ", which the orphan sweep walks");
                 }
             }
             c.backup_prefix = prefix;
         }},
        {"backup_keep",
         {{"GALLERY_BACKUP_KEEP"}},
         "7",
         [](Config& c, const RawValue& v) {
             c.backup_keep = parse_int("backup_keep", v, 1, 10000);
         }},
        {"backup_max_age",
         {{"GALLERY_BACKUP_MAX_AGE"}},
         "30d",
         [](Config& c, const RawValue& v) {
             c.backup_max_age = duration_setting("backup_max_age", v, "0 (no limit), 7d or 30d");
         }},
        {"backup_guard",
         {{"GALLERY_BACKUP_GUARD"}},
         "on",
         [](Config& c, const RawValue& v) {
             c.backup_guard = one_of<bool>("backup_guard", v, {"on", true}, {"off", false});
         }},
        {"backup_every",
         {{"GALLERY_BACKUP_EVERY"}},
         "0",
         [](Config& c, const RawValue& v) {
             c.backup_every = duration_setting("backup_every", v, "0 (off), 6h or 1d");
         }},
    };
}

// Settings of the HTTP server.
std::vector<Setting> http_settings() {
    return {
        {"metrics_public",
         {{"GALLERY_METRICS_PUBLIC"}},
         "false",
         [](Config& c, const RawValue& v) {
             const std::string value = to_lower(v.text);
             if (value == "true" || value == "1" || value == "yes")
                 c.metrics_public = true;
             else if (value == "false" || value == "0" || value == "no")
                 c.metrics_public = false;
             else
                 invalid("metrics_public", v, "expected true or false");
         }},
        {"cleanup_every",
         {{"GALLERY_CLEANUP_EVERY"}},
         "0",
         [](Config& c, const RawValue& v) {
             c.cleanup_every = duration_setting("cleanup_every", v, "0 (off), 90s, 5m or 1h");
         }},
        {"host",
         {{"GALLERY_HOST"}},
         "127.0.0.1",
         [](Config& c, const RawValue& v) { c.host = nonempty("host", v); }},
        {"port",
         {{"GALLERY_PORT"}},
         "8000",
         [](Config& c, const RawValue& v) { c.port = parse_int("port", v, 0, 65535); }},
        {"threads",
         {{"GALLERY_THREADS"}},
         "128",
         [](Config& c, const RawValue& v) { c.threads = parse_int("threads", v, 1, 1024); }},
        {"http_idle_timeout_seconds",
         {{"GALLERY_HTTP_IDLE_TIMEOUT_SECONDS"}},
         "2",
         [](Config& c, const RawValue& v) {
             c.http_idle_timeout =
                 std::chrono::seconds(parse_int("http_idle_timeout_seconds", v, 1, 300));
         }},
        {"media_max_age",
         {{"GALLERY_MEDIA_MAX_AGE"}},
         "1m",
         [](Config& c, const RawValue& v) {
             c.media_max_age = duration_setting("media_max_age", v, "0, 10m or 1h");
         }},
        {"base_url",
         {{"GALLERY_BASE_URL"}},
         "",
         [](Config& c, const RawValue& v) { c.base_url = own_base_url(v); }},
        {"media_url_expiry",
         {{"GALLERY_MEDIA_URL_EXPIRY"}},
         "1h",
         [](Config& c, const RawValue& v) {
             c.media_url_expiry = duration_setting("media_url_expiry", v, "90s, 10m or 1h");
             // SigV4's bounds for X-Amz-Expires: 1 second to 7 days.
             if (c.media_url_expiry < std::chrono::seconds{1} ||
                 c.media_url_expiry > std::chrono::days{7}) {
                 invalid("media_url_expiry", v, "from 1s to 7d (S3's limits for a presigned URL)");
             }
         }},
        {"trusted_proxies",
         {{"GALLERY_TRUSTED_PROXIES"}},
         "",
         [](Config& c, const RawValue& v) {
             c.trusted_proxies = split_list(v.text);
             for (const std::string& address : c.trusted_proxies) {
                 if (!is_ip_address(address))
                     invalid("trusted_proxies", v, "expected IP addresses, comma-separated");
             }
         }},
        {"http_timeout_seconds",
         {{"GALLERY_HTTP_TIMEOUT_SECONDS"}},
         "30",
         [](Config& c, const RawValue& v) {
             c.http_timeout = std::chrono::seconds(parse_int("http_timeout_seconds", v, 1, 3600));
         }},
        {"max_body_mb",
         {{"GALLERY_MAX_BODY_MB"}},
         "10",
         [](Config& c, const RawValue& v) {
             c.max_body_bytes =
                 static_cast<std::uint64_t>(parse_positive("max_body_mb", v) * 1024 * 1024);
         }},
    };
}

// Settings of who may call: keys, the admin password, origins, client ids.
std::vector<Setting> access_settings() {
    return {
        {"admin_password",
         {{"GALLERY_ADMIN_PASSWORD"}},
         "",
         [](Config& c, const RawValue& v) {
             if (!v.text.empty() && v.text.size() < 12) {
                 throw StartupError(
                     ErrorKind::invalid_input,
                     "admin_password (from " + v.origin + ") is shorter than 12 characters");
             }
             c.admin_password = v.text;
         }},
        {"api_key",
         {{"GALLERY_API_KEY"}, {"API_KEY"}},
         "",
         [](Config& c, const RawValue& v) {
             if (!v.text.empty() && v.text.size() < 16) {
                 throw StartupError(ErrorKind::invalid_input,
                                    "api_key (from " + v.origin +
                                        ") is shorter than 16 characters: use a long random key");
             }
             // cpp-httplib percent-decodes header values: a key with '%' could be
             // sent in two spellings that a front proxy would see as different.
             if (v.text.find('%') != std::string::npos) {
                 throw StartupError(ErrorKind::invalid_input,
                                    "api_key (from " + v.origin + ") must not contain '%'");
             }
             c.api_key = v.text;
         }},
        {"cors_origins",
         {{"GALLERY_CORS_ORIGINS"}},
         "",
         [](Config& c, const RawValue& v) { c.cors_origins = split_list(v.text); }},
        {"client_ids_url",
         {{"GALLERY_CLIENT_IDS_URL"}},
         "",
         [](Config& c, const RawValue& v) { c.client_ids_url = v.text; }},
    };
}

const std::vector<Setting>& settings() {
    // In this order: a setting read only when another has a value (read_when) comes
    // after it.
    static const std::vector<Setting> all = [] {
        std::vector<Setting> joined;
        for (const auto group :
             {database_settings, storage_settings, upload_settings, cleanup_settings,
              backup_settings, http_settings, access_settings}) {
            std::vector<Setting> part = group();
            joined.insert(joined.end(), std::make_move_iterator(part.begin()),
                          std::make_move_iterator(part.end()));
        }
        return joined;
    }();
    return all;
}

std::optional<RawValue> pick(const Setting& setting, const Sources& sources,
                             const Config& resolved_so_far) {
    // Each value is checked as its source gave it (before an environment name's
    // translation, which would hide `true  # comment`).
    if (auto flag = sources.flags.find(setting.name); flag != sources.flags.end()) {
        std::string origin = "--" + setting.name;
        std::ranges::replace(origin, '_', '-');
        RawValue given{flag->second, origin};
        refuse_leftover_comment(setting.name, given);
        return given;
    }
    if (sources.environment) {
        for (const EnvironmentName& env : setting.environment) {
            if (env.read_when && !env.read_when(resolved_so_far)) continue;
            if (auto text = sources.environment(env.name)) {
                const RawValue given{*text, environment_origin(env.name)};
                refuse_leftover_comment(setting.name, given);
                return RawValue{env.translate ? env.translate(*text) : *text, given.origin};
            }
        }
    }
    if (auto entry = sources.file.find(setting.name); entry != sources.file.end()) {
        RawValue given{entry->second, "config file " + sources.file_path};
        refuse_leftover_comment(setting.name, given);
        return given;
    }
    return std::nullopt;
}

}  // namespace

Config resolve(const Sources& sources) {
    for (const auto& [name, value] : sources.file) {
        const bool known =
            std::ranges::any_of(settings(), [&](const Setting& s) { return s.name == name; });
        if (!known) {
            throw StartupError(
                ErrorKind::invalid_input,
                "unknown setting '" + name + "' in config file " + sources.file_path);
        }
    }
    Config config;
    for (const Setting& setting : settings()) {
        auto picked = pick(setting, sources, config);
        if (!picked && setting.name == "db") {
            if (auto url = original_postgres_url(sources)) picked = RawValue{*url, "POSTGRES_DB"};
        }
        setting.apply(config, picked.value_or(RawValue{setting.default_value, "default"}));
    }
    if (config.backup_to == BackupTarget::s3 && config.storage != StorageKind::s3) {
        throw StartupError(ErrorKind::invalid_input,
                           "backup_to = s3 keeps backups in the configured S3 bucket, but storage "
                           "is local: set storage = s3, or keep backup_to = folder");
    }
    if (config.compression_min_quality > config.compression_quality) {
        throw StartupError(ErrorKind::invalid_input,
                           "compression_min_quality (" +
                               std::to_string(config.compression_min_quality) +
                               ") must not exceed compression_quality (" +
                               std::to_string(config.compression_quality) + ")");
    }
    return config;
}

Config defaults() {
    return resolve({});
}

std::vector<SettingInfo> setting_table() {
    std::vector<SettingInfo> table;
    for (const Setting& setting : settings()) {
        SettingInfo info{setting.name, {}, setting.default_value};
        for (const EnvironmentName& env : setting.environment) info.environment.push_back(env.name);
        table.push_back(std::move(info));
    }
    return table;
}

std::string help_suffix(const std::string& setting) {
    for (const SettingInfo& info : setting_table()) {
        if (info.name != setting) continue;
        std::string text = "[";
        for (const std::string& env : info.environment) text += env + ", ";
        return text + "default " + (info.default_value.empty() ? "none" : info.default_value) + "]";
    }
    throw std::logic_error("no setting named " + setting);
}

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 9 || text.size() > digits + 1) return std::nullopt;
    const long long value = std::stoll(text.substr(0, digits));
    switch (digits < text.size() ? text[digits] : 's') {
        case 's':
            return std::chrono::seconds(value);
        case 'm':
            return std::chrono::seconds(value * 60);
        case 'h':
            return std::chrono::seconds(value * 3600);
        case 'd':
            return std::chrono::seconds(value * 86400);
        default:
            return std::nullopt;
    }
}

// The original's settings (POSTGRES_DB, _USER, _PASSWORD, _HOST default localhost,
// _PORT default 5432) as a URI; nullopt without POSTGRES_DB.
std::optional<std::string> original_postgres_url(const Sources& sources) {
    if (!sources.environment) return std::nullopt;
    const auto env = [&](const char* name) {
        auto value = sources.environment(name);
        if (value) refuse_leftover_comment(name, RawValue{*value, environment_origin(name)});
        return value;
    };
    const auto database = env("POSTGRES_DB");
    if (!database || database->empty()) return std::nullopt;
    std::string url = "postgresql://";
    if (const auto user = env("POSTGRES_USER"); user && !user->empty()) {
        url += uri_component(*user);
        if (const auto password = env("POSTGRES_PASSWORD"); password && !password->empty())
            url += ":" + uri_component(*password);
        url += "@";
    }
    const auto host = env("POSTGRES_HOST");
    const std::string host_text = host && !host->empty() ? *host : "localhost";
    // A socket folder (/run/postgresql) goes in the host parameter, not the authority.
    const bool socket = host_text.starts_with("/");
    url += socket ? ""
                  : (host_text.find(':') != std::string::npos ? "[" + host_text + "]" : host_text);
    const auto port = env("POSTGRES_PORT");
    const std::string port_text = port && !port->empty() ? *port : "5432";
    if (!std::ranges::all_of(port_text, [](unsigned char c) { return std::isdigit(c); })) {
        throw StartupError(
            ErrorKind::invalid_input,
            "invalid value '" + port_text + "' for POSTGRES_PORT: expected a port number");
    }
    if (!socket) url += ":" + port_text;
    url += "/" + uri_component(*database);
    if (socket) url += "?host=" + uri_component(host_text) + "&port=" + port_text;
    return url;
}

std::optional<std::string> process_environment(const std::string& name) {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
}

std::string redact(const std::string& secret) {
    if (secret.empty()) return "(not set)";
    if (secret.size() < 12) return "****";
    return "****" + secret.substr(secret.size() - 4);
}

}  // namespace gallery::config
