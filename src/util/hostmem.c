/* The host's memory from /proc/meminfo (see aether/hostmem.h). */
#include "aether/hostmem.h"

#include <stdio.h>

void ae_host_memory(int64_t *total, int64_t *available)
{
    *total = *available = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        long long kb;
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
            *total = (int64_t)kb * 1024;
        else if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
            *available = (int64_t)kb * 1024;
    }
    fclose(f);
}

int64_t ae_host_memory_bytes(void)
{
    int64_t total, available;
    ae_host_memory(&total, &available);
    return total;
}
