/* A scratch directory per test (cmocka setup/teardown), for tests that use real files. Include
 * after cmocka.h; the including file names its directory prefix with TMPDIR_PREFIX. */
#ifndef AETHER_TEST_TMPDIR_H
#define AETHER_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/%s-XXXXXX", TMPDIR_PREFIX);
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
