/* test_i18n.c - the console's strings (i18n/zh-CN.json, i18n/en.json, as
 * compiled into the binary): both languages have the same keys, each pair
 * of texts the same {{placeholders}}, and every {{t.…}} a template names
 * is a text in both. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/embed.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *load(const char *path)
{
    const struct embedded_file *f = embed_find(path);
    if (!f) fail_msg("%s is not compiled in", path);
    json_error_t e;
    json_t *j = json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j)) fail_msg("%s: %s at line %d", path, e.text, e.line);
    return j;
}

/* The {{name}} placeholders of s, sorted, one after another ("a;b;"). */
static void placeholders(const char *s, char *out, size_t n)
{
    char names[32][48];
    int k = 0;
    for (const char *p = s; (p = strstr(p, "{{")) && k < 32;) {
        const char *e = strstr(p, "}}");
        if (!e) break;
        snprintf(names[k++], sizeof names[0], "%.*s", (int)(e - p - 2), p + 2);
        p = e + 2;
    }
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[48];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < k && o < n; i++) o += (size_t)snprintf(out + o, n - o, "%s;", names[i]);
}

/* Every key of a is in b with the same kind, and texts have the same
 * placeholders. */
static void same_shape(json_t *a, json_t *b, const char *path, const char *an, const char *bn)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        char p[256];
        snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "." : "", k);
        json_t *w = json_object_get(b, k);
        if (!w) fail_msg("%s has %s, %s does not", an, p, bn);
        if (json_is_object(v) != json_is_object(w) || json_is_string(v) != json_is_string(w))
            fail_msg("%s is a text in one language and a group in the other", p);
        if (json_is_object(v)) {
            same_shape(v, w, p, an, bn);
        } else if (json_is_string(v)) {
            char x[512], y[512];
            placeholders(json_string_value(v), x, sizeof x);
            placeholders(json_string_value(w), y, sizeof y);
            if (strcmp(x, y)) fail_msg("%s: placeholders %s in %s, %s in %s", p, x, an, y, bn);
        }
    }
}

static void test_languages_match(void **state)
{
    (void)state;
    json_t *zh = load("i18n/zh-CN.json"), *en = load("i18n/en.json");
    same_shape(zh, en, "", "zh-CN", "en");
    same_shape(en, zh, "", "en", "zh-CN");
    json_decref(zh);
    json_decref(en);
}

/* The text at a dotted path, or NULL. */
static json_t *lookup(json_t *root, const char *path, size_t n)
{
    json_t *j = root;
    const char *p = path, *end = path + n;
    while (j && p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
        j = json_object_getn(j, p, l);
        p += l + 1;
    }
    return j;
}

static void test_templates_name_texts_that_exist(void **state)
{
    (void)state;
    json_t *zh = load("i18n/zh-CN.json"), *en = load("i18n/en.json");
    int templates = 0, refs = 0;
    for (unsigned long i = 0; i < embedded_count; i++) {
        const struct embedded_file *f = &embedded_files[i];
        if (strncmp(f->path, "templates/", 10)) continue;
        templates++;
        const char *s = f->data, *end = f->data + f->len;
        for (const char *p = s; p < end && (p = memmem(p, (size_t)(end - p), "{{", 2));) {
            p += 2;
            while (p < end && (*p == '#' || *p == '^' || *p == '/' || *p == '&' || *p == ' ')) p++;
            if (end - p < 2 || strncmp(p, "t.", 2)) continue;
            const char *q = p + 2;
            while (q < end && *q != '}' && *q != ' ') q++;
            refs++;
            json_t *a = lookup(zh, p + 2, (size_t)(q - p - 2)),
                   *b = lookup(en, p + 2, (size_t)(q - p - 2));
            if (!json_is_string(a) || !json_is_string(b))
                fail_msg("%s names {{%.*s}}, which is not a text in both languages", f->path,
                         (int)(q - p), p);
        }
    }
    assert_true(templates > 10);
    assert_true(refs > 100);
    json_decref(zh);
    json_decref(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_languages_match),
        cmocka_unit_test(test_templates_name_texts_that_exist),
    };
    return cmocka_run_group_tests_name("i18n", tests, NULL, NULL);
}
