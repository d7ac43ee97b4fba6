/* The node's clock: wall-clock time as the node uses it for seconds, minutes and forecasts,
 * carried forward by CLOCK_MONOTONIC so that a step of the system clock cannot reorder or erase
 * history.
 *
 * Node time starts at the wall clock (or just after the newest stored minute, when the wall clock
 * is behind it) and then advances with the monotonic clock. Every reading compares it with the
 * wall clock; a difference beyond NCLOCK_TOLERANCE_MS is a step:
 *   - forward (the wall clock is ahead): adopted only when it has lasted NCLOCK_CONFIRM_MS, so a
 *     short excursion (a bad RTC read, a VM resume glitch) is ignored; once adopted minute keys
 *     jump forward (a gap in the history, never a rewrite);
 *   - backward (the wall clock is behind): never adopted, minute keys never go backwards; node
 *     time keeps running ahead by the step (nclock_offset_ms) until the wall clock catches up
 *     or steps forward again.
 * Not thread-safe: the node guards it with its state lock. */
#ifndef AETHER_NODE_NCLOCK_H
#define AETHER_NODE_NCLOCK_H

#include <stdint.h>

#define NCLOCK_TOLERANCE_MS 2000 /* wall vs node difference still taken as the same time */
#define NCLOCK_CONFIRM_MS 30000  /* a forward step must last this long to be adopted */

enum nclock_event {
    NCLOCK_NONE = 0,
    NCLOCK_SUSPECT,  /* the wall clock jumped ahead: watched until confirmed or gone */
    NCLOCK_FORWARD,  /* a forward step lasted NCLOCK_CONFIRM_MS: node time jumped to it */
    NCLOCK_IGNORED,  /* a forward excursion ended before it was confirmed */
    NCLOCK_BACKWARD, /* the wall clock stepped back: node time keeps going (logged once) */
    NCLOCK_REJOINED, /* after a backward step the wall clock is back in line */
};

struct nclock {
    int64_t base_ms; /* node time at base_mono_s */
    double base_mono_s;
    int64_t offset_ms;               /* wall minus node time at the last reading */
    int64_t suspect_since_ms;        /* node time a forward step was first seen, -1 when none */
    int behind;                      /* the wall clock is behind node time (a backward step) */
    long forward, backward, ignored; /* steps seen since start */
};

/* Starts node time at start_ms (Unix ms) at monotonic time mono_s. */
void nclock_init(struct nclock *c, int64_t start_ms, double mono_s);

/* Node time at monotonic time mono_s, without looking at the wall clock. */
int64_t nclock_peek(const struct nclock *c, double mono_s);

/* One reading of both clocks: updates the step state and returns node time in *now_ms; the
 * return value says what changed (NCLOCK_NONE most of the time). */
enum nclock_event nclock_read(struct nclock *c, int64_t wall_ms, double mono_s, int64_t *now_ms);

/* Wall clock minus node time at the last reading (ms): > 0 while a forward step is being
 * confirmed, < 0 after a backward step. */
int64_t nclock_offset_ms(const struct nclock *c);

#endif
