/* The JSON form of the training data, as GET /api/ttm/training-data exports it (docs/api.md):
 * {"schemaVersion": 1, "features": [...], "blueprint": "web", "rows": [{"timestamp": ms,
 * "values": [11 numbers or null], "samples": n, "ready": r, "requested": q}, ...]}, read back for
 * `aether-node import-history`. */
#ifndef AETHER_NODE_IMPORT_JSON_H
#define AETHER_NODE_IMPORT_JSON_H

#include <stddef.h>

#include "aether/tdata.h"

/* The instance counts of one imported minute; NAN when the row does not say. */
struct import_counts {
    double ready, requested;
};

/* The rows of a training-data JSON document (text[0..len), borrowed; name labels messages).
 * schemaVersion and features are optional but checked when present (1, and the 11 names in
 * order); rows is required; each row needs an integer timestamp after the previous row's and
 * exactly 11 values (number or null = missing); samples, ready and requested are optional
 * non-negative numbers. Returns 0 with *out (free with tdata_free), *counts (one per row, free())
 * and the document's blueprint ("" when absent) in blueprint; or a negative AE_E* code with a
 * message naming the file and, for a syntax error, line and column, else the field
 * ("f.json: rows[3].values[4] is "x", expected a number or null"). */
int import_json_parse(const char *name, const char *text, size_t len, struct tdata **out,
                      struct import_counts **counts, char *blueprint, size_t blueprint_len,
                      char *err, size_t errlen);

#endif
