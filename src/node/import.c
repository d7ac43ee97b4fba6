/* Backfilling the history from training data, CSV or JSON (see import.h). */
#include "import.h"

#include "aether/actuator.h"
#include "aether/cfgload.h"
#include "aether/error.h"
#include "aether/fileio.h"
#include "aether/snapshot.h"
#include "aether/tdata.h"
#include "import_json.h"
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Samples a present imported value stands for: a full minute of 1-second snapshots. */
#define IMPORT_SAMPLES 60

static const struct cfg_blueprint *pick_blueprint(const struct ae_config *cfg, const char *name,
                                                  char *err, size_t errlen)
{
    if (!name) {
        if (cfg->blueprint_count == 1)
            return &cfg->blueprints[0];
        snprintf(err, errlen, "--blueprint is required: the configuration has %d blueprints",
                 cfg->blueprint_count);
        return NULL;
    }
    for (int i = 0; i < cfg->blueprint_count; i++)
        if (strcmp(cfg->blueprints[i].name, name) == 0)
            return &cfg->blueprints[i];
    snprintf(err, errlen, "--blueprint %s: no blueprint of that name in the configuration", name);
    return NULL;
}

/* What a file holds: its rows, and for JSON each row's counts and the blueprint it names. */
struct import_file {
    struct tdata *d;
    struct import_counts *counts; /* NULL for CSV */
    char blueprint[64];           /* "" when the file names none */
};

static void file_free(struct import_file *f)
{
    tdata_free(f->d);
    free(f->counts);
}

/* Reads path as JSON when its first non-blank byte is '{', else as CSV. */
static int read_rows(const char *path, struct import_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    char *text = NULL;
    size_t len = 0;
    int rc = ae_read_file(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    size_t i = strspn(text, " \t\r\n");
    if (i < len && text[i] == '{')
        rc = import_json_parse(path, text, len, &f->d, &f->counts, f->blueprint,
                               sizeof f->blueprint, err, errlen);
    else
        rc = tdata_parse(path, text, len, &f->d, err, errlen);
    free(text);
    if (rc == 0 && f->d->rows == 0) {
        snprintf(err, errlen, "%s: no rows to import", path);
        rc = AE_EINVAL;
    }
    if (rc)
        file_free(f);
    return rc;
}

/* The minute of row r (CSV line r + 2, JSON rows[r]), moved by shift_ms. */
static int to_minute(const struct import_file *f, size_t r, int64_t shift_ms, int instances,
                     const char *path, struct ae_minute *m, char *err, size_t errlen)
{
    const struct tdata_row *row = &f->d->row[r];
    if (row->timestamp_ms % AE_MINUTE_MS != 0) {
        char where[48];
        if (f->counts)
            snprintf(where, sizeof where, ": rows[%zu].timestamp", r);
        else
            snprintf(where, sizeof where, ":%zu: timestamp", r + 2);
        snprintf(err, errlen,
                 "%s%s %lld is not the start of a minute (a multiple "
                 "of 60000 ms)",
                 path, where, (long long)row->timestamp_ms);
        return AE_EINVAL;
    }
    ae_minute_init(m, row->timestamp_ms + shift_ms);
    for (int k = 0; k < TDATA_FEATURES; k++) {
        if (isnan(row->values[k]))
            continue;
        double v = row->values[k], max = ae_feature_minute_max(k);
        if (!(v >= 0 && v <= max)) {
            char where[48];
            if (f->counts)
                snprintf(where, sizeof where, ": rows[%zu]:", r);
            else
                snprintf(where, sizeof where, ":%zu:", r + 2);
            snprintf(err, errlen, "%s%s %s = %g is outside its plausible range 0..%g (%s per minute)",
                     path, where, ae_feature_name(k), v, max, ae_feature_unit(k));
            return AE_ERANGE;
        }
        m->values[k] = row->values[k];
        m->missing &= ~AE_FEATURE_BIT(k);
        m->samples[k] = IMPORT_SAMPLES;
    }
    m->snapshots = IMPORT_SAMPLES;
    m->ready_mean = m->requested_mean = instances;
    if (f->counts && !isnan(f->counts[r].ready))
        m->ready_mean = f->counts[r].ready;
    if (f->counts && !isnan(f->counts[r].requested))
        m->requested_mean = f->counts[r].requested;
    return 0;
}

int import_history(const struct ae_config *cfg, const char *path, const struct import_opts *o,
                   struct import_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct import_file f;
    int rc = read_rows(path, &f, err, errlen);
    if (rc)
        return rc;
    const char *name = o->blueprint ? o->blueprint : f.blueprint[0] ? f.blueprint : NULL;
    const struct cfg_blueprint *bp = pick_blueprint(cfg, name, err, errlen);
    if (!bp) {
        file_free(&f);
        return AE_EINVAL;
    }
    if (o->instances < 1 || o->instances > bp->max_instances) {
        snprintf(err, errlen, "--instances %d is out of range 1..%d (blueprint %s max_instances)",
                 o->instances, bp->max_instances, bp->name);
        file_free(&f);
        return AE_ERANGE;
    }
    int64_t shift = 0;
    if (o->shift_to_now)
        shift = ae_minute_floor(o->now_ms) - AE_MINUTE_MS - f.d->row[f.d->rows - 1].timestamp_ms;
    struct store *s = NULL;
    rc = store_open(cfg->node.data_dir, cfg->node.history_retention_days, &s, err, errlen);
    for (size_t r = 0; rc == 0 && r < f.d->rows; r++) {
        struct ae_minute m;
        rc = to_minute(&f, r, shift, o->instances, path, &m, err, errlen);
        if (rc == 0)
            rc = store_put_minute(s, bp->name, &m, err, errlen);
        if (rc == 0) {
            if (res->minutes == 0)
                res->first_ms = m.start_ms;
            res->last_ms = m.start_ms;
            res->minutes++;
        }
    }
    snprintf(res->blueprint, sizeof res->blueprint, "%s", bp->name);
    store_close(s);
    file_free(&f);
    return rc;
}

static int usage(FILE *to)
{
    fprintf(to, "usage: aether-node import-history FILE [--config FILE] [--blueprint NAME]\n"
                "                                [--instances N] [--shift-to-now]\n"
                "FILE: training data as /api/ttm/training-data exports it, JSON or CSV\n");
    return 2;
}

int import_main(int argc, char **argv, const char *default_config, int64_t now_ms)
{
    const char *file = NULL, *config = default_config;
    struct import_opts o = {.instances = 1, .now_ms = now_ms};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--config") == 0 && has_value)
            config = argv[++i];
        else if (strcmp(a, "--blueprint") == 0 && has_value)
            o.blueprint = argv[++i];
        else if (strcmp(a, "--instances") == 0 && has_value) {
            char *end;
            errno = 0;
            long n = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || n < 1 || n > 10000) {
                fprintf(stderr,
                        "aether-node import-history: --instances %s: expected a whole "
                        "number 1..10000\n",
                        argv[i]);
                return 2;
            }
            o.instances = (int)n;
        } else if (strcmp(a, "--shift-to-now") == 0)
            o.shift_to_now = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] != '-' && !file)
            file = a;
        else {
            fprintf(stderr, "aether-node import-history: unknown argument %s\n", a);
            return usage(stderr);
        }
    }
    if (!file)
        return usage(stderr);
    char err[2048];
    struct ae_config cfg;
    if (cfg_load_file(config, actuator_check_config, &cfg, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "aether-node: %s\n", err);
        return 1;
    }
    struct import_result res;
    int rc = import_history(&cfg, file, &o, &res, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "aether-node import-history: %s\n", err);
        cfg_free(&cfg);
        return 1;
    }
    int64_t age_min = (ae_minute_floor(now_ms) - res.last_ms) / AE_MINUTE_MS;
    printf("imported %d minutes of blueprint %s from %s into %s/%s (minutes %lld..%lld)\n",
           res.minutes, res.blueprint, file, cfg.node.data_dir, STORE_FILE_NAME,
           (long long)res.first_ms, (long long)res.last_ms);
    if (age_min > cfg.ttm.input_window_minutes)
        printf("note: the newest imported minute is %lld minutes old; the forecaster reads the "
               "%d minutes before now, so this history alone does not start it (--shift-to-now "
               "moves a sample series up to now)\n",
               (long long)age_min, cfg.ttm.input_window_minutes);
    cfg_free(&cfg);
    return 0;
}
