/* pages.c - the template environment and the console's pages. */
#include "web/web.h"

#include "core/buf.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/version.h"
#include "web/mustache.h"

#include <stdio.h>
#include <string.h>

static mus_env *env;

/* Loads templates/<name>.mustache from the files compiled into the binary. */
static const char *load_embedded(void *ctx, const char *name, size_t name_len, size_t *src_len)
{
    (void)ctx;
    char path[160];
    if (name_len > 100) return NULL;
    snprintf(path, sizeof path, "templates/%.*s.mustache", (int)name_len, name);
    const struct embedded_file *f = embed_find(path);
    if (!f) return NULL;
    *src_len = f->len;
    return f->data;
}

int web_init(ql_err *err)
{
    if (!env) env = mus_env_new(load_embedded, NULL);
    static const char prefix[] = "templates/", suffix[] = ".mustache";
    for (unsigned long i = 0; i < embedded_count; i++) {
        const char *p = embedded_files[i].path;
        size_t n = strlen(p);
        if (strncmp(p, prefix, sizeof prefix - 1) != 0 || n < sizeof prefix + sizeof suffix - 2)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(n - (sizeof prefix - 1) - (sizeof suffix - 1)),
                 p + sizeof prefix - 1);
        int rc = mus_check(env, name, err);
        if (rc) return rc;
    }
    return 0;
}

void web_shutdown(void)
{
    mus_env_free(env);
    env = NULL;
}

int web_render(http_req *r, int status, const char *name, json_t *data)
{
    buf out;
    buf_init(&out, 8u << 20);
    json_object_set_new(data, "lang", json_string(r->lang == LANG_EN ? "en" : "zh-CN"));
    json_object_set_new(data, "request_id", json_string(r->request_id));
    json_object_set_new(data, "version", json_string(QL_VERSION));
    int rc = mus_render(env, name, data, &out, &r->err);
    json_decref(data);
    if (rc) {
        buf_free(&out);
        return rc;
    }
    http_reply_bytes(r, status, "text/html; charset=utf-8", out.data, out.len);
    buf_free(&out);
    return 0;
}

int web_home(http_req *r)
{
    int en = r->lang == LANG_EN;
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:s}", "title", en ? "Qianlima talent services" : "千里马人才服务平台",
        "heading", en ? "Qianlima talent services" : "千里马人才服务平台", "intro",
        en ? "Rental subsidies, talent housing, one-window services and the talent service code "
             "for the district."
           : "区人才租房补贴、人才公寓、一口受理与人才服务码的统一平台。",
        "api_label", en ? "API description (OpenAPI)" : "接口说明（OpenAPI）");
    json_object_set_new(d, "links",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "href", "/api/openapi.json",
                                  "label", en ? "API description (OpenAPI 3.1)" : "接口说明（OpenAPI 3.1）",
                                  "href", "/healthz", "label", en ? "Health check" : "运行状态"));
    return web_render(r, 200, "home", d);
}
