#pragma once
// Turns exceptions thrown by SQLiteCpp inside `body` into Error{database}, so the
// core's operations return Result<T> instead of throwing.

#include <exception>
#include <string>
#include <type_traits>

#include "gallery/common/error.hpp"

namespace gallery::db {

template <class Body>
auto guard(std::string_view context, Body&& body) -> Result<std::invoke_result_t<Body>> {
    using Value = std::invoke_result_t<Body>;
    try {
        if constexpr (std::is_void_v<Value>) {
            body();
            return {};
        } else {
            return body();
        }
    } catch (const std::exception& e) {
        return std::unexpected(Error{ErrorKind::database, std::string(context) + ": " + e.what()});
    }
}

}  // namespace gallery::db
