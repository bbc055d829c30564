/* web.h - HTML views: console pages rendered from the Mustache templates
 * compiled into the binary (templates/NAME.mustache). */
#ifndef QL_WEB_WEB_H
#define QL_WEB_WEB_H

#include "http/http.h"

/* Prepares the template environment and checks that every embedded
 * template parses. Call once before serving. Returns 0 or QL_EINVAL with
 * err naming the template, line and column. */
int web_init(ql_err *err);

/* Frees the template environment. */
void web_shutdown(void);

/* Renders template name with data (a reference is stolen) and answers with
 * it as text/html. */
int web_render(http_req *r, int status, const char *name, json_t *data);

/* GET / : the home page. */
int web_home(http_req *r);

#endif
