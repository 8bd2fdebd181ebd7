// Re-encoding admission (issue 36): places, slots, the memory budget and the
// deadline, each refused at once with an overloaded error that says when to retry.

#include "gallery/imaging/admission.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace gallery;
using namespace std::chrono_literals;
using imaging::AdmissionLimits;
using imaging::EncodeAdmission;

namespace {

EncodeAdmission::SteadyTime in(std::chrono::milliseconds delay) {
    return std::chrono::steady_clock::now() + delay;
}

}  // namespace

TEST_CASE("places beyond slots plus queue are refused at once with a retry time") {
    EncodeAdmission admission(AdmissionLimits{.slots = 1, .queue = 2, .memory_bytes = 100});
    std::vector<EncodeAdmission::Place> places;
    for (int i = 0; i < 3; ++i) {
        auto place = admission.reserve();
        REQUIRE(place);
        places.push_back(std::move(*place));
    }
    const auto refused = admission.reserve();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::overloaded);
    REQUIRE(refused.error().retry_after);
    CHECK(refused.error().retry_after->count() >= 1);
    CHECK(refused.error().message.find("nothing was stored") != std::string::npos);
    CHECK(admission.snapshot().refusals[0] == 1);

    places.pop_back();  // a place given back is free again
    CHECK(admission.reserve());
    CHECK(admission.snapshot().places_taken == 2);
}

TEST_CASE("a running re-encode gives its place back and its slot bounds it") {
    EncodeAdmission admission(AdmissionLimits{.slots = 1, .queue = 0, .memory_bytes = 100});
    auto place = admission.reserve();
    REQUIRE(place);
    auto permit = admission.start(std::move(*place), 10, in(1s));
    REQUIRE(permit);
    const auto snapshot = admission.snapshot();
    CHECK(snapshot.places_taken == 0);
    CHECK(snapshot.running == 1);
    CHECK(snapshot.memory_in_use == 10);
    // A second job gets a place but no slot before its deadline.
    auto second = admission.reserve();
    REQUIRE(second);
    const auto started = std::chrono::steady_clock::now();
    const auto refused = admission.start(std::move(*second), 10, in(50ms));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::overloaded);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(admission.snapshot().refusals[1] == 1);  // deadline
    CHECK(admission.snapshot().places_taken == 0);
}

TEST_CASE("a job that does not fit the memory budget waits, and runs alone if it is larger",
          "[threads]") {
    EncodeAdmission admission(AdmissionLimits{.slots = 4, .queue = 4, .memory_bytes = 100});
    auto first_place = admission.reserve();
    REQUIRE(first_place);
    auto first = admission.start(std::move(*first_place), 60, in(1s));
    REQUIRE(first);
    // 60 + 50 > 100: refused at its deadline for memory while the first one runs.
    auto place = admission.reserve();
    REQUIRE(place);
    const auto refused = admission.start(std::move(*place), 50, in(50ms));
    REQUIRE_FALSE(refused);
    CHECK(admission.snapshot().refusals[2] == 1);  // memory

    // It starts as soon as the first one finishes.
    std::atomic<bool> started{false};
    std::thread waiter([&] {
        auto waiting_place = admission.reserve();
        if (!waiting_place) return;
        auto permit = admission.start(std::move(*waiting_place), 500, in(10s));
        started = permit.has_value();
    });
    while (admission.snapshot().waiting == 0) std::this_thread::yield();
    CHECK_FALSE(started);
    { auto finished = std::move(*first); }
    waiter.join();
    CHECK(started);  // 500 is over the whole budget: it ran alone
    CHECK(admission.snapshot().memory_in_use == 0);
}

TEST_CASE("a re-encode knows whether it had the slots to itself") {
    EncodeAdmission admission(AdmissionLimits{.slots = 2, .queue = 0, .memory_bytes = 100});
    {
        auto alone = admission.start(*admission.reserve(), 1, in(1s));
        REQUIRE(alone);
        CHECK_FALSE(alone->shared_the_slots());
    }
    auto first = admission.start(*admission.reserve(), 1, in(1s));
    REQUIRE(first);
    CHECK_FALSE(first->shared_the_slots());
    auto second = admission.start(*admission.reserve(), 1, in(1s));
    REQUIRE(second);
    CHECK(second->shared_the_slots());  // the first was running when it started
    CHECK(first->shared_the_slots());   // the second started while it ran
}

TEST_CASE("waiters start in arrival order", "[threads]") {
    EncodeAdmission admission(AdmissionLimits{.slots = 1, .queue = 8, .memory_bytes = 1000});
    auto holder_place = admission.reserve();
    REQUIRE(holder_place);
    std::optional<EncodeAdmission::Permit> holder;
    holder.emplace(*admission.start(std::move(*holder_place), 1, in(1s)));
    std::mutex order_mutex;
    std::vector<int> order;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
        waiters.emplace_back([&, i] {
            auto place = admission.reserve();
            if (!place) return;
            auto permit = admission.start(std::move(*place), 1, in(10s));
            if (!permit) return;
            std::lock_guard lock(order_mutex);
            order.push_back(i);
        });
        // The next waiter arrives after this one queued.
        while (admission.snapshot().waiting != static_cast<std::size_t>(i + 1))
            std::this_thread::yield();
    }
    holder.reset();
    for (auto& waiter : waiters) waiter.join();
    CHECK(order == std::vector<int>{0, 1, 2, 3});
}
