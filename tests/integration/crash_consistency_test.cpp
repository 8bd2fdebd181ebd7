// Crash consistency: uploads, deletes, bulk deletes, delete-alls and cleanups run
// concurrently against the real binary while `gallery serve` and `gallery cleanup`
// are killed with SIGKILL at random moments, round after round, on both storage
// backends. On PostgreSQL each round runs two serve hosts and two cleanup loops on the
// one database and storage, and kills one host half-way while the other goes on.
// Thumbnails are asked for too (issue 41), so variants are made while their images
// are deleted and the makers killed. Afterwards every object is accounted for,
// nothing referenced was deleted, no id was given twice, no object was deleted twice
// (receipts), and a final `cleanup --until-empty`, the orphan sweep and one more
// cleanup leave storage holding exactly the live images and variants of live images.
//
// Seeded: the seed is printed, and GALLERY_CRASH_SEED=<seed> replays a run (the
// kill moments depend on timing too, so a replay repeats the schedule, not every
// interleaving). GALLERY_CRASH_ROUNDS sets the rounds per backend (default 10).

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include "gallery/db/statement.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "gallery/common/variant_key.hpp"

#include "gallery/storage/local_storage.hpp"
#include "gallery/storage/s3_storage.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"
#include "support/served.hpp"
#include "support/temp_dir.hpp"
#include "support/vips_images.hpp"

using namespace gallery;
using testing::stored_keys;
using json = nlohmann::json;
using Env = std::map<std::string, std::string>;

namespace {

constexpr std::string_view k_api_key = "crash-test-api-key-0123456789";
constexpr int k_api_workers = 3;
const std::vector<std::string> k_clients{"alpha", "beta", "gamma"};

std::uint64_t crash_seed() {
    if (const char* text = std::getenv("GALLERY_CRASH_SEED")) return std::stoull(text);
    return std::random_device{}();
}

int rounds_per_backend() {
    if (const char* text = std::getenv("GALLERY_CRASH_ROUNDS")) return std::stoi(text);
    return 10;
}

// What the clients were told, to check that nothing acknowledged was lost.
class Ledger {
  public:
    void thumbnail_offered(const std::string& url) {
        std::lock_guard lock(m_mutex);
        m_thumbnails.push_back(url);
    }
    std::optional<std::string> some_thumbnail(std::mt19937_64& rng) {
        std::lock_guard lock(m_mutex);
        // Among the latest uploads: older images are mostly deleted by now.
        if (m_thumbnails.empty()) return std::nullopt;
        const std::size_t recent = std::min<std::size_t>(m_thumbnails.size(), 16);
        return m_thumbnails[m_thumbnails.size() - 1 - rng() % recent];
    }
    void thumbnail_answered(int status) {
        std::lock_guard lock(m_mutex);
        ++m_thumbnail_statuses[status];
    }
    std::string thumbnail_statuses() {
        std::lock_guard lock(m_mutex);
        std::string text;
        for (const auto& [status, count] : m_thumbnail_statuses)
            text += " " + std::to_string(status) + ": " + std::to_string(count);
        return text;
    }
    void uploaded(std::int64_t id, const std::string& client, int round) {
        std::lock_guard lock(m_mutex);
        if (!m_uploads.try_emplace(id, Upload{client, round}).second) ++m_ids_given_twice;
    }
    int ids_given_twice() {
        std::lock_guard lock(m_mutex);
        return m_ids_given_twice;
    }
    void delete_sent(std::span<const std::int64_t> ids) {
        std::lock_guard lock(m_mutex);
        m_delete_sent.insert(ids.begin(), ids.end());
    }
    void delete_all_sent(const std::string& client, int round) {
        std::lock_guard lock(m_mutex);
        m_last_delete_all[client] = std::max(m_last_delete_all[client], round);
    }
    std::vector<std::int64_t> some_ids(std::mt19937_64& rng, std::size_t count) {
        std::lock_guard lock(m_mutex);
        std::vector<std::int64_t> ids;
        if (m_uploads.empty()) return ids;
        for (std::size_t i = 0; i < count; ++i) {
            auto it = m_uploads.begin();
            std::advance(it, static_cast<long>(rng() % m_uploads.size()));
            ids.push_back(it->first);
        }
        return ids;
    }
    // Acknowledged uploads that no request could have deleted. A delete-all sent in
    // the round of the upload or later may have been applied after it committed.
    std::vector<std::int64_t> must_survive() {
        std::lock_guard lock(m_mutex);
        std::vector<std::int64_t> ids;
        for (const auto& [id, upload] : m_uploads) {
            if (m_delete_sent.contains(id)) continue;
            const auto all = m_last_delete_all.find(upload.client);
            if (all != m_last_delete_all.end() && all->second >= upload.round) continue;
            ids.push_back(id);
        }
        return ids;
    }
    std::size_t acknowledged() {
        std::lock_guard lock(m_mutex);
        return m_uploads.size();
    }

  private:
    struct Upload {
        std::string client;
        int round = 0;
    };
    std::mutex m_mutex;
    std::map<std::int64_t, Upload> m_uploads;
    std::set<std::int64_t> m_delete_sent;
    std::map<std::string, int> m_last_delete_all;
    std::vector<std::string> m_thumbnails;
    std::map<int, int> m_thumbnail_statuses;
    int m_ids_given_twice = 0;
};

// A real 96 x 64 JPEG, so that its thumbnail can be made.
const std::string& decodable_jpeg() {
    static const std::string bytes = [] {
        testing::start_vips();
        return testing::encode_image(
            vips::VImage::black(96, 64, vips::VImage::option()->set("bands", 3)), ".jpg");
    }();
    return bytes;
}

// A third of the uploads decode (their thumbnails can be made); the rest are bytes
// with a JPEG's first marker.
std::string random_jpeg(std::mt19937_64& rng) {
    if (rng() % 3 == 0) return decodable_jpeg();
    std::string bytes = "\xFF\xD8\xFF\xE0";
    const std::size_t length = 64 + rng() % 4000;
    for (std::size_t i = 0; i < length; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    return bytes;
}

std::string ids_body(std::span<const std::int64_t> ids) {
    return json{{"image_ids", std::vector<std::int64_t>(ids.begin(), ids.end())}}.dump();
}

// One client of the API doing a random mix of everything until `stop`. Requests
// that fail because the server was killed are expected and ignored.
void api_worker(int port, std::uint64_t seed, int round, Ledger& ledger,
                const std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed);
    httplib::Client client("127.0.0.1", port);
    client.set_default_headers({{"X-API-Key", std::string(k_api_key)}});
    client.set_connection_timeout(std::chrono::seconds(1));
    client.set_read_timeout(std::chrono::seconds(3));
    while (!stop) {
        const std::string& client_id = k_clients[rng() % k_clients.size()];
        const auto dice = rng() % 100;
        if (dice < 45) {
            httplib::MultipartFormDataItems form{
                {"image", random_jpeg(rng), "photo.jpg", "image/jpeg"},
                {"client_id", client_id, "", ""}};
            if (auto response = client.Post("/api/upload/", form);
                response && response->status == 201) {
                const json image = json::parse(response->body);
                ledger.uploaded(image["id"].get<std::int64_t>(), client_id, round);
                ledger.thumbnail_offered(image["thumbnail_url"].get<std::string>());
            }
        } else if (dice < 65) {
            const auto ids = ledger.some_ids(rng, 1);
            if (ids.empty()) continue;
            ledger.delete_sent(ids);
            client.Delete("/api/delete/" + std::to_string(ids[0]) + "/");
        } else if (dice < 80) {
            auto ids = ledger.some_ids(rng, 1 + rng() % 5);
            ledger.delete_sent(ids);
            ids.push_back(999'999'999);  // never exists: not_found_ids
            client.Post("/api/bulk-delete/", ids_body(ids), "application/json");
        } else if (dice < 84) {
            ledger.delete_all_sent(client_id, round);
            client.Delete("/api/clients/" + client_id + "/delete-all/");
        } else if (dice < 91) {
            client.Post("/api/cleanup/run/?batch_size=3", "", "application/json");
        } else if (dice < 97) {
            if (const auto url = ledger.some_thumbnail(rng)) {
                auto answer = client.Get(*url);
                if (answer) ledger.thumbnail_answered(answer->status);
            }
        } else {
            client.Get("/api/list/?page_size=5");
        }
    }
}

// `gallery cleanup` the way cron starts it, over and over; some runs are killed
// with SIGKILL part-way (the moment drawn from the seed).
void cron_worker(const Env& env, const std::filesystem::path& dir, std::uint64_t seed,
                 const std::atomic<bool>& stop, std::atomic<int>& killed) {
    std::filesystem::create_directories(dir);
    std::mt19937_64 rng(seed);
    for (int run = 0; !stop; ++run) {
        const pid_t pid = testing::start_process(
            {GALLERY_BINARY, "cleanup", "--until-empty", "--max-seconds", "5", "--batch-size", "2"},
            {.environment = env}, (dir / ("cron-" + std::to_string(run) + ".out")).string());
        const bool kill_it = rng() % 2 == 0;
        const auto kill_at =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 300);
        for (;;) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) break;
            if (stop || (kill_it && std::chrono::steady_clock::now() >= kill_at)) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                ++killed;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
}

struct DatabaseView {
    std::set<std::string> image_keys;
    std::set<std::int64_t> image_ids;
    std::set<std::string> queued_keys;
    std::set<std::string> intent_keys;
    std::int64_t queue_rows = 0;
    std::int64_t dead_rows = 0;
    std::int64_t keys_deleted_twice = 0;  // receipts
};

DatabaseView read_database(const std::string& name) {
    db::Connection database(testing::database_options_for(name));
    DatabaseView view;
    for (db::Statement q(database, "SELECT id, storage_key FROM images"); q.step();) {
        view.image_ids.insert(q.int64(0));
        view.image_keys.insert(q.text(1));
    }
    for (db::Statement q(database, "SELECT file_path, state FROM deletion_queue"); q.step();) {
        view.queued_keys.insert(q.text(0));
        ++view.queue_rows;
        if (q.text(1) == "dead") ++view.dead_rows;
    }
    for (db::Statement q(database, "SELECT storage_key FROM upload_intents"); q.step();) {
        view.intent_keys.insert(q.text(0));
    }
    view.keys_deleted_twice = db::query_int64(
        database,
        "SELECT COUNT(*) FROM (SELECT file_path FROM deletion_receipts GROUP BY file_path"
        " HAVING COUNT(*) > 1) AS twice");
    return view;
}

// Every file under the media root, hidden ones included: a write killed half-way
// must not leave debris that nothing tracks.
std::set<std::string> files_on_disk(const std::filesystem::path& root) {
    std::set<std::string> files;
    if (!std::filesystem::exists(root)) return files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.is_regular_file()) files.insert(entry.path().lexically_relative(root).string());
    }
    return files;
}

struct Backend {
    std::string name;
    Env env;
    std::unique_ptr<storage::Storage> storage;
    std::optional<std::filesystem::path> media_root;  // local only
};

void run_crash_rounds(Backend& backend, const testing::TempDir& dir, std::uint64_t seed) {
    // Several hosts share one database only on PostgreSQL (SQLite is one host's file).
    const int hosts = testing::on_postgresql() ? 2 : 1;
    std::cout << "crash consistency on " << backend.name << ": seed " << seed
              << " (replay with GALLERY_CRASH_SEED=" << seed << ")" << std::endl;
    INFO("seed " << seed << " on " << backend.name << " (replay with GALLERY_CRASH_SEED=" << seed
                 << ")");
    REQUIRE(
        testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = backend.env}).exit_code ==
        0);
    std::mt19937_64 rng(seed);
    Ledger ledger;
    std::atomic<int> cron_killed = 0;
    std::set<std::string> variants_left_to_sweep;
    const int rounds = rounds_per_backend();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int round = 0;
    for (; round < rounds && std::chrono::steady_clock::now() < deadline; ++round) {
        std::vector<testing::ServedProcess> served;
        for (int host = 0; host < hosts; ++host) {
            served.push_back(testing::start_serve(
                backend.env, dir.path() / ("serve-" + std::to_string(round) + "-" +
                                           std::to_string(host) + ".out")));
        }
        std::atomic<bool> stop = false;
        std::vector<std::thread> workers;
        for (int w = 0; w < k_api_workers * hosts; ++w) {
            workers.emplace_back(api_worker, served[static_cast<std::size_t>(w % hosts)].port,
                                 rng(), round, std::ref(ledger), std::cref(stop));
        }
        for (int host = 0; host < hosts; ++host) {
            workers.emplace_back(cron_worker, backend.env, dir.path() / std::to_string(host), rng(),
                                 std::cref(stop), std::ref(cron_killed));
        }
        // One host dies half-way; the others serve on, then die too.
        for (const auto& process : served) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 800));
            ::kill(process.pid, SIGKILL);
            testing::wait_process(process.pid);
        }
        stop = true;
        for (auto& worker : workers) worker.join();

        // Between crashes: whatever the kill interrupted, every stored object is
        // accounted for by a row, a queue entry or an upload in flight.
        // A variant is accounted for by its image's key too; one stored by a maker
        // killed before it could queue it (its image deleted meanwhile) is left to
        // the orphan sweep, which the final check runs.
        const DatabaseView view = read_database(backend.env.at("GALLERY_DB"));
        const auto accounted = [&](const std::string& key) {
            return view.image_keys.contains(key) || view.queued_keys.contains(key) ||
                   view.intent_keys.contains(key);
        };
        for (const auto& key : stored_keys(*backend.storage)) {
            INFO("round " << round << ": object " << key);
            if (const auto variant = parse_variant_key(key)) {
                if (!accounted(key) && !accounted(std::string(variant->image_key)))
                    variants_left_to_sweep.insert(key);
                continue;
            }
            CHECK(accounted(key));
        }
        const auto objects = stored_keys(*backend.storage);
        for (const auto& key : view.image_keys) {
            INFO("round " << round << ": image row's object " << key);
            CHECK(objects.contains(key));
        }
        CHECK(view.dead_rows == 0);
        CHECK(view.keys_deleted_twice == 0);
    }
    std::cout << backend.name << ": " << round << " rounds, " << ledger.acknowledged()
              << " acknowledged uploads, " << cron_killed << " cleanup runs killed, "
              << variants_left_to_sweep.size() << " variants left to the sweep; thumbnails answered"
              << ledger.thumbnail_statuses() << std::endl;
    CHECK(ledger.acknowledged() > 0);
    CHECK(ledger.ids_given_twice() == 0);
    // Only a maker killed between storing a variant and queueing it (its image deleted
    // meanwhile) leaves one to the sweep: at most one per worker of each killed host.
    // A cleaner that left deleted images' variants behind would leave one per image.
    CHECK(variants_left_to_sweep.size() <= static_cast<std::size_t>(round * hosts * k_api_workers));

    // An hour later: crashed uploads' intents have expired; a final cleanup queues
    // their objects and empties the queue.
    {
        db::Connection database(testing::database_options_for(backend.env.at("GALLERY_DB")));
        db::execute_script(database, "UPDATE upload_intents SET expires_at = 0");
        db::execute_script(database,
                           "UPDATE deletion_queue SET next_attempt_at = 0 WHERE state = 'pending'");
    }
    const auto final_run =
        testing::run_process({GALLERY_BINARY, "cleanup", "--until-empty", "--max-seconds", "60"},
                             {.environment = backend.env});
    INFO(final_run.out << final_run.err);
    REQUIRE(final_run.exit_code == 0);

    // The orphan sweep (no age guard: nothing runs now) and one more cleanup take
    // what a killed maker stored for a deleted image.
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{GALLERY_BINARY, "enqueue", "--orphans", "--older-than", "0s"},
          std::vector<std::string>{GALLERY_BINARY, "cleanup", "--until-empty"}}) {
        const auto run = testing::run_process(command, {.environment = backend.env});
        INFO(run.out << run.err);
        REQUIRE(run.exit_code == 0);
    }

    const DatabaseView view = read_database(backend.env.at("GALLERY_DB"));
    CHECK(view.queue_rows == 0);
    CHECK(view.intent_keys.empty());
    // Exactly the live images, and variants of live images only.
    std::set<std::string> originals;
    std::int64_t variants = 0;
    for (const auto& key : stored_keys(*backend.storage)) {
        if (const auto variant = parse_variant_key(key)) {
            INFO("variant " << key);
            CHECK(view.image_keys.contains(std::string(variant->image_key)));
            ++variants;
        } else {
            originals.insert(key);
        }
    }
    std::cout << backend.name << ": " << variants << " variants of live images stored at the end"
              << std::endl;
    CHECK(originals == view.image_keys);
    CHECK(view.keys_deleted_twice == 0);
    for (const auto id : ledger.must_survive()) {
        INFO("acknowledged upload " << id << " that no request deleted");
        CHECK(view.image_ids.contains(id));
    }
    if (backend.media_root) {
        std::set<std::string> files = files_on_disk(*backend.media_root);
        std::erase_if(files,
                      [](const std::string& file) { return parse_variant_key(file).has_value(); });
        CHECK(files == view.image_keys);
    }
}

Env common_env(const testing::TempDir& dir) {
    return {{"GALLERY_DB", dir.database()},  {"GALLERY_API_KEY", std::string(k_api_key)},
            {"GALLERY_CLEANUP_EVERY", "1s"}, {"GALLERY_BATCH_SIZE", "3"},
            {"GALLERY_LEASE_SECONDS", "1"},  {"GALLERY_LOG_LEVEL", "warn"}};
}

}  // namespace

TEST_CASE("crash consistency: SIGKILL at random moments loses nothing on local disk",
          "[postgresql]") {
    testing::TempDir dir;
    Backend backend{"local disk", common_env(dir), storage::make_local_storage(dir.media_root()),
                    dir.media_root()};
    backend.env["GALLERY_MEDIA_ROOT"] = dir.media_root().string();
    run_crash_rounds(backend, dir, crash_seed());
}

TEST_CASE("crash consistency: SIGKILL at random moments loses nothing on S3", "[postgresql]") {
    testing::TempDir dir;
    testing::S3rver s3;
    Backend backend{"S3 (s3rver)", common_env(dir), storage::make_s3_storage(s3.options()),
                    std::nullopt};
    backend.env.insert({{"GALLERY_STORAGE", "s3"},
                        {"GALLERY_S3_ENDPOINT", s3.endpoint()},
                        {"GALLERY_S3_BUCKET", "gallery"},
                        {"GALLERY_S3_REGION", "us-east-1"},
                        {"GALLERY_S3_ACCESS_KEY", "S3RVER"},
                        {"GALLERY_S3_SECRET_KEY", "S3RVER"}});
    run_crash_rounds(backend, dir, crash_seed());
}
