/* OpenMetrics parser conformance runner.
 *
 * Usage: prom_conformance [-v] DIR   (-v also prints why each rejected case was rejected)
 * The folder is AETHER_OPENMETRICS_DIR when set (an OpenMetrics checkout's
 * tests/testdata/parsers), else DIR; when it is absent the runner skips (exit 77). DIR holds one
 * folder per case (the OpenMetrics project's tests/testdata/parsers): "metrics" is the exposition,
 * "test.json" says whether a parser must accept it ("shouldParse"). Every case is parsed in
 * OpenMetrics mode; the runner lists each case whose outcome differs from the expectation (with the
 * parser's message) and ends with "N passed, N failed". Exit status 0 only when every case passes
 * and at least one ran. */
#include "aether/prom.h"
#include "aether/fileio.h"
#include "conformance_data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -1 when test.json has no shouldParse, else 0/1. */
static int should_parse(const char *json)
{
    const char *k = strstr(json, "\"shouldParse\"");
    if (!k)
        return -1;
    k = strchr(k, ':');
    if (!k)
        return -1;
    k++;
    while (*k == ' ' || *k == '\t' || *k == '\n')
        k++;
    if (strncmp(k, "true", 4) == 0)
        return 1;
    if (strncmp(k, "false", 5) == 0)
        return 0;
    return -1;
}

int main(int argc, char **argv)
{
    int verbose = argc == 3 && strcmp(argv[1], "-v") == 0;
    if (argc != 2 + verbose) {
        fprintf(stderr, "usage: %s [-v] DIR\n", argv[0]);
        return 2;
    }
    const char *root =
        conformance_data_dir("AETHER_OPENMETRICS_DIR", argv[1 + verbose], "OpenMetrics test data",
                             "the tests/testdata/parsers folder of an OpenMetrics checkout");
    DIR *dir = opendir(root);
    if (!dir) {
        fprintf(stderr, "cannot open %s\n", root);
        return 2;
    }
    size_t ncases = 0, cap = 256;
    char **cases = malloc(cap * sizeof(*cases));
    struct dirent *e;
    while (cases && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (ncases == cap) {
            char **c = realloc(cases, cap * 2 * sizeof(*cases));
            if (!c)
                break;
            cases = c;
            cap *= 2;
        }
        cases[ncases++] = strdup(e->d_name);
    }
    closedir(dir);
    if (!cases)
        return 2;
    qsort(cases, ncases, sizeof(*cases), cmp_names);

    int passed = 0, failed = 0;
    for (size_t i = 0; i < ncases; i++) {
        char path[4096];
        size_t jlen, mlen;
        snprintf(path, sizeof(path), "%s/%s/test.json", root, cases[i]);
        char *json;
        ae_read_file(path, &json, &jlen, NULL, 0); /* json is NULL when unreadable */
        if (!json) {
            free(cases[i]);
            continue; /* not a case folder */
        }
        int expect = should_parse(json);
        free(json);
        snprintf(path, sizeof(path), "%s/%s/metrics", root, cases[i]);
        char *metrics;
        ae_read_file(path, &metrics, &mlen, NULL, 0); /* metrics is NULL when unreadable */
        if (expect < 0 || !metrics) {
            printf("FAIL %s: unreadable case (test.json or metrics)\n", cases[i]);
            failed++;
            free(metrics);
            free(cases[i]);
            continue;
        }
        struct prom_doc *doc = NULL;
        char err[512];
        int rc = prom_parse(metrics, mlen, PROM_FORMAT_OPENMETRICS, &doc, err, sizeof(err));
        int accepted = rc == 0;
        if (accepted == expect) {
            passed++;
            if (verbose && !accepted)
                printf("ok   %s: rejected: %s\n", cases[i], err);
        } else {
            failed++;
            if (expect)
                printf("FAIL %s: should parse, but: %s\n", cases[i], err);
            else
                printf("FAIL %s: should be rejected, but was accepted\n", cases[i]);
        }
        prom_doc_free(doc);
        free(metrics);
        free(cases[i]);
    }
    free(cases);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
