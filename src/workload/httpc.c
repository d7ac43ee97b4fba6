/* The HTTP client's transport (see httpc.h): URL splitting, name resolution, non-blocking
 * connect (trying each resolved address in turn), sending the request and feeding what comes
 * back to the response parser, all requests of a call in one poll loop. */
#include "httpc.h"
#include "aether/error.h"

#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int url_fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int httpc_url_parse(const char *url, struct httpc_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->tls = strncmp(url, "https://", 8) == 0;
    if (strncmp(url, "http://", 7) != 0 && !out->tls)
        return url_fail(err, errlen, "only http:// and https:// URLs are supported");
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return url_fail(err, errlen, "the URL contains a space or control character");
    const char *auth = url + (out->tls ? 8 : 7);
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen))
        return url_fail(err, errlen, "user names in URLs are not supported");
    if (alen == 0 || alen >= sizeof(out->authority))
        return url_fail(err, errlen, alen ? "the host name is too long" : "the URL has no host");
    memcpy(out->authority, auth, alen);

    /* host, "[v6]" or "name", then an optional ":port" */
    const char *host = auth, *rest;
    size_t hlen;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close)
            return url_fail(err, errlen, "unterminated [ in the host");
        host = auth + 1;
        hlen = (size_t)(close - host);
        rest = close + 1;
    } else {
        const char *colon = memchr(auth, ':', alen);
        hlen = colon ? (size_t)(colon - auth) : alen;
        rest = auth + hlen;
    }
    if (hlen == 0)
        return url_fail(err, errlen, "the URL has no host");
    memcpy(out->host, host, hlen);
    size_t rlen = (size_t)(auth + alen - rest);
    if (rlen == 0) {
        snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : "80");
    } else {
        if (rest[0] != ':' || rlen < 2 || rlen > 6)
            return url_fail(err, errlen, "bad port");
        long port = 0;
        for (size_t i = 1; i < rlen; i++) {
            if (rest[i] < '0' || rest[i] > '9')
                return url_fail(err, errlen, "bad port");
            port = port * 10 + (rest[i] - '0');
        }
        if (port < 1 || port > 65535)
            return url_fail(err, errlen, "bad port");
        snprintf(out->port, sizeof(out->port), "%ld", port);
    }

    const char *path = auth + alen;
    size_t plen = strcspn(path, "#");
    int slash = path[0] != '/'; /* "" or "?q" */
    if (plen + (size_t)slash >= sizeof(out->path))
        return url_fail(err, errlen, "the URL path is too long");
    out->path[0] = '/';
    memcpy(out->path + slash, path, plen);
    return 0;
}

static void finish(struct httpc_request *r, int ok, const char *fmt, ...)
{
    httpc_tls_close(r->tls);
    r->tls = NULL;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->ok = ok;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        ae_verrf(r->error, sizeof(r->error), 0, fmt, ap);
        va_end(ap);
    }
    r->phase = HTTPC_FINISHED;
}

/* Opens a socket to the next resolved address and starts connecting; finishes the request
 * when no address is left. */
static void connect_next(struct httpc_request *r)
{
    while (r->next_addr) {
        struct addrinfo *a = r->next_addr;
        r->next_addr = a->ai_next;
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            r->last_errno = errno;
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            r->last_errno = errno;
            close(fd);
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            r->fd = fd;
            r->phase = HTTPC_CONNECTING; /* poll reports writable once connected (or failed) */
            return;
        }
        r->last_errno = errno;
        close(fd);
    }
    finish(r, 0, "cannot connect: %s", strerror(r->last_errno ? r->last_errno : ECONNREFUSED));
}

/* Parses the URL, resolves the host, writes the request text and starts connecting. */
static void start(struct httpc_request *r, const char *accept)
{
    r->fd = -1;
    httpc_response_init(&r->resp, r->max_body);
    r->resp.any_status = r->any_status;
    struct httpc_url u;
    char err[128];
    if (httpc_url_parse(r->url, &u, err, sizeof(err)) != 0) {
        finish(r, 0, "%s", err);
        return;
    }
    r->use_tls = u.tls;
    snprintf(r->host, sizeof(r->host), "%s", u.host);
    const char *method = r->method ? r->method : "GET";
    for (const char *c = method; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            finish(r, 0, "bad method \"%.20s\"", method);
            return;
        }
    const char *ctype = r->content_type ? r->content_type : "application/octet-stream";
    size_t body_len = r->body ? r->body_len : 0;
    size_t cap = strlen(method) + strlen(u.path) + strlen(u.authority) + strlen(accept) +
                 strlen(ctype) + body_len + 160;
    r->text = malloc(cap);
    if (!r->text) {
        finish(r, 0, "out of memory");
        return;
    }
    int len = snprintf(r->text, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\n", method, u.path,
                       u.authority, accept);
    if (len > 0 && r->body)
        len += snprintf(r->text + len, cap - (size_t)len,
                        "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, body_len);
    if (len > 0)
        len += snprintf(r->text + len, cap - (size_t)len, "Connection: close\r\n\r\n");
    if (len < 0 || (size_t)len + body_len >= cap) {
        finish(r, 0, "cannot format the request");
        return;
    }
    if (body_len)
        memcpy(r->text + len, r->body, body_len);
    r->text_len = (size_t)len + body_len;
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(u.host, u.port, &hints, &r->addrs);
    if (rc != 0) {
        r->addrs = NULL;
        finish(r, 0, "cannot resolve %s: %s", u.host, gai_strerror(rc));
        return;
    }
    r->next_addr = r->addrs;
    connect_next(r);
}

static void on_connected(struct httpc_request *r)
{
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr == 0 && !r->use_tls) {
        r->phase = HTTPC_SENDING;
        return;
    }
    if (soerr == 0) {
        char err[sizeof(r->error)];
        if (httpc_tls_open(r->fd, r->host, r->ca_file, r->tls_insecure, &r->tls, err,
                           sizeof(err)) != 0)
            finish(r, 0, "%s", err);
        else
            r->phase = HTTPC_HANDSHAKE;
        return;
    }
    r->last_errno = soerr;
    close(r->fd);
    r->fd = -1;
    connect_next(r);
}

static void on_handshake(struct httpc_request *r)
{
    char err[sizeof(r->error)];
    int rc = httpc_tls_handshake(r->tls, err, sizeof(err));
    if (rc < 0)
        finish(r, 0, "%s", err);
    else if (rc > 0)
        r->phase = HTTPC_SENDING;
}

/* Sends over TLS: what on_writable does with send(2). */
static void tls_writable(struct httpc_request *r)
{
    char err[sizeof(r->error)];
    ssize_t w = httpc_tls_send(r->tls, r->text + r->sent, r->text_len - r->sent, err, sizeof(err));
    if (w < 0) {
        finish(r, 0, "%s", err);
        return;
    }
    r->sent += (size_t)w;
    if (r->sent == r->text_len)
        r->phase = HTTPC_RECEIVING;
}

static void on_writable(struct httpc_request *r)
{
    if (r->tls) {
        tls_writable(r);
        return;
    }
    ssize_t w = send(r->fd, r->text + r->sent, r->text_len - r->sent, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            finish(r, 0, "send failed: %s", strerror(errno));
        return;
    }
    r->sent += (size_t)w;
    if (r->sent == r->text_len)
        r->phase = HTTPC_RECEIVING;
}

/* 1 when the request has what it asked for after the parser's rc. */
static int satisfied(const struct httpc_request *r, int rc)
{
    if (rc == HTTPC_DONE)
        return 1;
    return r->headers_only && httpc_response_headers_done(&r->resp) && r->resp.status == 200;
}

/* Feeds got bytes of buf (0 = the stream ended) to the parser; finishes when that settles it. */
static void take_bytes(struct httpc_request *r, const char *buf, ssize_t got)
{
    int rc =
        got > 0 ? httpc_response_feed(&r->resp, buf, (size_t)got) : httpc_response_finish(&r->resp);
    if (satisfied(r, rc))
        finish(r, 1, NULL);
    else if (rc == HTTPC_ERROR)
        finish(r, 0, "%s", r->resp.error);
}

/* Reads over TLS until the session has nothing more decrypted (records may hold more than one
 * poll wake-up's worth). */
static void tls_readable(struct httpc_request *r)
{
    char buf[16384], err[sizeof(r->error)];
    while (r->phase == HTTPC_RECEIVING) {
        ssize_t got = httpc_tls_recv(r->tls, buf, sizeof(buf), err, sizeof(err));
        if (got == -2)
            return;
        if (got == -1)
            finish(r, 0, "%s", err);
        else
            take_bytes(r, buf, got);
    }
}

static void on_readable(struct httpc_request *r)
{
    if (r->tls) {
        tls_readable(r);
        return;
    }
    char buf[16384];
    ssize_t got = recv(r->fd, buf, sizeof(buf), 0);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            finish(r, 0, "receive failed: %s", strerror(errno));
        return;
    }
    take_bytes(r, buf, got);
}

/* What the poll loop waits for on request r's socket. */
static short wanted_events(const struct httpc_request *r)
{
    if (r->phase == HTTPC_HANDSHAKE)
        return httpc_tls_wants_write(r->tls) ? POLLOUT : POLLIN;
    return r->phase == HTTPC_RECEIVING ? POLLIN : POLLOUT;
}

void httpc_get_all(struct httpc_request *reqs, int n, const char *accept, int timeout_ms)
{
    int64_t deadline = spawn_now_ms() + timeout_ms;
    for (int i = 0; i < n; i++)
        start(&reqs[i], accept);
    struct pollfd *pfd = n > 0 ? calloc((size_t)n, sizeof(*pfd)) : NULL;
    int *which = n > 0 ? calloc((size_t)n, sizeof(*which)) : NULL;
    if (n > 0 && (!pfd || !which))
        for (int i = 0; i < n; i++)
            if (reqs[i].phase != HTTPC_FINISHED)
                finish(&reqs[i], 0, "out of memory");
    for (;;) {
        int64_t left = deadline - spawn_now_ms();
        int k = 0;
        for (int i = 0; i < n; i++) {
            struct httpc_request *r = &reqs[i];
            if (r->phase == HTTPC_FINISHED)
                continue;
            if (left <= 0) {
                finish(r, 0, "timed out after %d ms", timeout_ms);
                continue;
            }
            pfd[k].fd = r->fd;
            pfd[k].events = wanted_events(r);
            pfd[k].revents = 0;
            which[k++] = i;
        }
        if (k == 0)
            break;
        int ready = poll(pfd, (nfds_t)k, (int)left);
        if (ready < 0 && errno != EINTR) {
            for (int j = 0; j < k; j++)
                finish(&reqs[which[j]], 0, "poll failed: %s", strerror(errno));
            break;
        }
        for (int j = 0; j < k && ready > 0; j++) {
            if (!pfd[j].revents)
                continue;
            struct httpc_request *r = &reqs[which[j]];
            if (r->phase == HTTPC_CONNECTING)
                on_connected(r);
            if (r->phase == HTTPC_HANDSHAKE)
                on_handshake(r);
            if (r->phase == HTTPC_SENDING)
                on_writable(r);
            else if (r->phase == HTTPC_RECEIVING && pfd[j].events == POLLIN)
                on_readable(r);
        }
    }
    free(pfd);
    free(which);
    for (int i = 0; i < n; i++) {
        if (reqs[i].addrs)
            freeaddrinfo(reqs[i].addrs);
        reqs[i].addrs = reqs[i].next_addr = NULL;
        free(reqs[i].text);
        reqs[i].text = NULL;
    }
}

int httpc_post_json(const char *url, const char *json, size_t max_body, int timeout_ms,
                    struct httpc_response *out, char *err, size_t errlen)
{
    struct httpc_request req;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.max_body = max_body;
    req.method = "POST";
    req.body = json;
    req.body_len = strlen(json);
    req.content_type = "application/json";
    req.any_status = 1;
    httpc_get_all(&req, 1, "application/json", timeout_ms);
    if (!req.ok) {
        snprintf(err, errlen, "%s", req.error);
        httpc_request_free(&req);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    *out = req.resp;
    return 0;
}

void httpc_request_free(struct httpc_request *r)
{
    httpc_response_free(&r->resp);
}
