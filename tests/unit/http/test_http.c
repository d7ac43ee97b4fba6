/* The HTTP server on a real loopback socket: routing (404/405), JSON errors, token check,
 * body limit, query lookup, streamed answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void h_ping(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    const char *who = http_query(req, "who");
    char *body = malloc(64);
    snprintf(body, 64, "{\"pong\":\"%s\"}", who ? who : "-");
    http_reply(resp, 200, "application/json", body, strlen(body));
}

static void h_echo(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    size_t len;
    const char *b = http_body(req, &len);
    char *copy = malloc(len + 1);
    memcpy(copy, b, len + 1);
    http_reply(resp, 202, "text/plain", copy, len);
}

static void h_metrics(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    char *body = strdup(http_path(req) + strlen("/api/metrics/"));
    http_reply(resp, 200, "text/plain", body, strlen(body));
}

struct counter {
    int left;
    int freed;
};

static int stream_freed;

static ssize_t produce(void *ctx, char *buf, size_t max)
{
    struct counter *c = ctx;
    if (c->left == 0)
        return HTTP_STREAM_END;
    size_t n = max < 1000 ? max : 1000;
    if ((int)n > c->left)
        n = (size_t)c->left;
    memset(buf, 'x', n);
    c->left -= (int)n;
    return (ssize_t)n;
}

static void produce_free(void *ctx)
{
    stream_freed++;
    free(ctx);
}

static void h_stream(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    struct counter *c = calloc(1, sizeof *c);
    c->left = 200000;
    resp->status = 200;
    resp->content_type = "text/csv";
    resp->stream = produce;
    resp->stream_ctx = c;
    resp->stream_free = produce_free;
}

static const struct http_route routes[] = {
    {"GET", "/ping", 0, 0, h_ping},
    {"POST", "/echo", 0, 1, h_echo},
    {"POST", "/api/metrics/", 1, 1, h_metrics},
    {"GET", "/stream", 0, 0, h_stream},
};

/* Sends raw bytes to 127.0.0.1:port, returns the whole answer (caller frees). */
static char *roundtrip(int port, const char *request, size_t reqlen, size_t *outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    size_t off = 0;
    while (off < reqlen) {
        ssize_t w = write(fd, request + off, reqlen - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 2048)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fd);
    if (outlen)
        *outlen = len;
    return buf;
}

static char *get(int port, const char *req)
{
    return roundtrip(port, req, strlen(req), NULL);
}

static struct http_server *start(const char *token)
{
    char err[256];
    struct http_server *s;
    struct http_options opt = {.token = token};
    assert_int_equal(http_start("127.0.0.1:0", routes, 4, NULL, &opt, &s, err, sizeof err), 0);
    assert_true(http_port(s) > 0);
    return s;
}

static void test_routing_and_errors(void **state)
{
    (void)state;
    struct http_server *s = start("");
    int port = http_port(s);
    char *r = get(port, "GET /ping?who=a%20b HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    assert_non_null(strstr(r, "{\"pong\":\"a b\"}"));
    free(r);
    r = get(port, "GET /nope HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 404 "));
    assert_non_null(strstr(r, "{\"error\":\"no such endpoint: /nope\"}"));
    assert_non_null(strstr(r, "application/json"));
    free(r);
    r = get(port, "DELETE /ping HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 405 "));
    assert_non_null(strstr(r, "\"error\""));
    free(r);
    /* A prefix route needs something after the prefix. */
    r = get(port, "POST /api/metrics/web HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    assert_non_null(strstr(r, "\r\n\r\nweb"));
    free(r);
    r = get(port, "POST /api/metrics/ HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    assert_non_null(strstr(r, " 404 "));
    free(r);
    http_stop(s);
}

static void test_token_and_body(void **state)
{
    (void)state;
    struct http_server *s = start("s3cret");
    int port = http_port(s);
    char *r = get(port, "POST /echo HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
    assert_non_null(strstr(r, " 401 "));
    assert_non_null(strstr(r, "API token"));
    free(r);
    r = get(port, "POST /echo HTTP/1.0\r\nAuthorization: Bearer wrong\r\nContent-Length: "
                  "5\r\n\r\nhello");
    assert_non_null(strstr(r, " 401 "));
    free(r);
    r = get(port, "POST /echo HTTP/1.0\r\nAuthorization: Bearer s3cret\r\nContent-Length: "
                  "5\r\n\r\nhello");
    assert_non_null(strstr(r, " 202 "));
    assert_non_null(strstr(r, "\r\n\r\nhello"));
    free(r);
    r = get(port, "POST /echo HTTP/1.0\r\nX-Aether-Token: s3cret\r\nContent-Length: 2\r\n\r\nhi");
    assert_non_null(strstr(r, " 202 "));
    free(r);
    /* GET routes never need the token. */
    r = get(port, "GET /ping HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    free(r);
    /* Over the body limit: 413 with a JSON error. */
    size_t big = HTTP_MAX_BODY + 100;
    char *req = malloc(big + 200);
    int hl = snprintf(
        req, 200, "POST /echo HTTP/1.0\r\nX-Aether-Token: s3cret\r\nContent-Length: %zu\r\n\r\n",
        big);
    memset(req + hl, 'a', big);
    r = roundtrip(port, req, (size_t)hl + big, NULL);
    assert_non_null(strstr(r, " 413 "));
    free(r);
    free(req);
    /* The token can be replaced at runtime (config reload). */
    http_set_token(s, "");
    r = get(port, "POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nok");
    assert_non_null(strstr(r, " 202 "));
    free(r);
    http_stop(s);
}

static void test_stream(void **state)
{
    (void)state;
    stream_freed = 0;
    struct http_server *s = start(NULL);
    size_t len;
    const char *req = "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *r = roundtrip(http_port(s), req, strlen(req), &len);
    assert_non_null(strstr(r, " 200 "));
    assert_non_null(strstr(r, "chunked"));
    size_t xs = 0;
    char *bodyp = strstr(r, "\r\n\r\n");
    for (char *p = bodyp; p < r + len; p++)
        xs += *p == 'x';
    assert_int_equal(xs, 200000);
    free(r);
    http_stop(s);
    assert_int_equal(stream_freed, 1);
}

static void test_bind_parse(void **state)
{
    (void)state;
    char err[256];
    struct sockaddr_storage a;
    assert_int_equal(http_parse_bind("127.0.0.1:8080", &a, err, sizeof err), 0);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(http_parse_bind("[::1]:0", &a, err, sizeof err), 0);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(http_parse_bind("127.0.0.1", &a, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "api.bind = \"127.0.0.1\""));
    assert_int_equal(http_parse_bind("127.0.0.1:99999", &a, err, sizeof err), AE_EINVAL);
    assert_int_equal(http_parse_bind("127.0.0.1:8x", &a, err, sizeof err), AE_EINVAL);
    /* A port already in use is a startup error, not a crash. */
    struct http_server *s = start(NULL), *t;
    char bind[64];
    snprintf(bind, sizeof bind, "127.0.0.1:%d", http_port(s));
    assert_int_equal(http_start(bind, routes, 4, NULL, NULL, &t, err, sizeof err), AE_EIO);
    assert_non_null(strstr(err, bind));
    http_stop(s);
}

/* One token limit: 255 bytes work, 256 are refused (never cut); loopback is told apart. */
static void test_token_limit_and_loopback(void **state)
{
    (void)state;
    char longest[HTTP_TOKEN_MAX], too_long[HTTP_TOKEN_MAX + 1], err[256];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(too_long, 'b', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    struct http_server *s = start(longest);
    char req[1024];
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: "
             "2\r\nConnection: close\r\n\r\nhi",
             longest);
    char *resp = get(http_port(s), req);
    assert_non_null(strstr(resp, " 202 "));
    free(resp);
    assert_int_equal(http_set_token(s, too_long), AE_EINVAL);
    resp = get(http_port(s), req); /* the old token still holds */
    assert_non_null(strstr(resp, " 202 "));
    free(resp);
    http_stop(s);
    struct http_options opt = {.token = too_long};
    assert_int_equal(http_start("127.0.0.1:0", routes, 4, NULL, &opt, &s, err, sizeof err),
                     AE_EINVAL);
    assert_non_null(strstr(err, "longer than 255 bytes"));
    assert_true(http_bind_is_loopback("127.0.0.1:8080"));
    assert_true(http_bind_is_loopback("127.9.9.9:1"));
    assert_true(http_bind_is_loopback("[::1]:8080"));
    assert_true(http_bind_is_loopback("localhost:8080"));
    assert_false(http_bind_is_loopback("0.0.0.0:8080"));
    assert_false(http_bind_is_loopback("[::]:8080"));
    assert_false(http_bind_is_loopback("garbage"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_and_errors),
        cmocka_unit_test(test_token_and_body),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_bind_parse),
        cmocka_unit_test(test_token_limit_and_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
