#pragma once
// The admin pages under /admin/: sign-in, dashboard, deletion queue, images,
// clients. Server-rendered HTML; sessions by cookie; every change is a POST
// carrying the session's CSRF token.

#include "gallery/api/api.hpp"

namespace gallery::admin {

void add_admin_routes(api::Router& router, api::ApiContext& context);

}  // namespace gallery::admin
