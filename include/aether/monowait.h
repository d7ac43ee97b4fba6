/* Condition-variable waits on CLOCK_MONOTONIC, so that a step of the system clock neither
 * stretches nor cuts a wait short (pthread_cond_timedwait measures CLOCK_REALTIME by default). */
#ifndef AETHER_MONOWAIT_H
#define AETHER_MONOWAIT_H

#include <pthread.h>
#include <stdint.h>

/* Initialises cv to time its waits on CLOCK_MONOTONIC. Returns 0 or an errno value. */
int mono_cond_init(pthread_cond_t *cv);

/* Waits on cv (initialised by mono_cond_init, mu held) for at most ms milliseconds. Returns 0
 * when signalled (or woken spuriously), ETIMEDOUT when the time passed. */
int mono_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms);

#endif
