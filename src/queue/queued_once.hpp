#pragma once
// The ON CONFLICT clause of every INSERT into the queue: it keeps "a key is queued
// (pending or restorable) at most once" through the partial unique index of
// migration 0007, whose predicate it repeats word for word (SQLite and PostgreSQL
// pick the index by it).

namespace gallery::queue {

inline constexpr const char* k_queued_once =
    " ON CONFLICT (file_path) WHERE state <> 'dead' DO NOTHING";

}  // namespace gallery::queue
