// Image variants (issue 41) on a real socket: made once on their first request,
// fitted, upright and flattened; gone with their image through the cleaner; known to
// the orphan sweep; on S3 redirected to the bucket and deleted there too.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <vips/vips8>

#include "gallery/cleanup/orphan_sweep.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/storage/s3_storage.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/read_object.hpp"
#include "support/s3rver.hpp"
#include "support/served.hpp"
#include "support/vips_images.hpp"

using namespace gallery;
using nlohmann::json;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

// A width x height sRGB image: red on the left half, blue on the right.
VImage halves(int width, int height, int bands = 3) {
    testing::start_vips();
    const VImage left = VImage::xyz(width, height)[0] < width / 2;
    VImage image = (left.ifthenelse(std::vector<double>{255, 0, 0}, std::vector<double>{0, 0, 255}))
                       .cast(VIPS_FORMAT_UCHAR);
    if (bands == 4) image = image.bandjoin_const({128});
    return image.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

VImage decoded(const std::string& bytes) {
    return VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
}

json uploaded(httplib::Client& client, const std::string& filename, const std::string& bytes) {
    auto answer = testing::upload(client, filename, bytes, "c");
    REQUIRE(answer);
    INFO(answer->body);
    REQUIRE(answer->status == 201);
    return json::parse(answer->body);
}

std::int64_t variants_made(httplib::Client& client) {
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    const std::string name = "\ngallery_variants_made_total ";
    const std::size_t at = metrics->body.find(name);
    REQUIRE(at != std::string::npos);
    return std::stoll(metrics->body.substr(at + name.size()));
}

// One request per URL, all sent at once; the answers in the same order.
std::vector<httplib::Result> get_at_once(testing::ApiServer& server,
                                         const std::vector<std::string>& urls) {
    std::vector<std::future<httplib::Result>> requests;
    for (const std::string& url : urls)
        requests.push_back(
            std::async(std::launch::async, [&server, &url] { return server.client().Get(url); }));
    std::vector<httplib::Result> answers;
    for (auto& request : requests) answers.push_back(request.get());
    return answers;
}

}  // namespace

TEST_CASE("a thumbnail is made once on its first request and fits its box upright",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json photo =
        uploaded(client, "photo.jpg", testing::encode_image(halves(1600, 1200), ".jpg"));
    const std::string thumbnail_url = photo["thumbnail_url"];
    CHECK(thumbnail_url ==
          "/media/variants/thumb/images/" + photo["filename"].get<std::string>() + ".jpg");
    CHECK(photo["variants"] == json{{"thumb", thumbnail_url}});

    // Eight first requests at once: one variant made, the same bytes for all.
    std::set<std::string> bodies;
    for (auto& answer : get_at_once(server, std::vector<std::string>(8, thumbnail_url))) {
        REQUIRE(answer);
        INFO(answer->body);
        REQUIRE(answer->status == 200);
        CHECK(answer->get_header_value("Content-Type") == "image/jpeg");
        bodies.insert(answer->body);
    }
    CHECK(bodies.size() == 1);
    CHECK(variants_made(client) == 1);
    const VImage thumbnail = decoded(*bodies.begin());
    CHECK(thumbnail.width() == 320);
    CHECK(thumbnail.height() == 240);
    CHECK(thumbnail(40, 120)[0] > 200);   // red on the left
    CHECK(thumbnail(280, 120)[2] > 200);  // blue on the right
    CHECK(fs::exists(server.dir().media_root() / thumbnail_url.substr(7)));
    CHECK(client.Get(thumbnail_url)->status == 200);
    CHECK(variants_made(client) == 1);

    // The list and the update carry the same links.
    auto listed = client.Get("/api/list/");
    REQUIRE(listed);
    CHECK(json::parse(listed->body)["images"][0]["thumbnail_url"] == thumbnail_url);

    // EXIF orientation 6 (rotate 90 clockwise): a 400 x 200 image is 200 x 400 upright.
    VImage sideways = halves(400, 200).copy();
    sideways.set("orientation", 6);
    const json turned = uploaded(client, "turned.jpg", testing::encode_image(sideways, ".jpg"));
    auto upright = client.Get(turned["thumbnail_url"].get<std::string>());
    REQUIRE(upright);
    REQUIRE(upright->status == 200);
    const VImage upright_image = decoded(upright->body);
    CHECK(upright_image.width() == 160);
    CHECK(upright_image.height() == 320);
    CHECK(upright_image(80, 60)[0] > 200);   // turned clockwise: the red left half on top
    CHECK(upright_image(80, 260)[2] > 200);  // and the blue right half below
    // Metadata is stripped: no orientation left to apply twice.
    CHECK(vips_image_get_orientation(upright_image.get_image()) == 1);

    // A small PNG with alpha: never enlarged, flattened on white, JPEG.
    const json small =
        uploaded(client, "small.png", testing::encode_image(halves(100, 80, 4), ".png"));
    auto flat = client.Get(small["thumbnail_url"].get<std::string>());
    REQUIRE(flat);
    REQUIRE(flat->status == 200);
    const VImage flat_image = decoded(flat->body);
    CHECK(flat_image.width() == 100);
    CHECK(flat_image.height() == 80);
    CHECK(flat_image.bands() == 3);
    CHECK(flat_image(10, 40)[1] > 100);  // half-transparent red on white: pink

    // Unknown variants, images and keys are 404s that make nothing.
    const std::string filename = photo["filename"];
    for (const std::string& path :
         {"/media/variants/large/images/" + filename + ".jpg",
          std::string("/media/variants/thumb/images/never-uploaded.jpg.jpg"),
          "/media/variants/thumb/images/" + filename, "/media/variants/thumb/../" + filename})
        CHECK(client.Get(path)->status == 404);
    CHECK(variants_made(client) == 3);
}

TEST_CASE("a deleted image's thumbnail is a 404 and cleanup deletes it with the image",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json kept = uploaded(client, "kept.jpg", testing::encode_image(halves(640, 480), ".jpg"));
    const json gone = uploaded(client, "gone.jpg", testing::encode_image(halves(640, 480), ".jpg"));
    const fs::path media = server.dir().media_root();
    const auto file_of = [&](const json& image) {
        return media / image["thumbnail_url"].get<std::string>().substr(7);
    };
    for (const json& image : {kept, gone})
        REQUIRE(client.Get(image["thumbnail_url"].get<std::string>())->status == 200);
    REQUIRE(fs::exists(file_of(gone)));

    REQUIRE(client.Delete("/api/delete/" + std::to_string(gone["id"].get<int>()) + "/")->status ==
            200);
    CHECK(client.Get(gone["thumbnail_url"].get<std::string>())->status == 404);
    auto cleaned = client.Post("/api/cleanup/run/", "", "application/json");
    REQUIRE(cleaned);
    INFO(cleaned->body);
    CHECK(json::parse(cleaned->body)["deleted"] == 1);
    CHECK_FALSE(fs::exists(media / "images" / gone["filename"].get<std::string>()));
    CHECK_FALSE(fs::exists(file_of(gone)));
    CHECK(fs::exists(file_of(kept)));
    // The receipt: the variant was deleted with its image.
    const std::string gone_variant = file_of(gone).lexically_relative(media).string();
    const auto history =
        testing::run_process({GALLERY_BINARY, "stats", "--file", gone_variant, "--json"},
                             {.environment = {{"GALLERY_DB", server.dir().database()},
                                              {"GALLERY_MEDIA_ROOT", media.string()}}});
    INFO(history.out + history.err);
    REQUIRE(history.exit_code == 0);
    const json receipts = json::parse(history.out);
    CHECK(receipts["variant_of"] == "images/" + gone["filename"].get<std::string>());
    REQUIRE(receipts["receipts"].size() == 1);
    CHECK(receipts["receipts"][0]["file_path"] == receipts["variant_of"]);

    // The sweep: a variant of an image nobody has is an orphan; a live image's is not.
    const std::string stray = variant_key("thumb", "images/nobody.jpg", VariantFormat::jpeg);
    fs::create_directories((media / stray).parent_path());
    std::ofstream(media / stray) << "stray";
    fs::last_write_time(media / stray, fs::file_time_type::clock::now() - std::chrono::hours{1});
    auto connection = server.pool().acquire();
    cleanup::SweepOptions sweep;
    sweep.older_than = std::chrono::minutes{10};
    const cleanup::SweepReport report =
        cleanup::sweep_orphans(*connection, server.storage(), sweep, system_clock());
    REQUIRE_FALSE(report.stopped_by);
    CHECK(report.orphans == 1);
    CHECK(report.referenced == 2);  // the kept image and its thumbnail
    CHECK(db::query_int64(*connection, "SELECT COUNT(*) FROM deletion_queue WHERE file_path = '" +
                                           stray + "'") == 1);
    // A queued variant of a live image is dropped, never deleted.
    const std::string kept_variant = file_of(kept).lexically_relative(media).string();
    REQUIRE(queue::enqueue(*connection, {kept_variant, "c", std::nullopt}, now_micros()));
    auto again = client.Post("/api/cleanup/run/", "", "application/json");
    REQUIRE(again);
    INFO(again->body);
    CHECK(json::parse(again->body)["deleted"] == 1);
    CHECK_FALSE(fs::exists(media / stray));
    CHECK(fs::exists(file_of(kept)));
}

TEST_CASE(
    "on S3 a thumbnail redirects to the bucket and cleanup deletes it there and public_url puts it "
    "there at upload",
    "[postgresql]") {
    testing::S3rver s3;
    testing::TempDir dir;
    const std::string api_key = "variants-s3-test-key-0123456789";
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", dir.database()},         {"GALLERY_STORAGE", "s3"},
        {"GALLERY_S3_ENDPOINT", s3.endpoint()}, {"GALLERY_S3_BUCKET", "gallery"},
        {"GALLERY_S3_REGION", "us-east-1"},     {"GALLERY_S3_ACCESS_KEY", "S3RVER"},
        {"GALLERY_S3_SECRET_KEY", "S3RVER"},    {"GALLERY_API_KEY", api_key}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const testing::ServedProcess served = testing::start_serve(env, dir.path() / "serve.out");
    httplib::Client client("127.0.0.1", served.port);
    client.set_default_headers({{"X-API-Key", api_key}});
    const json photo =
        uploaded(client, "photo.jpg", testing::encode_image(halves(1200, 900), ".jpg"));
    const std::string thumbnail_url = photo["thumbnail_url"];
    auto redirect = client.Get(thumbnail_url);
    REQUIRE(redirect);
    INFO(redirect->body);
    REQUIRE(redirect->status == 302);
    const std::string location = redirect->get_header_value("Location");
    CHECK(location.starts_with(s3.endpoint() + "/gallery/variants/thumb/images/"));
    auto store = storage::make_s3_storage(s3.options());
    const std::string key = thumbnail_url.substr(7);
    auto head = store->head(key);
    REQUIRE(head);
    REQUIRE(head->has_value());
    CHECK(decoded(*testing::read_object(*store, key).value()).width() == 320);

    REQUIRE(client.Delete("/api/delete/" + std::to_string(photo["id"].get<int>()) + "/")->status ==
            200);
    CHECK(client.Get(thumbnail_url)->status == 404);
    ::kill(served.pid, SIGTERM);
    testing::wait_process(served.pid);
    const auto cleaned =
        testing::run_process({GALLERY_BINARY, "cleanup", "--until-empty"}, {.environment = env});
    INFO(cleaned.out + cleaned.err);
    REQUIRE(cleaned.exit_code == 0);
    auto after = store->head(key);
    REQUIRE(after);
    CHECK_FALSE(after->has_value());

    // With public_url the upload puts the thumbnail in the bucket, and the answer names
    // its public URL.
    std::map<std::string, std::string> public_env = env;
    public_env["GALLERY_PUBLIC_URL"] = "https://cdn.example.com";
    const testing::ServedProcess public_served =
        testing::start_serve(public_env, dir.path() / "public-serve.out");
    httplib::Client public_client("127.0.0.1", public_served.port);
    public_client.set_default_headers({{"X-API-Key", api_key}});
    const json shown =
        uploaded(public_client, "shown.jpg", testing::encode_image(halves(1200, 900), ".jpg"));
    const std::string shown_key =
        variant_key("thumb", "images/" + shown["filename"].get<std::string>(), VariantFormat::jpeg);
    CHECK(shown["thumbnail_url"] == "https://cdn.example.com/" + shown_key);
    auto made = testing::read_object(*store, shown_key);
    REQUIRE(made);
    REQUIRE(made->has_value());
    CHECK(decoded(**made).width() == 320);
    ::kill(public_served.pid, SIGTERM);
    testing::wait_process(public_served.pid);
}

TEST_CASE("gallery variants --missing makes what existing images lack and resumes",
          "[postgresql]") {
    testing::TempDir dir;
    const fs::path media = dir.media_root();
    fs::create_directories(media / "images");
    {
        db::Connection connection = testing::open_migrated(dir);
        for (int i = 1; i <= 3; ++i) {
            const std::string key = "images/photo" + std::to_string(i) + ".jpg";
            std::ofstream(media / key, std::ios::binary)
                << testing::encode_image(halves(800, 600), ".jpg");
            testing::add_image(connection, key);
        }
        std::ofstream(media / "images/broken.jpg", std::ios::binary) << "\xff\xd8 not a jpeg";
        testing::add_image(connection, "images/broken.jpg");
    }
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.database()},
                                                 {"GALLERY_MEDIA_ROOT", media.string()}};
    const auto run = [&](std::vector<std::string> arguments) {
        arguments.insert(arguments.begin(), {GALLERY_BINARY, "variants", "--missing", "--json"});
        const auto result = testing::run_process(arguments, {.environment = env});
        INFO(result.out + result.err);
        REQUIRE(result.exit_code == 0);
        return json::parse(result.out);
    };
    const json first = run({"--limit", "1"});
    CHECK(first["made"] == 1);
    CHECK(first["last_id"] == 1);
    const json rest = run({"--after-id", "1"});
    CHECK(rest["made"] == 2);
    CHECK(rest["failed"] == 1);
    CHECK(rest["first_failure"].get<std::string>().starts_with("images/broken.jpg: "));
    for (int i = 1; i <= 3; ++i) {
        const fs::path made =
            media /
            variant_key("thumb", "images/photo" + std::to_string(i) + ".jpg", VariantFormat::jpeg);
        REQUIRE(fs::exists(made));
        std::ifstream in(made, std::ios::binary);
        CHECK(decoded({std::istreambuf_iterator<char>(in), {}}).width() == 320);
    }
    const json again = run({});
    CHECK(again["made"] == 0);
    CHECK(again["already_there"] == 3);
    CHECK(again["images"] == 4);
}

TEST_CASE("a restored image keeps its thumbnail and a purged one loses it", "[postgresql]") {
    testing::ApiServer server(
        [](config::Config& config) { config.restore_window = std::chrono::hours{24}; });
    auto client = server.client();
    const fs::path media = server.dir().media_root();
    const json kept = uploaded(client, "kept.jpg", testing::encode_image(halves(640, 480), ".jpg"));
    const json purged =
        uploaded(client, "purged.jpg", testing::encode_image(halves(640, 480), ".jpg"));
    const auto file_of = [&](const json& image) {
        return media / image["thumbnail_url"].get<std::string>().substr(7);
    };
    for (const json& image : {kept, purged})
        REQUIRE(client.Get(image["thumbnail_url"].get<std::string>())->status == 200);
    const json both = {{"image_ids", {kept["id"], purged["id"]}}};
    REQUIRE(client.Post("/api/bulk-delete/", both.dump(), "application/json")->status == 200);
    // Restorable: the cleaner leaves both images and their thumbnails, and the sweep
    // counts a restorable image's thumbnail as queued, not as an orphan.
    REQUIRE(client.Post("/api/cleanup/run/", "", "application/json")->status == 200);
    CHECK(fs::exists(file_of(kept)));
    CHECK(fs::exists(file_of(purged)));
    {
        auto connection = server.pool().acquire();
        cleanup::SweepOptions sweep;
        sweep.older_than = std::chrono::seconds{0};
        sweep.dry_run = true;
        const auto report = cleanup::sweep_orphans(*connection, server.storage(), sweep, [] {
            return now_micros() + k_micros_per_second;
        });
        CHECK(report.orphans == 0);
        CHECK(report.already_queued == 4);
    }

    const json restore = {{"image_ids", {kept["id"]}}};
    REQUIRE(client.Post("/api/restore/", restore.dump(), "application/json")->status == 200);
    const json purge = {{"image_ids", {purged["id"]}}};
    REQUIRE(client.Post("/api/purge/", purge.dump(), "application/json")->status == 200);
    auto cleaned = client.Post("/api/cleanup/run/", "", "application/json");
    REQUIRE(cleaned);
    INFO(cleaned->body);
    CHECK(json::parse(cleaned->body)["deleted"] == 1);
    CHECK_FALSE(fs::exists(file_of(purged)));
    CHECK_FALSE(fs::exists(media / "images" / purged["filename"].get<std::string>()));
    // The restored image's thumbnail was never deleted, so it is served, not made again.
    CHECK(fs::exists(file_of(kept)));
    CHECK(client.Get(kept["thumbnail_url"].get<std::string>())->status == 200);
    CHECK(variants_made(client) == 2);
}

// The same first-request race without libvips in the process (a JPEG from the fuzz
// corpus: its thumbnail is made in the binary), so that ThreadSanitizer runs it.
TEST_CASE("concurrent first requests for one thumbnail make it once", "[threads]") {
    std::ifstream in(GALLERY_SOURCE_DIR "/fuzz/corpus/jpeg/420.jpg", std::ios::binary);
    const std::string jpeg{std::istreambuf_iterator<char>(in), {}};
    REQUIRE(jpeg.size() > 100);
    testing::ApiServer server;
    auto client = server.client();
    std::vector<std::string> urls;
    for (int i = 0; i < 3; ++i)
        urls.push_back(uploaded(client, "photo.jpg", jpeg)["thumbnail_url"].get<std::string>());
    // Twelve requests, four for each thumbnail, all at once.
    std::vector<std::string> twelve;
    for (int i = 0; i < 12; ++i) twelve.push_back(urls[i % 3]);
    for (auto& answer : get_at_once(server, twelve)) {
        REQUIRE(answer);
        INFO(answer->body);
        CHECK(answer->status == 200);
        CHECK(answer->get_header_value("Content-Type") == "image/jpeg");
    }
    CHECK(variants_made(client) == 3);
}

TEST_CASE("with variant_format webp thumbnails are WebP and a format change leaks nothing") {
    testing::ApiServer server(
        [](config::Config& config) { config.variant_format = VariantFormat::webp; });
    auto client = server.client();
    const fs::path media = server.dir().media_root();
    const json photo =
        uploaded(client, "photo.jpg", testing::encode_image(halves(640, 480), ".jpg"));
    const json small =
        uploaded(client, "small.png", testing::encode_image(halves(100, 80, 4), ".png"));
    const std::string filename = photo["filename"];
    const std::string thumbnail_url = photo["thumbnail_url"];
    CHECK(thumbnail_url == "/media/variants/thumb/images/" + filename + ".webp");
    // The JPEG path (libwebp in the binary) and the pixel path (libvips) both write WebP.
    for (const auto& [image, width, height] :
         {std::tuple{photo, 320, 240}, std::tuple{small, 100, 80}}) {
        auto answer = client.Get(image["thumbnail_url"].get<std::string>());
        REQUIRE(answer);
        INFO(answer->body);
        REQUIRE(answer->status == 200);
        CHECK(answer->get_header_value("Content-Type") == "image/webp");
        CHECK(answer->body.substr(0, 4) == "RIFF");
        CHECK(answer->body.substr(8, 4) == "WEBP");
        const VImage thumbnail = decoded(answer->body);
        CHECK(thumbnail.width() == width);
        CHECK(thumbnail.height() == height);
        CHECK(thumbnail(10, 40)[0] > 200);  // red (or pink) on the left
    }
    // The other format's key is not this server's variant.
    CHECK(client.Get("/media/variants/thumb/images/" + filename + ".jpg")->status == 404);

    // A JPEG thumbnail made before the switch stays while its image is live, and goes
    // with the sweep once the image is deleted (the cleaner deletes the WebP one).
    const std::string old_format = variant_key("thumb", "images/" + filename, VariantFormat::jpeg);
    std::ofstream(media / old_format) << "made before the switch";
    fs::last_write_time(media / old_format,
                        fs::file_time_type::clock::now() - std::chrono::hours{1});
    auto connection = server.pool().acquire();
    cleanup::SweepOptions sweep;
    sweep.older_than = std::chrono::minutes{10};
    const auto before =
        cleanup::sweep_orphans(*connection, server.storage(), sweep, system_clock());
    CHECK(before.orphans == 0);
    REQUIRE(client.Delete("/api/delete/" + std::to_string(photo["id"].get<int>()) + "/")->status ==
            200);
    REQUIRE(client.Post("/api/cleanup/run/", "", "application/json")->status == 200);
    CHECK_FALSE(fs::exists(media / thumbnail_url.substr(7)));
    CHECK(fs::exists(media / old_format));
    const auto after = cleanup::sweep_orphans(*connection, server.storage(), sweep, system_clock());
    CHECK(after.orphans == 1);
    REQUIRE(client.Post("/api/cleanup/run/", "", "application/json")->status == 200);
    std::set<std::string> left;
    for (const auto& entry : fs::recursive_directory_iterator(media))
        if (entry.is_regular_file()) left.insert(entry.path().lexically_relative(media).string());
    const std::string small_key = "images/" + small["filename"].get<std::string>();
    CHECK(left ==
          std::set<std::string>{small_key, variant_key("thumb", small_key, VariantFormat::webp)});
}

TEST_CASE("with public_url a variant is made at upload and its public URL is in the answer",
          "[postgresql]") {
    const std::string cdn = "https://cdn.example.com";
    testing::ApiServer server([&](config::Config& config) { config.public_url = cdn; });
    auto client = server.client();
    const fs::path media = server.dir().media_root();
    const json photo =
        uploaded(client, "photo.jpg", testing::encode_image(halves(1600, 1200), ".jpg"));
    const std::string key =
        variant_key("thumb", "images/" + photo["filename"].get<std::string>(), VariantFormat::jpeg);
    CHECK(photo["thumbnail_url"] == cdn + "/" + key);
    CHECK(photo["variants"] == json{{"thumb", cdn + "/" + key}});
    // In storage before any request for it: the bucket's public URL works at once.
    REQUIRE(fs::exists(media / key));
    std::ifstream in(media / key, std::ios::binary);
    CHECK(decoded({std::istreambuf_iterator<char>(in), {}}).width() == 320);
    CHECK(variants_made(client) == 1);
    auto listed = client.Get("/api/list/");
    REQUIRE(listed);
    CHECK(json::parse(listed->body)["images"][0]["thumbnail_url"] == cdn + "/" + key);

    // An image no decoder reads is stored as before, without variants.
    const json broken = uploaded(client, "broken.jpg", "\xff\xd8\xff not a jpeg");
    CHECK_FALSE(
        fs::exists(media / variant_key("thumb", "images/" + broken["filename"].get<std::string>(),
                                       VariantFormat::jpeg)));
    CHECK(fs::exists(media / "images" / broken["filename"].get<std::string>()));

    REQUIRE(client.Delete("/api/delete/" + std::to_string(photo["id"].get<int>()) + "/")->status ==
            200);
    REQUIRE(client.Post("/api/cleanup/run/", "", "application/json")->status == 200);
    CHECK_FALSE(fs::exists(media / key));
    CHECK(variants_made(client) == 1);
}
