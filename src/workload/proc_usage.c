/* CPU seconds and resident memory of one process from /proc/<pid> (see
 * include/aether/collector.h), for the process collector and the tests. */
#include "aether/collector.h"

#include "aether/error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int proc_process_usage(pid_t pid, double *cpu_seconds, double *rss_bytes)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return AE_ENOENT;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces) start after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long utime, stime;
    char state;
    if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &utime,
                     &stime) != 3)
        return AE_EPARSE;
    if (state == 'Z')
        return AE_ENOENT;
    *cpu_seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return AE_ENOENT;
    unsigned long size, resident;
    int got = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (got != 2)
        return AE_EPARSE;
    *rss_bytes = (double)resident * (double)sysconf(_SC_PAGESIZE);
    return 0;
}
