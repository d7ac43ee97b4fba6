/* HTTP server on libmicrohttpd (see http.h). One internal polling thread (epoll, non-blocking
 * sockets) serves every connection; request bodies are capped at HTTP_MAX_BODY; deadline.c
 * watches that requests arrive in time. */
#include "http.h"

#include "deadline.h"

#include "aether/error.h"
#include "aether/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *mhd;
    const struct http_route *routes;
    int nroutes;
    void *ctx;
    pthread_mutex_t token_lock;
    char token[HTTP_TOKEN_MAX];
    int port;
    struct deadline_watch *deadlines;
    atomic_int streams; /* streamed answers in progress */
    int max_streams;
};

/* Malformed requests and libmicrohttpd's own complaints: a few lines a minute at most. */
static struct nlog_limit request_log = NLOG_LIMIT_INIT(10, 60.0);

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char *body;
    size_t len;
    int too_large;
};

const char *http_query(const struct http_request *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_path(const struct http_request *r)
{
    return r->path;
}

const char *http_body(const struct http_request *r, size_t *len)
{
    if (len)
        *len = r->len;
    return r->body ? r->body : "";
}

void http_reply(struct http_response *resp, int status, const char *content_type, char *body,
                size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->len = len;
}

void http_error(struct http_response *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(msg, sizeof msg, 0, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s}", "error", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        /* Out of memory or a message that is not UTF-8: answer with a fixed text. */
        text = strdup("{\"error\":\"request failed\"}");
    }
    http_reply(resp, status, "application/json", text, text ? strlen(text) : 0);
}

int http_route_find(const struct http_route *routes, int nroutes, const char *method,
                    const char *path)
{
    int path_known = 0;
    for (int i = 0; i < nroutes; i++) {
        const struct http_route *r = &routes[i];
        int match = r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0 &&
                                    path[strlen(r->path)] != '\0'
                              : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        if (strcmp(method, r->method) == 0)
            return i;
        path_known = 1;
    }
    return path_known ? -2 : -1;
}

/* Constant-time comparison so the token cannot be guessed byte by byte from timings. */
static int token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

static int token_ok(struct http_server *s, const struct http_request *req)
{
    pthread_mutex_lock(&s->token_lock);
    int ok = 1;
    if (s->token[0]) {
        const char *given = http_header(req, "X-Aether-Token");
        const char *auth = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!given && auth && strncmp(auth, "Bearer ", 7) == 0)
            given = auth + 7;
        ok = given && token_equal(given, s->token);
    }
    pthread_mutex_unlock(&s->token_lock);
    return ok;
}

/* A handler's stream seen through libmicrohttpd's reader signature. */
struct stream_adapter {
    http_stream_fn fn;
    void *ctx;
    void (*free_ctx)(void *ctx);
    struct http_server *server; /* its stream count */
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream_adapter *a = cls;
    ssize_t n = a->fn(a->ctx, buf, max);
    if (n == 0)
        n = HTTP_STREAM_ERROR; /* a producer must not stall the server thread */
    return n == HTTP_STREAM_END     ? MHD_CONTENT_READER_END_OF_STREAM
           : n == HTTP_STREAM_ERROR ? MHD_CONTENT_READER_END_WITH_ERROR
                                    : n;
}

static void stream_done(void *cls)
{
    struct stream_adapter *a = cls;
    if (a->free_ctx)
        a->free_ctx(a->ctx);
    atomic_fetch_sub(&a->server->streams, 1);
    free(a);
}

/* The answer of a stream, or NULL (the stream freed). Past the cap: a 503 in resp instead. */
static struct MHD_Response *stream_response(struct http_server *s, struct http_response *resp)
{
    if (atomic_fetch_add(&s->streams, 1) >= s->max_streams) {
        atomic_fetch_sub(&s->streams, 1);
        if (resp->stream_free)
            resp->stream_free(resp->stream_ctx);
        resp->stream = NULL;
        http_error(resp, 503, "%d streamed answers are already being sent; retry later",
                   s->max_streams);
        return NULL;
    }
    struct MHD_Response *r = NULL;
    struct stream_adapter *a = malloc(sizeof *a);
    if (a) {
        *a = (struct stream_adapter){resp->stream, resp->stream_ctx, resp->stream_free, s};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, a,
                                              stream_done);
        if (!r)
            free(a);
    }
    if (!r) {
        atomic_fetch_sub(&s->streams, 1);
        if (resp->stream_free)
            resp->stream_free(resp->stream_ctx);
    }
    return r;
}

static enum MHD_Result send_response(struct http_server *s, struct MHD_Connection *conn,
                                     struct http_response *resp)
{
    /* A stream past the cap comes back as a 503 whole-body answer (resp->stream cleared). */
    struct MHD_Response *r = resp->stream ? stream_response(s, resp) : NULL;
    if (!resp->stream) {
        r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (void *)"",
                                            resp->body ? MHD_RESPMEM_MUST_FREE
                                                       : MHD_RESPMEM_PERSISTENT);
        if (!r)
            free(resp->body);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void dispatch(struct http_server *s, struct http_request *req, struct http_response *resp)
{
    if (req->too_large) {
        http_error(resp, 413, "request body larger than %d bytes", HTTP_MAX_BODY);
        return;
    }
    int i = http_route_find(s->routes, s->nroutes, req->method, req->path);
    if (i == -1) {
        http_error(resp, 404, "no such endpoint: %s", req->path);
        return;
    }
    if (i == -2) {
        http_error(resp, 405, "method %s not allowed on %s", req->method, req->path);
        return;
    }
    if (s->routes[i].needs_token && !token_ok(s, req)) {
        http_error(resp, 401,
                   "missing or wrong API token: send \"Authorization: Bearer <token>\" with "
                   "api.token, or the token the node generated into <data_dir>/api-token");
        return;
    }
    s->routes[i].handler(s->ctx, req, resp);
    if (resp->status == 0)
        http_error(resp, 500, "handler produced no answer");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        if (!req->too_large && req->len + n <= HTTP_MAX_BODY) {
            char *grown = realloc(req->body, req->len + n + 1);
            if (!grown)
                return MHD_NO;
            memcpy(grown + req->len, upload_data, n);
            req->body = grown;
            req->len += n;
            req->body[req->len] = '\0';
        } else {
            req->too_large = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    req->conn = conn;
    req->method = method;
    req->path = url;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info)
        deadline_pause(s->deadlines, info->socket_context);
    struct http_response resp = {0};
    dispatch(s, req, &resp);
    return send_response(s, conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)code;
    struct http_server *s = cls;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info)
        deadline_restart(s->deadlines, info->socket_context);
    struct http_request *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    nlog_limited_v(&request_log, NLOG_WARN, "http", fmt, ap);
}

/* "127.0.0.1:50412" for the log. */
static void peer_text(struct MHD_Connection *conn, char *out, size_t size)
{
    snprintf(out, size, "?");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
}

/* Connections come and go: each is watched for its request deadline while open. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        char peer[64];
        peer_text(conn, peer, sizeof peer);
        *socket_context = info ? deadline_add(s->deadlines, info->connect_fd, peer) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        deadline_remove(s->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

/* bind(2) under another name: the parameter called `bind` shadows it in the callers. */
static int bind_socket(int fd, const struct sockaddr_storage *addr, socklen_t len)
{
    return bind(fd, (const struct sockaddr *)addr, len);
}

int http_parse_bind(const char *bind, struct sockaddr_storage *out, char *err, size_t errlen)
{
    char host[256];
    const char *colon = bind ? strrchr(bind, ':') : NULL;
    if (!colon || colon == bind || (size_t)(colon - bind) >= sizeof host) {
        snprintf(err, errlen, "api.bind = \"%s\": expected host:port", bind ? bind : "");
        return AE_EINVAL;
    }
    memcpy(host, bind, (size_t)(colon - bind));
    host[colon - bind] = '\0';
    char *h = host;
    size_t hl = strlen(h);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        snprintf(err, errlen, "api.bind = \"%s\": port must be a number 0..65535", bind);
        return AE_EINVAL;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%ld", port);
    int gai = getaddrinfo(h, portstr, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, errlen, "api.bind = \"%s\": cannot resolve host %s: %s", bind, h,
                 gai_strerror(gai));
        return AE_EINVAL;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int http_bind_is_loopback(const char *bind)
{
    struct sockaddr_storage addr;
    char err[256];
    if (http_parse_bind(bind, &addr, err, sizeof err) != 0)
        return 0;
    if (addr.ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)&addr)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return a->s6_addr[12] == 127;
        return IN6_IS_ADDR_LOOPBACK(a);
    }
    uint32_t ip = ntohl(((const struct sockaddr_in *)&addr)->sin_addr.s_addr);
    return (ip >> 24) == 127;
}

int http_probe_bind(const char *bind, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    int rc = http_parse_bind(bind, &addr, err, errlen);
    if (rc)
        return rc;
    int fd = socket(addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "api.bind = \"%s\": cannot create a socket: %s", bind,
                 strerror(errno));
        return AE_EIO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len =
        addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind_socket(fd, &addr, len) != 0) {
        snprintf(err, errlen, "api.bind = \"%s\": cannot listen: %s", bind, strerror(errno));
        close(fd);
        return AE_EIO;
    }
    close(fd);
    return 0;
}

int http_set_token(struct http_server *s, const char *token)
{
    if (token && strlen(token) >= sizeof s->token)
        return AE_EINVAL;
    pthread_mutex_lock(&s->token_lock);
    snprintf(s->token, sizeof s->token, "%s", token ? token : "");
    pthread_mutex_unlock(&s->token_lock);
    return 0;
}

/* The port of addr (host order); libmicrohttpd only uses it in its messages. */
static uint16_t addr_port(const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    return ntohs(((const struct sockaddr_in *)addr)->sin_port);
}

/* The options with defaults filled in. */
static struct http_options effective_options(const struct http_options *opt)
{
    struct http_options o = opt ? *opt : (struct http_options){0};
    if (o.max_per_client <= 0)
        o.max_per_client = 32;
    if (o.request_timeout_ms <= 0)
        o.request_timeout_ms = 10000;
    if (o.max_streams <= 0)
        o.max_streams = 4;
    return o;
}

static struct MHD_Daemon *start_mhd(struct http_server *s, struct sockaddr_storage *addr,
                                    const struct http_options *o)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (addr->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* libmicrohttpd's own timeout is for inactivity (whole seconds): it drops an answer the
     * client stopped reading; deadline.c bounds the time a request may take to arrive. */
    unsigned idle_s = (unsigned)((o->request_timeout_ms + 999) / 1000);
    return MHD_start_daemon(flags, addr_port(addr), NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)o->max_per_client, MHD_OPTION_END);
}

static void server_free(struct http_server *s)
{
    deadline_close(s->deadlines);
    pthread_mutex_destroy(&s->token_lock);
    free(s);
}

int http_start(const char *bind, const struct http_route *routes, int nroutes, void *ctx,
               const struct http_options *opt, struct http_server **out, char *err, size_t errlen)
{
    *out = NULL;
    struct http_options o = effective_options(opt);
    if (o.token && strlen(o.token) >= HTTP_TOKEN_MAX) {
        snprintf(err, errlen, "api.token is longer than %d bytes", HTTP_TOKEN_MAX - 1);
        return AE_EINVAL;
    }
    struct sockaddr_storage addr;
    int rc = http_parse_bind(bind, &addr, err, errlen);
    if (rc == 0)
        rc = http_probe_bind(bind, err, errlen); /* a precise reason (in use, not local) */
    if (rc)
        return rc;
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return AE_ENOMEM;
    pthread_mutex_init(&s->token_lock, NULL);
    s->routes = routes;
    s->nroutes = nroutes;
    s->ctx = ctx;
    s->max_streams = o.max_streams;
    http_set_token(s, o.token);
    if (deadline_open(o.request_timeout_ms, &s->deadlines) != 0) {
        server_free(s);
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    s->mhd = start_mhd(s, &addr, &o);
    if (!s->mhd) {
        snprintf(err, errlen, "api.bind = \"%s\": cannot listen (address in use or not local?)",
                 bind);
        server_free(s);
        return AE_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return 0;
}

int http_port(const struct http_server *s)
{
    return s->port;
}

void http_stop(struct http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    server_free(s);
}
