/* Fuzz target: the /proc/<pid>/stat parser must never crash or read out of bounds, whatever the
 * text (a command name may hold any bytes, parentheses and spaces included). */
#include "kin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    pid_t ppid = 0;
    unsigned long long start = 0;
    int rc = kin_parse_stat(text, &ppid, &start);
    if (rc < -1 || rc > 1)
        abort();
    free(text);
    return 0;
}
