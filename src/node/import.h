/* `aether-node import-history`: backfills a blueprint's minute history from training data: the
 * CSV that /api/ttm/training-data?format=csv exports and training/generate_synthetic.py writes
 * (aether/tdata.h), or the JSON that /api/ttm/training-data exports (import_json.h), so the
 * forecaster has its window on the next start instead of after W real minutes. The node must not be
 * running on the same data_dir (the store's lock). */
#ifndef AETHER_NODE_IMPORT_H
#define AETHER_NODE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "aether/config.h"

struct import_opts {
    const char *blueprint; /* NULL: the one a JSON file names, else the only one configured */
    int instances;         /* ready = requested for every imported minute without its own
                            * counts (CSV has none; JSON rows have ready and requested) */
    int shift_to_now;      /* move the series so its newest minute is the one before now_ms */
    int64_t now_ms;
};

struct import_result {
    int minutes;
    int64_t first_ms, last_ms; /* after any shift */
    char blueprint[64];
};

/* Imports the file at path (JSON when it starts with '{', else CSV) into cfg's history
 * (node.data_dir): every row is one closed minute of the blueprint (a present value counts as 60
 * samples), replacing a stored minute at the same time. Returns 0 and *res, or a negative AE_E*
 * code with a message naming the file, line, key or value. */
int import_history(const struct ae_config *cfg, const char *path, const struct import_opts *o,
                   struct import_result *res, char *err, size_t errlen);

/* The subcommand: argv[0] is "import-history", then FILE [--config F] [--blueprint NAME]
 * [--instances N] [--shift-to-now]. Prints a summary on stdout, errors on stderr. Returns the
 * exit code (0, 1 on a failed import, 2 on bad arguments). */
int import_main(int argc, char **argv, const char *default_config, int64_t now_ms);

#endif
