/* A small HTTP/1.1 client for http:// URLs (private to src/workload).
 *
 * The scrape collector fetches every target's metrics page of a round at once, and the process
 * actuator probes an instance's readiness; both only need "GET this URL, give me a 200 body or
 * say why not". httpc_get_all runs any number of requests in parallel in one poll loop over
 * non-blocking sockets, with one overall time limit. Each request sends
 * `<method> <path> HTTP/1.1`, `Host`, `Accept` and `Connection: close` (plus `Content-Type` and
 * `Content-Length` when it carries a body); the response goes through the parser in
 * httpc_response.h. A request is a GET unless it names another method; the cluster module's
 * etcd client posts JSON through httpc_post_json, a blocking one-request call over the same
 * machinery. https:// requests run the same way over a TLS session on their socket (httpc_tls.h:
 * GnuTLS, the certificate verified unless the request says otherwise). There is no redirect, no
 * proxy and no keep-alive.
 * Host names are resolved with getaddrinfo before the sockets are opened, which blocks for as
 * long as the resolver takes (it counts against the time limit). Thread-safe: no globals, each
 * call works only on the requests it is given. */
#ifndef AETHER_WORKLOAD_HTTPC_H
#define AETHER_WORKLOAD_HTTPC_H

#include "httpc_response.h"
#include "httpc_tls.h"

#include <netdb.h>
#include <stddef.h>

#define HTTPC_HOST_MAX 256
#define HTTPC_PATH_MAX 2048

/* The parts of http(s)://host[:port][/path][?query] that a request needs. */
struct httpc_url {
    int tls;                            /* https:// */
    char host[HTTPC_HOST_MAX];          /* name or address, IPv6 without its brackets */
    char port[6];                       /* decimal, "80" (https: "443") when the URL has none */
    char authority[HTTPC_HOST_MAX + 8]; /* host[:port] as written, for the Host header */
    char path[HTTPC_PATH_MAX]; /* "/" when the URL has none; query kept, fragment dropped */
};

/* Splits url into out. Returns 0, or -1 with a message in err (e.g. "only http:// and https://
 * URLs are supported", "bad port"). */
int httpc_url_parse(const char *url, struct httpc_url *out, char *err, size_t errlen);

enum httpc_phase {
    HTTPC_IDLE,
    HTTPC_CONNECTING,
    HTTPC_HANDSHAKE, /* https:// only: the TLS handshake */
    HTTPC_SENDING,
    HTTPC_RECEIVING,
    HTTPC_FINISHED
};

/* One request (a GET unless method says otherwise). The caller fills the inputs (the rest
 * zeroed) and reads the outputs after httpc_get_all; httpc_request_free releases the body. */
struct httpc_request {
    /* in */
    const char *url;          /* borrowed for the duration of httpc_get_all */
    size_t max_body;          /* a longer body fails the request */
    int headers_only;         /* succeed as soon as a 200 status line and headers are in */
    const char *method;       /* NULL = "GET"; a token such as "POST" (borrowed) */
    const char *body;         /* request body, body_len bytes, borrowed; NULL = none */
    size_t body_len;          /* sent as Content-Length when body is set */
    const char *content_type; /* Content-Type of the body; NULL = "application/octet-stream" */
    int any_status;           /* ok once any whole response is read: the caller checks
                               * resp.status (and reads the body of an error) */
    const char *ca_file;      /* https://: PEM file of trusted CAs; NULL = the system's */
    int tls_insecure;         /* https://: 1 = no certificate or host name check */
    /* out */
    int ok; /* 1: status 200 (any status with any_status) and the whole body (or headers) read */
    char error[224];            /* why not ok, e.g. "timed out after 800 ms" */
    struct httpc_response resp; /* status, content_type, body (owned, see free) */
    /* private */
    enum httpc_phase phase;
    int fd;
    struct addrinfo *addrs, *next_addr;
    int last_errno; /* of the last failed connect, for the message */
    int use_tls;
    char host[HTTPC_HOST_MAX]; /* https://: the name the certificate must carry */
    struct httpc_tls *tls;     /* https://: the session, once connected */
    char *text;                /* the request, owned */
    size_t text_len, sent;
};

/* Runs the n requests in parallel until each has its response, failed, or timeout_ms has passed
 * since the call began ("timed out after <timeout_ms> ms"). accept is the Accept header's
 * value. Sets ok and error of every request; blocks the calling thread. */
void httpc_get_all(struct httpc_request *reqs, int n, const char *accept, int timeout_ms);

/* One blocking POST of a JSON body to url (the etcd gateway's calling convention): sends
 * `Content-Type: application/json` and `Accept: application/json`, reads a response of any
 * status whose body is at most max_body bytes, within timeout_ms. Returns 0 with the response
 * in *out (status, body; the caller frees it with httpc_response_free), or -1 with the reason in
 * err (as httpc_request.error: "cannot connect: Connection refused", "timed out after 500 ms",
 * "body larger than 65536 bytes"...; *out holds nothing to free then). json is borrowed. */
int httpc_post_json(const char *url, const char *json, size_t max_body, int timeout_ms,
                    struct httpc_response *out, char *err, size_t errlen);

/* Frees what a request owns after httpc_get_all (its body); the request may then be reused. */
void httpc_request_free(struct httpc_request *r);

#endif
