/* Inference off the control loop's thread: a predictor wrapper that runs the model's predict()
 * on a thread of its own.
 *
 * predict() hands the input to that thread and waits at most wait_ms for the answer. A model
 * that answers in time behaves as before. A slower one makes predict() return AE_EAGAIN ("still
 * evaluating"): the TTM manager keeps the blueprint's last forecast and recommendation in force
 * (core.md, "TTM manager") and the loop goes on. When the evaluation ends, `done` is called (on
 * the inference thread) so the owner can ask for an evaluation at once, and the next predict()
 * with the same input gets the result without waiting. An evaluation running longer than
 * timeout_ms makes predict() fail with AE_ETIMEOUT (an error, the reactive tier decides alone)
 * until it ends. Closing the wrapper waits for a running evaluation to end. */
#ifndef AETHER_NODE_APRED_H
#define AETHER_NODE_APRED_H

#include <stdint.h>

#include "aether/predictor.h"

/* Wraps p (taken over; closed with the result). Returns the wrapper, or NULL when out of memory
 * or no thread could be started (p is closed then). */
ae_predictor *apred_wrap(ae_predictor *p, int64_t wait_ms, int64_t timeout_ms,
                         void (*done)(void *ctx), void *ctx);

#endif
