/* The control loop's watchdog: a thread of its own that logs when a tick has been running for
 * longer than stall_after_s (once per stalled tick, ERROR), and when that tick ends (INFO, with
 * how long it took). The loop marks each tick's start and end; those calls never wait on
 * anything but the watchdog's own short lock. */
#ifndef AETHER_NODE_WATCHDOG_H
#define AETHER_NODE_WATCHDOG_H

#include <stddef.h>

struct watchdog;

/* The pure part: what one look at the loop finds. */
struct watchdog_state {
    int in_tick;
    double tick_start_s; /* monotonic */
    long tick;           /* number of the running tick */
    int reported;        /* this tick's stall was logged */
    long stalls;         /* stalled ticks since start */
};

/* 1 when the running tick has just become a stall at monotonic time now_s (marks it reported and
 * counts it), else 0. */
int watchdog_check(struct watchdog_state *s, double now_s, double stall_after_s);

/* Starts the watchdog thread. Returns 0 and *out, or a negative AE_E* code with a message. */
int watchdog_start(double stall_after_s, struct watchdog **out, char *err, size_t errlen);
/* The loop begins tick number `tick` / ends it, at monotonic time now_s. */
void watchdog_tick_begin(struct watchdog *w, long tick, double now_s);
void watchdog_tick_end(struct watchdog *w, double now_s);
/* Stalled ticks since start. */
long watchdog_stalls(struct watchdog *w);
/* Stops and frees it. NULL is ignored. */
void watchdog_stop(struct watchdog *w);

#endif
