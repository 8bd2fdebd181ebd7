// The real `gallery` binary against real SQLite files and real folders.

#include <signal.h>
#include <unistd.h>

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

struct Workspace {
    testing::TempDir dir;
    std::map<std::string, std::string> environment() const {
        return {{"GALLERY_DB", dir.db_path().string()},
                {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    }
    testing::ProcessResult run(std::vector<std::string> args, std::string input = {},
                               std::map<std::string, std::string> extra_env = {}) const {
        args.insert(args.begin(), GALLERY_BINARY);
        auto env = environment();
        for (auto& [k, v] : extra_env) env[k] = v;
        return testing::run_process(args, {.environment = env, .input = std::move(input)});
    }
    void make_files(int count) const {
        for (int i = 0; i < count; ++i) testing::write_file(dir.media_root(), key(i), "0123456789");
    }
    static std::string key(int i) { return "images/f" + std::to_string(i) + ".jpg"; }
    std::string keys_text(int count) const {
        std::string text;
        for (int i = 0; i < count; ++i) text += key(i) + "\n";
        return text;
    }
    int files_left(int count) const {
        int left = 0;
        for (int i = 0; i < count; ++i)
            left += std::filesystem::exists(dir.media_root() / key(i)) ? 1 : 0;
        return left;
    }
};

json parse(const testing::ProcessResult& result) {
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    REQUIRE_NOTHROW(json::parse(result.out));
    return json::parse(result.out);
}

}  // namespace

TEST_CASE("migrate creates the database folder and is idempotent and reports its status") {
    Workspace w;
    const auto nested = w.dir.path() / "a" / "b" / "g.db";
    auto first = w.run({"migrate", "--db", nested.string()});
    CHECK(first.exit_code == 0);
    CHECK(first.out.starts_with("applied "));
    CHECK(std::filesystem::exists(nested));
    auto second = w.run({"migrate", "--db", nested.string()});
    CHECK(second.exit_code == 0);
    CHECK(second.out.find("up to date") != std::string::npos);
    auto status = w.run({"migrate", "--status", "--json", "--db", nested.string()});
    CHECK(status.exit_code == 0);
    const json s = parse(status);
    CHECK(s["database_version"] == s["binary_version"]);
    CHECK(s["migrations"][0]["applied_at"].is_string());
}

TEST_CASE(
    "a database URL is PostgreSQL or refused by name, never a file, and never shows its password") {
    Workspace w;
    const auto before = std::distance(std::filesystem::directory_iterator(w.dir.path()),
                                      std::filesystem::directory_iterator());
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    auto postgres = w.run({"migrate"}, {},
                          {{"GALLERY_DB", "postgresql://gallery:s3cret-pw@127.0.0.1:1/gallery"}});
    CHECK(postgres.exit_code == 1);
    CHECK(postgres.err.find("cannot connect to the database "
                            "postgresql://gallery:****@127.0.0.1:1/gallery") != std::string::npos);
    CHECK(postgres.err.find("s3cret-pw") == std::string::npos);
    // The original's .env names select PostgreSQL when no db is given.
    auto original =
        testing::run_process({GALLERY_BINARY, "stats"},
                             {.environment = {{"GALLERY_MEDIA_ROOT", w.dir.media_root().string()},
                                              {"POSTGRES_DB", "assets"},
                                              {"POSTGRES_USER", "django"},
                                              {"POSTGRES_PASSWORD", "p@ss word"},
                                              {"POSTGRES_HOST", "127.0.0.1"},
                                              {"POSTGRES_PORT", "1"}}});
    CHECK(original.exit_code == 1);
    CHECK(original.err.find("postgresql://django:****@127.0.0.1:1/assets") != std::string::npos);
    CHECK(original.err.find("p@ss") == std::string::npos);
    CHECK(original.err.find("p%40ss") == std::string::npos);
    auto other = w.run({"stats", "--db", "mysql://root:hunter2@x/y"});
    CHECK(other.exit_code == 2);
    CHECK(other.err.find("a SQLite file path or a postgresql:// URI, not a mysql:// URL") !=
          std::string::npos);
    CHECK(other.err.find("hunter2") == std::string::npos);
    CHECK(std::distance(std::filesystem::directory_iterator(w.dir.path()),
                        std::filesystem::directory_iterator()) == before);
    CHECK_FALSE(std::filesystem::exists("postgresql:"));
}

TEST_CASE("a database newer than the binary is refused by every command") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    {
        db::Connection database({.path = w.dir.db_path()});
        db::execute_script(
            database,
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', "
            "1)");
    }
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"migrate"}, {"cleanup"}, {"stats"}, {"enqueue", "images/x.jpg"}}) {
        auto result = w.run(args);
        INFO(args[0] << ": " << result.err);
        CHECK(result.exit_code == 1);
        CHECK(result.err.find("newer than this binary") != std::string::npos);
    }
}

TEST_CASE("commands other than migrate refuse a missing database with advice") {
    Workspace w;
    auto result = w.run({"cleanup"});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("run `gallery migrate`") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(w.dir.db_path()));
}

TEST_CASE("enqueue from stdin and then cleanup deletes the files and prints the summary") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    w.make_files(5);
    auto queued =
        w.run({"enqueue", "-", "--client-id", "C1"}, w.keys_text(5) + "\n" + w.key(0) + "\r\n");
    CHECK(queued.exit_code == 0);
    CHECK(queued.out == "queued 5 keys (1 already pending)\n");
    auto cleanup = w.run({"cleanup"});
    CHECK(cleanup.exit_code == 0);
    CHECK(cleanup.out.find("processed 5, deleted 5, failed 0") != std::string::npos);
    CHECK(cleanup.out.find("Remaining in queue: 0") != std::string::npos);
    CHECK(cleanup.err.empty());  // piped: no progress line, clean cron mail
    CHECK(w.files_left(5) == 0);
}

TEST_CASE("enqueue is all-or-nothing: one bad key and nothing is queued") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    auto result = w.run({"enqueue", "images/good.jpg", "../../etc/passwd", "/abs.jpg"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("'../../etc/passwd'") != std::string::npos);
    CHECK(result.err.find("'/abs.jpg'") != std::string::npos);
    CHECK(result.err.find("nothing was queued") != std::string::npos);
    const json stats = parse(w.run({"stats", "--json"}));
    CHECK(stats["queue"]["pending"] == 0);
    CHECK(w.run({"enqueue", "-"}, "\n\n").exit_code == 2);
}

TEST_CASE("cleanup honours --json --batch-size --until-empty and --dry-run") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    w.make_files(30);
    REQUIRE(w.run({"enqueue", "-"}, w.keys_text(30)).exit_code == 0);

    auto dry = w.run({"cleanup", "--dry-run", "--batch-size", "7"});
    CHECK(dry.exit_code == 0);
    CHECK(dry.out.find("7 due items") != std::string::npos);
    CHECK(w.files_left(30) == 30);

    const json one = parse(w.run({"cleanup", "--json", "--batch-size", "10"}));
    CHECK(one["processed"] == 10);
    CHECK(one["deleted"] == 10);
    CHECK(one["remaining_in_queue"] == 20);
    for (const char* field : {"success", "processed", "deleted", "failed", "skipped",
                              "remaining_in_queue", "bytes_reclaimed"}) {
        CHECK(one.contains(field));
    }
    const json rest = parse(
        w.run({"cleanup", "--json", "--batch-size", "6", "--until-empty", "--max-seconds", "60"}));
    CHECK(rest["deleted"] == 20);
    CHECK(rest["batches"] == 4);
    CHECK(rest["remaining_in_queue"] == 0);
    CHECK(w.files_left(30) == 0);
}

TEST_CASE("bad flags and bad settings exit 2 with a sentence") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    struct Case {
        std::vector<std::string> args;
        std::map<std::string, std::string> env;
        std::string says;
    };
    const std::vector<Case> cases{
        {{"cleanup", "--batch-size", "-3"}, {}, "batch_size (from --batch-size)"},
        {{"cleanup", "--batch-size", "5000"}, {}, "from 1 to 1000"},
        {{"cleanup", "--max-attempts", "zero"}, {}, "max_attempts"},
        {{"cleanup", "--max-seconds", "10"}, {}, "--until-empty"},
        {{"cleanup", "--no-such-flag"}, {}, "no-such-flag"},
        {{"stats"}, {{"GALLERY_STORAGE", "ftp"}}, "storage (from GALLERY_STORAGE)"},
        {{"stats"}, {{"CLOUDFLARE_R2_ENABLED", "true  # use R2"}}, "CLOUDFLARE_R2_ENABLED"},
        {{"--config", "/no/such/file.toml", "stats"}, {}, "/no/such/file.toml"},
        {{"nonsense"}, {}, "subcommand"},
        {{}, {}, "subcommand"},
    };
    for (const Case& c : cases) {
        auto result = w.run(c.args, {}, c.env);
        INFO("args: " << (c.args.empty() ? "" : c.args[0]) << " stderr: " << result.err);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find(c.says) != std::string::npos);
    }
}

TEST_CASE("a config file is read and flags and environment override it") {
    Workspace w;
    const auto config = w.dir.path() / "gallery.toml";
    std::ofstream(config) << "# gallery settings\nbatch_size = 3\nmax_attempts = 5\n";
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    w.make_files(10);
    REQUIRE(w.run({"enqueue", "-"}, w.keys_text(10)).exit_code == 0);
    CHECK(parse(w.run({"--config", config.string(), "cleanup", "--json"}))["processed"] == 3);
    CHECK(parse(w.run({"--config", config.string(), "cleanup", "--json"}, {},
                      {{"GALLERY_BATCH_SIZE", "2"}}))["processed"] == 2);
    CHECK(parse(w.run({"--config", config.string(), "cleanup", "--json", "--batch-size", "4"}, {},
                      {{"GALLERY_BATCH_SIZE", "2"}}))["processed"] == 4);
    std::ofstream(config) << "batch_size = 3\nunknown_thing = 1\n";
    auto bad = w.run({"--config", config.string(), "stats"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("unknown setting 'unknown_thing'") != std::string::npos);
}

TEST_CASE("the original's .env in the working folder configures every command") {
    Workspace w;
    // The original's .env.example shape: sections, inline comments, R2 off.
    std::ofstream(w.dir.path() / ".env")
        << "# Django\nSECRET_KEY=your-secret-key-here\nDEBUG=True\n\n"
           "# Cloudflare R2\n"
           "CLOUDFLARE_R2_ENABLED=false  # Set to true to use R2 storage\n"
           "CLOUDFLARE_R2_PUBLIC_URL=pub-xxxxxx.r2.dev  # e.g. pub-xxx.r2.dev (without https://)\n"
           "\n# gallery\nexport GALLERY_DB=${HERE}/from-dotenv.db  # where the catalog lives\n"
           "GALLERY_MEDIA_ROOT='media'\nGALLERY_BATCH_SIZE=3 # per run\nthis line is not a "
           "statement\n";
    const auto run_here = [&](std::vector<std::string> args,
                              std::map<std::string, std::string> env) {
        args.insert(args.begin(), GALLERY_BINARY);
        env["HERE"] = w.dir.path().string();
        return testing::run_process(
            args, {.environment = env, .working_directory = w.dir.path().string()});
    };
    const auto migrated = run_here({"migrate"}, {});
    INFO(migrated.err);
    REQUIRE(migrated.exit_code == 0);
    CHECK(std::filesystem::exists(w.dir.path() / "from-dotenv.db"));
    // Statements python-dotenv cannot parse are skipped with a warning naming the line.
    CHECK(migrated.err.find("line 13 of .env") != std::string::npos);
    // The values reached the settings, comments gone: a batch of 3 from media/.
    for (int i = 0; i < 5; ++i)
        testing::write_file(w.dir.path() / "media", "images/f" + std::to_string(i) + ".jpg", "x");
    const auto enqueued = testing::run_process(
        {GALLERY_BINARY, "enqueue", "-"},
        {.environment = {{"HERE", w.dir.path().string()}},
         .input = "images/f0.jpg\nimages/f1.jpg\nimages/f2.jpg\nimages/f3.jpg\n",
         .working_directory = w.dir.path().string()});
    REQUIRE(enqueued.exit_code == 0);
    CHECK(parse(run_here({"cleanup", "--json"}, {}))["deleted"] == 3);
    CHECK_FALSE(std::filesystem::exists(w.dir.path() / "media/images/f0.jpg"));
    // The process environment wins over the file.
    CHECK(parse(run_here({"cleanup", "--json"}, {{"GALLERY_BATCH_SIZE", "1"}}))["processed"] == 1);
    // --env-file names another file; one that cannot be read stops the command.
    std::ofstream(w.dir.path() / "other.env") << "GALLERY_DB=${HERE}/other.db\n";
    CHECK(run_here({"--env-file", "other.env", "migrate"}, {}).exit_code == 0);
    CHECK(std::filesystem::exists(w.dir.path() / "other.db"));
    const auto missing = run_here({"migrate", "--env-file=absent.env"}, {});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("cannot read the environment file absent.env") != std::string::npos);
}

TEST_CASE("an environment passed with its comments, as systemd and docker pass a .env, exits 2") {
    Workspace w;
    // `EnvironmentFile=` keeps `value  # comment` whole: refused, the setting named.
    const auto refused =
        w.run({"stats"}, {},
              {{"CLOUDFLARE_R2_ENABLED", "true"},
               {"CLOUDFLARE_R2_PUBLIC_URL", "pub-x.r2.dev  # e.g. pub-xxx.r2.dev"}});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("the value of public_url (from CLOUDFLARE_R2_PUBLIC_URL) holds an "
                           "inline comment") != std::string::npos);
}

TEST_CASE("dead items are counted by stats and requeued by cleanup --retry-dead") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    // A folder named like the key cannot be unlinked: a real, repeatable per-key failure.
    std::filesystem::create_directories(w.dir.media_root() / "images" / "stuck.jpg" / "x");
    REQUIRE(w.run({"enqueue", "images/stuck.jpg"}).exit_code == 0);
    const json first = parse(w.run({"cleanup", "--json", "--max-attempts", "1"}));
    CHECK(first["failed"] == 1);
    CHECK(first["dead"] == 1);
    CHECK(first["skipped"] == 1);
    const json stats = parse(w.run({"stats", "--json"}));
    CHECK(stats["queue"]["dead"] == 1);
    CHECK(stats["queue"]["pending"] == 0);
    auto table = w.run({"stats"});
    CHECK(table.out.find("--retry-dead") != std::string::npos);
    std::filesystem::remove_all(w.dir.media_root() / "images" / "stuck.jpg");
    const json retried = parse(w.run({"cleanup", "--retry-dead", "--json"}));
    CHECK(retried["requeued"] == 1);
    CHECK(parse(w.run({"cleanup", "--json"}))["deleted"] == 1);
}

TEST_CASE("two cleanup processes at once delete every file exactly once", "[threads]") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    constexpr int k_files = 3000;
    w.make_files(k_files);
    REQUIRE(w.run({"enqueue", "-"}, w.keys_text(k_files)).exit_code == 0);
    const auto out_a = (w.dir.path() / "a.json").string(),
               out_b = (w.dir.path() / "b.json").string();
    auto env = w.environment();
    const std::vector<std::string> args{GALLERY_BINARY,  "cleanup",      "--json",
                                        "--until-empty", "--batch-size", "25"};
    const pid_t a = testing::start_process(args, {.environment = env}, out_a);
    const pid_t b = testing::start_process(args, {.environment = env}, out_b);
    CHECK(testing::wait_process(a) == 0);
    CHECK(testing::wait_process(b) == 0);
    std::ifstream in_a(out_a), in_b(out_b);
    const json report_a = json::parse(in_a), report_b = json::parse(in_b);
    CHECK(report_a["deleted"].get<int>() + report_b["deleted"].get<int>() == k_files);
    CHECK(report_a["processed"].get<int>() + report_b["processed"].get<int>() == k_files);
    CHECK(w.files_left(k_files) == 0);
}

TEST_CASE("a cleanup process killed with SIGKILL loses nothing") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    constexpr int k_files = 20000;
    w.make_files(k_files);
    REQUIRE(w.run({"enqueue", "-"}, w.keys_text(k_files)).exit_code == 0);
    const std::vector<std::string> args{
        GALLERY_BINARY, "cleanup", "--until-empty", "--batch-size", "1000", "--lease-seconds", "2"};
    const pid_t pid = testing::start_process(args, {.environment = w.environment()},
                                             (w.dir.path() / "out").string());
    // Kill it while it works (whenever that lands, the invariant below must hold); a
    // cleanup that never starts deleting fails here, within 30 s, instead of hanging.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (w.files_left(k_files) == k_files && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ::kill(pid, SIGKILL);
    testing::wait_process(pid);
    REQUIRE(w.files_left(k_files) < k_files);
    // Storage first, row last: every row already gone has its file gone too.
    {
        db::Connection database({.path = w.dir.db_path()});
        db::Statement pending(database, "SELECT COUNT(*) FROM deletion_queue");
        pending.step();
        CHECK(pending.int64(0) >= w.files_left(k_files));
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(2100));  // the dead worker's lease runs out
    const json rescue =
        parse(w.run({"cleanup", "--json", "--until-empty", "--batch-size", "1000"}));
    CHECK(rescue["remaining_in_queue"] == 0);
    CHECK(w.files_left(k_files) == 0);
}

TEST_CASE("stats prints a table or JSON with every field") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    REQUIRE(w.run({"enqueue", "images/a.jpg", "images/b.jpg"}).exit_code == 0);
    auto table = w.run({"stats"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("pending                   2") != std::string::npos);
    const json stats = parse(w.run({"stats", "--json"}));
    for (const char* field : {"pending", "dead", "leased", "due", "oldest_queued", "newest_queued",
                              "oldest_pending_age_seconds", "by_attempts", "bytes_pending"}) {
        CHECK(stats["queue"].contains(field));
    }
    for (const char* field : {"total_images", "total_size", "unique_clients", "top_clients"}) {
        CHECK(stats["images"].contains(field));
    }
    CHECK(stats["queue"]["due"] == 2);
}

TEST_CASE(
    "an unreachable S3 endpoint stops cleanup within seconds with exit 3 and charges nothing") {
    testing::TempDir dir;
    for (const std::string endpoint : {"http://127.0.0.1:1", "http://no-such-host.invalid"}) {
        INFO(endpoint);
        // A database per endpoint: each run starts from a fresh queue.
        const auto db_path = dir.path() / ("outage-" + std::to_string(endpoint.size()) + ".db");
        const std::map<std::string, std::string> env{
            {"GALLERY_DB", db_path.string()},
            {"GALLERY_STORAGE", "s3"},
            {"GALLERY_S3_ENDPOINT", endpoint},
            {"GALLERY_S3_BUCKET", "photos"},
            {"GALLERY_S3_REGION", "us-east-1"},
            {"GALLERY_S3_ACCESS_KEY", "AKIAOUTAGETEST"},
            {"GALLERY_S3_SECRET_KEY", "outage-test-secret"}};
        REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code ==
                0);
        std::string keys;
        for (int i = 0; i < 250; ++i) keys += "images/outage" + std::to_string(i) + ".jpg\n";
        REQUIRE(testing::run_process({GALLERY_BINARY, "enqueue", "-"},
                                     {.environment = env, .input = keys})
                    .exit_code == 0);
        const auto started = std::chrono::steady_clock::now();
        const auto cleanup = testing::run_process({GALLERY_BINARY, "cleanup", "--until-empty"},
                                                  {.environment = env});
        const auto seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
        CHECK(cleanup.exit_code == 3);
        CHECK(seconds.count() < 10);
        // One sentence, and no secret in it.
        CHECK(cleanup.err.starts_with("gallery: cleanup stopped: "));
        CHECK(std::count(cleanup.err.begin(), cleanup.err.end(), '\n') == 1);
        CHECK(cleanup.err.find("outage-test-secret") == std::string::npos);
        db::Connection database({.path = db_path});
        CHECK(db::query_int64(database, "SELECT COUNT(*) FROM deletion_queue WHERE attempts > 0") ==
              0);
        CHECK(db::query_int64(database, "SELECT COUNT(*) FROM deletion_queue") >= 250);
    }
}

TEST_CASE(
    "a cleanup with nothing due says how many rows wait for a retry and when the next is due") {
    Workspace w;
    REQUIRE(w.run({"migrate"}).exit_code == 0);
    // A folder where a file is expected: its delete fails, and the row waits for a retry.
    std::filesystem::create_directories(w.dir.media_root() / "images" / "folder.jpg" / "inside");
    REQUIRE(w.run({"enqueue", "images/folder.jpg"}).exit_code == 0);
    const json first = parse(w.run({"cleanup", "--json"}));
    CHECK(first["failed"] == 1);
    CHECK(first["waiting_for_retry"] == 0);  // it processed a row

    const auto text = w.run({"cleanup"});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("processed 0") != std::string::npos);
    CHECK(text.out.find("Nothing was due: 1 row waits for a retry") != std::string::npos);
    CHECK(text.out.find("the next is due at ") != std::string::npos);
    const json again = parse(w.run({"cleanup", "--json"}));
    CHECK(again["processed"] == 0);
    CHECK(again["remaining_in_queue"] == 1);
    CHECK(again["waiting_for_retry"] == 1);
    CHECK(again["next_attempt_at"].is_string());
}
