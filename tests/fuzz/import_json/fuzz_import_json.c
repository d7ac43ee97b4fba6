/* libFuzzer target for the training-data JSON reader (src/node/import_json.c): whatever the
 * input, it returns rows with one count pair each or an error with a message, never crashes or
 * leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "import_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "", blueprint[64];
    struct tdata *d = NULL;
    struct import_counts *c = NULL;
    if (import_json_parse("fuzz.json", (const char *)data, size, &d, &c, blueprint,
                          sizeof blueprint, err, sizeof err) == 0) {
        for (size_t r = 1; r < d->rows; r++)
            if (d->row[r].timestamp_ms <= d->row[r - 1].timestamp_ms)
                abort(); /* rows must come back in increasing time */
        tdata_free(d);
        free(c);
    } else if (err[0] == '\0' || d || c) {
        abort(); /* an error must come with a message and no result */
    }
    return 0;
}
