#include "gallery/api/metrics.hpp"

#include <sstream>

namespace gallery::api {
namespace {

std::string escape_label(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return "invalid_input";
        case ErrorKind::not_found:
            return "not_found";
        case ErrorKind::database:
            return "database";
        case ErrorKind::database_unavailable:
            return "database_unavailable";
        case ErrorKind::storage_transient:
            return "storage_transient";
        case ErrorKind::storage_permanent:
            return "storage_permanent";
        case ErrorKind::io:
            return "io";
        case ErrorKind::overloaded:
            return "overloaded";
        case ErrorKind::system:
            return "system";
        case ErrorKind::disk_full:
            return "disk_full";
    }
    return "unknown";
}

}  // namespace

void Metrics::record_request(const std::string& route, const std::string& method, int status,
                             double seconds) {
    std::lock_guard lock(m_mutex);
    ++m_requests[{route, method, status}];
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        if (seconds <= k_buckets[i]) ++m_bucket_counts[i];
    }
    ++m_duration_count;
    m_duration_sum += seconds;
}

void Metrics::record_cleanup(const cleanup::Report& report, const std::string& trigger) {
    std::lock_guard lock(m_mutex);
    ++m_cleanup_runs[trigger];
    if (report.stopped_by) ++m_cleanup_failures[kind_name(report.stopped_by->kind)];
    m_objects_deleted += static_cast<std::uint64_t>(report.deleted);
    m_objects_failed += static_cast<std::uint64_t>(report.failed);
    m_bytes_reclaimed += report.bytes_reclaimed;
}

void Metrics::set_scheduler_state(bool storage_down, std::chrono::seconds next_run_in) {
    std::lock_guard lock(m_mutex);
    m_storage_down = storage_down;
    m_scheduler_delay_seconds = next_run_in.count();
}

namespace {

// One metric without labels: its HELP, TYPE and value lines.
template <class Value>
void write_metric(std::ostream& out, const char* name, const char* type, const char* help,
                  Value value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
}

void render_resources(std::ostringstream& out, const Metrics::Resources& resources) {
    const auto& encoding = resources.encoding;
    write_metric(out, "gallery_encode_running", "gauge", "Re-encodes of large uploads running now.",
                 encoding.running);
    write_metric(out, "gallery_encode_waiting", "gauge", "Uploads waiting for a re-encode slot.",
                 encoding.waiting);
    write_metric(out, "gallery_encode_places_taken", "gauge",
                 "Uploads holding one of the re-encode places (reading their body, waiting or "
                 "running).",
                 encoding.places_taken);
    write_metric(out, "gallery_encode_places", "gauge", "Re-encode places (slots + queue).",
                 encoding.limits.slots + encoding.limits.queue);
    write_metric(out, "gallery_encode_memory_bytes", "gauge",
                 "Estimated decode memory of the running re-encodes.", encoding.memory_in_use);
    out << "# HELP gallery_encode_refusals_total Uploads answered 503 by re-encode admission, "
           "by reason.\n# TYPE gallery_encode_refusals_total counter\n";
    for (std::size_t i = 0; i < imaging::k_refusal_kinds; ++i) {
        out << "gallery_encode_refusals_total{reason=\""
            << imaging::refusal_name(static_cast<imaging::AdmissionRefusal>(i)) << "\"} "
            << encoding.refusals[i] << "\n";
    }
    const auto& pool = resources.pool;
    write_metric(out, "gallery_db_pool_connections", "gauge",
                 "Database connections the pool may hold.", pool.size);
    write_metric(out, "gallery_db_pool_in_use", "gauge", "Database connections lent out now.",
                 pool.in_use);
    write_metric(out, "gallery_db_pool_waiting", "gauge",
                 "Requests waiting for a database connection.", pool.waiting);
    write_metric(out, "gallery_db_pool_timeouts_total", "counter",
                 "Requests answered 503 because no database connection came free in time.",
                 pool.timeouts);
    out << "# HELP gallery_db_pool_wait_seconds Time a request waited for a database "
           "connection.\n# TYPE gallery_db_pool_wait_seconds histogram\n";
    const std::uint64_t immediate = pool.acquires - pool.waits;
    for (std::size_t i = 0; i < db::ConnectionPool::k_wait_buckets.size(); ++i) {
        out << "gallery_db_pool_wait_seconds_bucket{le=\"" << db::ConnectionPool::k_wait_buckets[i]
            << "\"} " << immediate + pool.wait_buckets[i] << "\n";
    }
    out << "gallery_db_pool_wait_seconds_bucket{le=\"+Inf\"} " << pool.acquires << "\n"
        << "gallery_db_pool_wait_seconds_sum " << pool.wait_seconds_sum << "\n"
        << "gallery_db_pool_wait_seconds_count " << pool.acquires << "\n";
    write_metric(out, "gallery_search_refusals_total", "counter",
                 "Searches answered 503 because too many ran at once.", resources.search_refusals);
    write_metric(out, "gallery_variants_made_total", "counter",
                 "Image variants (thumbnails) made and stored on their first request.",
                 resources.variants_made);
}

}  // namespace

std::string Metrics::render(const queue::Stats& queue, UnixMicros now, const std::string& version,
                            const Resources& resources) const {
    std::ostringstream out;
    const auto gauge = [&](const char* name, const char* help, auto value) {
        write_metric(out, name, "gauge", help, value);
    };
    out << "# HELP gallery_build_info Version of this gallery binary.\n# TYPE gallery_build_info "
           "gauge\n"
        << "gallery_build_info{version=\"" << escape_label(version) << "\"} 1\n";
    gauge("gallery_queue_pending", "Deletion queue rows waiting to be processed.", queue.pending);
    {
        std::lock_guard lock(m_mutex);
        if (m_scheduler_delay_seconds >= 0) {
            gauge("gallery_cleanup_storage_down",
                  "Whether the in-process cleaner found storage unavailable on its last try (1) or "
                  "not (0).",
                  m_storage_down ? 1 : 0);
            gauge("gallery_cleanup_scheduler_delay_seconds",
                  "Seconds the in-process cleaner waits before its next run (grows while storage "
                  "is down).",
                  m_scheduler_delay_seconds);
        }
    }
    gauge("gallery_queue_dead", "Deletion queue rows that reached max_attempts.", queue.dead);
    gauge("gallery_queue_leased", "Pending rows a worker holds right now.", queue.leased);
    gauge("gallery_queue_due", "Pending rows a worker may claim right now.", queue.due);
    gauge("gallery_queue_bytes_pending",
          "Known bytes of the objects still to delete (pending and restorable).",
          queue.bytes_pending);
    gauge("gallery_queue_restorable",
          "Deleted images still restorable (their restore window has not been closed).",
          queue.restorable);
    gauge("gallery_queue_held_by_backup",
          "Pending objects kept because a retained backup was taken before they were queued.",
          queue.held_by_backup);
    gauge("gallery_queue_bytes_restorable", "Known bytes of restorable objects.",
          queue.bytes_restorable);
    const double oldest =
        queue.oldest_queued ? static_cast<double>(now - *queue.oldest_queued) / 1e6 : 0.0;
    gauge("gallery_queue_oldest_pending_age_seconds",
          "Age of the oldest pending row (0 when empty).", oldest);

    std::lock_guard lock(m_mutex);
    out << "# HELP gallery_http_requests_total HTTP requests by route, method and status.\n"
        << "# TYPE gallery_http_requests_total counter\n";
    for (const auto& [key, count] : m_requests) {
        const auto& [route, method, status] = key;
        out << "gallery_http_requests_total{route=\"" << escape_label(route) << "\",method=\""
            << escape_label(method) << "\",status=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP gallery_http_request_duration_seconds Time to answer a request.\n"
        << "# TYPE gallery_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        out << "gallery_http_request_duration_seconds_bucket{le=\"" << k_buckets[i] << "\"} "
            << m_bucket_counts[i] << "\n";
    }
    out << "gallery_http_request_duration_seconds_bucket{le=\"+Inf\"} " << m_duration_count << "\n"
        << "gallery_http_request_duration_seconds_sum " << m_duration_sum << "\n"
        << "gallery_http_request_duration_seconds_count " << m_duration_count << "\n";
    out << "# HELP gallery_cleanup_runs_total Cleanup runs by trigger.\n# TYPE "
           "gallery_cleanup_runs_total counter\n";
    for (const auto& [trigger, count] : m_cleanup_runs) {
        out << "gallery_cleanup_runs_total{trigger=\"" << escape_label(trigger) << "\"} " << count
            << "\n";
    }
    out << "# HELP gallery_cleanup_stopped_total Cleanup runs stopped by a failure, by kind.\n"
        << "# TYPE gallery_cleanup_stopped_total counter\n";
    for (const auto& [kind, count] : m_cleanup_failures) {
        out << "gallery_cleanup_stopped_total{kind=\"" << kind << "\"} " << count << "\n";
    }
    out << "# HELP gallery_cleanup_objects_deleted_total Objects confirmed deleted by cleanup.\n"
        << "# TYPE gallery_cleanup_objects_deleted_total "
           "counter\ngallery_cleanup_objects_deleted_total "
        << m_objects_deleted << "\n"
        << "# HELP gallery_cleanup_objects_failed_total Per-object delete failures.\n"
        << "# TYPE gallery_cleanup_objects_failed_total "
           "counter\ngallery_cleanup_objects_failed_total "
        << m_objects_failed << "\n"
        << "# HELP gallery_cleanup_bytes_reclaimed_total Bytes of objects deleted by cleanup.\n"
        << "# TYPE gallery_cleanup_bytes_reclaimed_total "
           "counter\ngallery_cleanup_bytes_reclaimed_total "
        << m_bytes_reclaimed << "\n";
    render_resources(out, resources);
    return out.str();
}

}  // namespace gallery::api
