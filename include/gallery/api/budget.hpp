#pragma once
// A count of requests of one costly kind that may run at once (issue 36): past it
// the request is answered 503 at once instead of waiting. Searches take one, so
// that they can never hold every pooled database connection (a plain list would
// then wait for a search to finish). Thread-safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace gallery::api {

class Budget {
  public:
    explicit Budget(std::size_t limit) : m_limit(limit == 0 ? 1 : limit) {}
    Budget(const Budget&) = delete;
    Budget& operator=(const Budget&) = delete;

    // Given back when destroyed.
    class Taken {
      public:
        explicit Taken(Budget& budget) : m_budget(&budget) {}
        Taken(Taken&& other) noexcept : m_budget(other.m_budget) { other.m_budget = nullptr; }
        Taken& operator=(Taken&&) = delete;
        Taken(const Taken&) = delete;
        ~Taken() {
            if (m_budget) m_budget->m_in_use.fetch_sub(1);
        }

      private:
        Budget* m_budget;
    };

    // One of the limit, or nullopt when all are taken (counted as a refusal).
    std::optional<Taken> try_take() {
        std::size_t in_use = m_in_use.load();
        do {
            if (in_use >= m_limit) {
                m_refusals.fetch_add(1);
                return std::nullopt;
            }
        } while (!m_in_use.compare_exchange_weak(in_use, in_use + 1));
        return Taken(*this);
    }

    std::size_t limit() const { return m_limit; }
    std::uint64_t refusals() const { return m_refusals.load(); }

  private:
    const std::size_t m_limit;
    std::atomic<std::size_t> m_in_use{0};
    std::atomic<std::uint64_t> m_refusals{0};
};

}  // namespace gallery::api
