/* forms.c - helpers the console's record pages share: see forms.h. */
#include "web/forms.h"

#include "core/buf.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *web_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

const char *web_code_text(http_req *r, const char *group, const char *code)
{
    if (!code || !*code) return "";
    char key[96];
    snprintf(key, sizeof key, "registry.%s.%s", group, code);
    const char *t = web_t(r, key);
    return strcmp(t, key) == 0 ? code : t;
}

json_t *web_options(http_req *r, const char *group, const char *const *values, size_t n,
                    const char *selected, const char *first_label)
{
    json_t *list = json_array();
    if (!selected) selected = "";
    if (first_label)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", "", "label", first_label,
                                              "selected", selected[0] == '\0'));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", values[i], "label",
                                              group ? web_code_text(r, group, values[i]) : values[i],
                                              "selected", strcmp(selected, values[i]) == 0));
    return list;
}

void web_add_field(http_req *r, json_t *page, const struct fdef *f)
{
    json_t *list = json_object_get(page, "form_fields");
    if (!list) {
        list = json_array();
        json_object_set_new(page, "form_fields", list);
    }
    json_t *state = json_object_get(json_object_get(page, "fields"), f->name);
    const char *value = web_str(state, "value"), *error = web_str(state, "error");
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s}", "name", f->name, "label",
                          web_t(r, f->label), "required", f->required, "type",
                          f->type ? f->type : "text", "value", value);
    if (f->hint) json_object_set_new(o, "hint", json_string(f->hint));
    if (*error) json_object_set_new(o, "error", json_string(error));
    if (f->inputmode) json_object_set_new(o, "inputmode", json_string(f->inputmode));
    if (f->wide) json_object_set_new(o, "wide", json_true());
    if (f->readonly) json_object_set_new(o, "readonly", json_true());
    char described[160] = "";
    if (f->hint) snprintf(described, sizeof described, "%s-hint", f->name);
    if (*error) {
        size_t n = strlen(described);
        snprintf(described + n, sizeof described - n, "%s%s-error", n ? " " : "", f->name);
    }
    if (described[0]) json_object_set_new(o, "described", json_string(described));
    if (f->options) {
        /* Mark the option matching the value. */
        size_t i;
        json_t *opt;
        json_array_foreach(f->options, i, opt)
        {
            json_object_set_new(opt, "selected",
                                json_boolean(strcmp(web_str(opt, "value"), value) == 0));
        }
        json_object_set_new(o, "select", json_true());
        json_object_set_new(o, "options", f->options);
    }
    json_array_append_new(list, o);
}

int web_report_errors(http_req *r, json_t *page, int rc, const reg_report *rep,
                      const ql_err *err)
{
    if (rep->errors.n)
        for (int i = 0; i < rep->errors.n; i++) web_error(r, page, &rep->errors.e[i]);
    else web_error(r, page, err);
    return rc == QL_ECONFLICT ? 409 : 400;
}

int web_form_can_show(int rc)
{
    return rc == QL_EINVAL || rc == QL_ECONFLICT;
}

const char *web_keep_query(http_req *r, const char *const *keys, size_t n, json_t *hidden)
{
    buf keep;
    buf_init(&keep, 0);
    for (size_t k = 0; k < n; k++) {
        const char *v = http_query(r, keys[k]);
        if (!v || !*v) continue;
        char *enc = evhttp_encode_uri(v);
        buf_printf(&keep, "&%s=%s", keys[k], enc ? enc : "");
        free(enc);
        if (hidden) json_array_append_new(hidden, json_pack("{s:s, s:s}", "name", keys[k], "value", v));
    }
    const char *out = arena_strdup(r->arena, keep.data ? keep.data : "");
    buf_free(&keep);
    return out;
}

void web_results_text(http_req *r, json_t *page, int64_t total)
{
    if (total <= REGISTRY_COUNT_CAP) return;
    char cap[24];
    snprintf(cap, sizeof cap, "%d", REGISTRY_COUNT_CAP);
    json_object_set_new(page, "results",
                        json_string(web_tf(r, "common.more_than", "total", cap, (const char *)NULL)));
}

void web_history(http_req *r, json_t *page, json_t *history, const char *field_group)
{
    size_t i;
    json_t *h;
    json_array_foreach(history, i, h)
    {
        json_object_set_new(h, "at_text", web_time(json_object_get(h, "at")));
        /* Actions are named "talent.update"; their strings "talent_update". */
        char action[64];
        snprintf(action, sizeof action, "%s", web_str(h, "action"));
        for (char *c = action; *c; c++)
            if (*c == '.') *c = '_';
        json_object_set_new(h, "action_text", json_string(web_code_text(r, "actions", action)));
        /* A value stored twice (rent in yuan and in fen) is one field to a
         * reader: each label once. */
        json_t *names = json_array();
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(h, "changed"), k, c)
        {
            const char *label = web_code_text(r, field_group, json_string_value(c));
            int seen = 0;
            size_t m;
            json_t *prev;
            json_array_foreach(names, m, prev)
            {
                if (!strcmp(json_string_value(prev), label)) seen = 1;
            }
            if (!seen && *label) json_array_append_new(names, json_string(label));
        }
        json_object_set_new(h, "changed_text", names);
    }
    json_object_set_new(page, "has_history", json_boolean(json_array_size(history) > 0));
    json_object_set_new(page, "history", history);
}

void web_warnings(http_req *r, json_t *page, const reg_report *rep)
{
    if (!rep || !rep->warnings.n) return;
    json_t *w = json_array();
    for (int i = 0; i < rep->warnings.n; i++) {
        char relabelled[WEB_ERR_MESSAGE_MAX];
        const char *msg = web_err_message(r, page, &rep->warnings.e[i], relabelled, sizeof relabelled);
        json_array_append_new(
            w, json_string(web_tf(r, "registry.warning", "message", msg, (const char *)NULL)));
    }
    json_object_set_new(page, "warnings", w);
}

void web_export_links(json_t *page, const char *path, const char *keep, int masked)
{
    json_object_set_new(page, "keep", json_string(keep ? keep : ""));
    json_object_set_new(page, "export_path", json_string(path));
    json_object_set_new(page, "export_masked", json_boolean(masked));
}
