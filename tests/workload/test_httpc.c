/* Unit tests of the GET client: the response parser (every body framing, split at every byte,
 * the limits and the error messages), URL splitting, and the transport against real loopback
 * servers (the request it sends, chunked bodies, IPv6 literals, host names, parallel requests
 * where some time out, fail or are refused). */
#include "helpers.h"
#include "httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- parser ---- */

/* Feeds text in pieces of `step` bytes (0 = all at once), then the end of the stream. Returns
 * the final result; r is left for the caller to inspect and free. */
static int parse(struct httpc_response *r, const char *text, size_t max_body, size_t step)
{
    httpc_response_init(r, max_body);
    size_t n = strlen(text), i = 0;
    int rc = HTTPC_MORE;
    while (i < n && rc == HTTPC_MORE) {
        size_t k = step && step < n - i ? step : n - i;
        rc = httpc_response_feed(r, text + i, k);
        i += k;
    }
    return rc == HTTPC_MORE ? httpc_response_finish(r) : rc;
}

static void expect_body(const char *text, const char *body, const char *ctype)
{
    size_t n = strlen(text);
    for (size_t step = 0; step <= n; step += step < 4 ? 1 : 7) {
        struct httpc_response r;
        int rc = parse(&r, text, 1024, step);
        if (rc != HTTPC_DONE)
            print_error("step %zu: %s\n", step, r.error);
        assert_int_equal(rc, HTTPC_DONE);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, strlen(body));
        assert_string_equal(r.body ? r.body : "", body);
        assert_string_equal(r.content_type, ctype);
        httpc_response_free(&r);
    }
}

static void expect_error(const char *text, size_t max_body, const char *message)
{
    struct httpc_response r;
    assert_int_equal(parse(&r, text, max_body, 0), HTTPC_ERROR);
    if (strcmp(r.error, message) != 0)
        print_error("got '%s', want '%s'\n", r.error, message);
    assert_string_equal(r.error, message);
    /* Once failed, it stays failed. */
    assert_int_equal(httpc_response_feed(&r, "x", 1), HTTPC_ERROR);
    assert_int_equal(httpc_response_finish(&r), HTTPC_ERROR);
    httpc_response_free(&r);
}

static void test_content_length(void **state)
{
    (void)state;
    expect_body("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                "Content-Length: 5\r\n\r\nhello",
                "hello", "text/plain; version=0.0.4");
    /* Bare LF line ends, case-insensitive names, spaces around values, no reason phrase. */
    expect_body("HTTP/1.0 200\ncontent-TYPE:   a/b  \nCONTENT-LENGTH: 3\n\nabc", "abc", "a/b");
    /* A zero-length body ends at the headers; bytes after it are ignored. */
    struct httpc_response r;
    httpc_response_init(&r, 10);
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra";
    assert_int_equal(httpc_response_feed(&r, t, strlen(t)), HTTPC_DONE);
    assert_int_equal(r.body_len, 0);
    httpc_response_free(&r);
    /* The same length twice is fine. */
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", "hi", "");
}

static void test_chunked(void **state)
{
    (void)state;
    expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: x\r\n\r\n"
                "5\r\nhello\r\n1;ext=1\r\n \r\nA \r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n",
                "hello 0123456789", "x");
    /* Transfer-Encoding wins over Content-Length. */
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: Chunked\r\n\r\n"
                "3\r\nabc\r\n0\r\n\r\n",
                "abc", "");
}

static void test_until_close(void **state)
{
    (void)state;
    expect_body("HTTP/1.0 200 OK\r\n\r\nline 1\nline 2\n", "line 1\nline 2\n", "");
    expect_body("HTTP/1.0 200 OK\r\n\r\n", "", "");
}

static void test_status(void **state)
{
    (void)state;
    struct httpc_response r;
    assert_int_equal(
        parse(&r, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 100, 0),
        HTTPC_ERROR);
    assert_string_equal(r.error, "HTTP status 503");
    assert_int_equal(r.status, 503);
    assert_true(httpc_response_headers_done(&r));
    httpc_response_free(&r);
    expect_error("HTTP/1.1 404 Not Found\r\n\r\n", 10, "HTTP status 404");
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"<html>not http</html>\n", "malformed status line"},
        {"HTTP/2 200 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 200OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 2x0 OK\r\n\r\n", "malformed status line"},
        {"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         "conflicting Content-Length headers"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
         "unsupported Transfer-Encoding \"gzip, chunked\""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         "unsupported Transfer-Encoding \"chunked\""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef\r\n",
         "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
         "missing CRLF after chunk data"},
        {"", "empty response (the server closed the connection)"},
        {"HTTP/1.1 200 OK\r\nContent-Type: x\r\n",
         "connection closed before the end of the headers"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
         "connection closed after 3 of 10 body bytes"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
         "connection closed inside the chunked body"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n",
         "connection closed inside the chunked body"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].text, 100, cases[i].message);
}

static void test_limits(void **state)
{
    (void)state;
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10, "body larger than 10 bytes");
    expect_error("HTTP/1.0 200 OK\r\n\r\n0123456789A", 10, "body larger than 10 bytes");
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", 10,
                 "body larger than 10 bytes");
    expect_body("HTTP/1.0 200 OK\r\n\r\n0123456789", "0123456789", ""); /* exactly the cap */
    expect_error("HTTP/1.0 200 OK\r\n\r\n0123456789", 9, "body larger than 9 bytes");

    char *big = malloc(HTTPC_HEADERS_MAX + 100);
    assert_non_null(big);
    /* One header line over the line limit. */
    int n = snprintf(big, 100, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + n, 'a', HTTPC_LINE_MAX);
    strcpy(big + n + HTTPC_LINE_MAX, "\r\n\r\n");
    expect_error(big, 10, "header line longer than 8192 bytes");
    /* Many short header lines over the total. */
    n = snprintf(big, 100, "HTTP/1.1 200 OK\r\n");
    while (n < HTTPC_HEADERS_MAX + 10)
        n += snprintf(big + n, 20, "X: 0123456789\r\n");
    strcpy(big + n, "\r\n");
    expect_error(big, 10, "headers larger than 65536 bytes");
    free(big);
    /* A long Content-Type is cut, not overrun. */
    char head[600];
    n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: ");
    memset(head + n, 't', 400);
    strcpy(head + n + 400, "\r\nContent-Length: 0\r\n\r\n");
    struct httpc_response r;
    assert_int_equal(parse(&r, head, 10, 0), HTTPC_DONE);
    assert_int_equal(strlen(r.content_type), HTTPC_CONTENT_TYPE_MAX - 1);
    httpc_response_free(&r);
}

/* ---- URLs ---- */

static void test_url(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host, *port, *authority, *path;
    } good[] = {
        {"http://127.0.0.1:9100/metrics", "127.0.0.1", "9100", "127.0.0.1:9100", "/metrics"},
        {"http://example.org", "example.org", "80", "example.org", "/"},
        {"http://h/a?b=c#frag", "h", "80", "h", "/a?b=c"},
        {"http://h?q", "h", "80", "h", "/?q"},
        {"http://[::1]:8080/m", "::1", "8080", "[::1]:8080", "/m"},
        {"http://[fe80::1]", "fe80::1", "80", "[fe80::1]", "/"},
        {"https://prom.example:9443/api", "prom.example", "9443", "prom.example:9443", "/api"},
        {"https://h", "h", "443", "h", "/"},
    };
    struct httpc_url u;
    char err[128];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(httpc_url_parse(good[i].url, &u, err, sizeof(err)), 0);
        assert_string_equal(u.host, good[i].host);
        assert_string_equal(u.port, good[i].port);
        assert_string_equal(u.authority, good[i].authority);
        assert_string_equal(u.path, good[i].path);
        assert_int_equal(u.tls, strncmp(good[i].url, "https", 5) == 0);
    }
    static const struct {
        const char *url, *message;
    } bad[] = {
        {"ftp://h/", "only http:// and https:// URLs are supported"},
        {"HTTPS://h/", "only http:// and https:// URLs are supported"},
        {"http://", "the URL has no host"},
        {"http:///x", "the URL has no host"},
        {"http://:80/x", "the URL has no host"},
        {"http://[]/x", "the URL has no host"},
        {"http://[::1/x", "unterminated [ in the host"},
        {"http://h:0/", "bad port"},
        {"http://h:65536/", "bad port"},
        {"http://h:/", "bad port"},
        {"http://h:8a/", "bad port"},
        {"http://[::1]x/", "bad port"},
        {"http://u:p@h/", "user names in URLs are not supported"},
        {"http://h/a b", "the URL contains a space or control character"},
        {"http://h/a\r\nX: y", "the URL contains a space or control character"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(httpc_url_parse(bad[i].url, &u, err, sizeof(err)), -1);
        assert_string_equal(err, bad[i].message);
    }
}

/* ---- transport ---- */

/* A one-shot server: accepts one connection on its socket, keeps the request it read (headers,
 * and a body of the Content-Length they announce), sends `answer` and closes. */
struct oneshot {
    int fd, port;
    const char *answer;
    char request[2048];
    pthread_t thread;
};

static void *oneshot_run(void *arg)
{
    struct oneshot *o = arg;
    int c = accept(o->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t used = 0;
    for (;;) {
        const char *end = strstr(o->request, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(o->request, "Content-Length: ");
            size_t want = (size_t)(end + 4 - o->request) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (used >= want)
                break;
        }
        if (used >= sizeof(o->request) - 1)
            break;
        ssize_t n = recv(c, o->request + used, sizeof(o->request) - 1 - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        o->request[used] = '\0';
    }
    /* Sent in two writes so the client sees the response in more than one piece. */
    size_t len = strlen(o->answer), half = len / 2;
    send(c, o->answer, half, MSG_NOSIGNAL);
    sleep_ms(20);
    send(c, o->answer + half, len - half, MSG_NOSIGNAL);
    close(c);
    return NULL;
}

/* Listens on the loopback address of family (AF_INET or AF_INET6); 0 when not available. */
static int oneshot_start(struct oneshot *o, int family, const char *answer)
{
    memset(o, 0, sizeof(*o));
    o->answer = answer;
    o->fd = socket(family, SOCK_STREAM, 0);
    if (o->fd < 0)
        return 0;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    if (bind(o->fd, (struct sockaddr *)&ss, len) != 0 || listen(o->fd, 4) != 0 ||
        getsockname(o->fd, (struct sockaddr *)&ss, &len) != 0) {
        close(o->fd);
        return 0;
    }
    o->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    pthread_create(&o->thread, NULL, oneshot_run, o);
    return 1;
}

static void oneshot_stop(struct oneshot *o)
{
    shutdown(o->fd, SHUT_RDWR);
    pthread_join(o->thread, NULL);
    close(o->fd);
}

static const char chunked_answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n"
                                     "8\r\nup 1\nup \r\n2\r\n2\n\r\n0\r\n\r\n";

/* One GET of url (1000-byte cap, 2 s); the caller frees req. */
static void get_one(struct httpc_request *req, const char *url, const char *accept,
                    int headers_only)
{
    memset(req, 0, sizeof(*req));
    req->url = url;
    req->max_body = 1000;
    req->headers_only = headers_only;
    httpc_get_all(req, 1, accept, 2000);
    if (!req->ok)
        print_message("%s: %s\n", url, req->error);
}

static void test_request_and_chunked(void **state)
{
    (void)state;
    struct oneshot o;
    assert_true(oneshot_start(&o, AF_INET, chunked_answer));
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics?x=1#frag", o.port);
    struct httpc_request req;
    get_one(&req, url, "text/plain", 0);
    oneshot_stop(&o);
    assert_true(req.ok);
    assert_string_equal(req.resp.body, "up 1\nup 2\n");
    assert_string_equal(req.resp.content_type, "text/plain");
    char want[256];
    snprintf(want, sizeof(want),
             "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/plain\r\n"
             "Connection: close\r\n\r\n",
             o.port);
    assert_string_equal(o.request, want);
    httpc_request_free(&req);
}

static void test_ipv6_literal(void **state)
{
    (void)state;
    struct oneshot o;
    if (!oneshot_start(&o, AF_INET6, chunked_answer)) {
        print_message("no IPv6 loopback here; skipped\n");
        skip();
    }
    char url[128];
    snprintf(url, sizeof(url), "http://[::1]:%d/m", o.port);
    struct httpc_request req;
    get_one(&req, url, "*/*", 0);
    oneshot_stop(&o);
    assert_true(req.ok);
    assert_string_equal(req.resp.body, "up 1\nup 2\n");
    assert_non_null(strstr(o.request, "\r\nHost: [::1]:"));
    httpc_request_free(&req);
}

/* A host name goes through the resolver; a name that does not resolve says so. */
static void test_host_name(void **state)
{
    (void)state;
    struct oneshot o;
    assert_true(oneshot_start(&o, AF_INET, chunked_answer));
    char url[128];
    snprintf(url, sizeof(url), "http://localhost:%d/m", o.port);
    struct httpc_request req;
    get_one(&req, url, "*/*", 0);
    oneshot_stop(&o);
    assert_true(req.ok);
    httpc_request_free(&req);

    get_one(&req, "http://no-such-host.invalid/m", "*/*", 0);
    assert_false(req.ok);
    assert_non_null(strstr(req.error, "cannot resolve no-such-host.invalid: "));
    httpc_request_free(&req);
}

/* Several requests in one call, each with its own outcome. */
static void test_parallel(void **state)
{
    (void)state;
    double seq[] = {5};
    struct testsrv *s = testsrv_start(seq, 1);
    char urls[6][128];
    snprintf(urls[0], 128, "http://127.0.0.1:%d/counter", testsrv_port(s));
    snprintf(urls[1], 128, "http://127.0.0.1:%d/slow", testsrv_port(s));
    snprintf(urls[2], 128, "http://127.0.0.1:%d/missing", testsrv_port(s));
    snprintf(urls[3], 128, "http://127.0.0.1:%d/huge", testsrv_port(s));
    snprintf(urls[4], 128, "http://127.0.0.1:%d/metrics", free_port());
    snprintf(urls[5], 128, "https://127.0.0.1:%d/metrics", testsrv_port(s));
    struct httpc_request req[6];
    memset(req, 0, sizeof(req));
    for (int i = 0; i < 6; i++) {
        req[i].url = urls[i];
        req[i].max_body = 65536;
    }
    httpc_get_all(req, 6, "text/plain", 400);
    for (int i = 0; i < 6; i++)
        print_message("%s: ok=%d %s\n", urls[i], req[i].ok, req[i].error);
    assert_true(req[0].ok);
    assert_non_null(strstr(req[0].resp.body, "http_requests_total 5\n"));
    assert_string_equal(req[1].error, "timed out after 400 ms");
    assert_string_equal(req[2].error, "HTTP status 404");
    assert_string_equal(req[3].error, "body larger than 65536 bytes");
    assert_string_equal(req[4].error, "cannot connect: Connection refused");
    /* https:// to a plain HTTP server: the TLS handshake fails with a reason */
    assert_non_null(strstr(req[5].error, "TLS handshake with 127.0.0.1 failed: "));
    for (int i = 0; i < 6; i++)
        httpc_request_free(&req[i]);
    /* Zero requests: nothing to do, returns at once. */
    httpc_get_all(NULL, 0, "*/*", 100);
    testsrv_stop(s);
}

/* headers_only (the readiness probe) succeeds on a 200 whatever the body's size. */
static void test_headers_only(void **state)
{
    (void)state;
    struct testsrv *s = testsrv_start(NULL, 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/huge", testsrv_port(s));
    struct httpc_request req;
    get_one(&req, url, "*/*", 1);
    assert_true(req.ok);
    assert_int_equal(req.resp.status, 200);
    httpc_request_free(&req);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing", testsrv_port(s));
    get_one(&req, url, "*/*", 1);
    assert_false(req.ok);
    assert_string_equal(req.error, "HTTP status 404");
    httpc_request_free(&req);
    testsrv_stop(s);
}

/* POST with a JSON body: the request carries method, Content-Type, Content-Length and the body;
 * the body of a non-200 answer is read and handed back with its status. */
static void test_post_json(void **state)
{
    (void)state;
    static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 40\r\n\r\n"
                                 "{\"error\":\"lease not found\",\"code\":5}    ";
    struct oneshot o;
    assert_true(oneshot_start(&o, AF_INET, answer));
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v3/lease/keepalive", o.port);
    struct httpc_response resp;
    char err[224] = "";
    int rc = httpc_post_json(url, "{\"ID\":\"7\"}", 1000, 2000, &resp, err, sizeof(err));
    oneshot_stop(&o);
    if (rc != 0)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.body, "{\"error\":\"lease not found\",\"code\":5}    ");
    char want[512];
    snprintf(want, sizeof(want),
             "POST /v3/lease/keepalive HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
             "Accept: application/json\r\nContent-Type: application/json\r\n"
             "Content-Length: 10\r\nConnection: close\r\n\r\n{\"ID\":\"7\"}",
             o.port);
    assert_string_equal(o.request, want);
    httpc_response_free(&resp);

    /* A 200 answer the same way; and the parser's limits still apply to a POST's answer. */
    assert_true(oneshot_start(&o, AF_INET, chunked_answer));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v3/kv/range", o.port);
    assert_int_equal(httpc_post_json(url, "{}", 1000, 2000, &resp, err, sizeof(err)), 0);
    oneshot_stop(&o);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "up 1\nup 2\n");
    httpc_response_free(&resp);
    assert_true(oneshot_start(&o, AF_INET, chunked_answer));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v3/kv/range", o.port);
    assert_int_equal(httpc_post_json(url, "{}", 4, 2000, &resp, err, sizeof(err)), -1);
    oneshot_stop(&o);
    assert_string_equal(err, "body larger than 4 bytes");
    assert_null(resp.body);

    /* Nobody listening: the transport's message. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v3/kv/range", free_port());
    assert_int_equal(httpc_post_json(url, "{}", 1000, 2000, &resp, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot connect: Connection refused");
}

/* A method with a space in it would split the request line: refused before anything is sent. */
static void test_bad_method(void **state)
{
    (void)state;
    struct httpc_request req;
    memset(&req, 0, sizeof(req));
    req.url = "http://127.0.0.1:1/x";
    req.method = "GET /y";
    httpc_get_all(&req, 1, "*/*", 500);
    assert_false(req.ok);
    assert_string_equal(req.error, "bad method \"GET /y\"");
    httpc_request_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_until_close),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_request_and_chunked),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_host_name),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_headers_only),
        cmocka_unit_test(test_post_json),
        cmocka_unit_test(test_bad_method),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
