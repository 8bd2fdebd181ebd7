#include "gallery/db/connection.hpp"

#include "db/native.hpp"
#include "gallery/common/text.hpp"

namespace gallery::db {

Connection::Connection(const ConnectionOptions& options)
    : m_display_name(options.postgresql_url.empty() ? options.path.string()
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

}  // namespace gallery::db
