/* The output of an exec blueprint's status_command: one line `READY REQUESTED`, two whole
 * numbers 0..1000000 separated by blanks (spaces or tabs), e.g. "2 3": the instances serving now
 * and the instances the orchestrator is asked to run. Blanks around them and one final newline
 * are allowed; anything else is an error. */
#ifndef AETHER_WORKLOAD_EXEC_STATUS_H
#define AETHER_WORKLOAD_EXEC_STATUS_H

#include <stddef.h>

#define EXEC_STATUS_MAX_COUNT 1000000

/* Parses text[0..len). Returns 0 with *ready and *requested, or AE_EPARSE with what was wrong in
 * err (e.g. "expected two whole numbers, got 1"). */
int exec_status_parse(const char *text, size_t len, int *ready, int *requested, char *err,
                      size_t errlen);

#endif
