/* See conformance_data.h. */
#include "conformance_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *conformance_data_dir(const char *env_var, const char *default_dir, const char *what,
                                 const char *where)
{
    const char *from_env = getenv(env_var);
    const char *dir = from_env && from_env[0] ? from_env : default_dir;
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return dir;
    const char *required = getenv("AETHER_REQUIRE_CONFORMANCE");
    int must_run = required && required[0] && required[0] != '0';
    fprintf(stderr,
            "%s: %s not found at %s\n"
            "  set %s to %s to run these cases\n",
            must_run ? "FAILED" : "SKIPPED", what, dir, env_var, where);
    if (must_run) {
        fprintf(stderr, "  (AETHER_REQUIRE_CONFORMANCE is set: missing data is a failure)\n");
        exit(2);
    }
    exit(CONFORMANCE_SKIP);
}
