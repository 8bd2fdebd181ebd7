#pragma once
// The admin pages under /admin/: sign-in, dashboard, deletion queue, images,
// clients. Server-rendered HTML; sessions by cookie; every change is a POST
// carrying the session's CSRF token.

#include "gallery/api/api.hpp"

namespace gallery::admin {

void add_admin_routes(api::Router& router, api::ApiContext& context);

// What `gallery serve` answers: api::make_router's routes and the admin pages.
inline api::Router make_server_router(api::ApiContext& context) {
    api::Router router = api::make_router(context);
    add_admin_routes(router, context);
    return router;
}

}  // namespace gallery::admin
