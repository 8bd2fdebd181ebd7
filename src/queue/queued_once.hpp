#pragma once
// The queue's rule "a key is queued (pending or restorable) at most once", kept by the
// partial unique index of migration 0007, as the statements spell it: the ON CONFLICT
// clause of every INSERT into the queue repeats the index's predicate word for word
// (SQLite and PostgreSQL pick the index by it), and a requeue of dead rows first drops
// those whose key is queued elsewhere.

namespace gallery::queue {

inline constexpr const char* k_queued_once =
    " ON CONFLICT (file_path) WHERE state <> 'dead' DO NOTHING";

// For a statement on dead rows of deletion_queue: the row's key is queued (pending or
// restorable) in another row, so making it pending again would break the rule above.
// One probe of that partial unique index per dead row: `file_path IN (SELECT ...)`
// built the list of every queued key first (680 ms under the write lock at 1,000,000
// queued rows on SQLite, 7.5 ms this way: the same statements timed in Python,
// BENCHMARKS "Fourth pass").
inline constexpr const char* k_key_queued_elsewhere =
    "EXISTS (SELECT 1 FROM deletion_queue AS queued WHERE queued.file_path ="
    " deletion_queue.file_path AND queued.state <> 'dead')";

}  // namespace gallery::queue
