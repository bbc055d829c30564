/* pii.c - sealing, blind indexes and masks for personal data. */
#include "core/pii.h"

#include "core/keys.h"
#include "core/validate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sealed layout: version (1 byte, 1) | key fingerprint (4) | nonce (24) |
 * ciphertext with tag. The associated data is the kind's name, so a value
 * cannot be moved to another column. */
#define SEAL_VERSION 1
#define FP_BYTES 4
#define HEADER (1 + FP_BYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define MAX_KEYS 32

struct key {
    unsigned char fp[FP_BYTES];
    unsigned char k[KEY_BYTES];
};

static struct {
    int ready;
    char dir[1024];
    struct key keys[MAX_KEYS]; /* [0] is the current key */
    int nkeys;
    unsigned char index_key[KEY_BYTES];
} state;

/* Guards rotation (which replaces keys[0]) against sealing in other threads. */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *kind_name(enum pii_kind kind)
{
    switch (kind) {
    case PII_ID_NUMBER: return "id_number";
    case PII_PHONE: return "phone";
    case PII_BANK_ACCOUNT: return "bank_account";
    case PII_NAME: return "name";
    }
    return "?";
}

static void fingerprint(const unsigned char k[KEY_BYTES], unsigned char fp[FP_BYTES])
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    static const unsigned char label[] = "qianlima-pii-key-fingerprint";
    crypto_generichash(h, sizeof h, label, sizeof label - 1, k, KEY_BYTES);
    memcpy(fp, h, FP_BYTES);
}

static void fp_hex(const unsigned char fp[FP_BYTES], char out[9])
{
    sodium_bin2hex(out, 9, fp, FP_BYTES);
}

/* Loads pii-old-*.key files after the current key. */
static int load_old_keys(ql_err *err)
{
    DIR *d = opendir(state.dir);
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL && !rc) {
        if (strncmp(e->d_name, "pii-old-", 8) != 0) continue;
        size_t n = strlen(e->d_name);
        if (n < 12 || strcmp(e->d_name + n - 4, ".key") != 0) continue;
        if (state.nkeys >= MAX_KEYS) break;
        struct key *k = &state.keys[state.nkeys];
        rc = keys_load(state.dir, e->d_name, 0, k->k, err);
        if (rc) break;
        fingerprint(k->k, k->fp);
        state.nkeys++;
    }
    closedir(d);
    return rc;
}

int pii_init(const char *keys_dir, ql_err *err)
{
    if (sodium_init() < 0)
        return ql_errf(err, QL_EINTERNAL, NULL, "libsodium cannot start", "libsodium 无法初始化");
    pthread_rwlock_wrlock(&lock);
    memset(&state, 0, sizeof state);
    snprintf(state.dir, sizeof state.dir, "%s", keys_dir);
    int rc = keys_load(keys_dir, "pii.key", 1, state.keys[0].k, err);
    if (!rc) {
        fingerprint(state.keys[0].k, state.keys[0].fp);
        state.nkeys = 1;
        rc = keys_load(keys_dir, "pii-index.key", 1, state.index_key, err);
    }
    if (!rc) rc = load_old_keys(err);
    state.ready = rc == 0;
    pthread_rwlock_unlock(&lock);
    return rc;
}

void pii_normalize(enum pii_kind kind, const char *in, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0) return;
    for (const char *p = in; *p && o + 1 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (kind == PII_ID_NUMBER) {
            if (!isspace(c)) out[o++] = (char)toupper(c);
        } else if (isdigit(c)) {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

int pii_seal(enum pii_kind kind, const char *plain, buf *out)
{
    pthread_rwlock_rdlock(&lock);
    if (!state.ready) {
        pthread_rwlock_unlock(&lock);
        return QL_EINTERNAL;
    }
    size_t plen = strlen(plain);
    size_t total = HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *p = (unsigned char *)buf_reserve(out, total);
    if (!p) {
        pthread_rwlock_unlock(&lock);
        return QL_ETOOBIG;
    }
    p[0] = SEAL_VERSION;
    memcpy(p + 1, state.keys[0].fp, FP_BYTES);
    unsigned char *nonce = p + 1 + FP_BYTES;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const char *ad = kind_name(kind);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + HEADER, &clen, (const unsigned char *)plain,
                                               plen, (const unsigned char *)ad, strlen(ad), NULL,
                                               nonce, state.keys[0].k);
    pthread_rwlock_unlock(&lock);
    buf_commit(out, HEADER + (size_t)clen);
    return 0;
}

int pii_reload(ql_err *err)
{
    pthread_rwlock_wrlock(&lock);
    int rc = 0;
    if (!state.ready) {
        rc = ql_errf(err, QL_EINTERNAL, NULL, "the keys are not loaded", "密钥尚未加载");
    } else {
        struct key cur = {{0}, {0}};
        rc = keys_load(state.dir, "pii.key", 0, cur.k, err);
        if (!rc) {
            /* Rebuild the list: the current key, then every old one on disk. */
            int keep = state.nkeys;
            struct key saved[MAX_KEYS];
            memcpy(saved, state.keys, sizeof saved);
            fingerprint(cur.k, cur.fp);
            state.keys[0] = cur;
            state.nkeys = 1;
            rc = load_old_keys(err);
            if (rc) { /* keep what worked before */
                memcpy(state.keys, saved, sizeof saved);
                state.nkeys = keep;
            }
            sodium_memzero(saved, sizeof saved);
            sodium_memzero(&cur, sizeof cur);
        }
    }
    pthread_rwlock_unlock(&lock);
    return rc;
}

static int have_key(const unsigned char *fp)
{
    pthread_rwlock_rdlock(&lock);
    int found = 0;
    for (int i = 0; i < state.nkeys && !found; i++)
        found = memcmp(state.keys[i].fp, fp, FP_BYTES) == 0;
    pthread_rwlock_unlock(&lock);
    return found;
}

int pii_open(enum pii_kind kind, const void *sealed, size_t len, char *out, size_t n,
             ql_err *err)
{
    const unsigned char *s = sealed;
    if (len < HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES || s[0] != SEAL_VERSION)
        return ql_errf(err, QL_EINVAL, kind_name(kind), "the stored %s is damaged",
                       "存储的 %s 已损坏", kind_name(kind));
    size_t plen = len - HEADER - crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (plen + 1 > n)
        return ql_errf(err, QL_ETOOBIG, kind_name(kind), "the stored %s is too long",
                       "存储的 %s 过长", kind_name(kind));
    /* A key this process does not know: another process (qianlima keys
     * rotate) may have made it since start-up. */
    if (!have_key(s + 1)) {
        ql_err ignore;
        pii_reload(&ignore);
    }
    pthread_rwlock_rdlock(&lock);
    const struct key *k = NULL;
    for (int i = 0; i < state.nkeys; i++)
        if (memcmp(state.keys[i].fp, s + 1, FP_BYTES) == 0) k = &state.keys[i];
    int rc = 0;
    if (!k) {
        char hex[9];
        fp_hex(s + 1, hex);
        rc = ql_errf(err, QL_EINVAL, kind_name(kind),
                     "the %s was sealed with key %s, which is not in the key directory",
                     "%s 由密钥 %s 加密，但密钥目录中没有该密钥", kind_name(kind), hex);
    } else {
        const char *ad = kind_name(kind);
        unsigned long long got = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                (unsigned char *)out, &got, NULL, s + HEADER, len - HEADER,
                (const unsigned char *)ad, strlen(ad), s + 1 + FP_BYTES, k->k) != 0)
            rc = ql_errf(err, QL_EINVAL, kind_name(kind),
                         "the stored %s does not open: it was changed or belongs to another "
                         "field",
                         "存储的 %s 无法解密：已被改动或属于其他字段", kind_name(kind));
        else out[got] = '\0';
    }
    pthread_rwlock_unlock(&lock);
    return rc;
}

void pii_index(enum pii_kind kind, const char *plain, char out[PII_INDEX_HEX])
{
    /* The kind is part of the message, so one value in two columns has two
     * unrelated indexes. */
    unsigned char h[16];
    crypto_generichash_state st;
    pthread_rwlock_rdlock(&lock);
    crypto_generichash_init(&st, state.index_key, KEY_BYTES, sizeof h);
    pthread_rwlock_unlock(&lock);
    const char *name = kind_name(kind);
    crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
    crypto_generichash_update(&st, (const unsigned char *)plain, strlen(plain));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, PII_INDEX_HEX, h, sizeof h);
}

void pii_mask(enum pii_kind kind, const char *plain, char *out, size_t n)
{
    validate_mask(plain, kind == PII_PHONE ? MASK_PHONE : kind == PII_BANK_ACCOUNT ? MASK_CARD
                                                                                  : MASK_ID,
                  out, n);
}

static int scrub_char(char c)
{
    return (c >= '0' && c <= '9') || c == 'X' || c == 'x';
}

char *pii_scrub(const char *in, char *out, size_t n)
{
    if (!n) return out;
    size_t o = 0;
    const char *p = in ? in : "";
    while (*p) {
        size_t len = 0, digits = 0;
        while (scrub_char(p[len])) {
            if (p[len] != 'X' && p[len] != 'x') digits++;
            len++;
        }
        if (!len) len = 1;
        if (o + len >= n) {
            size_t room = n - 1 - o;
            if (digits >= PII_SCRUB_DIGITS) memset(out + o, '*', room);
            else memcpy(out + o, p, room);
            o += room;
            /* Drop a UTF-8 character cut short at the end. */
            size_t lead = o;
            while (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80) lead--;
            if (lead > 0 && ((unsigned char)out[lead - 1] & 0x80)) {
                unsigned char c = (unsigned char)out[lead - 1];
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (o - (lead - 1) < need) o = lead - 1;
            }
            break;
        }
        if (digits >= PII_SCRUB_DIGITS) memset(out + o, '*', len);
        else memcpy(out + o, p, len);
        o += len;
        p += len;
    }
    out[o] = '\0';
    return out;
}

void pii_sealed_key(const void *sealed, size_t len, char out[9])
{
    const unsigned char *s = sealed;
    if (len < 1 + FP_BYTES) {
        out[0] = '\0';
        return;
    }
    fp_hex(s + 1, out);
}

void pii_current_key(char out[9])
{
    pthread_rwlock_rdlock(&lock);
    fp_hex(state.keys[0].fp, out);
    pthread_rwlock_unlock(&lock);
}

int pii_rotate_key(ql_err *err)
{
    pthread_rwlock_wrlock(&lock);
    int rc = 0;
    if (!state.ready || state.nkeys >= MAX_KEYS) {
        rc = ql_errf(err, QL_EINVAL, "security.keys_dir", "too many old keys; re-seal first",
                     "旧密钥过多，请先完成重新加密");
        goto out;
    }
    /* Keep the current key under its fingerprint, then write a new pii.key
     * through a temporary file and rename, so a crash leaves one of them. */
    char hex[9], old_path[1200], cur_path[1100], tmp_path[1200];
    fp_hex(state.keys[0].fp, hex);
    snprintf(old_path, sizeof old_path, "%s/pii-old-%s.key", state.dir, hex);
    snprintf(cur_path, sizeof cur_path, "%s/pii.key", state.dir);
    snprintf(tmp_path, sizeof tmp_path, "%s/pii.key.new", state.dir);
    if (link(cur_path, old_path) != 0 && errno != EEXIST) {
        rc = ql_errf(err, QL_EIO, "security.keys_dir", "cannot keep the old key as %s: %s",
                     "无法保留旧密钥 %s：%s", old_path, strerror(errno));
        goto out;
    }
    struct key fresh;
    randombytes_buf(fresh.k, KEY_BYTES);
    fingerprint(fresh.k, fresh.fp);
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, fresh.k, KEY_BYTES) == KEY_BYTES && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) ok = 0, e = errno;
    if (ok && rename(tmp_path, cur_path) != 0) ok = 0, e = errno;
    if (!ok) {
        rc = ql_errf(err, QL_EIO, "security.keys_dir", "cannot write the new key %s: %s",
                     "无法写入新密钥 %s：%s", cur_path, strerror(e));
        goto out;
    }
    memmove(&state.keys[1], &state.keys[0], sizeof state.keys[0] * (size_t)state.nkeys);
    state.keys[0] = fresh;
    state.nkeys++;
    sodium_memzero(&fresh, sizeof fresh);
out:
    pthread_rwlock_unlock(&lock);
    return rc;
}
