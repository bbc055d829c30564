/* mustache.c - Mustache template compiler, template cache and HTML-escaping renderer. */
#include "web/mustache.h"

#include "core/xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Overview
 *
 * A template is compiled once into an immutable tree of nodes that point into
 * the template source (the loader keeps that memory alive for the lifetime of
 * the environment). Whitespace rules are settled at compile time:
 *
 *  - A standalone tag (only whitespace around it on its line) removes its
 *    whole line: the whitespace before it and the line ending after it.
 *  - Every node that starts an output line carries the flag bol; while
 *    rendering, the current indentation is written before such a node. This
 *    is how a standalone partial indents every line of its template without
 *    touching interpolated data, and without re-parsing anything.
 *  - A parent tag pair {{<p}}...{{/p}} counts as one tag for the line it
 *    starts on and the line it ends on.
 *  - A block passed to a parent ({{$b}} directly inside {{<p}}) is a small
 *    template of its own: a line ending right after its opening tag belongs
 *    to the tag, the whitespace before its closing tag is dropped, and the
 *    indentation of its first line is removed from all of its lines.
 *  - Where a block is expanded, the argument is indented again: by the
 *    indentation of the default content when the opening tag is standalone,
 *    or by the whitespace before the tag (from the second line on) when only
 *    whitespace precedes it.
 *
 * Rendering walks the tree with a context stack (jansson values), an
 * indentation string and a chain of the parent tags being expanded, whose
 * block arguments replace the blocks of the parents. The outermost argument
 * for a name wins; an argument's own blocks can only be replaced by
 * arguments from further out.
 */

/* Limits that keep hostile or broken templates from exhausting stack or CPU. */
enum {
    MUS_MAX_PARTIAL_DEPTH = 64,  /* partials and parents inside each other */
    MUS_MAX_NESTING = 256,       /* open sections and blocks in one template */
    MUS_MAX_RENDER_DEPTH = 1024, /* nested node lists while rendering */
    MUS_NAME_SHOWN = 64,         /* bytes of a tag name quoted in an error */
};

/* Work one render may do (nodes visited, contexts searched) before it gives up. */
#define MUS_MAX_STEPS 20000000ul

struct strv {
    const char *p;
    size_t n;
};

enum node_kind {
    N_ROOT,
    N_TEXT,
    N_ESCAPED,
    N_RAW,
    N_SECTION,
    N_INVERTED,
    N_PARTIAL,
    N_PARENT,
    N_BLOCK,
};

/* How a block outside a parent tag pair indents the argument passed for it. */
enum block_mode {
    BLOCK_INLINE,     /* text precedes the tag on its line: no indentation */
    BLOCK_LEADING,    /* only whitespace precedes it: lines after the first get it */
    BLOCK_STANDALONE, /* the tag has its line to itself: every line gets the indent */
};

struct node {
    unsigned char kind;
    unsigned char mode; /* N_BLOCK: enum block_mode */
    bool bol;           /* the current indentation is written before this node */
    bool standalone;    /* N_PARTIAL, N_PARENT: the tag had its line to itself */
    bool dynamic;       /* N_PARTIAL, N_PARENT: the name is looked up in the data */
    bool dot;           /* the key is "." (top of the context stack) */
    struct strv text;   /* N_TEXT: the text; tags: the name as written */
    struct strv indent; /* standalone partial/parent, N_BLOCK: indentation to add */
    struct strv *seg;   /* the key split at dots */
    size_t nseg;
    struct node **kids;
    size_t nkids, ckids;
};

struct tmpl {
    char *name;
    size_t name_len;
    struct node root;
};

struct entry {
    struct entry *next;
    uint64_t hash;
    struct tmpl *t;
};

struct mus_env {
    mus_loader load;
    void *ctx;
    pthread_mutex_t mu;
    struct entry **tab;
    size_t nbuckets, count;
};

/* ---- small helpers ------------------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static struct strv trim(struct strv s)
{
    while (s.n && is_space(s.p[0])) s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1])) s.n--;
    return s;
}

static bool strv_eq(struct strv a, struct strv b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int shown(size_t n)
{
    return n > MUS_NAME_SHOWN ? MUS_NAME_SHOWN : (int)n;
}

/* ---- the tree ----------------------------------------------------------- */

static struct node *node_new(int kind)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = (unsigned char)kind;
    return n;
}

static void node_free(struct node *n);

static void node_clear(struct node *n)
{
    for (size_t i = 0; i < n->nkids; i++) node_free(n->kids[i]);
    free(n->kids);
    free(n->seg);
    n->kids = NULL;
    n->seg = NULL;
    n->nkids = n->ckids = n->nseg = 0;
}

static void node_free(struct node *n)
{
    if (!n) return;
    node_clear(n);
    free(n);
}

static void node_add(struct node *parent, struct node *kid)
{
    if (parent->nkids == parent->ckids) {
        parent->ckids = parent->ckids ? parent->ckids * 2 : 4;
        parent->kids = xrealloc(parent->kids, parent->ckids * sizeof *parent->kids);
    }
    parent->kids[parent->nkids++] = kid;
}

/* Splits a dotted name into the node's key. */
static void node_set_key(struct node *n, struct strv name)
{
    if (name.n == 1 && name.p[0] == '.') {
        n->dot = true;
        return;
    }
    size_t count = 1;
    for (size_t i = 0; i < name.n; i++) count += name.p[i] == '.';
    n->seg = xcalloc(count, sizeof *n->seg);
    size_t start = 0;
    for (size_t i = 0; i <= name.n; i++) {
        if (i == name.n || name.p[i] == '.') {
            n->seg[n->nseg].p = name.p + start;
            n->seg[n->nseg].n = i - start;
            n->nseg++;
            start = i + 1;
        }
    }
}

static void tmpl_free(struct tmpl *t)
{
    if (!t) return;
    node_clear(&t->root);
    free(t->name);
    free(t);
}

/* ---- the parser --------------------------------------------------------- */

enum frame_kind { F_ROOT, F_SECTION, F_BLOCK, F_PARENT, F_ARG };

struct frame {
    struct node *node;  /* the container being filled */
    int kind;           /* enum frame_kind */
    size_t pos;         /* offset of the opening tag */
    struct strv dedent; /* indentation removed from every line start inside */
    struct strv lead;   /* F_PARENT: whitespace before the tag, if only whitespace */
    bool lead_clear;    /* F_PARENT: only whitespace precedes the tag on its line */
    size_t content;     /* F_ARG: offset where the argument's content starts */
};

struct parser {
    const char *src;
    size_t len;
    const char *name; /* template name, NUL-terminated */
    struct strv otag, ctag;
    size_t pos; /* source consumed so far */
    bool bol;   /* the next node starts an output line */
    size_t nfr; /* frames in use; fr[nfr - 1] is innermost */
    ql_err *err;
    struct frame fr[MUS_MAX_NESTING + 1];
};

struct tag {
    size_t start, end; /* the whole tag, delimiters included */
    char sigil;        /* 0 for {{name}}, '{' for {{{name}}}, else # ^ / ! = > < $ & */
    struct strv body;  /* trimmed content after the sigil */
};

static int perr(const struct parser *p, size_t at, const char *fmt_en, const char *fmt_zh, ...)
    __attribute__((format(printf, 3, 5), format(printf, 4, 5)));

/* Fills the error for a parse failure at offset at: template, line, column. */
static int perr(const struct parser *p, size_t at, const char *fmt_en, const char *fmt_zh, ...)
{
    char en[200], zh[200];
    va_list ap, aq;
    va_start(ap, fmt_zh);
    va_copy(aq, ap);
    vsnprintf(en, sizeof en, fmt_en, ap);
    vsnprintf(zh, sizeof zh, fmt_zh, aq);
    va_end(aq);
    va_end(ap);
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        unsigned char c = (unsigned char)p->src[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++; /* columns count characters, not UTF-8 continuation bytes */
        }
    }
    return ql_errf(p->err, QL_EINVAL, p->name, "template '%s' line %zu, column %zu: %s%.0s",
                   "模板“%s”第 %zu 行第 %zu 列：%.0s%s", p->name, line, col, en, zh);
}

static struct frame *top(struct parser *p)
{
    return &p->fr[p->nfr - 1];
}

/* True if only blanks lie between the start of the line and offset at; *ls is
 * where those blanks start. Never looks back past what was already consumed. */
static bool left_clear(const struct parser *p, size_t at, size_t *ls)
{
    size_t i = at;
    while (i > p->pos && is_blank(p->src[i - 1])) i--;
    *ls = i;
    return i == 0 || p->src[i - 1] == '\n';
}

/* True if only blanks lie between offset at and the end of the line (or of
 * the source); *next is the start of the following line. */
static bool right_clear(const struct parser *p, size_t at, size_t *next)
{
    size_t i = at;
    while (i < p->len && is_blank(p->src[i])) i++;
    if (i == p->len) {
        *next = i;
        return true;
    }
    if (p->src[i] == '\n') {
        *next = i + 1;
        return true;
    }
    if (p->src[i] == '\r' && i + 1 < p->len && p->src[i + 1] == '\n') {
        *next = i + 2;
        return true;
    }
    return false;
}

/* Length of the part of s (at a line start) that matches the indentation prefix. */
static size_t dedent_len(const char *s, size_t n, struct strv prefix)
{
    size_t k = 0;
    while (k < n && k < prefix.n && s[k] == prefix.p[k]) k++;
    return k;
}

/* The blanks [from, to) at a line start, less the enclosing indentation prefix. */
static struct strv indent_at(struct parser *p, size_t from, size_t to)
{
    struct strv s = {p->src + from, to - from};
    size_t k = dedent_len(s.p, s.n, top(p)->dedent);
    s.p += k;
    s.n -= k;
    return s;
}

/* The blanks that start the line at offset at. */
static size_t blanks_from(const struct parser *p, size_t at)
{
    size_t i = at;
    while (i < p->len && is_blank(p->src[i])) i++;
    return i;
}

/* Appends a node to the innermost container. bol says whether it starts a line. */
static void attach(struct parser *p, struct node *n, bool bol)
{
    n->bol = bol;
    node_add(top(p)->node, n);
}

/* Appends a node that sits where the text left off, taking over the line start. */
static void attach_here(struct parser *p, struct node *n)
{
    attach(p, n, p->bol);
    p->bol = false;
}

/* Adds the source text [a, b) one line at a time. */
static void emit_text(struct parser *p, size_t a, size_t b)
{
    struct frame *f = top(p);
    if (f->kind == F_PARENT) return; /* text in a parent tag pair is ignored */
    while (a < b) {
        const char *nl = memchr(p->src + a, '\n', b - a);
        size_t e = nl ? (size_t)(nl - p->src) + 1 : b;
        size_t s = a;
        if (p->bol) s += dedent_len(p->src + s, e - s, f->dedent);
        if (s < e) {
            struct node *n = node_new(N_TEXT);
            n->text.p = p->src + s;
            n->text.n = e - s;
            attach_here(p, n);
        }
        if (nl) p->bol = true;
        a = e;
    }
}

/* Consumes a tag that produces no output by itself or stands for a whole
 * template (comment, set-delimiter, section tags, partial). If the tag is
 * standalone its line is removed and *indent (if asked) receives the
 * whitespace that preceded it. Returns whether it was standalone. */
static bool take_line(struct parser *p, const struct tag *tg, struct strv *indent)
{
    size_t ls, next;
    if (left_clear(p, tg->start, &ls) && right_clear(p, tg->end, &next)) {
        emit_text(p, p->pos, ls);
        if (indent) *indent = indent_at(p, ls, tg->start);
        p->pos = next;
        p->bol = true;
        return true;
    }
    emit_text(p, p->pos, tg->start);
    p->pos = tg->end;
    return false;
}

/* Reads the tag that starts at offset t (where the opening delimiter is). */
static int lex_tag(struct parser *p, size_t t, struct tag *tg)
{
    size_t i = t + p->otag.n;
    tg->start = t;
    if (i < p->len && p->src[i] == '{') {
        size_t from = i + 1;
        for (;;) {
            const char *c =
                from < p->len ? memmem(p->src + from, p->len - from, p->ctag.p, p->ctag.n) : NULL;
            if (!c) break;
            size_t at = (size_t)(c - p->src);
            if (at > i + 1 && p->src[at - 1] == '}') {
                tg->sigil = '{';
                tg->body = trim((struct strv){p->src + i + 1, at - 1 - (i + 1)});
                tg->end = at + p->ctag.n;
                return 0;
            }
            from = at + 1;
        }
        return perr(p, t, "tag is not closed (no '}%.*s')", "标签未闭合（缺少“}%.*s”）",
                    shown(p->ctag.n), p->ctag.p);
    }
    const char *c = i <= p->len ? memmem(p->src + i, p->len - i, p->ctag.p, p->ctag.n) : NULL;
    if (!c)
        return perr(p, t, "tag is not closed (no '%.*s')", "标签未闭合（缺少“%.*s”）",
                    shown(p->ctag.n), p->ctag.p);
    size_t at = (size_t)(c - p->src);
    struct strv body = trim((struct strv){p->src + i, at - i});
    tg->end = at + p->ctag.n;
    tg->sigil = 0;
    if (body.n && memchr("#^/!=><$&", body.p[0], 9)) {
        tg->sigil = body.p[0];
        body.p++;
        body.n--;
        body = trim(body);
    }
    tg->body = body;
    return 0;
}

/* Splits "*name" into the dynamic flag and the name. */
static struct strv tag_name(struct strv body, bool *dynamic)
{
    *dynamic = false;
    if (body.n && body.p[0] == '*') {
        *dynamic = true;
        body.p++;
        body.n--;
        body = trim(body);
    }
    return body;
}

static int set_delimiters(struct parser *p, const struct tag *tg)
{
    struct strv b = tg->body;
    if (b.n == 0 || b.p[b.n - 1] != '=') goto bad;
    b.n--;
    b = trim(b);
    size_t k = 0;
    while (k < b.n && !is_space(b.p[k])) k++;
    struct strv open = {b.p, k};
    struct strv close = trim((struct strv){b.p + k, b.n - k});
    if (open.n == 0 || close.n == 0) goto bad;
    for (size_t i = 0; i < close.n; i++)
        if (is_space(close.p[i])) goto bad;
    take_line(p, tg, NULL);
    p->otag = open;
    p->ctag = close;
    return 0;
bad:
    return perr(p, tg->start, "bad set-delimiter tag (expected {{=open close=}})",
                "分隔符设置标签无效（应为 {{=开始 结束=}}）");
}

static int check_nesting(struct parser *p, const struct tag *tg)
{
    if (p->nfr > MUS_MAX_NESTING)
        return perr(p, tg->start, "sections nest deeper than %d levels", "区块嵌套超过 %d 层",
                    MUS_MAX_NESTING);
    return 0;
}

static struct frame *push(struct parser *p, struct node *n, int kind, size_t pos)
{
    struct frame *outer = top(p);
    struct frame *f = &p->fr[p->nfr++];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->kind = kind;
    f->pos = pos;
    f->dedent = outer->dedent;
    return f;
}

static int open_section(struct parser *p, const struct tag *tg)
{
    int rc = check_nesting(p, tg);
    if (rc) return rc;
    struct node *n = node_new(tg->sigil == '#' ? N_SECTION : N_INVERTED);
    n->text = tg->body;
    node_set_key(n, tg->body);
    if (take_line(p, tg, NULL))
        attach(p, n, false);
    else
        attach_here(p, n);
    push(p, n, F_SECTION, tg->start);
    return 0;
}

static int open_parent(struct parser *p, const struct tag *tg)
{
    int rc = check_nesting(p, tg);
    if (rc) return rc;
    struct node *n = node_new(N_PARENT);
    n->text = tg->body;
    struct strv name = tag_name(tg->body, &n->dynamic);
    if (n->dynamic) node_set_key(n, name);
    size_t ls;
    bool lc = left_clear(p, tg->start, &ls);
    struct strv lead = {NULL, 0};
    if (lc) {
        /* The whitespace is held back until the closing tag shows whether the
         * pair is standalone (then it is indentation) or not (then it is text). */
        emit_text(p, p->pos, ls);
        lead = indent_at(p, ls, tg->start);
    } else {
        emit_text(p, p->pos, tg->start);
    }
    attach_here(p, n);
    struct frame *f = push(p, n, F_PARENT, tg->start);
    f->lead = lead;
    f->lead_clear = lc;
    p->pos = tg->end;
    return 0;
}

static int open_block(struct parser *p, const struct tag *tg)
{
    int rc = check_nesting(p, tg);
    if (rc) return rc;
    struct node *n = node_new(N_BLOCK);
    n->text = tg->body;
    size_t ls, next;
    if (top(p)->kind == F_PARENT) {
        /* An argument for the parent: a small template of its own. */
        attach(p, n, false);
        struct frame *f = push(p, n, F_ARG, tg->start);
        if (right_clear(p, tg->end, &next)) {
            f->content = next;
            f->dedent = (struct strv){p->src + next, blanks_from(p, next) - next};
        } else {
            f->content = tg->end;
            f->dedent = (struct strv){NULL, 0};
        }
        p->pos = f->content;
        p->bol = true;
        return 0;
    }
    bool lc = left_clear(p, tg->start, &ls);
    if (lc && right_clear(p, tg->end, &next)) {
        emit_text(p, p->pos, ls);
        n->mode = BLOCK_STANDALONE;
        n->indent = indent_at(p, next, blanks_from(p, next));
        attach(p, n, false);
        p->pos = next;
        p->bol = true;
    } else {
        emit_text(p, p->pos, tg->start);
        if (lc) {
            n->mode = BLOCK_LEADING;
            n->indent = indent_at(p, ls, tg->start);
        } else {
            n->mode = BLOCK_INLINE;
        }
        attach_here(p, n);
        p->pos = tg->end;
    }
    push(p, n, F_BLOCK, tg->start);
    return 0;
}

/* Keeps only the block arguments of a parent tag pair. */
static void keep_arguments(struct node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        if (n->kids[i]->kind == N_BLOCK)
            n->kids[k++] = n->kids[i];
        else
            node_free(n->kids[i]);
    }
    n->nkids = k;
}

static const char *kind_en(int kind)
{
    switch (kind) {
    case N_INVERTED:
        return "inverted section";
    case N_PARENT:
        return "parent";
    case N_BLOCK:
        return "block";
    default:
        return "section";
    }
}

static const char *kind_zh(int kind)
{
    switch (kind) {
    case N_INVERTED:
        return "反向区块";
    case N_PARENT:
        return "父模板";
    case N_BLOCK:
        return "块";
    default:
        return "区块";
    }
}

static bool close_matches(const struct node *n, struct strv body)
{
    if (n->kind != N_PARENT) return strv_eq(n->text, body);
    bool d1, d2;
    struct strv a = tag_name(n->text, &d1), b = tag_name(body, &d2);
    return d1 == d2 && strv_eq(a, b);
}

static int close_tag(struct parser *p, const struct tag *tg)
{
    struct frame *f = top(p);
    if (p->nfr == 1)
        return perr(p, tg->start, "closing tag '%.*s' has no opening tag",
                    "结束标签“%.*s”没有对应的开始标签", shown(tg->body.n), tg->body.p);
    if (!close_matches(f->node, tg->body))
        return perr(p, tg->start, "closing tag '%.*s' does not match %s%.0s '%.*s'",
                    "结束标签“%.*s”与%.0s%s“%.*s”不匹配", shown(tg->body.n), tg->body.p,
                    kind_en(f->node->kind), kind_zh(f->node->kind), shown(f->node->text.n),
                    f->node->text.p);
    size_t ls, next;
    switch (f->kind) {
    case F_ARG: {
        /* Blanks before the closing tag on its own line are not content. */
        bool clear = left_clear(p, tg->start, &ls) || ls == f->content;
        emit_text(p, p->pos, clear ? ls : tg->start);
        p->pos = tg->end;
        p->nfr--;
        p->bol = false;
        return 0;
    }
    case F_PARENT: {
        struct node *n = f->node;
        bool rc = right_clear(p, tg->end, &next);
        bool pair = f->lead_clear && rc;
        bool alone = rc && left_clear(p, tg->start, &ls);
        struct strv lead = f->lead;
        bool lead_clear = f->lead_clear;
        keep_arguments(n);
        p->nfr--;
        if (pair) {
            n->standalone = true;
            n->indent = lead;
            n->bol = false;
        } else if (lead_clear && lead.n) {
            /* Not standalone after all: the held-back whitespace is text. */
            struct node *outer = top(p)->node;
            struct node *t = node_new(N_TEXT);
            t->text = lead;
            t->bol = n->bol;
            n->bol = false;
            node_add(outer, t);
            outer->kids[outer->nkids - 1] = n;
            outer->kids[outer->nkids - 2] = t;
        }
        if (pair || alone) {
            p->pos = next;
            p->bol = true;
        } else {
            p->pos = tg->end;
            p->bol = false;
        }
        return 0;
    }
    default:
        if (left_clear(p, tg->start, &ls) && right_clear(p, tg->end, &next)) {
            emit_text(p, p->pos, ls);
            p->pos = next;
            p->nfr--;
            p->bol = true;
        } else {
            emit_text(p, p->pos, tg->start);
            if (p->bol) {
                /* The line starts with this closing tag: keep its indentation
                 * inside the section, where the line begins. */
                struct node *t = node_new(N_TEXT);
                t->text = (struct strv){p->src + tg->start, 0};
                attach_here(p, t);
            }
            p->pos = tg->end;
            p->nfr--;
            p->bol = false;
        }
        return 0;
    }
}

static int handle_tag(struct parser *p, const struct tag *tg)
{
    if (tg->sigil != '!' && tg->sigil != '=' && tg->body.n == 0)
        return perr(p, tg->start, "tag has no name", "标签缺少名称");
    switch (tg->sigil) {
    case '!':
        take_line(p, tg, NULL);
        return 0;
    case '=':
        return set_delimiters(p, tg);
    case '#':
    case '^':
        return open_section(p, tg);
    case '/':
        return close_tag(p, tg);
    case '<':
        return open_parent(p, tg);
    case '$':
        return open_block(p, tg);
    case '>': {
        struct node *n = node_new(N_PARTIAL);
        n->text = tag_name(tg->body, &n->dynamic);
        if (n->dynamic) node_set_key(n, n->text);
        struct strv indent = {NULL, 0};
        if (take_line(p, tg, &indent)) {
            n->standalone = true;
            n->indent = indent;
            attach(p, n, false);
        } else {
            attach_here(p, n);
        }
        return 0;
    }
    default: {
        struct node *n = node_new(tg->sigil == 0 ? N_ESCAPED : N_RAW);
        n->text = tg->body;
        node_set_key(n, tg->body);
        emit_text(p, p->pos, tg->start);
        attach_here(p, n);
        p->pos = tg->end;
        return 0;
    }
    }
}

static int parse(struct parser *p)
{
    while (p->pos < p->len) {
        const char *o = memmem(p->src + p->pos, p->len - p->pos, p->otag.p, p->otag.n);
        if (!o) {
            emit_text(p, p->pos, p->len);
            p->pos = p->len;
            break;
        }
        struct tag tg = {0};
        int rc = lex_tag(p, (size_t)(o - p->src), &tg);
        if (rc) return rc;
        if (tg.sigil == '>' || tg.sigil == '<') {
            bool dyn;
            if (tag_name(tg.body, &dyn).n == 0)
                return perr(p, tg.start, "tag has no name", "标签缺少名称");
        }
        rc = handle_tag(p, &tg);
        if (rc) return rc;
    }
    if (p->nfr > 1) {
        const struct frame *f = top(p);
        return perr(p, f->pos, "%s%.0s '%.*s' is not closed", "%.0s%s“%.*s”未闭合",
                    kind_en(f->node->kind), kind_zh(f->node->kind), shown(f->node->text.n),
                    f->node->text.p);
    }
    return 0;
}

/* Compiles src (len bytes, kept alive by the caller) as the template name. */
static int compile(const char *name, size_t name_len, const char *src, size_t len,
                   struct tmpl **out, ql_err *err)
{
    struct tmpl *t = xcalloc(1, sizeof *t);
    t->name = xstrndup(name, name_len);
    t->name_len = name_len;
    t->root.kind = N_ROOT;
    struct parser *p = xcalloc(1, sizeof *p);
    p->src = src ? src : "";
    p->len = src ? len : 0;
    p->name = t->name;
    p->otag = (struct strv){"{{", 2};
    p->ctag = (struct strv){"}}", 2};
    p->bol = true;
    p->err = err;
    p->nfr = 1;
    p->fr[0].node = &t->root;
    p->fr[0].kind = F_ROOT;
    int rc = parse(p);
    free(p);
    if (rc) {
        tmpl_free(t);
        *out = NULL;
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- the environment and its cache -------------------------------------- */

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

mus_env *mus_env_new(mus_loader load, void *ctx)
{
    mus_env *env = xcalloc(1, sizeof *env);
    env->load = load;
    env->ctx = ctx;
    env->nbuckets = 16;
    env->tab = xcalloc(env->nbuckets, sizeof *env->tab);
    pthread_mutex_init(&env->mu, NULL);
    return env;
}

void mus_env_free(mus_env *env)
{
    if (!env) return;
    for (size_t i = 0; i < env->nbuckets; i++) {
        struct entry *e = env->tab[i];
        while (e) {
            struct entry *next = e->next;
            tmpl_free(e->t);
            free(e);
            e = next;
        }
    }
    free(env->tab);
    pthread_mutex_destroy(&env->mu);
    free(env);
}

/* Caller holds env->mu. */
static struct tmpl *cache_find(const mus_env *env, uint64_t h, const char *name, size_t len)
{
    for (const struct entry *e = env->tab[h % env->nbuckets]; e; e = e->next) {
        if (e->hash == h && e->t->name_len == len && memcmp(e->t->name, name, len) == 0)
            return e->t;
    }
    return NULL;
}

/* Caller holds env->mu. */
static void cache_insert(mus_env *env, uint64_t h, struct tmpl *t)
{
    if (env->count >= env->nbuckets) {
        size_t nb = env->nbuckets * 2;
        struct entry **tab = xcalloc(nb, sizeof *tab);
        for (size_t i = 0; i < env->nbuckets; i++) {
            struct entry *e = env->tab[i];
            while (e) {
                struct entry *next = e->next;
                e->next = tab[e->hash % nb];
                tab[e->hash % nb] = e;
                e = next;
            }
        }
        free(env->tab);
        env->tab = tab;
        env->nbuckets = nb;
    }
    struct entry *e = xmalloc(sizeof *e);
    e->hash = h;
    e->t = t;
    e->next = env->tab[h % env->nbuckets];
    env->tab[h % env->nbuckets] = e;
    env->count++;
}

/* Finds the named template, compiling and caching it on first use. *out is
 * NULL if the loader does not know the name. Returns 0 or QL_EINVAL. */
static int env_get(mus_env *env, const char *name, size_t len, const struct tmpl **out, ql_err *err)
{
    uint64_t h = hash_name(name, len);
    size_t slen = 0;
    const char *src = NULL;
    pthread_mutex_lock(&env->mu);
    const struct tmpl *t = cache_find(env, h, name, len);
    if (!t && env->load) src = env->load(env->ctx, name, len, &slen);
    pthread_mutex_unlock(&env->mu);
    *out = t;
    if (t || !src) return 0;

    struct tmpl *nt;
    int rc = compile(name, len, src, slen, &nt, err);
    if (rc) return rc;
    pthread_mutex_lock(&env->mu);
    t = cache_find(env, h, name, len);
    if (!t) {
        cache_insert(env, h, nt);
        t = nt;
        nt = NULL;
    }
    pthread_mutex_unlock(&env->mu);
    tmpl_free(nt); /* another thread cached it first */
    *out = t;
    return 0;
}

int mus_check(mus_env *env, const char *name, ql_err *err)
{
    const struct tmpl *t;
    int rc = env_get(env, name, strlen(name), &t, err);
    if (rc) return rc;
    if (!t)
        return ql_errf(err, QL_ENOTFOUND, name, "template '%s' not found", "找不到模板“%s”", name);
    return 0;
}

/* ---- rendering ---------------------------------------------------------- */

/* A parent tag being expanded; its block arguments replace blocks. */
struct ovr {
    const struct node *parent;
    const struct ovr *outer;
};

struct render {
    mus_env *env;
    buf *out;
    ql_err *err;
    const char *tname; /* template being rendered, for errors */
    const json_t **ctx;
    size_t nctx, cctx;
    char *ind; /* indentation; the part in use is ind[ind_base, ind_len) */
    size_t ind_len, ind_cap, ind_base;
    bool skip;      /* the next line start is on a line already indented... */
    size_t skip_to; /* ...up to this much of ind */
    const struct ovr *ovr;
    int partials, depth;
    unsigned long steps;
};

static int too_big(struct render *r)
{
    return ql_errf(r->err, QL_ETOOBIG, r->tname,
                   "template '%s': the output is larger than %zu bytes",
                   "模板“%s”：输出超过 %zu 字节", r->tname, r->out->limit);
}

static int put(struct render *r, const char *s, size_t n)
{
    if (n && buf_append(r->out, s, n)) return too_big(r);
    return 0;
}

static int put_escaped(struct render *r, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e;
        switch (s[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            continue;
        }
        if (put(r, s + start, i - start) || put(r, e, strlen(e))) return QL_ETOOBIG;
        start = i + 1;
    }
    return put(r, s + start, n - start);
}

/* Writes d in the shortest form that reads back as the same double, in plain
 * decimal notation unless the exponent is very large or small (like JavaScript). */
static size_t format_real(double d, char *out, size_t cap)
{
    char e[48], dig[24];
    size_t nd = 0, o = 0;
    if (d != d || d - d != 0) return 0; /* NaN or infinite: not representable in JSON */
    if (d == 0) return (size_t)snprintf(out, cap, "0");
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d) break;
    }
    const char *s = e;
    bool neg = *s == '-';
    if (neg) s++;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '0' && *s <= '9' && nd < sizeof dig) dig[nd++] = *s;
    long ex = *s ? strtol(s + 1, NULL, 10) : 0;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    if (nd == 0) dig[nd++] = '0';
    char tmp[64];
    if (neg) tmp[o++] = '-';
    if (ex >= -6 && ex < 21) {
        if (ex < 0) {
            tmp[o++] = '0';
            tmp[o++] = '.';
            for (long z = 0; z < -ex - 1; z++) tmp[o++] = '0';
            memcpy(tmp + o, dig, nd);
            o += nd;
        } else if ((size_t)ex + 1 >= nd) {
            memcpy(tmp + o, dig, nd);
            o += nd;
            for (size_t z = nd; z < (size_t)ex + 1; z++) tmp[o++] = '0';
        } else {
            memcpy(tmp + o, dig, (size_t)ex + 1);
            o += (size_t)ex + 1;
            tmp[o++] = '.';
            memcpy(tmp + o, dig + ex + 1, nd - (size_t)ex - 1);
            o += nd - (size_t)ex - 1;
        }
    } else {
        tmp[o++] = dig[0];
        if (nd > 1) {
            tmp[o++] = '.';
            memcpy(tmp + o, dig + 1, nd - 1);
            o += nd - 1;
        }
        o += (size_t)snprintf(tmp + o, sizeof tmp - o, "e%c%ld", ex < 0 ? '-' : '+',
                              ex < 0 ? -ex : ex);
    }
    if (o >= cap) o = cap - 1;
    memcpy(out, tmp, o);
    out[o] = '\0';
    return o;
}

static int put_value(struct render *r, const json_t *v, bool escape)
{
    char num[64];
    size_t n;
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (escape) return put_escaped(r, json_string_value(v), json_string_length(v));
        return put(r, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return put(r, num, n);
    case JSON_REAL:
        n = format_real(json_real_value(v), num, sizeof num);
        return put(r, num, n);
    case JSON_TRUE:
        return put(r, "true", 4);
    case JSON_FALSE:
        return put(r, "false", 5);
    default:
        return 0; /* null, objects and arrays render as nothing */
    }
}

/* Falsey values: missing, null, false, 0, "" and the empty list. */
static bool truthy(const json_t *v)
{
    if (!v) return false;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    default:
        return true;
    }
}

/* Resolves the node's key against the context stack; NULL if missing. Each
 * context searched counts as a step of the render. */
static const json_t *lookup(struct render *r, const struct node *n)
{
    if (n->dot) return r->nctx ? r->ctx[r->nctx - 1] : NULL;
    if (n->nseg == 0) return NULL;
    const json_t *v = NULL;
    for (size_t i = r->nctx; i-- > 0;) {
        r->steps++;
        if (json_is_object(r->ctx[i])) {
            v = json_object_getn(r->ctx[i], n->seg[0].p, n->seg[0].n);
            if (v) break;
        }
    }
    for (size_t k = 1; v && k < n->nseg; k++)
        v = json_is_object(v) ? json_object_getn(v, n->seg[k].p, n->seg[k].n) : NULL;
    return v;
}

static void ctx_push(struct render *r, const json_t *v)
{
    if (r->nctx == r->cctx) {
        r->cctx = r->cctx ? r->cctx * 2 : 16;
        r->ctx = xrealloc(r->ctx, r->cctx * sizeof *r->ctx);
    }
    r->ctx[r->nctx++] = v;
}

static void ind_push(struct render *r, struct strv s)
{
    if (r->ind_len + s.n > r->ind_cap) {
        size_t cap = r->ind_cap ? r->ind_cap : 64;
        while (cap < r->ind_len + s.n) cap *= 2;
        r->ind = xrealloc(r->ind, cap);
        r->ind_cap = cap;
    }
    if (s.n) memcpy(r->ind + r->ind_len, s.p, s.n);
    r->ind_len += s.n;
}

static int put_indent(struct render *r)
{
    size_t from = r->ind_base;
    if (r->skip) {
        r->skip = false;
        if (r->skip_to > from) from = r->skip_to;
    }
    return r->ind_len > from ? put(r, r->ind + from, r->ind_len - from) : 0;
}

/* Indentation state saved around a nested template or block argument. */
struct ind_save {
    size_t len, base, skip_to;
    bool skip;
};

static struct ind_save ind_save(const struct render *r)
{
    return (struct ind_save){r->ind_len, r->ind_base, r->skip_to, r->skip};
}

static void ind_restore(struct render *r, struct ind_save s)
{
    r->ind_len = s.len;
    r->ind_base = s.base;
    r->skip_to = s.skip_to;
    r->skip = s.skip;
}

static int render_node(struct render *r, const struct node *n);

static int render_list(struct render *r, struct node *const *kids, size_t n)
{
    if (r->depth >= MUS_MAX_RENDER_DEPTH)
        return ql_errf(r->err, QL_ETOOBIG, r->tname,
                       "template '%s': sections, blocks and partials nest deeper than %d levels",
                       "模板“%s”：区块、块与局部模板嵌套超过 %d 层", r->tname,
                       MUS_MAX_RENDER_DEPTH);
    r->depth++;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = render_node(r, kids[i]);
    r->depth--;
    return rc;
}

/* Renders t's tree as a nested template (partial or parent). */
static int render_template(struct render *r, const struct tmpl *t)
{
    if (r->partials >= MUS_MAX_PARTIAL_DEPTH)
        return ql_errf(r->err, QL_ETOOBIG, t->name,
                       "template '%s': partials and parents nest deeper than %d levels",
                       "模板“%s”：局部模板与父模板嵌套超过 %d 层", t->name, MUS_MAX_PARTIAL_DEPTH);
    const char *saved = r->tname;
    r->partials++;
    r->tname = t->name;
    int rc = render_list(r, t->root.kids, t->root.nkids);
    r->tname = saved;
    r->partials--;
    return rc;
}

/* The template a partial or parent tag names; *t is NULL if there is none. */
static int named_template(struct render *r, const struct node *n, const struct tmpl **t)
{
    *t = NULL;
    if (!n->dynamic) return env_get(r->env, n->text.p, n->text.n, t, r->err);
    const json_t *v = lookup(r, n);
    if (!json_is_string(v)) return 0;
    return env_get(r->env, json_string_value(v), json_string_length(v), t, r->err);
}

static int render_include(struct render *r, const struct node *n)
{
    const struct tmpl *t;
    int rc = named_template(r, n, &t);
    if (rc || !t) return rc;
    struct ind_save s = ind_save(r);
    const struct ovr *saved = r->ovr;
    struct ovr frame = {n, r->ovr};
    if (n->standalone)
        ind_push(r, n->indent);
    else
        r->ind_base = r->ind_len; /* inline: the template's lines are not indented */
    if (n->kind == N_PARENT) r->ovr = &frame;
    rc = render_template(r, t);
    r->ovr = saved;
    ind_restore(r, s);
    return rc;
}

static int render_block(struct render *r, const struct node *n)
{
    const struct node *arg = NULL;
    const struct ovr *from = NULL;
    for (const struct ovr *f = r->ovr; f; f = f->outer) {
        for (size_t i = 0; i < f->parent->nkids; i++) {
            const struct node *k = f->parent->kids[i];
            r->steps++;
            if (strv_eq(k->text, n->text)) {
                arg = k; /* keep going: the outermost argument wins */
                from = f;
                break;
            }
        }
    }
    if (!arg) return render_list(r, n->kids, n->nkids);
    struct ind_save s = ind_save(r);
    const struct ovr *saved = r->ovr;
    r->ovr = from->outer;
    switch (n->mode) {
    case BLOCK_STANDALONE:
        ind_push(r, n->indent);
        r->skip = false;
        break;
    case BLOCK_LEADING:
        ind_push(r, n->indent);
        r->skip = true;
        r->skip_to = r->ind_len;
        break;
    default:
        r->ind_base = r->ind_len;
        break;
    }
    int rc = render_list(r, arg->kids, arg->nkids);
    r->ovr = saved;
    ind_restore(r, s);
    return rc;
}

static int render_node(struct render *r, const struct node *n)
{
    if (++r->steps > MUS_MAX_STEPS)
        return ql_errf(r->err, QL_ETOOBIG, r->tname,
                       "template '%s': rendering takes more than %lu steps",
                       "模板“%s”：渲染超过 %lu 步", r->tname, MUS_MAX_STEPS);
    if (n->bol && put_indent(r)) return QL_ETOOBIG;
    const json_t *v;
    int rc = 0;
    switch (n->kind) {
    case N_TEXT:
        r->skip = false;
        return put(r, n->text.p, n->text.n);
    case N_ESCAPED:
    case N_RAW:
        r->skip = false;
        v = lookup(r, n);
        return v ? put_value(r, v, n->kind == N_ESCAPED) : 0;
    case N_SECTION:
        v = lookup(r, n);
        if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
                ctx_push(r, json_array_get(v, i));
                rc = render_list(r, n->kids, n->nkids);
                r->nctx--;
            }
        } else if (truthy(v)) {
            ctx_push(r, v);
            rc = render_list(r, n->kids, n->nkids);
            r->nctx--;
        }
        return rc;
    case N_INVERTED:
        return truthy(lookup(r, n)) ? 0 : render_list(r, n->kids, n->nkids);
    case N_PARTIAL:
    case N_PARENT:
        return render_include(r, n);
    case N_BLOCK:
        return render_block(r, n);
    default:
        return 0;
    }
}

static int render_top(mus_env *env, const struct tmpl *t, const json_t *data, buf *out, ql_err *err)
{
    struct render r;
    memset(&r, 0, sizeof r);
    r.env = env;
    r.out = out;
    r.err = err;
    r.tname = t->name;
    ctx_push(&r, data);
    int rc = render_list(&r, t->root.kids, t->root.nkids);
    free(r.ctx);
    free(r.ind);
    return rc;
}

int mus_render(mus_env *env, const char *name, const json_t *data, buf *out, ql_err *err)
{
    const struct tmpl *t;
    int rc = env_get(env, name, strlen(name), &t, err);
    if (rc) return rc;
    if (!t)
        return ql_errf(err, QL_ENOTFOUND, name, "template '%s' not found", "找不到模板“%s”", name);
    return render_top(env, t, data, out, err);
}

int mus_render_source(mus_env *env, const char *src, size_t len, const json_t *data, buf *out,
                      ql_err *err)
{
    static const char anon[] = "<source>";
    struct tmpl *t;
    int rc = compile(anon, sizeof anon - 1, src, len, &t, err);
    if (rc) return rc;
    rc = render_top(env, t, data, out, err);
    tmpl_free(t);
    return rc;
}
