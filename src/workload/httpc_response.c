/* HTTP/1.1 response parser (see httpc_response.h): a push state machine. Lines (status,
 * headers, chunk sizes, trailers) are collected in the fixed r->line buffer and parsed once
 * whole; body bytes go straight to r->body. Every copy is bounded by the room left in its
 * destination, so no input can write past a buffer. */
#include "httpc_response.h"
#include "aether/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void httpc_response_init(struct httpc_response *r, size_t max_body)
{
    memset(r, 0, sizeof(*r));
    r->content_length = -1;
    r->max_body = max_body;
    r->state = HTTPC_S_STATUS;
}

void httpc_response_free(struct httpc_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
}

int httpc_response_headers_done(const struct httpc_response *r)
{
    return r->headers_done;
}

static int fail(struct httpc_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(r->error, sizeof(r->error), 0, fmt, ap);
    va_end(ap);
    r->state = HTTPC_S_ERROR;
    return HTTPC_ERROR;
}

static int too_big(struct httpc_response *r)
{
    return fail(r, "body larger than %zu bytes", r->max_body);
}

/* Appends n body bytes, keeping the body NUL-terminated. */
static int body_append(struct httpc_response *r, const char *p, size_t n)
{
    if (n > r->max_body - r->body_len)
        return too_big(r);
    size_t need = r->body_len + n + 1;
    if (need > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
        if (cap < need)
            cap = need;
        if (cap > r->max_body + 1)
            cap = r->max_body + 1;
        char *b = realloc(r->body, cap);
        if (!b)
            return fail(r, "out of memory");
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return HTTPC_MORE;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 when the n bytes at s equal the lower-case word w, ignoring case. */
static int same_word(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 token characters (header names). */
static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/1.x SSS[ reason]" */
static int parse_status(struct httpc_response *r, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' ||
        !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' '))
        return fail(r, "malformed status line");
    r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    r->state = HTTPC_S_HEADERS;
    return HTTPC_MORE;
}

/* Content-Length: one decimal number; a repeated header must repeat the same value. */
static int parse_content_length(struct httpc_response *r, const char *v, size_t n)
{
    if (n == 0 || n > 18)
        return fail(r, "bad Content-Length");
    long long len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]))
            return fail(r, "bad Content-Length");
        len = len * 10 + (v[i] - '0');
    }
    if (r->content_length >= 0 && r->content_length != len)
        return fail(r, "conflicting Content-Length headers");
    r->content_length = len;
    return HTTPC_MORE;
}

/* "name: value"; only Content-Type, Content-Length and Transfer-Encoding matter. */
static int parse_header(struct httpc_response *r, const char *s, size_t n)
{
    size_t name_len = 0;
    while (name_len < n && is_tchar((unsigned char)s[name_len]))
        name_len++;
    if (name_len == 0 || name_len == n || s[name_len] != ':')
        return fail(r, "malformed header line");
    size_t b = name_len + 1, e = n;
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    const char *v = s + b;
    size_t vn = e - b;
    if (same_word(s, name_len, "content-type")) {
        size_t keep = vn < sizeof(r->content_type) ? vn : sizeof(r->content_type) - 1;
        memcpy(r->content_type, v, keep);
        r->content_type[keep] = '\0';
    } else if (same_word(s, name_len, "content-length")) {
        return parse_content_length(r, v, vn);
    } else if (same_word(s, name_len, "transfer-encoding")) {
        /* Only chunked alone is decodable here (no gzip or the like). */
        if (r->chunked || !same_word(v, vn, "chunked"))
            return fail(r, "unsupported Transfer-Encoding \"%.*s\"", (int)(vn < 60 ? vn : 60), v);
        r->chunked = 1;
    }
    return HTTPC_MORE;
}

/* The empty line after the headers: decide how the body is delimited. */
static int end_of_headers(struct httpc_response *r)
{
    r->headers_done = 1;
    if (r->status != 200 && !r->any_status)
        return fail(r, "HTTP status %d", r->status);
    if (r->chunked) {
        r->state = HTTPC_S_CHUNK_SIZE; /* Content-Length, if any, is ignored (RFC 9112 6.3) */
    } else if (r->content_length >= 0) {
        if ((unsigned long long)r->content_length > r->max_body)
            return too_big(r);
        r->remaining = r->content_length;
        r->state = r->remaining ? HTTPC_S_BODY_LEN : HTTPC_S_DONE;
    } else {
        r->state = HTTPC_S_BODY_CLOSE;
    }
    return r->state == HTTPC_S_DONE ? HTTPC_DONE : HTTPC_MORE;
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* chunk-size [ BWS ";" extensions ] */
static int parse_chunk_size(struct httpc_response *r, const char *s, size_t n)
{
    size_t i = 0;
    long long size = 0;
    for (; i < n && hex_value((unsigned char)s[i]) >= 0; i++) {
        if (i >= 15)
            return fail(r, "bad chunk size");
        size = size * 16 + hex_value((unsigned char)s[i]);
    }
    size_t digits = i;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (digits == 0 || (i < n && s[i] != ';'))
        return fail(r, "bad chunk size");
    if (size == 0) {
        r->state = HTTPC_S_TRAILERS;
        return HTTPC_MORE;
    }
    if ((unsigned long long)size > r->max_body - r->body_len)
        return too_big(r);
    r->remaining = size;
    r->state = HTTPC_S_CHUNK_DATA;
    return HTTPC_MORE;
}

/* One whole line (without its LF, and without a CR before it) in the current state. */
static int on_line(struct httpc_response *r, const char *s, size_t n)
{
    switch (r->state) {
    case HTTPC_S_STATUS:
        return parse_status(r, s, n);
    case HTTPC_S_HEADERS:
        return n == 0 ? end_of_headers(r) : parse_header(r, s, n);
    case HTTPC_S_CHUNK_SIZE:
        return parse_chunk_size(r, s, n);
    case HTTPC_S_CHUNK_END:
        if (n != 0)
            return fail(r, "missing CRLF after chunk data");
        r->state = HTTPC_S_CHUNK_SIZE;
        return HTTPC_MORE;
    case HTTPC_S_TRAILERS:
        if (n == 0) {
            r->state = HTTPC_S_DONE;
            return HTTPC_DONE;
        }
        return HTTPC_MORE; /* trailer fields are not used */
    default:
        return fail(r, "internal error: line in state %d", (int)r->state);
    }
}

static const char *line_name(enum httpc_state s)
{
    switch (s) {
    case HTTPC_S_STATUS:
        return "status line";
    case HTTPC_S_HEADERS:
        return "header line";
    case HTTPC_S_TRAILERS:
        return "trailer line";
    default:
        return "chunk-size line";
    }
}

/* Consumes bytes of a line state from p[0..n); returns how many were used (0 on an error,
 * which leaves r in HTTPC_S_ERROR). */
static size_t take_line(struct httpc_response *r, const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    size_t piece = lf ? (size_t)(lf - p) : n;
    size_t used = lf ? piece + 1 : piece;
    int in_head =
        r->state == HTTPC_S_STATUS || r->state == HTTPC_S_HEADERS || r->state == HTTPC_S_TRAILERS;
    if (in_head) {
        r->header_bytes += used;
        if (r->header_bytes > HTTPC_HEADERS_MAX) {
            fail(r, "headers larger than %d bytes", HTTPC_HEADERS_MAX);
            return 0;
        }
    }
    if (piece > sizeof(r->line) - r->line_len) {
        fail(r, "%s longer than %d bytes", line_name(r->state), HTTPC_LINE_MAX);
        return 0;
    }
    memcpy(r->line + r->line_len, p, piece);
    r->line_len += piece;
    if (!lf)
        return used;
    size_t len = r->line_len;
    if (len > 0 && r->line[len - 1] == '\r')
        len--;
    r->line_len = 0;
    on_line(r, r->line, len);
    return used;
}

int httpc_response_feed(struct httpc_response *r, const char *p, size_t n)
{
    size_t i = 0;
    while (r->state != HTTPC_S_DONE && r->state != HTTPC_S_ERROR && i < n) {
        size_t left = n - i;
        switch (r->state) {
        case HTTPC_S_BODY_CLOSE:
            body_append(r, p + i, left);
            i = n;
            break;
        case HTTPC_S_BODY_LEN:
        case HTTPC_S_CHUNK_DATA: {
            size_t take = (unsigned long long)r->remaining < left ? (size_t)r->remaining : left;
            if (body_append(r, p + i, take) == HTTPC_ERROR)
                break;
            i += take;
            r->remaining -= (long long)take;
            if (r->remaining == 0)
                r->state = r->state == HTTPC_S_BODY_LEN ? HTTPC_S_DONE : HTTPC_S_CHUNK_END;
            break;
        }
        default:
            i += take_line(r, p + i, left);
            break;
        }
    }
    if (r->state == HTTPC_S_ERROR)
        return HTTPC_ERROR;
    return r->state == HTTPC_S_DONE ? HTTPC_DONE : HTTPC_MORE;
}

int httpc_response_finish(struct httpc_response *r)
{
    switch (r->state) {
    case HTTPC_S_DONE:
        return HTTPC_DONE;
    case HTTPC_S_ERROR:
        return HTTPC_ERROR;
    case HTTPC_S_BODY_CLOSE:
        r->state = HTTPC_S_DONE;
        return HTTPC_DONE;
    case HTTPC_S_STATUS:
    case HTTPC_S_HEADERS:
        if (r->header_bytes == 0)
            return fail(r, "empty response (the server closed the connection)");
        return fail(r, "connection closed before the end of the headers");
    case HTTPC_S_BODY_LEN:
        return fail(r, "connection closed after %zu of %lld body bytes", r->body_len,
                    r->content_length);
    default:
        return fail(r, "connection closed inside the chunked body");
    }
}
