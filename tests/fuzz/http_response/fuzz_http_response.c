/* Fuzz target: the HTTP response parser must never crash, leak, read or write out of bounds,
 * whatever the bytes and however they are split. The first input byte picks the body cap and
 * the piece size; the rest is the response, fed in pieces and then ended. Inputs of odd length
 * are parsed with any_status (the body of every status is read, as the etcd client does). */
#include "httpc_response.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max_body = (size_t)(data[0] & 0x0f) * 64; /* 0..960: caps are reached */
    size_t step = (size_t)(data[0] >> 4) + 1;        /* 1..16 bytes per feed, or all at once */
    if (step == 16)
        step = size;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    struct httpc_response r;
    httpc_response_init(&r, max_body);
    r.any_status = (int)(size & 1);
    int rc = HTTPC_MORE;
    for (size_t i = 0; i < n && rc == HTTPC_MORE; i += step)
        rc = httpc_response_feed(&r, p + i, n - i < step ? n - i : step);
    if (rc == HTTPC_MORE)
        rc = httpc_response_finish(&r);
    /* What the parser claims must hold. */
    if (r.body_len > max_body || (r.body && r.body[r.body_len] != '\0') ||
        strlen(r.content_type) >= sizeof(r.content_type) || (rc == HTTPC_DONE && r.status != 200 && !r.any_status))
        abort();
    httpc_response_free(&r);
    return 0;
}
