// The settings table in src/config/config.cpp is the one source of every default:
// these tests fail when a copy elsewhere (a member initialiser, the README's table)
// says something else. --help texts are built from the table (config::help_suffix).

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/config/config.hpp"
#include "gallery/imaging/compression.hpp"

using namespace gallery;

TEST_CASE("Config's member initialisers are the settings table's defaults") {
    const config::Config table = config::defaults();
    const config::Config initialised{};
    CHECK(initialised.db_path == table.db_path);
    CHECK(initialised.storage == table.storage);
    CHECK(initialised.media_root == table.media_root);
    CHECK(initialised.s3.endpoint == table.s3.endpoint);
    CHECK(initialised.s3.bucket == table.s3.bucket);
    CHECK(initialised.s3.region == table.s3.region);
    CHECK(initialised.s3.path_style == table.s3.path_style);
    CHECK(initialised.s3.concurrency == table.s3.concurrency);
    CHECK(initialised.s3.keys_per_delete == table.s3.keys_per_delete);
    CHECK(initialised.s3.connect_timeout_seconds == table.s3.connect_timeout_seconds);
    CHECK(initialised.s3.request_timeout_seconds == table.s3.request_timeout_seconds);
    CHECK(initialised.public_url == table.public_url);
    CHECK(initialised.max_upload_bytes == table.max_upload_bytes);
    CHECK(initialised.compression_quality == table.compression_quality);
    CHECK(initialised.compression_min_quality == table.compression_min_quality);
    CHECK(initialised.max_image_pixels == table.max_image_pixels);
    CHECK(initialised.compression_timeout_seconds == table.compression_timeout_seconds);
    CHECK(initialised.batch_size == table.batch_size);
    CHECK(initialised.max_attempts == table.max_attempts);
    CHECK(initialised.lease == table.lease);
    CHECK(initialised.receipt_days == table.receipt_days);
    CHECK(initialised.restore_window == table.restore_window);
    CHECK(initialised.cleanup_request_budget == table.cleanup_request_budget);
    CHECK(initialised.host == table.host);
    CHECK(initialised.port == table.port);
    CHECK(initialised.threads == table.threads);
    CHECK(initialised.http_timeout == table.http_timeout);
    CHECK(initialised.http_idle_timeout == table.http_idle_timeout);
    CHECK(initialised.media_max_age == table.media_max_age);
    CHECK(initialised.media_url_expiry == table.media_url_expiry);
    CHECK(initialised.trusted_proxies == table.trusted_proxies);
    CHECK(initialised.max_body_bytes == table.max_body_bytes);
    CHECK(initialised.admin_password == table.admin_password);
    CHECK(initialised.api_key == table.api_key);
    CHECK(initialised.cors_origins == table.cors_origins);
    CHECK(initialised.client_ids_url == table.client_ids_url);
    CHECK(initialised.metrics_public == table.metrics_public);
    CHECK(initialised.cleanup_every == table.cleanup_every);
}

TEST_CASE("the cleaner's and the re-encoder's own defaults are the settings table's") {
    const config::Config table = config::defaults();
    const cleanup::Options from_table = cleanup::options_from(table);
    const cleanup::Options initialised{};
    CHECK(initialised.batch_size == from_table.batch_size);
    CHECK(initialised.max_attempts == from_table.max_attempts);
    CHECK(initialised.lease == from_table.lease);
    CHECK(initialised.receipt_retention == from_table.receipt_retention);

    const imaging::CompressionSettings compression = imaging::settings_from(table);
    const imaging::CompressionSettings compression_initialised{};
    CHECK(compression_initialised.max_bytes == compression.max_bytes);
    CHECK(compression_initialised.quality == compression.quality);
    CHECK(compression_initialised.min_quality == compression.min_quality);
    CHECK(compression_initialised.max_pixels == compression.max_pixels);
    CHECK(compression_initialised.max_seconds == compression.max_seconds);
}

TEST_CASE("the README's settings table names every setting with the table's default") {
    std::ifstream file(GALLERY_SOURCE_DIR "/README.md");
    REQUIRE(file);
    // setting -> the default cell's `quoted` values, in order, and the cell's text.
    std::map<std::string, std::pair<std::vector<std::string>, std::string>> readme;
    const std::regex quoted("`([^`]*)`");
    for (std::string line; std::getline(file, line);) {
        if (!line.starts_with("| `")) continue;
        std::vector<std::string> cells;
        std::stringstream row(line.substr(1));
        for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell);
        if (cells.size() < 4) continue;
        std::vector<std::string> defaults;
        const std::string& default_cell = cells[3];
        for (std::sregex_iterator it(default_cell.begin(), default_cell.end(), quoted), end;
             it != end; ++it)
            defaults.push_back((*it)[1]);
        // The first cell names one or more settings before any "(": `a`, `b` (...)
        const std::string names = cells[0].substr(0, cells[0].find('('));
        std::size_t index = 0;
        for (std::sregex_iterator it(names.begin(), names.end(), quoted), end; it != end; ++it) {
            std::vector<std::string> own;
            if (index < defaults.size()) own.push_back(defaults[index]);
            readme[(*it)[1]] = {own, default_cell};
            ++index;
        }
    }
    for (const config::SettingInfo& setting : config::setting_table()) {
        INFO("setting " << setting.name);
        const auto found = readme.find(setting.name);
        REQUIRE(found != readme.end());
        const auto& [values, cell] = found->second;
        if (setting.default_value.empty()) {
            // No default: the cell explains instead of quoting a value first.
            const std::size_t first = cell.find_first_not_of(' ');
            CHECK((first == std::string::npos || cell[first] != '`'));
        } else {
            REQUIRE_FALSE(values.empty());
            CHECK(values.front() == setting.default_value);
        }
    }
}

TEST_CASE("a --help text names the setting's environment variables and default") {
    CHECK(config::help_suffix("batch_size") == "[GALLERY_BATCH_SIZE, default 100]");
    CHECK(config::help_suffix("api_key") == "[GALLERY_API_KEY, API_KEY, default none]");
    CHECK_THROWS_AS(config::help_suffix("no_such_setting"), std::logic_error);
}
