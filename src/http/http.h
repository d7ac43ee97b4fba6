/* The node's HTTP server: libmicrohttpd underneath, a small routing table on top.
 *
 * Handlers receive a parsed request (method, path, query lookup, body) and fill a response:
 * either a whole body, or a producer callback for long streamed answers (training data).
 * Every error answer is JSON {"error": "..."} with a 4xx/5xx status. Routes marked
 * `needs_token` require the configured API token (header "Authorization: Bearer <token>" or
 * "X-Aether-Token: <token>") when one is set. Handlers run on the server's thread.
 *
 * Limits (struct http_options): connections per client address; a deadline for each request's
 * headers and body, counted from the connection's start or the end of its previous answer (a
 * client that trickles bytes, or holds an idle socket, is disconnected when it passes); an
 * answer that makes no progress for as long is dropped; streamed answers beyond a cap get 503.
 * The server thread never blocks on a client (non-blocking sockets, epoll): a slow client costs a
 * connection slot, not the others' service. Warnings about malformed requests are rate-limited. */
#ifndef AETHER_HTTP_H
#define AETHER_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_CONNECTIONS 512 /* open connections in all */
#define HTTP_TOKEN_MAX 256       /* api.token's limit (CFG_TOKEN_MAX), NUL included */

struct http_options {
    const char *token;      /* "" or NULL: none; longer than HTTP_TOKEN_MAX - 1: AE_EINVAL */
    int max_per_client;     /* open connections per client address; 0: 32 */
    int request_timeout_ms; /* headers + body deadline, and the no-progress limit; 0: 10000 */
    int max_streams;        /* streamed answers at once; 0: 4 */
};

struct http_server;
struct http_request;

/* Query-string value of key (already URL-decoded), or NULL. Borrowed for the handler call. */
const char *http_query(const struct http_request *r, const char *key);
/* Request header value, or NULL. Borrowed for the handler call. */
const char *http_header(const struct http_request *r, const char *name);
const char *http_path(const struct http_request *r);
/* The request body (NUL-terminated; len excludes the NUL). Borrowed for the handler call. */
const char *http_body(const struct http_request *r, size_t *len);

/* Streamed body producer: write up to max bytes into buf; return the count, 0 is not allowed
 * (return HTTP_STREAM_END when done, HTTP_STREAM_ERROR to abort the connection). */
#define HTTP_STREAM_END ((ssize_t)-1)
#define HTTP_STREAM_ERROR ((ssize_t)-2)
typedef ssize_t (*http_stream_fn)(void *ctx, char *buf, size_t max);

struct http_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned by the response; freed by the server with free() */
    size_t len;
    http_stream_fn stream; /* when set, body is ignored and the answer is streamed */
    void *stream_ctx;
    void (*stream_free)(void *ctx); /* called once when the stream ends or the client leaves */
};

/* Sets a JSON error answer {"error": message}. */
void http_error(struct http_response *resp, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Sets a whole-body answer, taking ownership of body (malloc'd). */
void http_reply(struct http_response *resp, int status, const char *content_type, char *body,
                size_t len);

typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);

struct http_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact path, or a prefix when it ends with '/' and prefix is set */
    int prefix;         /* 1: path is a prefix ("/api/metrics/") */
    int needs_token;    /* 1: the API token is checked (when configured) */
    http_handler handler;
};

/* Parses "host:port" / "[v6]:port" into a socket address; port 0 lets the kernel choose.
 * Returns 0 or AE_EINVAL with a message naming the value. */
struct sockaddr_storage;
int http_parse_bind(const char *bind, struct sockaddr_storage *out, char *err, size_t errlen);

/* 1 when bind names a loopback address (127.0.0.0/8, ::1, or a name resolving to one), else 0
 * (also when it does not parse). */
int http_bind_is_loopback(const char *bind);

/* Checks that bind can be listened on (binds a socket and closes it): 0, or AE_EINVAL /
 * AE_EIO with the reason ("Address already in use", ...) naming api.bind. */
int http_probe_bind(const char *bind, char *err, size_t errlen);

/* Starts listening on bind with the given routes (borrowed; must outlive the server), handler
 * context ctx and options (copied; NULL: defaults, no token). Returns 0 and *out, or a negative
 * AE_E* code with a message. Caller stops with http_stop. */
int http_start(const char *bind, const struct http_route *routes, int nroutes, void *ctx,
               const struct http_options *opt, struct http_server **out, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);
/* Replaces the token while the server runs; thread-safe. (The node sets its token once, at
 * http_start: it has no config reload.) AE_EINVAL (token unchanged) when it is too long. */
int http_set_token(struct http_server *s, const char *token);
/* Stops accepting, waits for the server thread, frees everything. NULL is fine. */
void http_stop(struct http_server *s);

/* Routing step on its own (pure; used by the server and the fuzz target): finds the route for
 * method+path. Returns its index, -1 when no route has that path (404), -2 when the path exists
 * with another method (405). */
int http_route_find(const struct http_route *routes, int nroutes, const char *method,
                    const char *path);

#endif
