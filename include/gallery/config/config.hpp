#pragma once
// Every setting gallery reads, resolved once at start-up.
// Precedence: command-line flag > environment variable > config file > default.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gallery/common/variant_key.hpp"

namespace gallery::config {

enum class StorageKind { local, s3 };
enum class BackupTarget { folder, s3 };

// The prefix of every image key gallery writes (images/<uuid>.<ext>), which the orphan
// sweep walks by default; backups never go under it.
inline constexpr std::string_view media_prefix = "images/";

// A named rendition made from every image (issue 41): the image fitted inside
// width x height, never enlarged, upright, without metadata, in variant_format.
struct VariantSpec {
    std::string name;  // valid_variant_name (common/variant_key.hpp)
    int width = 0;
    int height = 0;
};

struct S3Settings {
    std::string endpoint;
    std::string bucket;
    std::string region = "auto";
    std::string access_key;
    std::string secret_key;
    std::string session_token;
    bool path_style = true;
    int concurrency = 8;
    int keys_per_delete = 1000;
    int connect_timeout_seconds = 5;
    int request_timeout_seconds = 60;
};

struct Config {
    std::filesystem::path db_path = "./data/gallery.db";  // SQLite, when db_url is empty
    // PostgreSQL: a libpq URI (postgresql://user:password@host:port/db?sslmode=...), from
    // `db` or, when no `db` is given, from the original's POSTGRES_* variables. Holds
    // the password: show it through redact_url() only.
    std::string db_url;
    // PostgreSQL connections `gallery serve` keeps open (its workers borrow them).
    int db_pool_size = 16;
    // How long a request waits for a pooled connection before it is answered 503.
    std::chrono::milliseconds db_pool_wait{3000};
    StorageKind storage = StorageKind::local;
    std::filesystem::path media_root = "./data/media";
    S3Settings s3;
    std::string public_url;  // empty: images are served by `gallery serve` under /media/
    // gallery's own address as browsers reach it: /media/ URLs in API answers are
    // absolute under it (a front end on another origin loads them). Empty: taken from
    // a trusted proxy's X-Forwarded-Host/-Proto, else the URLs stay relative.
    std::string base_url;

    std::uint64_t max_upload_bytes = 1024 * 1024;
    int compression_quality = 80;
    int compression_min_quality = 45;
    std::uint64_t max_image_pixels = 50'000'000;  // bigger images are refused undecoded
    double compression_timeout_seconds = 20;      // counted from the request's arrival
    // The variants made of every image; the first is the API's thumbnail_url.
    std::vector<VariantSpec> variants{{"thumb", 320, 320}};
    // How variants are encoded; their keys end in its extension (common/variant_key.hpp).
    VariantFormat variant_format = VariantFormat::jpeg;
    int encode_slots = 0;  // re-encodes running at once; 0: one per core
    // Estimated decode memory that running re-encodes may share (imaging/admission.hpp).
    std::uint64_t encode_memory_bytes = 1024ull * 1024 * 1024;

    int batch_size = 100;
    int max_attempts = 3;
    std::chrono::seconds lease{300};
    int receipt_days = 30;  // deletion receipts kept this long
    // How long a deleted image stays restorable (POST /api/restore/) before the cleaner
    // may delete its object; 0: due at once, the original's timing.
    std::chrono::seconds restore_window{0};
    // `gallery backup`: where backups go, how many are kept and for how long (0: no age
    // limit; the newest is always kept).
    std::filesystem::path backup_dir = "./data/backups";
    // Where finished backups are kept: the backup folder, or the configured S3 bucket
    // under backup_prefix (backup_dir then holds only backups being made or restored).
    BackupTarget backup_to = BackupTarget::folder;
    std::string backup_prefix = "backups/";  // never overlaps media_prefix
    int backup_keep = 7;
    std::chrono::seconds backup_max_age{30 * 86400};
    // Restore-safe deletion: while a retained backup was taken before an object was
    // queued, the cleaner keeps the object (a restore of that backup finds it).
    bool backup_guard = true;
    // serve takes a backup (then applies retention) this often; 0: never (SQLite only).
    std::chrono::seconds backup_every{0};
    // POST /api/cleanup/run/ answers within this; a longer run goes on in the background.
    std::chrono::milliseconds cleanup_request_budget{5000};

    // gallery serve
    std::string host = "127.0.0.1";
    int port = 8000;
    int threads = 128;  // about 125 KiB of memory each (BENCHMARKS.md)
    std::chrono::seconds http_timeout{30};
    std::chrono::seconds http_idle_timeout{2};  // a connection's wait for a request's first bytes
    // Cache-Control max-age of /media/ answers: how long a cache may still show an image
    // after its delete, so short by default.
    std::chrono::seconds media_max_age{60};
    // S3 without public_url: how long the presigned URL a /media/ redirect gives works.
    std::chrono::seconds media_url_expiry{3600};
    // Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the front proxy).
    std::vector<std::string> trusted_proxies;
    std::uint64_t max_body_bytes = 10 * 1024 * 1024;
    std::string admin_password;             // the admin pages' password; empty: the API key
    std::string api_key;                    // empty: generated on loopback, refused elsewhere
    std::vector<std::string> cors_origins;  // exact origins allowed to call the API from a browser
    std::string client_ids_url;   // registered client ids; empty: every client id is accepted
    bool metrics_public = false;  // /metrics without the API key
    std::chrono::seconds cleanup_every{0};  // serve runs the cleaner this often; 0: never
};

// "90", "90s", "15m", "24h", "7d" -> seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

// Where raw setting values come from; keys are the setting names listed by
// `setting_names()` (the config file's keys, e.g. "batch_size").
struct Sources {
    std::map<std::string, std::string> flags;
    std::function<std::optional<std::string>(const std::string& name)> environment;
    std::map<std::string, std::string> file;
    std::string file_path;  // for messages
};

// Throws StartupError (exit code 2) naming the setting and where its value came
// from when a value is invalid or the config file names an unknown setting.
Config resolve(const Sources& sources);

// Every setting resolved from its default: what a Config is when nothing is set.
// Code that needs a Config without a deployment (tests, tools) starts from this,
// not from Config{}, so the settings table stays the one source of defaults.
Config defaults();

// One row of the settings table, as the CLI's --help and the README show it.
struct SettingInfo {
    std::string name;                      // config file key
    std::vector<std::string> environment;  // names read, first wins
    std::string default_value;             // as text; "" for none
};
std::vector<SettingInfo> setting_table();

// "[GALLERY_BATCH_SIZE, default 100]" for --help texts; throws std::logic_error
// for a name that is not a setting (a typo in the CLI's code).
std::string help_suffix(const std::string& setting);

// The original's settings (POSTGRES_DB, _USER, _PASSWORD, _HOST default localhost,
// _PORT default 5432) as a postgresql:// URI; nullopt without POSTGRES_DB. Throws
// StartupError (exit code 2) for a POSTGRES_PORT that is not a number.
std::optional<std::string> original_postgres_url(const Sources& sources);

// The real process environment, for Sources::environment.
std::optional<std::string> process_environment(const std::string& name);

// "****abcd": enough to tell keys apart, never enough to use one.
std::string redact(const std::string& secret);

}  // namespace gallery::config
