// --verify-storage: every image's object exists in the configured storage.

#include <algorithm>

#include "gallery/catalog/bulk.hpp"
#include "gallery/original/import.hpp"

namespace gallery::original {
namespace {

constexpr std::size_t k_keys_per_batch = 5000;
constexpr std::size_t k_objects_per_page = 1000;

std::string common_prefix(const std::string& a, const std::string& b) {
    const auto [end_a, end_b] = std::ranges::mismatch(a, b);
    return std::string(a.begin(), end_a);
}

// Walks the storage's listing of one prefix in key order, a page at a time.
class Listing {
  public:
    Listing(storage::Storage& storage, std::string prefix)
        : m_storage(storage), m_prefix(std::move(prefix)) {}

    // Whether `key` is listed. Keys must be asked in ascending order.
    Result<bool> contains(const std::string& key) {
        for (;;) {
            while (m_next < m_page.size() && m_page[m_next].key < key) ++m_next;
            if (m_next < m_page.size()) return m_page[m_next].key == key;
            if (m_done) return false;
            auto page = m_storage.list(m_prefix, m_after, k_objects_per_page);
            if (!page) return std::unexpected(page.error());
            m_page = std::move(page->objects);
            m_next = 0;
            m_listed += static_cast<std::int64_t>(m_page.size());
            m_done = !page->truncated || m_page.empty();
            if (!m_page.empty()) m_after = m_page.back().key;
        }
    }
    std::int64_t listed() const { return m_listed; }

  private:
    storage::Storage& m_storage;
    std::string m_prefix;
    std::string m_after;
    std::vector<storage::ObjectInfo> m_page;
    std::size_t m_next = 0;
    bool m_done = false;
    std::int64_t m_listed = 0;
};

}  // namespace

Result<StorageCheck> verify_storage(db::Connection& target, storage::Storage& storage,
                                    const Progress& progress) {
    StorageCheck check;
    auto range = catalog::storage_key_range(target);
    if (!range) return std::unexpected(range.error());
    if (!*range) return check;
    Listing listing(storage, common_prefix((*range)->first, (*range)->second));
    std::string after_key;
    for (;;) {
        auto keys = catalog::storage_keys_after(target, after_key, k_keys_per_batch);
        if (!keys) return std::unexpected(keys.error());
        if (keys->empty()) break;
        for (const std::string& key : *keys) {
            auto found = listing.contains(key);
            if (!found) return std::unexpected(found.error());
            ++check.checked;
            if (*found) continue;
            ++check.missing_count;
            if (check.missing.size() < k_listed_missing) check.missing.push_back(key);
        }
        after_key = keys->back();
        if (progress) progress("storage", check.checked, -1);
    }
    check.listed_objects = listing.listed();
    return check;
}

}  // namespace gallery::original
