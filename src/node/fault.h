/* Fault-injection points for end-to-end tests, compiled ONLY into test builds.
 *
 * A test build defines AETHER_FAULT_INJECTION (tests/e2e builds its own node executables with
 * it; the release `aether-node` never has it). There, fault_active("name") is true while the file
 * named by the environment variable AETHER_FAULTS_FILE exists and contains the word `name` on a
 * line of its own, so a test can switch a fault on and off while the daemon runs. In every other
 * build fault_active() is the constant 0 and the checks compile away. See docs/operations.md. */
#ifndef AETHER_NODE_FAULT_H
#define AETHER_NODE_FAULT_H

#include "aether/predictor.h"

#define FAULT_SLOW_INFERENCE_S 3

/* Points in the node:
 *   "inference"        every predict() of the loaded model fails ("injected inference failure").
 *   "slow-inference"   every predict() of the loaded model (the warm-up at load too) first sleeps
 *                      FAULT_SLOW_INFERENCE_S seconds: a slow but valid model.
 * fault_active() and fault_wrap_predictor() are defined in fault.c, which each executable
 * compiles itself (with or without AETHER_FAULT_INJECTION); the aether_node library has none. */

/* 1 when fault `name` is switched on (see above), else 0 (always 0 in release builds). */
int fault_active(const char *name);

/* Puts the "inference" fault point in front of p's predict(). Takes ownership of p; returns the
 * predictor to use (p itself in release builds), or NULL when out of memory (p is closed then).
 * Closing the result closes p. */
ae_predictor *fault_wrap_predictor(ae_predictor *p);

#endif
