/* routes.c - the route table: every URL the server answers, with its
 * handler, required permission and body limit. docs/openapi.json describes
 * the same routes; tests/api checks that the two agree both ways. */
#include "api/api.h"
#include "http/http.h"
#include "http/static.h"
#include "web/web.h"

const http_route http_routes[] = {
    /* public on purpose: probes, monitoring, the API description, static files */
    {HTTP_GET, "/healthz", api_healthz, NULL, 0, 0},
    {HTTP_GET, "/metrics", api_metrics, NULL, 0, 0},
    {HTTP_GET, "/api/openapi.json", api_openapi, NULL, 0, 0},
    {HTTP_GET, "/static/{path}", http_static, NULL, 0, ROUTE_REST},
    {HTTP_GET, "/", web_home, NULL, 0, ROUTE_HTML},
    /* services for other systems */
    {HTTP_POST, "/api/v1/validate", api_validate, NULL, 4096, ROUTE_JSON},
};

const size_t http_nroutes = sizeof http_routes / sizeof http_routes[0];
