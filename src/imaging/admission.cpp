#include "gallery/imaging/admission.hpp"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "gallery/config/config.hpp"

namespace gallery::imaging {

AdmissionLimits admission_limits_from(const config::Config& config) {
    AdmissionLimits limits;
    limits.slots = config.encode_slots > 0
                       ? static_cast<std::size_t>(config.encode_slots)
                       : std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
    limits.queue = 2 * limits.slots;
    limits.memory_bytes = config.encode_memory_bytes;
    return limits;
}

const char* refusal_name(AdmissionRefusal refusal) {
    switch (refusal) {
        case AdmissionRefusal::queue_full:
            return "queue_full";
        case AdmissionRefusal::deadline:
            return "deadline";
        case AdmissionRefusal::memory:
            return "memory";
    }
    return "unknown";
}

EncodeAdmission::EncodeAdmission(AdmissionLimits limits) : m_limits(limits) {
    m_limits.slots = std::max<std::size_t>(m_limits.slots, 1);
}

EncodeAdmission::Place::Place(Place&& other) noexcept
    : m_owner(std::exchange(other.m_owner, nullptr)) {}

EncodeAdmission::Place& EncodeAdmission::Place::operator=(Place&& other) noexcept {
    if (this != &other) {
        release();
        m_owner = std::exchange(other.m_owner, nullptr);
    }
    return *this;
}

EncodeAdmission::Place::~Place() {
    release();
}

void EncodeAdmission::Place::release() {
    if (auto* owner = std::exchange(m_owner, nullptr)) owner->give_back_place();
}

EncodeAdmission::Permit::Permit(Permit&& other) noexcept
    : m_owner(std::exchange(other.m_owner, nullptr)),
      m_bytes(other.m_bytes),
      m_started(other.m_started),
      m_waited(other.m_waited),
      m_others_running(other.m_others_running),
      m_starts_before(other.m_starts_before) {}

bool EncodeAdmission::Permit::shared_the_slots() const {
    if (m_others_running) return true;
    std::lock_guard lock(m_owner->m_mutex);
    return m_owner->m_starts > m_starts_before;
}

EncodeAdmission::Permit::~Permit() {
    if (m_owner) m_owner->finish(m_bytes, std::chrono::steady_clock::now() - m_started);
}

Result<EncodeAdmission::Place> EncodeAdmission::reserve() {
    {
        std::lock_guard lock(m_mutex);
        if (m_places_taken < m_limits.slots + m_limits.queue) {
            ++m_places_taken;
            return Place(this);
        }
    }
    return std::unexpected(refuse(AdmissionRefusal::queue_full));
}

void EncodeAdmission::give_back_place() {
    {
        std::lock_guard lock(m_mutex);
        --m_places_taken;
    }
    m_changed.notify_all();
}

bool EncodeAdmission::fits(std::uint64_t bytes) const {
    if (m_running >= m_limits.slots) return false;
    // A job over the whole budget would never fit: it runs alone instead.
    if (m_running == 0) return true;
    return m_memory_in_use + bytes <= m_limits.memory_bytes;
}

Result<EncodeAdmission::Permit> EncodeAdmission::start(Place place, std::uint64_t bytes,
                                                       SteadyTime deadline) {
    const SteadyTime asked = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    const std::uint64_t ticket = m_next_ticket++;
    m_waiters.push_back(ticket);
    const auto my_turn = [&] { return m_waiters.front() == ticket && fits(bytes); };
    const bool started = m_changed.wait_until(lock, deadline, my_turn);
    std::erase(m_waiters, ticket);
    if (!started) {
        // Running jobs held the memory the job needs, or the slots were taken.
        const AdmissionRefusal why =
            m_running < m_limits.slots ? AdmissionRefusal::memory : AdmissionRefusal::deadline;
        lock.unlock();
        m_changed.notify_all();  // the next waiter may be at the front now
        return std::unexpected(refuse(why));
    }
    const bool others_running = m_running > 0;
    ++m_running;
    m_memory_in_use += bytes;
    const std::uint64_t starts = ++m_starts;
    const SteadyTime now = std::chrono::steady_clock::now();
    lock.unlock();
    m_changed.notify_all();
    // The place is given back as the job runs: the slot now bounds it.
    place.release();
    return Permit(this, bytes, now, now - asked, others_running, starts);
}

void EncodeAdmission::finish(std::uint64_t bytes, std::chrono::steady_clock::duration took) {
    {
        std::lock_guard lock(m_mutex);
        --m_running;
        m_memory_in_use -= bytes;
        const double seconds = std::chrono::duration<double>(took).count();
        m_average_seconds = 0.8 * m_average_seconds + 0.2 * seconds;
    }
    m_changed.notify_all();
}

std::chrono::seconds EncodeAdmission::retry_after() const {
    // About the time for the places taken now to drain through the slots.
    const double drain = m_average_seconds * static_cast<double>(m_places_taken + 1) /
                         static_cast<double>(m_limits.slots);
    return std::chrono::seconds(std::clamp<std::int64_t>(std::llround(std::ceil(drain)), 1, 120));
}

Error EncodeAdmission::refuse(AdmissionRefusal refusal) {
    std::lock_guard lock(m_mutex);
    ++m_refusals[static_cast<std::size_t>(refusal)];
    const std::chrono::seconds wait = retry_after();
    std::string message;
    switch (refusal) {
        case AdmissionRefusal::queue_full:
            message = "The server is busy re-encoding other large images (" +
                      std::to_string(m_places_taken) + " in progress or waiting)";
            break;
        case AdmissionRefusal::deadline:
            message =
                "The server is busy re-encoding other large images and could not re-encode "
                "this one in time";
            break;
        case AdmissionRefusal::memory:
            message = "The server's memory for decoding images is taken by other large images";
            break;
    }
    message += "; nothing was stored. Try again in " + std::to_string(wait.count()) + " s.";
    return Error{ErrorKind::overloaded, std::move(message), wait};
}

EncodeAdmission::Snapshot EncodeAdmission::snapshot() const {
    std::lock_guard lock(m_mutex);
    Snapshot snapshot;
    snapshot.places_taken = m_places_taken;
    snapshot.running = m_running;
    snapshot.waiting = m_waiters.size();
    snapshot.memory_in_use = m_memory_in_use;
    snapshot.refusals = m_refusals;
    snapshot.limits = m_limits;
    return snapshot;
}

}  // namespace gallery::imaging
