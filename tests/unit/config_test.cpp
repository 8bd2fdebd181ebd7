#include <catch2/catch.hpp>

#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"

using namespace gallery;

namespace {

config::Sources sources_with(std::map<std::string, std::string> environment) {
    config::Sources sources;
    sources.environment = [environment](const std::string& name) -> std::optional<std::string> {
        if (auto it = environment.find(name); it != environment.end()) return it->second;
        return std::nullopt;
    };
    sources.file_path = "test.toml";
    return sources;
}

std::string startup_message(const config::Sources& sources) {
    try {
        config::resolve(sources);
    } catch (const StartupError& e) {
        CHECK(e.kind() == ErrorKind::invalid_input);
        return e.what();
    }
    FAIL("expected a StartupError");
    return {};
}

}  // namespace

TEST_CASE("defaults are the embedded local setup") {
    const config::Config config = config::resolve(sources_with({}));
    CHECK(config.db_path == "./data/gallery.db");
    CHECK(config.storage == config::StorageKind::local);
    CHECK(config.media_root == "./data/media");
    CHECK(config.batch_size == 100);
    CHECK(config.max_attempts == 3);
    CHECK(config.max_upload_bytes == 1024 * 1024);
    CHECK(config.s3.region == "auto");
}

TEST_CASE("a flag beats the environment which beats the config file") {
    auto sources = sources_with({{"GALLERY_BATCH_SIZE", "200"}, {"GALLERY_DB", "/env.db"}});
    sources.file = {{"batch_size", "300"}, {"db", "/file.db"}, {"max_attempts", "7"}};
    sources.flags = {{"batch_size", "400"}};
    const config::Config config = config::resolve(sources);
    CHECK(config.batch_size == 400);
    CHECK(config.db_path == "/env.db");
    CHECK(config.max_attempts == 7);
}

TEST_CASE("the original deployment's environment names still work") {
    const config::Config config =
        config::resolve(sources_with({{"CLOUDFLARE_R2_ENABLED", "True"},
                                      {"CLOUDFLARE_R2_BUCKET", "photos"},
                                      {"CLOUDFLARE_R2_BUCKET_ENDPOINT", "https://x.r2.dev"},
                                      {"CLOUDFLARE_R2_ACCESS_KEY", "AK"},
                                      {"CLOUDFLARE_R2_SECRET_KEY", "SK"},
                                      {"CLOUDFLARE_R2_PUBLIC_URL", "https://cdn.example/"},
                                      {"IMAGE_MAX_UPLOAD_MB", "2.5"},
                                      {"IMAGE_COMPRESSION_QUALITY", "70"},
                                      {"IMAGE_COMPRESSION_MIN_QUALITY", "40"}}));
    CHECK(config.storage == config::StorageKind::s3);
    CHECK(config.s3.bucket == "photos");
    CHECK(config.s3.endpoint == "https://x.r2.dev");
    CHECK(config.s3.access_key == "AK");
    CHECK(config.s3.secret_key == "SK");
    CHECK(config.public_url == "https://cdn.example");
    CHECK(config.max_upload_bytes == static_cast<std::uint64_t>(2.5 * 1024 * 1024));
    CHECK(config.compression_quality == 70);
    CHECK(config.compression_min_quality == 40);
    CHECK(config::resolve(sources_with({{"CLOUDFLARE_R2_ENABLED", "false"}})).storage ==
          config::StorageKind::local);
    // The native name wins over the original's.
    CHECK(config::resolve(
              sources_with({{"CLOUDFLARE_R2_ENABLED", "true"}, {"GALLERY_STORAGE", "local"}}))
              .storage == config::StorageKind::local);
}

TEST_CASE("a bad value stops start-up with a sentence naming the setting and its source") {
    CHECK(startup_message(sources_with({{"GALLERY_STORAGE", "ftp"}})) ==
          "invalid value 'ftp' for storage (from GALLERY_STORAGE): expected local or s3");
    CHECK(startup_message(sources_with({{"GALLERY_VARIANT_FORMAT", "gif"}})) ==
          "invalid value 'gif' for variant_format (from GALLERY_VARIANT_FORMAT): expected jpeg or "
          "webp");
    CHECK(startup_message(sources_with({{"GALLERY_BACKUP_GUARD", "yes"}})) ==
          "invalid value 'yes' for backup_guard (from GALLERY_BACKUP_GUARD): expected on or off");
    CHECK(config::resolve(sources_with({{"GALLERY_VARIANT_FORMAT", "webp"}})).variant_format ==
          VariantFormat::webp);
    auto negative = sources_with({});
    negative.flags = {{"batch_size", "-5"}};
    CHECK(startup_message(negative).find("batch_size (from --batch-size)") != std::string::npos);
    CHECK(startup_message(sources_with({{"GALLERY_BATCH_SIZE", "1001"}})).find("from 1 to 1000") !=
          std::string::npos);
    CHECK(startup_message(sources_with({{"GALLERY_MAX_ATTEMPTS", "3x"}})).find("max_attempts") !=
          std::string::npos);
    CHECK(startup_message(sources_with({{"IMAGE_MAX_UPLOAD_MB", "-1"}})).find("max_upload_mb") !=
          std::string::npos);
    CHECK(startup_message(sources_with({{"IMAGE_COMPRESSION_MIN_QUALITY", "90"}}))
              .find("must not exceed") != std::string::npos);
    auto unknown = sources_with({});
    unknown.file = {{"batch_sise", "3"}};
    CHECK(startup_message(unknown) == "unknown setting 'batch_sise' in config file test.toml");
}

TEST_CASE("secrets are shown redacted") {
    CHECK(config::redact("") == "(not set)");
    CHECK(config::redact("short") == "****");
    CHECK(config::redact("a-long-secret-key-abcd") == "****abcd");
}

TEST_CASE("a public URL given as a bare host, as the original's .env does, gets https://") {
    const auto public_url = [](const std::string& text) {
        return config::resolve(sources_with({{"CLOUDFLARE_R2_ENABLED", "true"},
                                             {"CLOUDFLARE_R2_PUBLIC_URL", text}}))
            .public_url;
    };
    CHECK(public_url("pub-0123abcd.r2.dev") == "https://pub-0123abcd.r2.dev");
    CHECK(public_url("pub-0123abcd.r2.dev/") == "https://pub-0123abcd.r2.dev");
    CHECK(public_url("images.example.com/gallery//") == "https://images.example.com/gallery");
    CHECK(public_url("http://127.0.0.1:9000/photos/") == "http://127.0.0.1:9000/photos");
    CHECK(public_url("https://cdn.example") == "https://cdn.example");
    CHECK(public_url("//cdn.example/") == "https://cdn.example");
    CHECK(public_url("").empty());
}

TEST_CASE("CLOUDFLARE_R2_ENABLED selects S3 only for true in any case as the original reads it") {
    const auto storage = [](const std::string& text) {
        return config::resolve(sources_with({{"CLOUDFLARE_R2_ENABLED", text}})).storage;
    };
    for (const char* on : {"true", "True", "TRUE"}) CHECK(storage(on) == config::StorageKind::s3);
    for (const char* off : {"false", "False", "1", "yes", "on", "", "ture"})
        CHECK(storage(off) == config::StorageKind::local);
}

TEST_CASE("CLOUDFLARE_R2_PUBLIC_URL applies only with R2 enabled and GALLERY_PUBLIC_URL always") {
    CHECK(config::resolve(sources_with({{"CLOUDFLARE_R2_PUBLIC_URL", "pub-x.r2.dev"}}))
              .public_url.empty());
    CHECK(config::resolve(sources_with({{"CLOUDFLARE_R2_ENABLED", "false"},
                                        {"CLOUDFLARE_R2_PUBLIC_URL", "pub-x.r2.dev"}}))
              .public_url.empty());
    CHECK(
        config::resolve(sources_with({{"GALLERY_PUBLIC_URL", "https://img.example"}})).public_url ==
        "https://img.example");
}

TEST_CASE("a value still holding an inline comment or surrounding spaces is refused by name") {
    // As systemd's EnvironmentFile or docker --env-file pass the original's .env line
    // `CLOUDFLARE_R2_PUBLIC_URL=pub-x.r2.dev  # e.g. ...`.
    const std::string comment = startup_message(
        sources_with({{"CLOUDFLARE_R2_ENABLED", "true"},
                      {"CLOUDFLARE_R2_PUBLIC_URL", "pub-x.r2.dev  # e.g. pub-xxx.r2.dev"}}));
    CHECK(
        comment.starts_with("the value of public_url (from CLOUDFLARE_R2_PUBLIC_URL) holds an "
                            "inline comment"));
    CHECK(startup_message(sources_with({{"CLOUDFLARE_R2_ENABLED", "true # Set to true"}}))
              .starts_with("the value of storage (from CLOUDFLARE_R2_ENABLED)"));
    // A secret is never repeated in the sentence.
    const std::string secret =
        startup_message(sources_with({{"GALLERY_S3_SECRET_KEY", " top-secret-value"}}));
    CHECK(secret.find("begins or ends with spaces") != std::string::npos);
    CHECK(secret.find("top-secret-value") == std::string::npos);
    CHECK(startup_message(sources_with({{"POSTGRES_DB", "gallery  # the database"}}))
              .starts_with("the value of POSTGRES_DB (from POSTGRES_DB)"));
    auto flagged = sources_with({});
    flagged.flags = {{"media_root", "/srv/media "}};
    CHECK(startup_message(flagged).starts_with("the value of media_root (from --media-root)"));
    auto filed = sources_with({});
    filed.file = {{"api_key", "k #x"}};
    CHECK(startup_message(filed).starts_with("the value of api_key (from config file test.toml)"));
    // '#' without a space before it is part of the value, as in the original's parser.
    CHECK(config::resolve(sources_with({{"GALLERY_API_KEY", "abc#def-0123456789"}})).api_key ==
          "abc#def-0123456789");
}

TEST_CASE("variants are named boxes given once each") {
    const config::Config parsed =
        config::resolve(sources_with({{"GALLERY_VARIANTS", "thumb:320x240,wide-1:1280x720"}}));
    REQUIRE(parsed.variants.size() == 2);
    CHECK(parsed.variants[0].name == "thumb");
    CHECK(parsed.variants[0].width == 320);
    CHECK(parsed.variants[0].height == 240);
    CHECK(parsed.variants[1].name == "wide-1");
    CHECK(parsed.variants[1].height == 720);
    CHECK(config::resolve(sources_with({{"GALLERY_VARIANTS", ""}})).variants.empty());
    CHECK(config::defaults().variants.size() == 1);
    for (const auto& [text, sentence] : std::vector<std::pair<std::string, std::string>>{
             {"thumb", "is not a variant"},
             {"Thumb:320x320", "the name 'Thumb'"},
             {"thumb:320x8", "'8' is not a side"},
             {"thumb:320x5000", "'5000' is not a side"},
             {"thumb:32ax320", "'32a' is not a side"},
             {"thumb:320x320,thumb:64x64", "given twice"},
             {"thumb:320x320,", "is not a variant"},
             {"a/b:320x320", "the name 'a/b'"}}) {
        CAPTURE(text);
        const std::string message = startup_message(sources_with({{"GALLERY_VARIANTS", text}}));
        CHECK(message.find(sentence) != std::string::npos);
        CHECK(message.find("variants") != std::string::npos);
    }
}
