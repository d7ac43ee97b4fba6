/* Where a conformance runner finds its third-party test vectors.
 *
 * The vectors (toml-test, the OpenMetrics test data) are not part of a clone of the project. A
 * runner takes their folder from an environment variable when it is set, else from its command
 * line (the build's default, beside the clone). When the folder is absent the runner skips:
 * conformance_data_dir() prints why and how to provide the data and exits with
 * CONFORMANCE_SKIP (ctest's SKIP_RETURN_CODE). With AETHER_REQUIRE_CONFORMANCE set (CI, which has
 * the data) a missing folder is a failure instead (exit 2), so the suite cannot silently stop
 * running. */
#ifndef AETHER_TEST_CONFORMANCE_DATA_H
#define AETHER_TEST_CONFORMANCE_DATA_H

#define CONFORMANCE_SKIP 77

/* The folder to read: getenv(env_var) when set and non-empty, else default_dir. `what` names the
 * data in messages ("toml-test data"), `where` says what the variable should name ("the tests/
 * folder of a toml-test checkout"). Returns only when the folder exists (borrowed string). */
const char *conformance_data_dir(const char *env_var, const char *default_dir, const char *what,
                                 const char *where);

#endif
