/* libFuzzer target for the status_command output parser (src/workload/exec_status.c): whatever
 * the bytes, it returns two counts within range or an error with a message, never crashes. */
#include <stdint.h>
#include <stdlib.h>

#include "exec_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int ready = -1, requested = -1;
    char err[128] = "";
    if (exec_status_parse((const char *)data, size, &ready, &requested, err, sizeof err) == 0) {
        if (ready < 0 || requested < 0 || ready > EXEC_STATUS_MAX_COUNT ||
            requested > EXEC_STATUS_MAX_COUNT)
            abort();
    } else if (err[0] == '\0') {
        abort();
    }
    return 0;
}
