/* API token and trust checks (see access.h). */
#include "access.h"

#include "aether/error.h"
#include "aether/log.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_BYTES 32    /* random bytes of a generated token (64 hex digits) */
#define MODE_STICKY 01000 /* S_ISVTX, an XSI name the POSIX headers here do not expose */

/* 1 when s is a usable token: 1..CFG_TOKEN_MAX-1 printable bytes without spaces. */
static int token_valid(const char *s, size_t len)
{
    if (len == 0 || len >= CFG_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

/* Reads a token file the node wrote before: ours, mode 0600 or stricter, one valid token. */
static int read_token(const char *path, int fd, char *token, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return ae_errf(err, errlen, 0, "%s: not a regular file", path), AE_EINVAL;
    if (st.st_uid != geteuid() || (st.st_mode & 077))
        return ae_errf(err, errlen, 0,
                       "%s: the API token file must belong to this user with mode 0600 (it has "
                       "owner %u, mode %04o)",
                       path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777)),
               AE_EPERM;
    char buf[CFG_TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        return ae_errf(err, errlen, 0, "%s: cannot read: %s", path, strerror(errno)), AE_EIO;
    size_t len = (size_t)n;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (!token_valid(buf, len))
        return ae_errf(err, errlen, 0,
                       "%s: not a token (1..%d printable bytes without spaces); delete it to "
                       "have a new one generated",
                       path, CFG_TOKEN_MAX - 1),
               AE_EINVAL;
    memcpy(token, buf, len);
    token[len] = '\0';
    return 0;
}

/* Writes a new random token to path (created, mode 0600). */
static int generate_token(const char *path, char *token, char *err, size_t errlen)
{
    unsigned char raw[TOKEN_BYTES];
    int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = rnd >= 0 ? read(rnd, raw, sizeof raw) : -1;
    if (rnd >= 0)
        close(rnd);
    if (got != (ssize_t)sizeof raw)
        return ae_errf(err, errlen, 0, "cannot read /dev/urandom for the API token"), AE_EIO;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return ae_errf(err, errlen, 0, "%s: cannot create the API token file: %s", path,
                       strerror(errno)),
               AE_EIO;
    size_t len = strlen(token);
    token[len] = '\n';
    int ok = write(fd, token, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
    token[len] = '\0';
    close(fd);
    if (!ok) {
        unlink(path);
        return ae_errf(err, errlen, 0, "%s: cannot write the API token", path), AE_EIO;
    }
    return 0;
}

/* api.token not written: the token of data_dir's token file, made on first start. */
static int token_from_file(struct cfg_api *api, const char *data_dir, char *err, size_t errlen)
{
    char path[CFG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", data_dir, CFG_TOKEN_FILE);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        int rc = read_token(path, fd, api->token, err, errlen);
        close(fd);
        if (rc == 0)
            nlog(NLOG_INFO, "api", "POST requests need the API token in %s", path);
        return rc;
    }
    if (errno != ENOENT)
        return ae_errf(err, errlen, 0, "%s: cannot open: %s", path, strerror(errno)), AE_EIO;
    int rc = generate_token(path, api->token, err, errlen);
    if (rc == 0)
        nlog(NLOG_INFO, "api",
             "generated an API token into %s (mode 0600): POST requests need it as "
             "\"Authorization: Bearer <token>\"; set api.token to choose one",
             path);
    return rc;
}

int access_resolve_token(struct cfg_api *api, const char *data_dir, char *err, size_t errlen)
{
    if (!api->token_given) {
        int rc = token_from_file(api, data_dir, err, errlen);
        if (rc)
            return rc;
    }
    if (api->token[0])
        return 0;
    if (!http_bind_is_loopback(api->bind) && !api->allow_remote_without_token)
        return ae_errf(err, errlen, 0,
                       "api.token = \"\" with api.bind = \"%s\" (not loopback) would let anyone "
                       "who reaches the port steer the node; set a token, or "
                       "api.allow_remote_without_token = true",
                       api->bind),
               AE_EPERM;
    nlog(NLOG_WARN, "api",
         "api.token = \"\": the API token check is off, every local user can push metrics and "
         "reload the model");
    return 0;
}

void access_warn_writable(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (st.st_mode & S_IWOTH) {
        nlog(NLOG_WARN, "access", "%s %s is writable by every user (mode %04o)", what, path,
             (unsigned)(st.st_mode & 07777));
        return;
    }
    char dir[CFG_PATH_MAX + 1];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (S_ISDIR(st.st_mode))
        return;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & MODE_STICKY))
        nlog(NLOG_WARN, "access", "%s %s is in %s, which every user may write (mode %04o)", what,
             path, dir, (unsigned)(st.st_mode & 07777));
}

int access_check_owner(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ae_errf(err, errlen, 0, "%s: %s", path, strerror(errno)), AE_ENOENT;
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return ae_errf(err, errlen, 0,
                       "%s belongs to user %u, neither this node's user (%u) nor root: not "
                       "loaded",
                       path, (unsigned)st.st_uid, (unsigned)geteuid()),
               AE_EPERM;
    return 0;
}
