/* Prometheus text format 0.0.4 and OpenMetrics 1.0 parser.
 *
 * The scrape collector fetches each instance's metrics page and hands the body here; the
 * parsed document is then queried for the few series the collector maps onto features (request
 * and error counters, the latency histogram, a GC counter). Two modes:
 *   PROM_FORMAT_OPENMETRICS  the OpenMetrics 1.0 rules in full (# EOF, single spaces, metadata
 *                            placement, suffixes per type, _created, exemplars, histogram
 *                            consistency, grouping and timestamp order);
 *   PROM_FORMAT_TEXT         the Prometheus text format 0.0.4 (lenient whitespace, comments,
 *                            integer millisecond timestamps, types counter/gauge/histogram/
 *                            summary/untyped).
 * The scraper picks the mode from the response's Content-Type (prom_format_for_content_type).
 *
 * (The node's /metrics writer lives elsewhere; this header only parses.) */
#ifndef AETHER_PROM_H
#define AETHER_PROM_H

#include <stddef.h>

enum prom_format { PROM_FORMAT_TEXT = 0, PROM_FORMAT_OPENMETRICS = 1 };

enum prom_type {
    PROM_TYPE_UNKNOWN = 0, /* "unknown" in OpenMetrics, "untyped" in 0.0.4, or no TYPE line */
    PROM_TYPE_COUNTER,
    PROM_TYPE_GAUGE,
    PROM_TYPE_HISTOGRAM,
    PROM_TYPE_GAUGEHISTOGRAM,
    PROM_TYPE_SUMMARY,
    PROM_TYPE_INFO,
    PROM_TYPE_STATESET,
};

/* The Accept header a scraper sends: OpenMetrics 1.0 preferred, text 0.0.4 accepted. */
#define PROM_ACCEPT_HEADER                                                                         \
    "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

struct prom_label {
    const char *name;
    const char *value; /* escapes resolved; NUL-terminated */
};

struct prom_parsed_family {
    const char *name;
    enum prom_type type;
    const char *help; /* NULL when absent; escapes resolved */
    const char *unit; /* NULL when absent */
};

struct prom_parsed_sample {
    const char *name; /* full sample name, e.g. "x_bucket" */
    size_t family;    /* index into prom_doc.families */
    const struct prom_label *labels;
    size_t nlabels;
    double value;
    int has_timestamp;
    double timestamp_s; /* seconds since the epoch (0.0.4 milliseconds are converted) */
    int has_exemplar;
    double exemplar_value;
    size_t line; /* 1-based line of the sample in the input */
};

struct prom_doc {
    enum prom_format format;
    struct prom_parsed_family *families;
    size_t nfamilies;
    struct prom_parsed_sample *samples;
    size_t nsamples;
    struct prom_arena *arena; /* private: owns every string and label array above */
};

/* Parses len bytes of text (need not be NUL-terminated; may contain NUL bytes in help text).
 * On success returns 0 and stores a new document in *out (caller frees with prom_doc_free).
 * On failure returns AE_EPARSE (or AE_ENOMEM), leaves *out NULL and writes a message naming the
 * line and the problem into err (e.g. "line 3: counter a_total has a negative value -1"). */
int prom_parse(const char *text, size_t len, enum prom_format format, struct prom_doc **out,
               char *err, size_t errlen);

/* Frees a document from prom_parse; NULL is allowed. */
void prom_doc_free(struct prom_doc *doc);

/* OpenMetrics when content_type names application/openmetrics-text, else the text format
 * (0.0.4 is also what a server with no or an unknown Content-Type is assumed to speak). */
enum prom_format prom_format_for_content_type(const char *content_type);

/* The value of label name on sample s, or NULL. Borrowed from the document. */
const char *prom_label_value(const struct prom_parsed_sample *s, const char *name);

/* Sum over every series of the sample named name (a counter such as http_requests_total;
 * if none is named exactly that and name lacks "_total", name + "_total" is tried).
 * Returns 0 and sets *out, or AE_ENOENT when the document has no such sample. */
int prom_sum(const struct prom_doc *doc, const char *name, double *out);

#define PROM_HIST_MAX_BUCKETS 64

/* A histogram with every series merged: cumulative counts per upper bound, ascending, the
 * last bound +Inf. */
struct prom_histogram {
    size_t nbuckets;
    double le[PROM_HIST_MAX_BUCKETS];
    double cumulative[PROM_HIST_MAX_BUCKETS];
    double sum;   /* of the _sum series; NaN when absent */
    double count; /* of the _count series, else the +Inf bucket */
};

/* Merges the buckets of histogram base (samples base_bucket, base_sum, base_count) over all
 * series, adding counts of equal bounds. Returns 0, AE_ENOENT when there are no buckets, or
 * AE_ERANGE when there are more than PROM_HIST_MAX_BUCKETS distinct bounds. */
int prom_histogram_get(const struct prom_doc *doc, const char *base, struct prom_histogram *out);

#endif
