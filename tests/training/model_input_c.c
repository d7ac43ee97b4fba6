/* The C side of the model-input rule, for a cross-check with the training side.
 *
 * Reads a training-data CSV (header line, then `timestamp,` + 11 values; an empty cell is a
 * missing value), runs the core's ae_model_input() for a window of W minutes ending at the last
 * row, and prints the W x 11 window (%.9g, comma-separated) or the single line `none` when the
 * history is too short. test_model_input.py compares this with training/aether_series.py on the
 * same files, so the node, the simulator and training build their windows the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/aggregator.h"
#include "aether/error.h"
#include "aether/snapshot.h"

enum { MAX_ROWS = 4096, LINE_MAX_LEN = 4096 };

static struct ae_minute minutes[MAX_ROWS];

/* Parses one data line into m. Returns 0, or -1 with a message on stderr. */
static int parse_row(char *line, int lineno, struct ae_minute *m)
{
    memset(m, 0, sizeof *m);
    char *cell = line, *end;
    m->start_ms = strtoll(cell, &end, 10);
    if (end == cell || *end != ',') {
        fprintf(stderr, "line %d: bad timestamp\n", lineno);
        return -1;
    }
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        cell = end + 1;
        if (*cell == ',' || *cell == '\n' || *cell == '\r' || *cell == '\0') {
            m->missing |= AE_FEATURE_BIT(i);
            end = cell;
        } else {
            m->values[i] = strtod(cell, &end);
            if (end == cell) {
                fprintf(stderr, "line %d: bad value in column %d\n", lineno, i + 2);
                return -1;
            }
        }
        if (i < AE_FEATURE_COUNT - 1 && *end != ',') {
            fprintf(stderr, "line %d: expected %d values\n", lineno, AE_FEATURE_COUNT);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE.csv WINDOW\n", argv[0]);
        return 2;
    }
    int window = atoi(argv[2]);
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 2;
    }
    static char line[LINE_MAX_LEN];
    int count = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        if (++lineno == 1)
            continue; /* header */
        if (count == MAX_ROWS || parse_row(line, lineno, &minutes[count]) != 0) {
            fclose(f);
            fprintf(stderr, "%s: unreadable or more than %d rows\n", argv[1], MAX_ROWS);
            return 2;
        }
        count++;
    }
    fclose(f);
    if (count == 0 || window < 1) {
        fprintf(stderr, "%s: no rows, or window %d < 1\n", argv[1], window);
        return 2;
    }
    float *out = malloc((size_t)window * AE_FEATURE_COUNT * sizeof *out);
    if (!out)
        return 2;
    int n = ae_model_input(minutes, count, window, minutes[count - 1].start_ms, out);
    if (n == AE_EAGAIN || n == 0) {
        printf("none\n");
    } else if (n < 0) {
        fprintf(stderr, "ae_model_input: error %d\n", n);
        free(out);
        return 1;
    } else {
        for (int r = 0; r < window; r++)
            for (int i = 0; i < AE_FEATURE_COUNT; i++)
                printf("%.9g%c", out[r * AE_FEATURE_COUNT + i],
                       i == AE_FEATURE_COUNT - 1 ? '\n' : ',');
    }
    free(out);
    return 0;
}
