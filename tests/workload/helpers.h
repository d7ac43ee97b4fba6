/* Test helpers: a loopback HTTP server with scripted answers, free ports, waiting. */
#ifndef AETHER_TESTS_WORKLOAD_HELPERS_H
#define AETHER_TESTS_WORKLOAD_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

/* A raw HTTP/1.0 server on 127.0.0.1 (one thread, one request per connection). Paths:
 *   /garbage  200, text/plain, "<html>not metrics</html>"
 *   /slow     sleeps 3 s before answering
 *   /huge     200 with a 4 MiB body of valid comment lines
 *   /counter  a text-format page whose http_requests_total takes the next value of the
 *             sequence given to testsrv_start (the last value repeats)
 *   anything else: 404 */
struct testsrv;
struct testsrv *testsrv_start(const double *sequence, int n);
int testsrv_port(const struct testsrv *s);
void testsrv_stop(struct testsrv *s);

/* A loopback TCP port that was free a moment ago (bound then closed), below the kernel's
 * ephemeral range so that no outgoing connection takes it before the test binds it. */
int free_port(void);
/* The first of n consecutive such ports, or -1. */
int free_port_block(int n);

/* 1 when pid is gone or a zombie. */
int process_gone(pid_t pid);

/* Sleeps ms milliseconds. */
void sleep_ms(int ms);

/* GET url, returns the HTTP status or -1. */
int http_get(const char *url);

#endif
