/* Fuzz target: the decoders of /api/v1/query and /api/v1/query_range answers must never crash,
 * leak or read out of bounds, and must say why whenever they refuse. The input is the body
 * (not NUL-terminated), decoded both as an instant and as a range answer. */
#include "promql_decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_point(void *ctx, double t_s, double value)
{
    (void)t_s;
    (void)value;
    (*(int *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1); /* exactly size bytes: reads past them are caught */
    if (!body)
        return 0;
    memcpy(body, data, size);
    char err[PROMQL_ERR_MAX];
    double t, v;
    err[0] = '\0';
    if (promql_decode_instant(body, size, &t, &v, err, sizeof err) != 0 && !err[0])
        abort();
    int points = 0;
    err[0] = '\0';
    int n = promql_decode_range(body, size, count_point, &points, err, sizeof err);
    if ((n < 0 && !err[0]) || (n >= 0 && n != points))
        abort();
    free(body);
    return 0;
}
