/* The host's memory, read from /proc/meminfo: one reader for the config loader (the default of
 * memory_limit_bytes), the node and the host collector (heap_usage of the whole host). Part of
 * aether_util. */
#ifndef AETHER_HOSTMEM_H
#define AETHER_HOSTMEM_H

#include <stdint.h>

/* MemTotal and MemAvailable in bytes; each 0 when unknown (no /proc, no such line). */
void ae_host_memory(int64_t *total, int64_t *available);

/* MemTotal in bytes, 0 when unknown. */
int64_t ae_host_memory_bytes(void);

#endif
