/* libFuzzer target for the CSV readers of src/data: the same bytes go through the trace reader
 * (auto time format, inferred step, and a mask column) and the training-data reader. Whatever the
 * input, each must return a trace/table or an error with a message, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aether/tdata.h"
#include "aether/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    const char *text = (const char *)data;
    struct trace_options opts[] = {
        {.time_column = "t", .value_column = "v"},
        {.time_column = "t", .value_column = "v", .mask_column = "m", .step_ms = 60000},
        {.time_column = "t",
         .value_column = "v",
         .time_format = TRACE_TIME_DATETIME,
         .step_ms = 300000,
         .has_from = 1,
         .from_ms = 0,
         .has_to = 1,
         .to_ms = 4000000000000LL},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        struct trace *t = NULL;
        if (trace_parse("fuzz.csv", text, size, &opts[i], &t, err, sizeof err) == 0) {
            char desc[512];
            trace_describe(t, desc, sizeof desc);
            trace_free(t);
        } else if (err[0] == '\0' || t != NULL) {
            abort(); /* an error must come with a message and no result */
        }
    }
    struct tdata *d = NULL;
    if (tdata_parse("fuzz.csv", text, size, &d, err, sizeof err) == 0)
        tdata_free(d);
    else if (err[0] == '\0' || d != NULL)
        abort();
    return 0;
}
