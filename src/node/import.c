/* Backfilling the history from a training-data CSV (see import.h). */
#include "import.h"

#include "aether/cfgload.h"
#include "aether/error.h"
#include "aether/snapshot.h"
#include "aether/tdata.h"
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

/* The minute of row r of d (line r + 2 of the file), moved by shift_ms. */
static int to_minute(const struct tdata *d, size_t r, int64_t shift_ms, int instances,
                     const char *path, struct ae_minute *m, char *err, size_t errlen)
{
    const struct tdata_row *row = &d->row[r];
    if (row->timestamp_ms % AE_MINUTE_MS != 0) {
        snprintf(err, errlen,
                 "%s:%zu: timestamp %lld is not the start of a minute (a multiple "
                 "of 60000 ms)",
                 path, r + 2, (long long)row->timestamp_ms);
        return AE_EINVAL;
    }
    ae_minute_init(m, row->timestamp_ms + shift_ms);
    for (int f = 0; f < TDATA_FEATURES; f++) {
        if (isnan(row->values[f]))
            continue;
        double v = row->values[f], max = ae_feature_minute_max(f);
        if (!(v >= 0 && v <= max)) {
            snprintf(err, errlen,
                     "%s:%zu: %s = %g is outside its plausible range 0..%g (%s per minute)", path,
                     r + 2, ae_feature_name(f), v, max, ae_feature_unit(f));
            return AE_ERANGE;
        }
        m->values[f] = row->values[f];
        m->missing &= ~AE_FEATURE_BIT(f);
        m->samples[f] = IMPORT_SAMPLES;
    }
    m->snapshots = IMPORT_SAMPLES;
    m->ready_mean = m->requested_mean = instances;
    return 0;
}

int import_history(const struct ae_config *cfg, const char *path, const struct import_opts *o,
                   struct import_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    const struct cfg_blueprint *bp = pick_blueprint(cfg, o->blueprint, err, errlen);
    if (!bp)
        return AE_EINVAL;
    if (o->instances < 1 || o->instances > bp->max_instances) {
        snprintf(err, errlen, "--instances %d is out of range 1..%d (blueprint %s max_instances)",
                 o->instances, bp->max_instances, bp->name);
        return AE_ERANGE;
    }
    struct tdata *d = NULL;
    int rc = tdata_load(path, &d, err, errlen);
    if (rc)
        return rc;
    if (d->rows == 0) {
        snprintf(err, errlen, "%s: no rows to import", path);
        tdata_free(d);
        return AE_EINVAL;
    }
    int64_t shift = 0;
    if (o->shift_to_now)
        shift = ae_minute_floor(o->now_ms) - AE_MINUTE_MS - d->row[d->rows - 1].timestamp_ms;
    struct store *s = NULL;
    rc = store_open(cfg->node.data_dir, cfg->node.history_retention_days, &s, err, errlen);
    for (size_t r = 0; rc == 0 && r < d->rows; r++) {
        struct ae_minute m;
        rc = to_minute(d, r, shift, o->instances, path, &m, err, errlen);
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
    tdata_free(d);
    return rc;
}

static int usage(FILE *to)
{
    fprintf(to, "usage: aether-node import-history FILE [--config FILE] [--blueprint NAME]\n"
                "                                [--instances N] [--shift-to-now]\n");
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
    if (cfg_load_file(config, &cfg, NULL, err, sizeof err) != 0) {
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
