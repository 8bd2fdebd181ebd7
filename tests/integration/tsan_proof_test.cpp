// Proof that ThreadSanitizer sees races between request threads (tests/tsan.supp
// suppresses only races whose top frame is inside cpp-httplib itself). Hidden: it
// races on purpose, so only the TSan build runs it, as a test that passes when
// ThreadSanitizer reports this race (tests/CMakeLists.txt).

#include <httplib.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gallery/transport/http_server.hpp"

using namespace gallery;

namespace {

// Written by two request handlers without synchronisation: the race to be reported.
long g_unguarded_requests = 0;

// Holds each handler until both are in flight, so neither handler's write can happen
// before the other's through the server's own locks (a worker going back to the
// pool). Bounded: a server with one worker still ends the test.
class BothInFlight {
  public:
    void arrive() {
        std::unique_lock lock(m_mutex);
        ++m_arrived;
        m_changed.notify_all();
        m_changed.wait_for(lock, std::chrono::seconds{5}, [this] { return m_arrived >= 2; });
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_arrived = 0;
};

api::Response racy_request_handler(BothInFlight& both) {
    ++g_unguarded_requests;
    both.arrive();
    return api::Response::json(200, {{"ok", true}});
}

}  // namespace

TEST_CASE("ThreadSanitizer reports a race between two request threads", "[.tsan-proof]") {
    BothInFlight both;
    transport::ServerSettings settings;
    settings.port = 0;
    settings.threads = 4;
    transport::HttpServer server(settings,
                                 [&](api::Request&) { return racy_request_handler(both); });
    const int port = server.bind();
    std::thread serving([&] { server.serve(); });
    // Catch's assertions are for the main thread: each request's status is kept here.
    std::array<int, 2> statuses{};
    const auto get = [port](int& status) {
        httplib::Client client("127.0.0.1", port);
        auto answer = client.Get("/race");
        status = answer ? answer->status : 0;
    };
    std::thread first(get, std::ref(statuses[0])), second(get, std::ref(statuses[1]));
    first.join();
    second.join();
    CHECK(statuses == std::array<int, 2>{200, 200});
    server.stop();
    serving.join();
}
