/* Parsing of what clients send the node: the push-metrics body, time bounds and small integer
 * query parameters. Pure functions (no I/O), fuzzed by tests/fuzz/http. Every rejection writes
 * a message naming the field and the value. */
#ifndef AETHER_REQPARSE_H
#define AETHER_REQPARSE_H

#include <stddef.h>
#include <stdint.h>

#define REQ_FEATURES 11

/* A pushed sample: {"timestamp"?: Unix ms, "values": {feature name: number, ...}}. */
struct req_push {
    int has_timestamp;
    int64_t timestamp_ms;
    double values[REQ_FEATURES];
    unsigned present; /* bit i set: values[i] was given */
};

/* Parses a push body of len bytes (need not be NUL-terminated) against the feature names
 * (REQ_FEATURES of them, in FeatureIndex order). Unknown names, non-numbers, an empty "values"
 * object and trailing garbage are errors (AE_EPARSE / AE_EINVAL); a value outside its feature's
 * plausible range (ae_feature_plausible: negative, non-finite, too large) is AE_ERANGE, with a
 * message naming the feature and the range. Returns 0 or the code with a message in err. */
int req_parse_push(const char *body, size_t len, const char *const *names, struct req_push *out,
                   char *err, size_t errlen);

/* Parses a time bound: Unix milliseconds or ISO 8601 (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]]
 * with Z or +HH:MM/-HH:MM; no zone means UTC; ' ' is accepted for 'T'), as the trace reader
 * reads its time column. `what` names the parameter in the message. Returns 0 or AE_EINVAL. */
int req_parse_time(const char *s, const char *what, int64_t *out_ms, char *err, size_t errlen);

/* Parses a decimal integer in [lo, hi]; `what` names the parameter. Returns 0 or AE_EINVAL. */
int req_parse_int(const char *s, const char *what, long lo, long hi, long *out, char *err,
                  size_t errlen);

/* 1 when name is a valid blueprint name ([a-z0-9-], 1..63 chars), else 0. */
int req_valid_blueprint(const char *name);

#endif
