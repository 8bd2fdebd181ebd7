#pragma once
// Admission control for re-encoding (issue 36). Re-encoding a large image takes
// seconds of CPU and hundreds of megabytes, so it is the one shared resource an
// ordinary client can exhaust. Three bounds, each answered at once:
//   - places: uploads that will re-encode (reading their body, waiting, running) are
//     at most `slots + queue`; one more is refused before its body is kept;
//   - slots and memory: at most `slots` re-encodes run, and their estimated decode
//     memory (pixels x k_bytes_per_pixel) stays within `memory_bytes` (a job larger
//     than the whole budget runs only alone);
//   - a deadline counted from the request's arrival: a wait for a slot ends there.
// A refusal is Error{overloaded, sentence, retry_after}: the API answers 503 with
// Retry-After, and nothing has been stored. Waiters are served in arrival order.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "gallery/common/error.hpp"

namespace gallery::config {
struct Config;
}

namespace gallery::imaging {

struct AdmissionLimits {
    std::size_t slots = 2;                       // re-encodes running at once
    std::size_t queue = 4;                       // places beyond the running ones
    std::uint64_t memory_bytes = 1024ull << 20;  // estimated decode memory, all jobs
};

// slots: encode_slots (0: one per core); queue: twice the slots; memory: encode_memory_mb.
AdmissionLimits admission_limits_from(const config::Config& config);

// Decode memory a re-encode of `pixels` is charged: RGBA pixels, the encoder's output
// and libvips' working copies (issue 36 reported one 50 MP PNG at 353 MB of RSS).
inline constexpr std::uint64_t k_bytes_per_pixel = 8;

enum class AdmissionRefusal { queue_full = 0, deadline = 1, memory = 2 };
inline constexpr std::size_t k_refusal_kinds = 3;
const char* refusal_name(AdmissionRefusal refusal);

class EncodeAdmission {
  public:
    using SteadyTime = std::chrono::steady_clock::time_point;

    explicit EncodeAdmission(AdmissionLimits limits);
    EncodeAdmission(const EncodeAdmission&) = delete;
    EncodeAdmission& operator=(const EncodeAdmission&) = delete;

    // One of the `slots + queue` places; given back when destroyed. An empty Place
    // (default-constructed, or moved from) holds nothing.
    class Place {
      public:
        Place() = default;
        Place(Place&& other) noexcept;
        Place& operator=(Place&& other) noexcept;
        ~Place();
        explicit operator bool() const { return m_owner != nullptr; }
        void release();

      private:
        friend class EncodeAdmission;
        explicit Place(EncodeAdmission* owner) : m_owner(owner) {}
        EncodeAdmission* m_owner = nullptr;
    };

    // A running re-encode's slot and memory; given back when destroyed.
    class Permit {
      public:
        Permit(Permit&& other) noexcept;
        Permit& operator=(Permit&&) = delete;
        Permit(const Permit&) = delete;
        ~Permit();
        // How long the job waited for its slot.
        std::chrono::steady_clock::duration waited() const { return m_waited; }
        // Whether another re-encode ran beside this one at any time so far: then a
        // job that ran out of time may not have been too slow by itself.
        bool shared_the_slots() const;

      private:
        friend class EncodeAdmission;
        Permit(EncodeAdmission* owner, std::uint64_t bytes, SteadyTime started,
               std::chrono::steady_clock::duration waited, bool others_running,
               std::uint64_t starts_before)
            : m_owner(owner),
              m_bytes(bytes),
              m_started(started),
              m_waited(waited),
              m_others_running(others_running),
              m_starts_before(starts_before) {}
        EncodeAdmission* m_owner;
        std::uint64_t m_bytes;
        SteadyTime m_started;
        std::chrono::steady_clock::duration m_waited;
        bool m_others_running;          // others ran when this one started
        std::uint64_t m_starts_before;  // jobs started before it, itself included
    };

    // A place, or Error{overloaded} at once when all are taken.
    Result<Place> reserve();

    // Waits (holding `place`, which must be one of this admission's) until a slot and
    // `bytes` of the memory budget are free and every earlier waiter has started, or
    // until `deadline`: then Error{overloaded}. The place is consumed either way.
    Result<Permit> start(Place place, std::uint64_t bytes, SteadyTime deadline);

    // Error{overloaded} with the sentence for `refusal` and a Retry-After estimated
    // from the recent re-encode times and the places taken; counts the refusal.
    Error refuse(AdmissionRefusal refusal);

    struct Snapshot {
        std::size_t places_taken = 0;
        std::size_t running = 0;
        std::size_t waiting = 0;
        std::uint64_t memory_in_use = 0;
        std::array<std::uint64_t, k_refusal_kinds> refusals{};
        AdmissionLimits limits;
    };
    Snapshot snapshot() const;

  private:
    void give_back_place();
    void finish(std::uint64_t bytes, std::chrono::steady_clock::duration took);
    bool fits(std::uint64_t bytes) const;
    std::chrono::seconds retry_after() const;

    AdmissionLimits m_limits;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::size_t m_places_taken = 0;
    std::size_t m_running = 0;
    std::uint64_t m_memory_in_use = 0;
    std::deque<std::uint64_t> m_waiters;  // tickets in arrival order
    std::uint64_t m_next_ticket = 0;
    std::uint64_t m_starts = 0;    // jobs started so far
    double m_average_seconds = 5;  // recent re-encode time (moving average)
    std::array<std::uint64_t, k_refusal_kinds> m_refusals{};
};

}  // namespace gallery::imaging
