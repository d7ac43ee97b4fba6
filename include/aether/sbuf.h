/* A growable text buffer for rendering responses (Prometheus text, CSV, JSON pieces).
 *
 * Appends never fail loudly: on allocation failure the buffer sets `oom` and ignores further
 * appends, so a renderer can write straight through and check once at the end. */
#ifndef AETHER_SBUF_H
#define AETHER_SBUF_H

#include <stddef.h>

struct sbuf {
    char *data; /* NUL-terminated while len > 0; owned, release with sbuf_free */
    size_t len;
    size_t cap;
    int oom;
};

/* Appends formatted text. */
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends n bytes. */
void sbuf_append(struct sbuf *b, const char *s, size_t n);
/* Appends a number the way Prometheus and JSON readers expect (shortest round-trip form;
 * NaN/Inf spelled "NaN", "+Inf", "-Inf"). */
void sbuf_number(struct sbuf *b, double v);
/* Drops the content, keeps the memory. */
void sbuf_reset(struct sbuf *b);
/* Frees the memory; the buffer may be reused afterwards (it is empty). */
void sbuf_free(struct sbuf *b);
/* Hands the bytes to the caller (caller frees with free()); the buffer becomes empty. */
char *sbuf_take(struct sbuf *b, size_t *len);

#endif
