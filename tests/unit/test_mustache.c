/* test_mustache.c - unit tests for the Mustache engine: spec suite, errors, limits, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "web/mustache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* A loader over a JSON object whose members are template sources. */
static const char *json_loader(void *ctx, const char *name, size_t name_len, size_t *src_len)
{
    const json_t *v = json_object_getn((const json_t *)ctx, name, name_len);
    if (!json_is_string(v)) return NULL;
    *src_len = json_string_length(v);
    return json_string_value(v);
}

/* Prints s with control characters made visible. */
static void print_visible(const char *label, const char *s, size_t n)
{
    char line[4096];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < sizeof line; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            o += (size_t)snprintf(line + o, sizeof line - o, "\\n");
        else if (c == '\r')
            o += (size_t)snprintf(line + o, sizeof line - o, "\\r");
        else if (c == '\t')
            o += (size_t)snprintf(line + o, sizeof line - o, "\\t");
        else if (c < 0x20)
            o += (size_t)snprintf(line + o, sizeof line - o, "\\x%02x", c);
        else
            line[o++] = (char)c;
    }
    line[o] = '\0';
    print_message("    %-9s \"%s\"\n", label, line);
}

static const char *spec_dir(void)
{
    const char *d = getenv("QL_SPEC_DIR");
    return d && *d ? d : "tests/data/mustache-spec";
}

/* Runs every case of one spec file; fails if the file is missing or empty or
 * if any case's output differs from the expected output by a single byte. */
static void run_spec_file(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", spec_dir(), file);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) fail_msg("cannot load spec file %s: %s", path, jerr.text);
    json_t *tests = json_object_get(doc, "tests");
    size_t total = json_array_size(tests);
    if (!json_is_array(tests) || total == 0) {
        json_decref(doc);
        fail_msg("spec file %s has no test cases", path);
    }
    size_t run = 0, failed = 0;
    for (size_t i = 0; i < total; i++) {
        const json_t *tc = json_array_get(tests, i);
        const char *name = json_string_value(json_object_get(tc, "name"));
        const json_t *tpl = json_object_get(tc, "template");
        const json_t *exp = json_object_get(tc, "expected");
        const json_t *data = json_object_get(tc, "data");
        json_t *partials = json_object_get(tc, "partials");
        json_t *none = json_object();
        mus_env *env = mus_env_new(json_loader, partials ? partials : none);
        buf out;
        buf_init(&out, 0);
        ql_err err;
        ql_err_clear(&err);
        int rc = mus_render_source(env, json_string_value(tpl), json_string_length(tpl), data, &out,
                                   &err);
        size_t elen = json_string_length(exp);
        const char *e = json_string_value(exp);
        if (rc != 0 || out.len != elen || (elen && memcmp(out.data, e, elen) != 0)) {
            failed++;
            print_message("FAIL %s: \"%s\" (rc %d%s%s)\n", file, name ? name : "?", rc,
                          rc ? ": " : "", rc ? err.en : "");
            print_visible("template:", json_string_value(tpl), json_string_length(tpl));
            print_visible("expected:", e, elen);
            print_visible("got:", out.data ? out.data : "", out.len);
        }
        run++;
        buf_free(&out);
        mus_env_free(env);
        json_decref(none);
    }
    print_message("%s: %zu of %zu cases pass\n", file, run - failed, run);
    json_decref(doc);
    assert_int_equal(run, total);
    assert_int_equal(failed, 0);
}

static void test_spec_comments(void **state)
{
    (void)state;
    run_spec_file("comments.json");
}

static void test_spec_delimiters(void **state)
{
    (void)state;
    run_spec_file("delimiters.json");
}

static void test_spec_interpolation(void **state)
{
    (void)state;
    run_spec_file("interpolation.json");
}

static void test_spec_inverted(void **state)
{
    (void)state;
    run_spec_file("inverted.json");
}

static void test_spec_partials(void **state)
{
    (void)state;
    run_spec_file("partials.json");
}

static void test_spec_sections(void **state)
{
    (void)state;
    run_spec_file("sections.json");
}

static void test_spec_inheritance(void **state)
{
    (void)state;
    run_spec_file("~inheritance.json");
}

static void test_spec_dynamic_names(void **state)
{
    (void)state;
    run_spec_file("~dynamic-names.json");
}

/* Renders src with data (JSON text) and the partials (JSON object text). */
static int render(const char *src, const char *data_json, const char *partials_json, buf *out,
                  ql_err *err)
{
    json_t *data = json_loads(data_json ? data_json : "{}", JSON_DECODE_ANY, NULL);
    json_t *partials = json_loads(partials_json ? partials_json : "{}", 0, NULL);
    assert_non_null(data);
    assert_non_null(partials);
    mus_env *env = mus_env_new(json_loader, partials);
    ql_err_clear(err);
    int rc = mus_render_source(env, src, strlen(src), data, out, err);
    mus_env_free(env);
    json_decref(partials);
    json_decref(data);
    return rc;
}

/* Asserts that src renders to want. */
static void expect_render(const char *src, const char *data_json, const char *partials_json,
                          const char *want)
{
    buf out;
    buf_init(&out, 0);
    ql_err err;
    int rc = render(src, data_json, partials_json, &out, &err);
    if (rc != 0) print_message("render failed (%d): %s\n", rc, err.en);
    assert_int_equal(rc, 0);
    assert_string_equal(out.data ? out.data : "", want);
    buf_free(&out);
}

/* ---- escaping and values ------------------------------------------------ */

static void test_escaping(void **state)
{
    (void)state;
    const char *data = "{\"x\": \"a&b<c>d\\\"e'f\", \"apos\": \"it's\"}";
    expect_render("{{x}}", data, NULL, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    expect_render("{{apos}}", data, NULL, "it&#39;s");
    expect_render("{{{x}}}", data, NULL, "a&b<c>d\"e'f");
    expect_render("{{&x}}", data, NULL, "a&b<c>d\"e'f");
    expect_render("{{#apos}}{{.}}{{/apos}}", data, NULL, "it&#39;s");
    /* Text of the template itself is never escaped. */
    expect_render("<a href='x'>&amp;</a>", data, NULL, "<a href='x'>&amp;</a>");
}

static void test_values(void **state)
{
    (void)state;
    const char *data =
        "{\"a\": 1.210, \"b\": 85, \"c\": 100.0, \"d\": 1e21, \"e\": 0.1,"
        " \"f\": -2.5, \"g\": 1e-7, \"h\": 0.000001, \"i\": 123456789012.0,"
        " \"j\": -0.0, \"k\": true, \"l\": false, \"m\": null, \"n\": 0.30000000000000004}";
    expect_render("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}} {{i}} {{j}}", data, NULL,
                  "1.21 85 100 1e+21 0.1 -2.5 1e-7 0.000001 123456789012 0");
    expect_render("{{k}} {{l}} [{{m}}] {{n}}", data, NULL, "true false [] 0.30000000000000004");
    /* Falsey: missing, null, false, 0, "" and the empty list. */
    expect_render("{{#z}}0{{/z}}{{#s}}s{{/s}}{{#l}}l{{/l}}{{^z}}!z{{/z}}{{^s}}!s{{/s}}",
                  "{\"z\": 0, \"s\": \"\", \"l\": []}", NULL, "!z!s");
}

static void test_inheritance_extra(void **state)
{
    (void)state;
    /* The example of the block re-indentation proposal: indentation is
     * removed where a block is defined and added where it is expanded. */
    expect_render("{{<parent}}\n        {{$block}}\n        Hello\n        {{/block}}\n{{/parent}}",
                  NULL, "{\"parent\": \"I say,\\n  {{$block}}\\n  Hi there!\\n  {{/block}}\"}",
                  "I say,\n  Hello\n");
    expect_render("* a\n* {{<parent}}{{$block}}\n                {{! big indent }}\n"
                  "                c{{/block}}{{/parent}}\n* d\n",
                  NULL, "{\"parent\": \"{{$block}}x{{/block}}\"}", "* a\n* c\n* d\n");
    /* A standalone parent inside an indented partial gets both indentations. */
    expect_render("  {{>outer}}\n", NULL,
                  "{\"outer\": \"<div>\\n  {{<inner}}{{/inner}}\\n</div>\\n\","
                  " \"inner\": \"a\\nb\\n\"}",
                  "  <div>\n    a\n    b\n  </div>\n");
    /* An argument's own blocks are only replaced from further out. */
    expect_render("{{<p}}{{$a}}[{{$a}}inner{{/a}}]{{/a}}{{/p}}", NULL,
                  "{\"p\": \"{{$a}}default{{/a}}\"}", "[inner]");
}

/* ---- errors ------------------------------------------------------------- */

struct parse_case {
    const char *src;
    const char *where; /* "line L, column C" */
    const char *what;  /* part of the English message */
};

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"a\n{{#items}}\nx", "line 2, column 1", "section 'items' is not closed"},
        {"{{^none}}", "line 1, column 1", "inverted section 'none' is not closed"},
        {"x\n{{<layout}}\n{{$body}}b{{/body}}", "line 2, column 1",
         "parent 'layout' is not closed"},
        {"{{<layout}}\n  {{$body}}b\n", "line 2, column 3", "block 'body' is not closed"},
        {"{{#a}}\n  {{/b}}", "line 2, column 3", "closing tag 'b' does not match section 'a'"},
        {"ok\n\n  {{/x}}", "line 3, column 3", "closing tag 'x' has no opening tag"},
        {"ab\ncd {{name", "line 2, column 4", "tag is not closed"},
        {"ab {{{name}}", "line 1, column 4", "tag is not closed"},
        {"{{=<% %>=}}\n<%x", "line 2, column 1", "tag is not closed (no '%>')"},
        {"x {{}}", "line 1, column 3", "tag has no name"},
        {"{{# }}{{/ }}", "line 1, column 1", "tag has no name"},
        {"\n {{>}}", "line 2, column 2", "tag has no name"},
        {"{{> * }}", "line 1, column 1", "tag has no name"},
        {"{{&}}", "line 1, column 1", "tag has no name"},
        {"{{=<% %>}}", "line 1, column 1", "bad set-delimiter tag"},
        {"a\n  {{= x =}}", "line 2, column 3", "bad set-delimiter tag"},
        {"{{=a b c=}}", "line 1, column 1", "bad set-delimiter tag"},
        {"{{==}}", "line 1, column 1", "bad set-delimiter tag"},
        /* Columns count characters, not bytes. */
        {"中文{{#a}}", "line 1, column 3", "section 'a' is not closed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf out;
        buf_init(&out, 0);
        ql_err err;
        int rc = render(cases[i].src, NULL, NULL, &out, &err);
        buf_free(&out);
        if (rc != QL_EINVAL || !strstr(err.en, cases[i].where) || !strstr(err.en, cases[i].what))
            print_message("case %zu: rc %d, message \"%s\"\n", i, rc, err.en);
        assert_int_equal(rc, QL_EINVAL);
        assert_int_equal(err.code, QL_EINVAL);
        assert_non_null(strstr(err.en, "template '<source>' "));
        assert_non_null(strstr(err.en, cases[i].where));
        assert_non_null(strstr(err.en, cases[i].what));
        assert_string_equal(err.field, "<source>");
        assert_non_null(strstr(err.zh, "模板“<source>”"));
    }
}

/* The message format promised to the callers, in both languages. */
static void test_parse_error_message(void **state)
{
    (void)state;
    json_t *tpls =
        json_pack("{s:s}", "layout", "<html>\n<body>\n<ul>         {{#items}}<li>{{.}}</li>\n");
    mus_env *env = mus_env_new(json_loader, tpls);
    ql_err err;
    ql_err_clear(&err);
    assert_int_equal(mus_check(env, "layout", &err), QL_EINVAL);
    assert_string_equal(err.en,
                        "template 'layout' line 3, column 14: section 'items' is not closed");
    assert_string_equal(err.zh, "模板“layout”第 3 行第 14 列：区块“items”未闭合");
    assert_string_equal(err.field, "layout");
    mus_env_free(env);
    json_decref(tpls);
}

static void test_deep_recursion(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 0);
    ql_err err;
    /* A partial that includes itself unconditionally. */
    int rc = render("{{>loop}}", NULL, "{\"loop\": \"x{{>loop}}\"}", &out, &err);
    assert_int_equal(rc, QL_ETOOBIG);
    assert_non_null(strstr(err.en, "nest deeper than 64 levels"));
    buf_reset(&out);
    /* A parent that extends itself. */
    rc = render("{{<p}}{{/p}}", NULL, "{\"p\": \"{{<p}}{{$a}}{{/a}}{{/p}}\"}", &out, &err);
    assert_int_equal(rc, QL_ETOOBIG);
    buf_reset(&out);
    /* A dynamic partial that names itself. */
    rc = render("{{>*me}}", "{\"me\": \"self\"}", "{\"self\": \"{{>*me}}\"}", &out, &err);
    assert_int_equal(rc, QL_ETOOBIG);
    buf_free(&out);

    /* Recursion bounded by the data is fine up to 64 levels. */
    const char *partials = "{\"node\": \"<{{#child}}{{>node}}{{/child}}>\"}";
    for (int levels = 60; levels <= 66; levels++) {
        json_t *data = json_object();
        json_t *cur = data;
        for (int i = 1; i < levels; i++) {
            json_t *kid = json_object();
            json_object_set_new(cur, "child", kid);
            cur = kid;
        }
        json_object_set_new(cur, "child", json_null()); /* else lookups reach outer levels */
        char *djson = json_dumps(data, JSON_COMPACT);
        json_decref(data);
        buf_init(&out, 0);
        rc = render("{{>node}}", djson, partials, &out, &err);
        free(djson);
        if (levels <= 64) {
            assert_int_equal(rc, 0);
            assert_int_equal(out.len, (size_t)levels * 2);
        } else {
            assert_int_equal(rc, QL_ETOOBIG);
        }
        buf_free(&out);
    }
}

static void test_buf_limit(void **state)
{
    (void)state;
    const char *data = "{\"x\": \"0123456789\"}";
    buf out;
    buf_init(&out, 16);
    ql_err err;
    assert_int_equal(render("{{x}}", data, NULL, &out, &err), 0);
    assert_string_equal(out.data, "0123456789");
    buf_reset(&out);
    assert_int_equal(render("{{x}}{{x}}", data, NULL, &out, &err), QL_ETOOBIG);
    assert_int_equal(err.code, QL_ETOOBIG);
    assert_true(out.len <= 16);
    buf_reset(&out);
    /* Escaping expands the output; the limit still holds. */
    assert_int_equal(render("{{y}}", "{\"y\": \"<<<<<\"}", NULL, &out, &err), QL_ETOOBIG);
    buf_reset(&out);
    /* Text and indentation count too. */
    assert_int_equal(
        render("0123456789\n  {{>p}}\n", NULL, "{\"p\": \"a\\nb\\nc\\n\"}", &out, &err),
        QL_ETOOBIG);
    buf_free(&out);
}

static void test_unknown_template(void **state)
{
    (void)state;
    json_t *tpls = json_object();
    mus_env *env = mus_env_new(json_loader, tpls);
    buf out;
    buf_init(&out, 0);
    ql_err err;
    ql_err_clear(&err);
    assert_int_equal(mus_render(env, "nope", NULL, &out, &err), QL_ENOTFOUND);
    assert_int_equal(err.code, QL_ENOTFOUND);
    assert_string_equal(err.field, "nope");
    assert_non_null(strstr(err.en, "nope"));
    assert_int_equal(mus_check(env, "nope", &err), QL_ENOTFOUND);
    /* A missing partial renders as nothing. */
    assert_int_equal(mus_render_source(env, "[{{>nope}}]", 11, NULL, &out, &err), 0);
    assert_string_equal(out.data, "[]");
    buf_free(&out);
    mus_env_free(env);
    json_decref(tpls);
    /* An environment without a loader knows no templates. */
    env = mus_env_new(NULL, NULL);
    assert_int_equal(mus_check(env, "x", &err), QL_ENOTFOUND);
    mus_env_free(env);
    mus_env_free(NULL);
}

static void test_check(void **state)
{
    (void)state;
    json_t *tpls = json_pack("{s:s, s:s, s:s}", "good", "Hi {{name}}!{{>broken}}", "bad",
                             "line one\n{{#a}}\n{{/b}}\n", "broken", "{{oops");
    mus_env *env = mus_env_new(json_loader, tpls);
    ql_err err;
    ql_err_clear(&err);
    assert_int_equal(mus_check(env, "good", &err), 0);
    assert_int_equal(mus_check(env, "good", &err), 0); /* now from the cache */
    assert_int_equal(mus_check(env, "bad", &err), QL_EINVAL);
    assert_string_equal(err.field, "bad");
    assert_non_null(strstr(err.en, "template 'bad' line 3, column 1: closing tag 'b'"));
    /* A broken template is not cached: asking again gives the same error. */
    ql_err_clear(&err);
    assert_int_equal(mus_check(env, "bad", &err), QL_EINVAL);
    assert_string_equal(err.field, "bad");

    /* mus_check does not follow partials; rendering does, and names the partial. */
    buf out;
    buf_init(&out, 0);
    json_t *data = json_pack("{s:s}", "name", "Ann");
    assert_int_equal(mus_render(env, "good", data, &out, &err), QL_EINVAL);
    assert_string_equal(err.field, "broken");
    assert_non_null(strstr(err.en, "template 'broken' line 1, column 1: tag is not closed"));
    buf_free(&out);
    json_decref(data);
    mus_env_free(env);
    json_decref(tpls);
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS  200

struct thread_job {
    mus_env *env;
    const json_t *data;
    const char *want;
    pthread_barrier_t *start;
    int failures;
};

static void *render_thread(void *arg)
{
    struct thread_job *job = arg;
    pthread_barrier_wait(job->start);
    for (int i = 0; i < ROUNDS; i++) {
        buf out;
        buf_init(&out, 0);
        ql_err err;
        int rc = mus_render(job->env, "page", job->data, &out, &err);
        if (rc != 0 || !out.data || strcmp(out.data, job->want) != 0) job->failures++;
        buf_free(&out);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    json_t *tpls = json_pack(
        "{s:s, s:s, s:s}", "page",
        "{{<layout}}{{$title}}{{title}}{{/title}}{{$body}}\n<ul>\n  {{#items}}\n"
        "  {{>item}}\n  {{/items}}\n</ul>\n{{/body}}{{/layout}}\n",
        "layout",
        "<title>{{$title}}Untitled{{/title}}</title>\n<body>\n  {{$body}}\n  {{/body}}\n</body>\n",
        "item", "<li>{{name}} &amp; {{score}}</li>\n");
    json_t *data =
        json_loads("{\"title\": \"Jobs <&>\", \"items\": [{\"name\": \"A'1\", \"score\": 1.5},"
                   " {\"name\": \"B\\\"2\", \"score\": 2}]}",
                   0, NULL);
    assert_non_null(data);
    const char *want =
        "<title>Jobs &lt;&amp;&gt;</title>\n<body>\n  <ul>\n    <li>A&#39;1 &amp; 1.5</li>\n"
        "    <li>B&quot;2 &amp; 2</li>\n  </ul>\n</body>\n";

    /* The expected output, from an environment of its own. */
    mus_env *ref = mus_env_new(json_loader, tpls);
    buf out;
    buf_init(&out, 0);
    ql_err err;
    int rc = mus_render(ref, "page", data, &out, &err);
    if (rc) print_message("render failed: %s\n", err.en);
    assert_int_equal(rc, 0);
    assert_string_equal(out.data, want);
    buf_free(&out);
    mus_env_free(ref);

    /* A cold environment, so the threads also race to compile and cache. */
    mus_env *env = mus_env_new(json_loader, tpls);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    struct thread_job jobs[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct thread_job){env, data, want, &start, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, render_thread, &jobs[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        failures += jobs[i].failures;
    }
    pthread_barrier_destroy(&start);
    mus_env_free(env);
    json_decref(data);
    json_decref(tpls);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_comments),
        cmocka_unit_test(test_spec_delimiters),
        cmocka_unit_test(test_spec_interpolation),
        cmocka_unit_test(test_spec_inverted),
        cmocka_unit_test(test_spec_partials),
        cmocka_unit_test(test_spec_sections),
        cmocka_unit_test(test_spec_inheritance),
        cmocka_unit_test(test_spec_dynamic_names),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_inheritance_extra),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_message),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_buf_limit),
        cmocka_unit_test(test_unknown_template),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("mustache", tests, NULL, NULL);
}
