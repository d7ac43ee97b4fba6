/* HTTP/1.1 response parser of the module's small HTTP client (private to src/workload).
 *
 * The client (httpc.h) reads a response from a socket in whatever pieces the kernel hands it
 * and feeds them here; the parser keeps only what the caller needs: the status, Content-Type
 * and the decoded body. It knows the three ways RFC 9112 delimits a body: Content-Length,
 * Transfer-Encoding: chunked (extensions and trailers read and ignored) and "until the server
 * closes". It allocates nothing but the body, which never grows past the caller's cap.
 *
 * Only a 200 response is of any use to the callers (a metrics page, a readiness probe), so any
 * other status ends parsing right after the headers with the error "HTTP status N". */
#ifndef AETHER_WORKLOAD_HTTPC_RESPONSE_H
#define AETHER_WORKLOAD_HTTPC_RESPONSE_H

#include <stddef.h>

#define HTTPC_LINE_MAX 8192        /* longest status, header or chunk-size line */
#define HTTPC_HEADERS_MAX 65536    /* all of the status line and headers together */
#define HTTPC_CONTENT_TYPE_MAX 256 /* longer Content-Type values are cut */

enum httpc_feed_result {
    HTTPC_ERROR = -1, /* malformed, over a limit or not 200: see the error text */
    HTTPC_MORE = 0,   /* needs more bytes (or the end of the stream) */
    HTTPC_DONE = 1,   /* the whole response has been read; further bytes are ignored */
};

enum httpc_state {
    HTTPC_S_STATUS,     /* reading the status line */
    HTTPC_S_HEADERS,    /* reading header lines */
    HTTPC_S_BODY_LEN,   /* reading a Content-Length body */
    HTTPC_S_BODY_CLOSE, /* reading a body delimited by the end of the stream */
    HTTPC_S_CHUNK_SIZE, /* reading a chunk-size line */
    HTTPC_S_CHUNK_DATA, /* reading chunk data */
    HTTPC_S_CHUNK_END,  /* reading the CRLF after chunk data */
    HTTPC_S_TRAILERS,   /* reading trailer lines after the last chunk */
    HTTPC_S_DONE,
    HTTPC_S_ERROR,
};

struct httpc_response {
    /* Results, valid once the headers are read (httpc_response_headers_done). */
    int status;                                /* e.g. 200 */
    char content_type[HTTPC_CONTENT_TYPE_MAX]; /* "" when absent */
    long long content_length;                  /* -1 when absent */
    int chunked;                               /* Transfer-Encoding: chunked */
    int headers_done;                          /* the empty line ending the headers was read */
    char *body;      /* decoded body, NUL-terminated; NULL while empty; owned */
    size_t body_len; /* bytes in body, not counting the NUL */
    size_t max_body; /* a longer body is an error */
    int any_status;  /* 0: a status other than 200 is an error after the headers; 1: the body of
                      * any status is read (set after httpc_response_init) */
    /* Parser state. */
    enum httpc_state state;
    size_t body_cap;     /* bytes allocated at body */
    size_t header_bytes; /* status line and headers seen so far */
    size_t line_len;     /* bytes in line */
    long long remaining; /* BODY_LEN / CHUNK_DATA: bytes still to come */
    char line[HTTPC_LINE_MAX];
    char error[160]; /* set when state is HTTPC_S_ERROR */
};

/* Prepares r for a new response whose decoded body may hold at most max_body bytes. */
void httpc_response_init(struct httpc_response *r, size_t max_body);

/* Feeds the next n bytes of the stream. Returns HTTPC_MORE, HTTPC_DONE or HTTPC_ERROR; after
 * an error every later call returns HTTPC_ERROR again and r->error says why (e.g. "malformed
 * status line", "bad chunk size", "body larger than 1048576 bytes", "HTTP status 503"). */
int httpc_response_feed(struct httpc_response *r, const char *p, size_t n);

/* The stream has ended (the server closed). Returns HTTPC_DONE when that completes the
 * response (a body delimited by the close), HTTPC_ERROR when the response was cut short. */
int httpc_response_finish(struct httpc_response *r);

/* 1 once the status line and headers have been read (also when that ended in "HTTP status"). */
int httpc_response_headers_done(const struct httpc_response *r);

/* Frees the body; r may be initialised again. */
void httpc_response_free(struct httpc_response *r);

#endif
