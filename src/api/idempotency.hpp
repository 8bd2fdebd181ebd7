#pragma once
// Idempotency-Key (issue 36): a client that did not hear an answer (a timeout, a 503
// whose transaction had committed, a lost connection) sends the same request again
// with the same key and gets the first answer, instead of a second image. Keys live
// in the database (table idempotency_keys), so every `serve` host on one database
// knows them, for 24 hours.
//
// A request with a key:
//   - new key: runs; a 2xx-4xx answer is kept (an upload keeps it in the same
//     transaction as its row), a 5xx answer is not (the retry runs again);
//   - same key, same request, answered: the kept answer, with Idempotent-Replayed: true;
//   - same key, same request, still running: 409 with Retry-After;
//   - same key, another request (method, path, query or body differ): 422.
// Without the header nothing changes.

#include <chrono>
#include <functional>

#include "api/support.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::api {

// How long a kept answer is replayed.
inline constexpr std::chrono::hours k_idempotency_lifetime{24};
// A key still running after this long belongs to a request that died with its
// process: a retry takes it over.
inline constexpr std::chrono::minutes k_idempotency_pending_lifetime{5};
inline constexpr std::size_t k_max_idempotency_key = 255;

// Records `answer` as the kept answer of the request's key, inside the caller's open
// write transaction on `connection`; does nothing for a request without a key.
using KeepAnswer = std::function<Result<void>(db::Connection& connection, const Response& answer)>;

using IdempotentHandler = std::function<Response(const Request&, const KeepAnswer&)>;

// `handler` behind the Idempotency-Key rules above.
Handler idempotent(ApiContext& context, IdempotentHandler handler);
Handler idempotent(ApiContext& context, Handler handler);

}  // namespace gallery::api
