#include "gallery/db/connection.hpp"

#include "db/native.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/text.hpp"

namespace gallery::db {

Connection::Connection(const ConnectionOptions& options)
    : m_options(options),
      m_display_name(options.postgresql_url.empty() ? options.path.string()
                                                    : redact_url(options.postgresql_url)),
      m_native(options.postgresql_url.empty() ? open_sqlite(options) : open_postgresql(options)) {}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

Engine Connection::engine() const {
    return m_native->engine();
}

bool Connection::in_transaction() const {
    return m_native->transaction_depth > 0;
}

void Connection::reopen_if_broken() {
    if (!m_native->broken || in_transaction()) return;
    try {
        m_native =
            m_options.postgresql_url.empty() ? open_sqlite(m_options) : open_postgresql(m_options);
    } catch (const std::exception& e) {
        log::warn("database " + m_display_name + " could not be reopened yet: " + e.what());
    }
}

}  // namespace gallery::db
