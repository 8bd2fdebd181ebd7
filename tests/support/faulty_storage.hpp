#pragma once
// Wraps a real backend and injects the faults a real server cannot produce on
// demand: a whole-request failure, a per-key failure, a hang mid-batch.

#include <functional>
#include <set>

#include "gallery/storage/storage.hpp"

namespace gallery::testing {

class FaultyStorage final : public storage::Storage {
  public:
    explicit FaultyStorage(storage::Storage& real) : m_real(real) {}

    std::optional<Error> whole_request_error;  // returned by remove_many while set
    int whole_request_failures_left = 1'000'000;
    std::set<std::string> failing_keys;                          // these keys fail individually
    std::function<void(const std::string&)> before_each_remove;  // e.g. block to be killed
    bool pretend_deletes = false;  // answer success without deleting (a lying server)
    int remove_many_calls = 0;

    std::string_view kind() const override { return "faulty"; }
    Result<void> check_key(std::string_view key) const override { return m_real.check_key(key); }
    Result<void> put(std::string_view key, std::string_view bytes, std::string_view type) override {
        return m_real.put(key, bytes, type);
    }
    Result<void> put_file(std::string_view key, const std::filesystem::path& file,
                          std::string_view type) override {
        return m_real.put_file(key, file, type);
    }
    Result<void> get_file(std::string_view key, const std::filesystem::path& file) override {
        return m_real.get_file(key, file);
    }
    Result<std::optional<storage::ObjectInfo>> head(std::string_view key) override {
        return m_real.head(key);
    }
    Result<std::vector<storage::RemoveOutcome>> remove_many(
        std::span<const std::string> keys) override {
        ++remove_many_calls;
        if (whole_request_error && whole_request_failures_left > 0) {
            --whole_request_failures_left;
            return std::unexpected(*whole_request_error);
        }
        std::vector<storage::RemoveOutcome> outcomes;
        for (const std::string& key : keys) {
            if (before_each_remove) before_each_remove(key);
            if (failing_keys.contains(key)) {
                outcomes.push_back({key, Error{ErrorKind::io, "injected failure for " + key}});
                continue;
            }
            if (pretend_deletes) {
                outcomes.push_back({key, std::nullopt});
                continue;
            }
            auto removed = m_real.remove_many(std::span<const std::string>(&key, 1));
            if (!removed) return std::unexpected(removed.error());
            outcomes.push_back(std::move(removed->front()));
        }
        return outcomes;
    }
    Result<storage::ListPage> list(std::string_view prefix, std::string_view after,
                                   std::size_t max) override {
        return m_real.list(prefix, after, max);
    }

  private:
    storage::Storage& m_real;
};

}  // namespace gallery::testing
