/* TOML 1.0 parser: text -> document tree (toml_internal.h).
 *
 * A single-pass recursive-descent reader over a byte buffer. The whole input is checked to be
 * valid UTF-8 first, so later stages only look at ASCII structure. Positions (line, column in
 * characters) are computed from a moving checkpoint, so reporting them costs O(n) overall.
 * The first error stops parsing; its message names the file, line and column and says what was
 * expected there. Redefinition rules are enforced with the table flags described in
 * toml_internal.h. */
#include "toml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/fileio.h"

struct parser {
    const char *start, *end, *p;
    const char *name;
    /* Position checkpoint: line/column of `mark` (only moves forward while parsing). */
    const char *mark;
    int mark_line, mark_col;
    char *err;
    size_t errlen;
    int status; /* first error, 0 while fine */
    toml_value *root;
    toml_value *cur; /* table that key/value lines currently go into */
};

struct pos {
    int line, col;
};

/* A growable byte buffer for decoded strings and keys. */
struct buf {
    char *data;
    size_t len, cap;
};

/* One part of a dotted key, decoded, with where it was written. */
struct keypart {
    char *text;
    size_t len;
    const char *at;
};

struct keypath {
    struct keypart *parts;
    size_t count, cap;
};

static struct pos pos_at(struct parser *P, const char *at)
{
    if (at < P->mark) {
        P->mark = P->start;
        P->mark_line = 1;
        P->mark_col = 1;
    }
    for (const char *q = P->mark; q < at; q++) {
        if (*q == '\n') {
            P->mark_line++;
            P->mark_col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            P->mark_col++;
        }
    }
    P->mark = at;
    struct pos ps = {P->mark_line, P->mark_col};
    return ps;
}

/* Records the first error with its position; returns the status to propagate. */
static int fail_at(struct parser *P, const char *at, const char *fmt, ...)
{
    if (P->status)
        return P->status;
    P->status = AE_EPARSE;
    if (!P->err || P->errlen == 0)
        return P->status;
    struct pos ps = pos_at(P, at);
    size_t n = ae_errf(P->err, P->errlen, 0, "%s:%d:%d: ", P->name, ps.line, ps.col);
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(P->err, P->errlen, n, fmt, ap);
    va_end(ap);
    return P->status;
}

static int out_of_memory(struct parser *P)
{
    if (P->status)
        return P->status;
    P->status = AE_ENOMEM;
    if (P->err && P->errlen)
        snprintf(P->err, P->errlen, "%s: out of memory while parsing", P->name);
    return P->status;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_bare_key_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

static int is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is invalid (overlong, surrogate,
 * beyond U+10FFFF or truncated). */
static size_t utf8_len(const unsigned char *s, const unsigned char *end, unsigned *cp_out)
{
    unsigned c = s[0], cp, min;
    size_t n;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *cp_out = cp;
    return n;
}

/* Names what sits at `at`, for "expected X, found Y" messages. */
static const char *describe(const struct parser *P, const char *at, char *buf, size_t size)
{
    if (at >= P->end)
        return "end of file";
    unsigned char c = (unsigned char)*at;
    if (c == '\n' || (c == '\r' && at + 1 < P->end && at[1] == '\n'))
        return "end of line";
    if (c == '\r')
        return "a carriage return without a line feed";
    if (c == ' ')
        return "a space";
    if (c == '\t')
        return "a tab";
    if (c > 0x20 && c < 0x7F) {
        snprintf(buf, size, "'%c'", c);
        return buf;
    }
    unsigned cp = c;
    utf8_len((const unsigned char *)at, (const unsigned char *)P->end, &cp);
    snprintf(buf, size, "U+%04X", cp);
    return buf;
}

#define FOUND(at) describe(P, (at), found_buf, sizeof(found_buf))

/* "an integer", "a string", ... for messages. */
static const char *a_type(const toml_value *v)
{
    switch (v->type) {
    case TOML_ARRAY:
        return v->u.array.of_tables ? "an array of tables" : "an array";
    case TOML_INTEGER:
        return "an integer";
    case TOML_DATETIME:
        return "an offset date-time";
    case TOML_TABLE:
        return "a table";
    case TOML_STRING:
        return "a string";
    case TOML_FLOAT:
        return "a float";
    case TOML_BOOL:
        return "a boolean";
    case TOML_DATETIME_LOCAL:
        return "a local date-time";
    case TOML_DATE_LOCAL:
        return "a local date";
    case TOML_TIME_LOCAL:
        return "a local time";
    }
    return "a value";
}

static int buf_put(struct parser *P, struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return out_of_memory(P);
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void keypath_free(struct keypath *k)
{
    for (size_t i = 0; i < k->count; i++)
        free(k->parts[i].text);
    free(k->parts);
    k->parts = NULL;
    k->count = k->cap = 0;
}

/* Writes the dotted key parts[0..upto] into buf for messages. */
static const char *key_name(const struct keypath *k, size_t upto, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i <= upto && i < k->count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? "." : "", k->parts[i].text);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

static void skip_ws(struct parser *P)
{
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\t'))
        P->p++;
}

/* Length of the newline at p (1 for LF, 2 for CRLF), 0 when there is none. */
static int newline_len(const struct parser *P, const char *p)
{
    if (p < P->end && *p == '\n')
        return 1;
    if (p + 1 < P->end && p[0] == '\r' && p[1] == '\n')
        return 2;
    return 0;
}

/* At '#': skips the comment up to (not including) the end of line. */
static int skip_comment(struct parser *P)
{
    P->p++;
    while (P->p < P->end && *P->p != '\n') {
        unsigned char c = (unsigned char)*P->p;
        if (c == '\r' && newline_len(P, P->p) == 2)
            break;
        if (is_control(c))
            return fail_at(P, P->p, "control character U+%04X is not allowed in a comment", c);
        P->p++;
    }
    return 0;
}

/* Skips spaces, tabs, comments and newlines (inside arrays). */
static int skip_blank(struct parser *P)
{
    for (;;) {
        skip_ws(P);
        int nl = newline_len(P, P->p);
        if (nl) {
            P->p += nl;
        } else if (P->p < P->end && *P->p == '#') {
            if (skip_comment(P))
                return P->status;
        } else {
            return 0;
        }
    }
}

/* After a key/value pair or a header: optional spaces and comment, then a newline or the end. */
static int expect_eol(struct parser *P, const char *after)
{
    char found_buf[16];
    skip_ws(P);
    if (P->p < P->end && *P->p == '#' && skip_comment(P))
        return P->status;
    if (P->p >= P->end)
        return 0;
    int nl = newline_len(P, P->p);
    if (!nl)
        return fail_at(P, P->p, "expected end of line after %s, found %s", after, FOUND(P->p));
    P->p += nl;
    return 0;
}

/* ---- strings ---------------------------------------------------------------------------- */

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int put_utf8(struct parser *P, struct buf *b, unsigned cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18)), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    return buf_put(P, b, out, n);
}

/* At a backslash inside a basic string: decodes one escape sequence. */
static int parse_escape(struct parser *P, struct buf *b)
{
    char found_buf[16];
    const char *at = P->p++;
    if (P->p >= P->end)
        return fail_at(P, at, "unterminated string: backslash at end of file");
    char c = *P->p++;
    const char *simple = NULL;
    switch (c) {
    case 'b':
        simple = "\b";
        break;
    case 't':
        simple = "\t";
        break;
    case 'n':
        simple = "\n";
        break;
    case 'f':
        simple = "\f";
        break;
    case 'r':
        simple = "\r";
        break;
    case '"':
        simple = "\"";
        break;
    case '\\':
        simple = "\\";
        break;
    case 'u':
    case 'U': {
        int digits = c == 'u' ? 4 : 8;
        unsigned long cp = 0;
        for (int i = 0; i < digits; i++) {
            int h = P->p < P->end ? hex_value((unsigned char)*P->p) : -1;
            if (h < 0)
                return fail_at(P, at, "escape \\%c needs %d hexadecimal digits, found %s", c,
                               digits, FOUND(P->p));
            cp = cp * 16 + (unsigned long)h;
            P->p++;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail_at(P, at, "escape \\%c%.*s is not a Unicode scalar value", c, digits,
                           at + 2);
        return put_utf8(P, b, (unsigned)cp);
    }
    default:
        return fail_at(P, at, "invalid escape sequence: backslash followed by %s", FOUND(P->p - 1));
    }
    return buf_put(P, b, simple, 1);
}

/* Counts consecutive `q` characters at p. */
static size_t run_of(const struct parser *P, const char *p, char q)
{
    size_t n = 0;
    while (p + n < P->end && p[n] == q)
        n++;
    return n;
}

/* One character of a string's body as written; control characters must be escaped. */
static int put_string_char(struct parser *P, struct buf *b)
{
    unsigned char c = (unsigned char)*P->p;
    if (is_control(c))
        return fail_at(P, P->p, "control character U+%04X must be escaped in a string", c);
    if (buf_put(P, b, P->p, 1))
        return P->status;
    P->p++;
    return 0;
}

/* Single-line basic ("...") or literal ('...') string; P->p at the opening quote. */
static int parse_line_string(struct parser *P, struct buf *b)
{
    char q = *P->p;
    const char *open = P->p++;
    for (;;) {
        if (P->p >= P->end || *P->p == '\n' || *P->p == '\r')
            return fail_at(P, P->p, "unterminated string (opened at column %d): expected %c",
                           pos_at(P, open).col, q);
        unsigned char c = (unsigned char)*P->p;
        if (c == (unsigned char)q) {
            P->p++;
            return 0;
        }
        if (c == '\\' && q == '"') {
            if (parse_escape(P, b))
                return P->status;
            continue;
        }
        if (put_string_char(P, b))
            return P->status;
    }
}

/* Multi-line basic ("""...""") or literal ('''...''') string; P->p at the opening quotes. */
static int parse_multiline_string(struct parser *P, struct buf *b)
{
    char q = *P->p;
    P->p += 3;
    P->p += newline_len(P, P->p); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        if (P->p >= P->end)
            return fail_at(P, P->p, "unterminated multi-line string: expected %c%c%c", q, q, q);
        unsigned char c = (unsigned char)*P->p;
        if (c == (unsigned char)q) {
            size_t n = run_of(P, P->p, q);
            if (n >= 3) {
                /* Up to two quotes may end the content right before the closing three. */
                size_t extra = n - 3 > 2 ? 2 : n - 3;
                if (buf_put(P, b, P->p, extra))
                    return P->status;
                P->p += 3 + extra;
                return 0;
            }
            if (buf_put(P, b, P->p, n))
                return P->status;
            P->p += n;
            continue;
        }
        if (c == '\\' && q == '"') {
            /* A backslash ending a line trims all whitespace and newlines after it. */
            const char *after = P->p + 1;
            while (after < P->end && (*after == ' ' || *after == '\t'))
                after++;
            if (newline_len(P, after)) {
                P->p = after;
                int nl = 0;
                while (P->p < P->end &&
                       (*P->p == ' ' || *P->p == '\t' || (nl = newline_len(P, P->p)) != 0))
                    P->p += (*P->p == ' ' || *P->p == '\t') ? 1 : (size_t)nl;
                continue;
            }
            if (parse_escape(P, b))
                return P->status;
            continue;
        }
        int nl = newline_len(P, P->p);
        if (nl) {
            if (buf_put(P, b, P->p, (size_t)nl))
                return P->status;
            P->p += nl;
            continue;
        }
        if (put_string_char(P, b))
            return P->status;
    }
}

static int is_multiline_open(const struct parser *P)
{
    return P->p + 2 < P->end && P->p[1] == P->p[0] && P->p[2] == P->p[0];
}

/* ---- keys ------------------------------------------------------------------------------- */

static int parse_simple_key(struct parser *P, struct buf *b)
{
    char found_buf[16];
    if (P->p >= P->end)
        return fail_at(P, P->p, "expected a key, found end of file");
    char c = *P->p;
    if (c == '"' || c == '\'') {
        if (is_multiline_open(P))
            return fail_at(P, P->p, "a multi-line string cannot be used as a key");
        if (parse_line_string(P, b))
            return P->status;
        return buf_put(P, b, "", 0); /* make sure data is allocated for "" */
    }
    if (!is_bare_key_char((unsigned char)c))
        return fail_at(P, P->p, "expected a key, found %s", FOUND(P->p));
    const char *s = P->p;
    while (P->p < P->end && is_bare_key_char((unsigned char)*P->p))
        P->p++;
    return buf_put(P, b, s, (size_t)(P->p - s));
}

/* Parses a possibly dotted key (a."b".c) into k; caller frees with keypath_free. */
static int parse_key(struct parser *P, struct keypath *k)
{
    for (;;) {
        skip_ws(P);
        if (k->count == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 4;
            struct keypart *grown = realloc(k->parts, cap * sizeof(*grown));
            if (!grown)
                return out_of_memory(P);
            k->parts = grown;
            k->cap = cap;
        }
        struct buf b = {0};
        const char *at = P->p;
        if (parse_simple_key(P, &b)) {
            free(b.data);
            return P->status;
        }
        k->parts[k->count++] = (struct keypart){b.data, b.len, at};
        if (k->count > TOML_MAX_DEPTH)
            return fail_at(P, at, "key has more than %d dotted parts", TOML_MAX_DEPTH);
        skip_ws(P);
        if (P->p < P->end && *P->p == '.') {
            P->p++;
            continue;
        }
        return 0;
    }
}

/* ---- numbers, dates and times ----------------------------------------------------------- */

/* True when s[0..n) is digits of `base`, with single underscores only between digits. */
static int digits_ok(const char *s, size_t n, int base)
{
    if (n == 0 || s[0] == '_' || s[n - 1] == '_')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (s[i + 1] == '_')
                return 0;
            continue;
        }
        int h = hex_value((unsigned char)s[i]);
        if (h < 0 || h >= base)
            return 0;
    }
    return 1;
}

static int parse_integer(struct parser *P, const char *tok, size_t n, toml_value *v)
{
    const char *s = tok;
    int negative = 0, signed_ = 0;
    if (*s == '+' || *s == '-') {
        negative = *s == '-';
        signed_ = 1;
        s++;
    }
    size_t len = n - (size_t)(s - tok);
    int base = 10;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        if (signed_)
            return fail_at(P, tok, "a sign is not allowed on a %s integer: %.*s",
                           base == 16  ? "hexadecimal"
                           : base == 8 ? "octal"
                                       : "binary",
                           (int)n, tok);
        s += 2;
        len -= 2;
    } else if (len >= 2 && s[0] == '0' && (s[1] == 'X' || s[1] == 'O' || s[1] == 'B')) {
        return fail_at(P, tok, "invalid number %.*s: base prefixes are lowercase (0x, 0o, 0b)",
                       (int)n, tok);
    } else if (len > 1 && s[0] == '0') {
        return fail_at(P, tok, "leading zeros are not allowed in integer %.*s", (int)n, tok);
    }
    if (!digits_ok(s, len, base))
        return fail_at(P, tok, "invalid number %.*s", (int)n, tok);
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_')
            continue;
        uint64_t d = (uint64_t)hex_value((unsigned char)s[i]);
        if (acc > (limit - d) / (uint64_t)base)
            return fail_at(P, tok, "integer %.*s is out of range for a 64-bit signed integer",
                           (int)n, tok);
        acc = acc * (uint64_t)base + d;
    }
    v->type = TOML_INTEGER;
    v->u.integer = negative ? (acc == 0 ? 0 : -(int64_t)(acc - 1) - 1) : (int64_t)acc;
    return 0;
}

static int parse_float(struct parser *P, const char *tok, size_t n, toml_value *v)
{
    const char *s = tok, *end = tok + n;
    if (*s == '+' || *s == '-')
        s++;
    const char *int_end = s;
    while (int_end < end && *int_end != '.' && *int_end != 'e' && *int_end != 'E')
        int_end++;
    size_t int_len = (size_t)(int_end - s);
    if (!digits_ok(s, int_len, 10) || (int_len > 1 && s[0] == '0'))
        return fail_at(P, tok,
                       "invalid float %.*s: the integer part must be digits without "
                       "leading zeros",
                       (int)n, tok);
    const char *q = int_end;
    if (q < end && *q == '.') {
        const char *frac = ++q;
        while (q < end && *q != 'e' && *q != 'E')
            q++;
        if (!digits_ok(frac, (size_t)(q - frac), 10))
            return fail_at(P, tok, "invalid float %.*s: expected digits after '.'", (int)n, tok);
    }
    if (q < end) { /* at 'e' or 'E' */
        const char *exp = ++q;
        if (exp < end && (*exp == '+' || *exp == '-'))
            exp++;
        if (!digits_ok(exp, (size_t)(end - exp), 10))
            return fail_at(P, tok, "invalid float %.*s: expected digits in the exponent", (int)n,
                           tok);
    }
    char stack[64], *clean = n < sizeof(stack) ? stack : malloc(n + 1);
    if (!clean)
        return out_of_memory(P);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (tok[i] != '_')
            clean[m++] = tok[i];
    clean[m] = '\0';
    errno = 0;
    double d = strtod(clean, NULL);
    int overflow = errno == ERANGE && isinf(d);
    if (clean != stack)
        free(clean);
    if (overflow)
        return fail_at(P, tok, "float %.*s is out of range for a 64-bit float", (int)n, tok);
    v->type = TOML_FLOAT;
    v->u.real = d;
    return 0;
}

/* Reads exactly `n` digits at p; -1 when they are not all digits (or the input ends). */
static int fixed_digits(const struct parser *P, const char *p, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (p + i >= P->end || !is_digit((unsigned char)p[i]))
            return -1;
        value = value * 10 + (p[i] - '0');
    }
    return value;
}

static int expect_char(struct parser *P, const char *p, char c, const char *what)
{
    char found_buf[16];
    if (p < P->end && *p == c)
        return 0;
    return fail_at(P, p, "expected '%c' in %s, found %s", c, what, FOUND(p));
}

/* HH:MM:SS[.fraction] at *pp; advances *pp. */
static int parse_time_part(struct parser *P, const char **pp, struct toml_datetime *dt)
{
    char found_buf[16];
    const char *p = *pp;
    dt->hour = fixed_digits(P, p, 2);
    if (dt->hour < 0)
        return fail_at(P, p, "expected a 2-digit hour, found %s", FOUND(p));
    if (expect_char(P, p + 2, ':', "a time"))
        return P->status;
    dt->minute = fixed_digits(P, p + 3, 2);
    if (dt->minute < 0)
        return fail_at(P, p + 3, "expected 2-digit minutes, found %s", FOUND(p + 3));
    if (expect_char(P, p + 5, ':', "a time (TOML 1.0 requires seconds)"))
        return P->status;
    dt->second = fixed_digits(P, p + 6, 2);
    if (dt->second < 0)
        return fail_at(P, p + 6, "expected 2-digit seconds, found %s", FOUND(p + 6));
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return fail_at(P, p, "invalid time %.8s: hour 00..23, minute 00..59, second 00..60", p);
    p += 8;
    if (p < P->end && *p == '.') {
        p++;
        if (p >= P->end || !is_digit((unsigned char)*p))
            return fail_at(P, p, "expected digits after '.' in the seconds, found %s", FOUND(p));
        while (p < P->end && is_digit((unsigned char)*p)) {
            if (dt->frac_digits < 9) {
                dt->nanosecond = dt->nanosecond * 10 + (*p - '0');
                dt->frac_digits++;
            }
            p++;
        }
        for (int i = dt->frac_digits; i < 9; i++)
            dt->nanosecond *= 10;
    }
    *pp = p;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* A date, date-time or time value starting at P->p (already known to look like one). */
static int parse_date_or_time(struct parser *P, toml_value *v)
{
    struct toml_datetime *dt = &v->u.dt;
    const char *p = P->p;
    if (fixed_digits(P, p, 2) >= 0 && p + 2 < P->end && p[2] == ':') {
        v->type = TOML_TIME_LOCAL;
        if (parse_time_part(P, &p, dt))
            return P->status;
        P->p = p;
        return 0;
    }
    dt->year = fixed_digits(P, p, 4);
    if (expect_char(P, p + 4, '-', "a date"))
        return P->status;
    dt->month = fixed_digits(P, p + 5, 2);
    if (dt->month < 0 || expect_char(P, p + 7, '-', "a date"))
        return fail_at(P, p, "invalid date: expected YYYY-MM-DD");
    dt->day = fixed_digits(P, p + 8, 2);
    if (dt->day < 0)
        return fail_at(P, p, "invalid date: expected YYYY-MM-DD");
    if (dt->month < 1 || dt->month > 12)
        return fail_at(P, p, "invalid date %.10s: month must be 01..12", p);
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
        return fail_at(P, p, "invalid date %.10s: that month has no day %02d", p, dt->day);
    p += 10;
    v->type = TOML_DATE_LOCAL;
    int has_time = p < P->end && (*p == 'T' || *p == 't');
    if (!has_time && p + 1 < P->end && *p == ' ' && is_digit((unsigned char)p[1]))
        has_time = 1;
    if (has_time) {
        p++;
        v->type = TOML_DATETIME_LOCAL;
        if (parse_time_part(P, &p, dt))
            return P->status;
        if (p < P->end && (*p == 'Z' || *p == 'z')) {
            v->type = TOML_DATETIME;
            p++;
        } else if (p < P->end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1;
            int oh = fixed_digits(P, p + 1, 2), om = fixed_digits(P, p + 4, 2);
            if (oh < 0 || om < 0 || p[3] != ':' || oh > 23 || om > 59)
                return fail_at(P, p,
                               "invalid UTC offset: expected +HH:MM or -HH:MM (00..23:00..59)");
            v->type = TOML_DATETIME;
            dt->offset_minutes = sign * (oh * 60 + om);
            p += 6;
        }
    }
    P->p = p;
    return 0;
}

static int is_number_char(int c)
{
    return is_bare_key_char(c) || c == '.' || c == '+';
}

/* Numbers, inf/nan, dates and times: everything that starts with a digit or a sign. */
static int parse_scalar_token(struct parser *P, toml_value *v)
{
    const char *s = P->p;
    if ((fixed_digits(P, s, 4) >= 0 && s + 4 < P->end && s[4] == '-') ||
        (fixed_digits(P, s, 2) >= 0 && s + 2 < P->end && s[2] == ':'))
        return parse_date_or_time(P, v);
    const char *e = s;
    while (e < P->end && is_number_char((unsigned char)*e))
        e++;
    size_t n = (size_t)(e - s);
    const char *body = (*s == '+' || *s == '-') ? s + 1 : s;
    size_t body_len = n - (size_t)(body - s);
    P->p = e;
    if (body_len == 3 && (memcmp(body, "inf", 3) == 0 || memcmp(body, "nan", 3) == 0)) {
        v->type = TOML_FLOAT;
        v->u.real = body[0] == 'i' ? INFINITY : NAN;
        if (*s == '-')
            v->u.real = -v->u.real;
        return 0;
    }
    int is_prefixed = body_len >= 2 && body[0] == '0' &&
                      (body[1] == 'x' || body[1] == 'o' || body[1] == 'b' || body[1] == 'X' ||
                       body[1] == 'O' || body[1] == 'B');
    if (!is_prefixed && n > 0 && memchr(s, '.', n) == NULL && memchr(s, 'e', n) == NULL &&
        memchr(s, 'E', n) == NULL)
        return parse_integer(P, s, n, v);
    if (is_prefixed)
        return parse_integer(P, s, n, v);
    return parse_float(P, s, n, v);
}

/* ---- values, arrays, inline tables, key/value pairs --------------------------------------- */

static int parse_value(struct parser *P, int depth, toml_value **out);

static int parse_array(struct parser *P, toml_value *arr)
{
    char found_buf[16];
    P->p++; /* '[' */
    for (;;) {
        if (skip_blank(P))
            return P->status;
        if (P->p < P->end && *P->p == ']') {
            P->p++;
            return 0;
        }
        toml_value *item = NULL;
        if (parse_value(P, arr->depth + 1, &item)) {
            toml_free(item); /* the partly built item */
            return P->status;
        }
        if (toml_array_push(arr, item)) {
            toml_free(item);
            return out_of_memory(P);
        }
        if (skip_blank(P))
            return P->status;
        if (P->p < P->end && *P->p == ',') {
            P->p++;
            continue;
        }
        if (P->p < P->end && *P->p == ']') {
            P->p++;
            return 0;
        }
        return fail_at(P, P->p, "expected ',' or ']' in array, found %s", FOUND(P->p));
    }
}

static int parse_keyval(struct parser *P, toml_value *table);

/* Marks an inline table and every table created inside it as sealed. */
static void seal(toml_value *table)
{
    table->u.table.flags |= TOML_TBL_INLINE;
    for (size_t i = 0; i < table->u.table.count; i++)
        if (table->u.table.entries[i].value->type == TOML_TABLE)
            seal(table->u.table.entries[i].value);
}

static int parse_inline_table(struct parser *P, toml_value *tbl)
{
    char found_buf[16];
    P->p++; /* '{' */
    skip_ws(P);
    if (P->p < P->end && *P->p == '}') {
        P->p++;
        seal(tbl);
        return 0;
    }
    for (;;) {
        skip_ws(P);
        if (newline_len(P, P->p) || (P->p < P->end && *P->p == '#'))
            return fail_at(P, P->p,
                           "newlines and comments are not allowed inside an inline "
                           "table (TOML 1.0)");
        if (parse_keyval(P, tbl))
            return P->status;
        skip_ws(P);
        if (P->p < P->end && *P->p == ',') {
            P->p++;
            skip_ws(P);
            if (P->p < P->end && *P->p == '}')
                return fail_at(P, P->p,
                               "a trailing comma is not allowed in an inline table "
                               "(TOML 1.0)");
            continue;
        }
        if (P->p < P->end && *P->p == '}') {
            P->p++;
            seal(tbl);
            return 0;
        }
        if (newline_len(P, P->p) || (P->p < P->end && *P->p == '#'))
            return fail_at(P, P->p,
                           "newlines and comments are not allowed inside an inline "
                           "table (TOML 1.0)");
        return fail_at(P, P->p, "expected ',' or '}' in inline table, found %s", FOUND(P->p));
    }
}

static int parse_value(struct parser *P, int depth, toml_value **out)
{
    char found_buf[16];
    *out = NULL;
    if (depth > TOML_MAX_DEPTH)
        return fail_at(P, P->p, "values nested deeper than %d levels", TOML_MAX_DEPTH);
    if (P->p >= P->end || newline_len(P, P->p))
        return fail_at(P, P->p, "expected a value, found %s", FOUND(P->p));
    struct pos ps = pos_at(P, P->p);
    toml_value *v = toml_value_new(TOML_BOOL, ps.line, ps.col, depth);
    if (!v)
        return out_of_memory(P);
    *out = v;
    char c = *P->p;
    if (c == '"' || c == '\'') {
        struct buf b = {0};
        int rc = is_multiline_open(P) ? parse_multiline_string(P, &b) : parse_line_string(P, &b);
        if (rc == 0)
            rc = buf_put(P, &b, "", 0);
        v->type = TOML_STRING;
        v->u.str.text = b.data;
        v->u.str.len = b.len;
        return rc ? P->status : 0;
    }
    if (c == '[') {
        v->type = TOML_ARRAY;
        return parse_array(P, v);
    }
    if (c == '{') {
        v->type = TOML_TABLE;
        return parse_inline_table(P, v);
    }
    if (c == 't' || c == 'f') {
        const char *word = c == 't' ? "true" : "false";
        size_t n = strlen(word);
        if ((size_t)(P->end - P->p) < n || memcmp(P->p, word, n) != 0)
            return fail_at(P, P->p, "expected a value (did you mean %s?), found %s", word,
                           FOUND(P->p));
        v->u.boolean = c == 't';
        P->p += n;
        return 0;
    }
    if (is_digit((unsigned char)c) || c == '+' || c == '-' || c == 'i' || c == 'n')
        return parse_scalar_token(P, v);
    return fail_at(P, P->p,
                   "expected a value (string, number, boolean, date, array or inline table), "
                   "found %s",
                   FOUND(P->p));
}

/* key = value, into `table` (the current table or an inline table being built). Dotted keys
 * create tables as needed but may only pass through tables that dotted keys created. */
static int parse_keyval(struct parser *P, toml_value *table)
{
    char found_buf[16], name[256];
    struct keypath k = {0};
    if (parse_key(P, &k))
        goto done;
    skip_ws(P);
    if (P->p >= P->end || *P->p != '=') {
        fail_at(P, P->p, "expected '=' after key '%s', found %s",
                key_name(&k, k.count, name, sizeof(name)), FOUND(P->p));
        goto done;
    }
    P->p++;
    skip_ws(P);
    toml_value *t = table;
    for (size_t i = 0; i + 1 < k.count; i++) {
        struct keypart *part = &k.parts[i];
        toml_value *child = toml_table_find(t, part->text, part->len);
        if (!child) {
            struct pos ps = pos_at(P, part->at);
            if (t->depth + 1 > TOML_MAX_DEPTH) {
                fail_at(P, part->at, "tables nested deeper than %d levels", TOML_MAX_DEPTH);
                goto done;
            }
            child = toml_value_new(TOML_TABLE, ps.line, ps.col, t->depth + 1);
            if (!child || toml_table_add(t, part->text, part->len, child)) {
                toml_free(child);
                out_of_memory(P);
                goto done;
            }
            child->u.table.flags = TOML_TBL_DOTTED;
        } else if (child->type != TOML_TABLE) {
            fail_at(P, part->at, "key '%s' is already %s (line %d); cannot add keys to it",
                    key_name(&k, i, name, sizeof(name)), a_type(child), child->line);
            goto done;
        } else if (!(child->u.table.flags & TOML_TBL_DOTTED) ||
                   (child->u.table.flags & TOML_TBL_INLINE)) {
            fail_at(P, part->at,
                    "table '%s' was already defined at line %d; dotted keys cannot add to it",
                    key_name(&k, i, name, sizeof(name)), child->line);
            goto done;
        }
        t = child;
    }
    struct keypart *last = &k.parts[k.count - 1];
    const toml_value *existing = toml_table_find(t, last->text, last->len);
    if (existing) {
        fail_at(P, last->at, "duplicate key '%s' (first defined at line %d)",
                key_name(&k, k.count, name, sizeof(name)), existing->line);
        goto done;
    }
    toml_value *v = NULL;
    if (parse_value(P, t->depth + 1, &v)) {
        toml_free(v);
        goto done;
    }
    if (toml_table_add(t, last->text, last->len, v)) {
        toml_free(v);
        out_of_memory(P);
    }
done:
    keypath_free(&k);
    return P->status;
}

/* ---- table headers ---------------------------------------------------------------------- */

/* Walks/creates the parents of a header's last key; *out is the table to define it in. */
static int header_parent(struct parser *P, const struct keypath *k, const char *at,
                         toml_value **out)
{
    char name[256];
    toml_value *t = P->root;
    struct pos ps = pos_at(P, at);
    for (size_t i = 0; i + 1 < k->count; i++) {
        const struct keypart *part = &k->parts[i];
        toml_value *child = toml_table_find(t, part->text, part->len);
        if (!child) {
            child = toml_value_new(TOML_TABLE, ps.line, ps.col, t->depth + 1);
            if (!child || toml_table_add(t, part->text, part->len, child)) {
                toml_free(child);
                return out_of_memory(P);
            }
            child->u.table.flags = TOML_TBL_IMPLICIT;
        } else if (child->type == TOML_ARRAY && child->u.array.of_tables) {
            child = child->u.array.items[child->u.array.count - 1];
        } else if (child->type != TOML_TABLE) {
            return fail_at(P, part->at, "key '%s' is already %s (line %d), not a table",
                           key_name(k, i, name, sizeof(name)), a_type(child), child->line);
        } else if (child->u.table.flags & TOML_TBL_INLINE) {
            return fail_at(P, part->at, "'%s' is an inline table (line %d) and cannot be extended",
                           key_name(k, i, name, sizeof(name)), child->line);
        }
        if (child->depth > TOML_MAX_DEPTH - 2)
            return fail_at(P, part->at, "tables nested deeper than %d levels", TOML_MAX_DEPTH);
        t = child;
    }
    *out = t;
    return 0;
}

/* At '[': a [table] or [[array of tables]] header; makes it the current table. */
static int parse_header(struct parser *P)
{
    char found_buf[16], name[256];
    const char *at = P->p;
    int aot = P->p + 1 < P->end && P->p[1] == '[';
    P->p += aot ? 2 : 1;
    struct keypath k = {0};
    toml_value *parent = NULL;
    if (parse_key(P, &k))
        goto done;
    skip_ws(P);
    if (P->p >= P->end || *P->p != ']' || (aot && (P->p + 1 >= P->end || P->p[1] != ']'))) {
        fail_at(P, P->p, "expected '%s' to close the table header, found %s", aot ? "]]" : "]",
                FOUND(P->p));
        goto done;
    }
    P->p += aot ? 2 : 1;
    if (expect_eol(P, "the table header") || header_parent(P, &k, at, &parent))
        goto done;
    struct keypart *last = &k.parts[k.count - 1];
    key_name(&k, k.count, name, sizeof(name));
    toml_value *existing = toml_table_find(parent, last->text, last->len);
    struct pos ps = pos_at(P, at);
    toml_value *tbl = NULL;
    if (aot) {
        toml_value *arr = existing;
        if (!arr) {
            arr = toml_value_new(TOML_ARRAY, ps.line, ps.col, parent->depth + 1);
            if (!arr || toml_table_add(parent, last->text, last->len, arr)) {
                toml_free(arr);
                out_of_memory(P);
                goto done;
            }
            arr->u.array.of_tables = 1;
        } else if (arr->type != TOML_ARRAY || !arr->u.array.of_tables) {
            fail_at(P, at, "[[%s]] cannot append: '%s' is already %s (line %d)", name, name,
                    a_type(arr), arr->line);
            goto done;
        }
        tbl = toml_value_new(TOML_TABLE, ps.line, ps.col, arr->depth + 1);
        if (!tbl || toml_array_push(arr, tbl)) {
            toml_free(tbl);
            out_of_memory(P);
            goto done;
        }
        tbl->u.table.flags = TOML_TBL_HEADER;
    } else if (!existing) {
        tbl = toml_value_new(TOML_TABLE, ps.line, ps.col, parent->depth + 1);
        if (!tbl || toml_table_add(parent, last->text, last->len, tbl)) {
            toml_free(tbl);
            out_of_memory(P);
            goto done;
        }
        tbl->u.table.flags = TOML_TBL_HEADER;
    } else if (existing->type == TOML_TABLE && existing->u.table.flags == TOML_TBL_IMPLICIT) {
        tbl = existing;
        tbl->u.table.flags = TOML_TBL_HEADER;
        tbl->line = ps.line;
        tbl->col = ps.col;
    } else if (existing->type == TOML_TABLE) {
        unsigned f = existing->u.table.flags;
        fail_at(P, at, "table [%s] %s (line %d)", name,
                f & TOML_TBL_INLINE   ? "is an inline table and cannot be redefined"
                : f & TOML_TBL_DOTTED ? "was already defined with dotted keys"
                                      : "is defined twice",
                existing->line);
        goto done;
    } else if (existing->type == TOML_ARRAY && existing->u.array.of_tables) {
        fail_at(P, at, "[%s] is an array of tables (line %d); use [[%s]] to add an element", name,
                existing->line, name);
        goto done;
    } else {
        fail_at(P, at, "cannot define table [%s]: key '%s' is already %s (line %d)", name, name,
                a_type(existing), existing->line);
        goto done;
    }
    P->cur = tbl;
done:
    keypath_free(&k);
    return P->status;
}

/* ---- document --------------------------------------------------------------------------- */

static int check_utf8(struct parser *P)
{
    const unsigned char *s = (const unsigned char *)P->start, *end = (const unsigned char *)P->end;
    while (s < end) {
        unsigned cp;
        size_t n = utf8_len(s, end, &cp);
        if (n == 0)
            return fail_at(P, (const char *)s, "invalid UTF-8 byte 0x%02X", *s);
        s += n;
    }
    return 0;
}

int toml_parse(const char *text, size_t len, const char *name, toml_value **out, char *err,
               size_t errlen)
{
    char found_buf[16];
    struct parser parser = {0}, *P = &parser;
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    P->start = text;
    P->end = text + len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        P->start += 3; /* byte order mark */
    P->p = P->mark = P->start;
    P->mark_line = P->mark_col = 1;
    P->name = name ? name : "<input>";
    P->err = err;
    P->errlen = errlen;
    if (check_utf8(P))
        return P->status;
    P->root = toml_value_new(TOML_TABLE, 1, 1, 0);
    if (!P->root)
        return out_of_memory(P);
    P->root->u.table.flags = TOML_TBL_HEADER;
    P->cur = P->root;
    while (!P->status) {
        skip_ws(P);
        if (P->p >= P->end)
            break;
        char c = *P->p;
        int nl = newline_len(P, P->p);
        if (nl)
            P->p += nl;
        else if (c == '#')
            expect_eol(P, "the comment");
        else if (c == '[')
            parse_header(P);
        else if (c == '\r')
            fail_at(P, P->p, "carriage return not followed by a line feed");
        else if (is_bare_key_char((unsigned char)c) || c == '"' || c == '\'') {
            if (!parse_keyval(P, P->cur))
                expect_eol(P, "the value");
        } else
            fail_at(P, P->p, "expected a key, a [table] header or a comment, found %s",
                    FOUND(P->p));
    }
    if (P->status) {
        toml_free(P->root);
        return P->status;
    }
    *out = P->root;
    return 0;
}

int toml_parse_file(const char *path, toml_value **out, char *err, size_t errlen)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = ae_read_file(path, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    rc = toml_parse(text, len, path, out, err, errlen);
    free(text);
    return rc;
}
