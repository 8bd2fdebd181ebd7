#include "api/idempotency.hpp"

#include <algorithm>
#include <memory>

#include "gallery/common/log.hpp"
#include "gallery/common/sha256.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::api {
namespace {

// SHA-256 over everything that makes two requests the same request: method, path,
// query, body and form parts, each length-prefixed so no two requests run together.
std::string fingerprint(const Request& request) {
    Sha256 hash;
    const auto add = [&](std::string_view field) {
        hash.add(std::to_string(field.size()) + ":");
        hash.add(field);
    };
    add(request.method);
    add(request.path);
    for (const auto& [name, value] : request.query) {
        add(name);
        add(value);
    }
    add(request.body);
    for (const FormPart& part : request.parts) {
        add(part.name);
        add(part.filename);
        add(part.content_type);
        add(part.content);
    }
    return hash.hex();
}

bool valid_key(std::string_view key) {
    return !key.empty() && key.size() <= k_max_idempotency_key &&
           std::ranges::all_of(key, [](unsigned char c) { return c >= 0x21 && c <= 0x7E; });
}

enum class Found { first, answered, running, other_request };

struct Begun {
    Found found = Found::first;
    int status = 0;
    std::string body;
};

UnixMicros micros(std::chrono::seconds duration) {
    return duration.count() * k_micros_per_second;
}

// Claims `key` for this request, or says what holds it. One write transaction: two
// requests with one key (on any host) cannot both be first.
Result<Begun> begin(db::Connection& connection, const std::string& key,
                    const std::string& request_fingerprint, UnixMicros now) {
    const UnixMicros expired_before = now - micros(k_idempotency_lifetime);
    const UnixMicros abandoned_before = now - micros(k_idempotency_pending_lifetime);
    return db::write(connection, "idempotency: begin", [&]() -> Begun {
        db::Statement free_key(connection,
                               "DELETE FROM idempotency_keys WHERE idempotency_key = ?1 AND"
                               " (created_at < ?2 OR (status IS NULL AND created_at < ?3))");
        free_key.bind(1, key);
        free_key.bind(2, expired_before);
        free_key.bind(3, abandoned_before);
        free_key.execute();
        // Expiry in bounded steps: every new key removes at most 100 expired ones.
        db::Statement prune(connection,
                            "DELETE FROM idempotency_keys WHERE idempotency_key IN"
                            " (SELECT idempotency_key FROM idempotency_keys WHERE created_at < ?1"
                            " ORDER BY created_at LIMIT 100)");
        prune.bind(1, expired_before);
        prune.execute();
        db::Statement claim(
            connection,
            "INSERT INTO idempotency_keys (idempotency_key, fingerprint, created_at)"
            " VALUES (?1, ?2, ?3) ON CONFLICT (idempotency_key) DO NOTHING");
        claim.bind(1, key);
        claim.bind(2, request_fingerprint);
        claim.bind(3, now);
        if (claim.execute() == 1) return Begun{};
        db::Statement held(connection,
                           "SELECT fingerprint, status, body FROM idempotency_keys"
                           " WHERE idempotency_key = ?1");
        held.bind(1, key);
        held.step();
        if (held.text(0) != request_fingerprint) return Begun{Found::other_request, 0, {}};
        if (held.is_null(1)) return Begun{Found::running, 0, {}};
        return Begun{Found::answered, static_cast<int>(held.int64(1)), held.text(2)};
    });
}

Result<void> keep_answer(db::Connection& connection, const std::string& key,
                         const std::string& request_fingerprint, const Response& answer) {
    return db::write(connection, "idempotency: keep the answer", [&] {
        db::Statement keep(connection,
                           "UPDATE idempotency_keys SET status = ?3, body = ?4"
                           " WHERE idempotency_key = ?1 AND fingerprint = ?2 AND status IS NULL");
        keep.bind(1, key);
        keep.bind(2, request_fingerprint);
        keep.bind(3, std::int64_t{answer.status});
        keep.bind(4, answer.body);
        keep.execute();
    });
}

// A 5xx answer is not kept: the retry runs the request again.
Result<void> give_up(db::Connection& connection, const std::string& key,
                     const std::string& request_fingerprint) {
    return db::write(connection, "idempotency: give the key back", [&] {
        db::Statement drop(connection,
                           "DELETE FROM idempotency_keys WHERE idempotency_key = ?1 AND"
                           " fingerprint = ?2 AND status IS NULL");
        drop.bind(1, key);
        drop.bind(2, request_fingerprint);
        drop.execute();
    });
}

Response replayed(const Begun& begun) {
    Response response;
    response.status = begun.status;
    response.body = begun.body;
    response.headers.emplace_back("Idempotent-Replayed", "true");
    return response;
}

Response run_once(ApiContext& context, const IdempotentHandler& handler, const Request& request,
                  const std::string& key) {
    if (!valid_key(key)) {
        return Response::error(400, "Idempotency-Key must be 1 to " +
                                        std::to_string(k_max_idempotency_key) +
                                        " visible ASCII characters.");
    }
    const std::string request_fingerprint = fingerprint(request);
    auto begun = [&] {
        auto connection = context.pool.acquire();
        return begin(*connection, key, request_fingerprint, context.clock());
    }();
    if (!begun) return error_response(begun.error());
    switch (begun->found) {
        case Found::answered:
            return replayed(*begun);
        case Found::running: {
            Response busy =
                Response::error(409,
                                "A request with this Idempotency-Key is still being processed; "
                                "retry after it has been answered.");
            busy.headers.emplace_back("Retry-After", "1");
            return busy;
        }
        case Found::other_request:
            return Response::error(422,
                                   "This Idempotency-Key was already used for a different request; "
                                   "use a new key for a new request.");
        case Found::first:
            break;
    }
    // Set when the handler kept its answer inside its own transaction (an upload). A
    // 2xx-4xx answer then means that transaction committed: nothing is left to write.
    bool kept_by_handler = false;
    const KeepAnswer keep = [&](db::Connection& connection, const Response& answer) {
        auto kept = keep_answer(connection, key, request_fingerprint, answer);
        if (kept) kept_by_handler = true;
        return kept;
    };
    Response response = handler(request, keep);
    if (kept_by_handler && response.status < 500) return response;
    try {
        auto connection = context.pool.acquire();
        auto done = response.status >= 500
                        ? give_up(*connection, key, request_fingerprint)
                        : keep_answer(*connection, key, request_fingerprint, response);
        if (!done) log::warn(done.error().message);
    } catch (const std::exception& e) {
        // The key stays "running" until it is taken over (k_idempotency_pending_lifetime).
        log::warn(std::string("idempotency: could not record the answer: ") + e.what());
    }
    return response;
}

}  // namespace

Handler idempotent(ApiContext& context, IdempotentHandler handler) {
    return [&context, handler = std::move(handler)](const Request& request) {
        const auto key = request.header("Idempotency-Key");
        if (!key) return handler(request, KeepAnswer{});
        return run_once(context, handler, request, *key);
    };
}

Handler idempotent(ApiContext& context, Handler handler) {
    return idempotent(context, IdempotentHandler([handler = std::move(handler)](
                                                     const Request& request, const KeepAnswer&) {
                          return handler(request);
                      }));
}

}  // namespace gallery::api
