/* keys.c - key files: created once with random bytes, then only read. */
#include "core/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exact(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    char extra;
    return read(fd, &extra, 1) == 0 ? 0 : -1;
}

static int create_key(const char *path, unsigned char key[KEY_BYTES], ql_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot create key file %s: %s",
                       "无法创建密钥文件 %s：%s", path, strerror(errno));
    randombytes_buf(key, KEY_BYTES);
    ssize_t w = write(fd, key, KEY_BYTES);
    int ok = w == KEY_BYTES && fsync(fd) == 0;
    close(fd);
    /* link() fails if another process created the key meanwhile: use theirs. */
    if (ok && link(tmp, path) != 0) ok = errno == EEXIST ? 2 : 0;
    unlink(tmp);
    if (ok == 2) return 1;
    if (!ok)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot write key file %s: %s",
                       "无法写入密钥文件 %s：%s", path, strerror(errno));
    return 0;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path) return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int keys_load(const char *dir, const char *name, int create, unsigned char key[KEY_BYTES],
              ql_err *err)
{
    if (sodium_init() < 0)
        return ql_errf(err, QL_EINTERNAL, NULL, "libsodium cannot start", "libsodium 无法初始化");
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return ql_errf(err, QL_EINVAL, "security.keys_dir", "key path too long", "密钥路径过长");
    if (create && make_dirs(dir) != 0)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot create key directory %s: %s",
                       "无法创建密钥目录 %s：%s", dir, strerror(errno));
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
            if (!create)
                return ql_errf(err, QL_ENOTFOUND, "security.keys_dir",
                               "key file %s does not exist", "密钥文件 %s 不存在", path);
            int rc = create_key(path, key, err);
            if (rc <= 0) return rc;
            continue; /* created by someone else meanwhile: read it */
        }
        if (fd < 0)
            return ql_errf(err, QL_EIO, "security.keys_dir", "cannot open key file %s: %s",
                           "无法打开密钥文件 %s：%s", path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
            close(fd);
            return ql_errf(err, QL_EINVAL, "security.keys_dir",
                           "key file %s must be a regular file readable by its owner only "
                           "(chmod 600)",
                           "密钥文件 %s 必须是仅属主可读的普通文件（chmod 600）", path);
        }
        int rc = read_exact(fd, key, KEY_BYTES);
        close(fd);
        if (rc != 0)
            return ql_errf(err, QL_EINVAL, "security.keys_dir",
                           "key file %s is damaged: it must hold exactly %d bytes",
                           "密钥文件 %s 已损坏：应恰好包含 %d 字节", path, KEY_BYTES);
        return 0;
    }
    return ql_errf(err, QL_EIO, "security.keys_dir", "cannot create key file %s",
                   "无法创建密钥文件 %s", path);
}
