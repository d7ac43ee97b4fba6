/* Prometheus text exposition format 0.0.4 writer.
 *
 * GET /metrics renders every metric family through these calls: one HELP/TYPE header per
 * family, then its samples. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]*; label values and help text are escaped as the format requires. */
#ifndef AETHER_PROM_WRITE_H
#define AETHER_PROM_WRITE_H

#include "aether/sbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes "# HELP name help" and "# TYPE name type" (type: counter, gauge, untyped, ...). */
void prom_write_family(struct sbuf *b, const char *name, const char *type, const char *help);

/* Writes one sample line. labels is NULL or a NULL-terminated list of name, value pairs,
 * e.g. (const char *[]){"blueprint", "web", NULL}. */
void prom_write_sample(struct sbuf *b, const char *name, const char *const *labels, double value);

/* 1 when name is a valid metric name, else 0. */
int prom_write_valid_name(const char *name);
/* 1 when name is a valid label name, else 0 (names starting "__" are reserved: 0). */
int prom_write_valid_label(const char *name);

#endif
