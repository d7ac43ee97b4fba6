/* The leader's forecasts for the other members (see npeers.h). Window k holds member
 * k / nbp's blueprint k % nbp; members get their rows in the order their minutes first arrive. */
#include "npeers.h"

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEERS_MAX (CLUSTER_MEMBERS_MAX - 1)

struct npeers {
    const struct ae_config *cfg;
    int nbp, slots;                    /* slots = PEERS_MAX * nbp */
    struct cfg_blueprint *bps;         /* the manager's blueprint k = cfg's blueprint k % nbp */
    char (*members)[CLUSTER_NAME_MAX]; /* PEERS_MAX rows, "" = free */
    agg **history;                     /* slots */
    struct adt *ctl;                   /* slots: receive the recommendations */
    struct ttm_bp_input *in;           /* slots */
    ttm *t;
    ae_predictor *pred; /* borrowed */
};

void npeers_free(struct npeers *p)
{
    if (!p)
        return;
    for (int k = 0; p->history && k < p->slots; k++)
        agg_free(p->history[k]);
    ttm_free(p->t);
    free(p->bps);
    free(p->members);
    free(p->history);
    free(p->ctl);
    free(p->in);
    free(p);
}

int npeers_reset(struct npeers *p, char *err, size_t errlen)
{
    ttm_free(p->t);
    int rc = ttm_open(&p->cfg->ttm, &p->cfg->controller, p->bps, p->slots, &p->t, err, errlen);
    if (rc)
        return rc;
    memset(p->members, 0, sizeof(*p->members) * PEERS_MAX);
    for (int k = 0; k < p->slots; k++) {
        agg_free(p->history[k]);
        adt_init(&p->ctl[k], 0);
        rc = agg_open(&p->history[k], err, errlen);
        if (rc)
            return rc;
    }
    return npeers_set_predictor(p, p->pred, err, errlen);
}

int npeers_open(const struct ae_config *cfg, struct npeers **out, char *err, size_t errlen)
{
    *out = NULL;
    struct npeers *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    p->cfg = cfg;
    p->nbp = cfg->blueprint_count;
    p->slots = PEERS_MAX * p->nbp;
    size_t n = (size_t)(p->slots > 0 ? p->slots : 1);
    p->bps = calloc(n, sizeof(*p->bps));
    p->members = calloc(PEERS_MAX, sizeof(*p->members));
    p->history = calloc(n, sizeof(*p->history));
    p->ctl = calloc(n, sizeof(*p->ctl));
    p->in = calloc(n, sizeof(*p->in));
    if (!p->bps || !p->members || !p->history || !p->ctl || !p->in) {
        npeers_free(p);
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    for (int k = 0; k < p->slots; k++)
        p->bps[k] = cfg->blueprints[k % p->nbp];
    int rc = p->slots > 0 ? npeers_reset(p, err, errlen) : 0;
    if (rc) {
        npeers_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int npeers_set_predictor(struct npeers *p, ae_predictor *pred, char *err, size_t errlen)
{
    p->pred = pred;
    return p->t ? ttm_set_predictor(p->t, pred, err, errlen) : 0;
}

/* The row of member (a new one when it has none and a row is free), or -1. */
static int member_row(struct npeers *p, const char *member)
{
    for (int r = 0; r < PEERS_MAX; r++)
        if (strcmp(p->members[r], member) == 0)
            return r;
    for (int r = 0; r < PEERS_MAX; r++)
        if (!p->members[r][0]) {
            snprintf(p->members[r], sizeof(p->members[r]), "%s", member);
            return r;
        }
    return -1;
}

static int blueprint_index(const struct npeers *p, const char *name)
{
    for (int i = 0; i < p->nbp; i++)
        if (strcmp(p->cfg->blueprints[i].name, name) == 0)
            return i;
    return -1;
}

int npeers_add(struct npeers *p, const struct cluster_minute_record *recs, int n)
{
    int added = 0;
    for (int k = 0; k < n; k++) {
        int bi = blueprint_index(p, recs[k].blueprint);
        int row = bi < 0 ? -1 : member_row(p, recs[k].node);
        if (row >= 0)
            added += agg_preload(p->history[row * p->nbp + bi], &recs[k].minute) == 0;
    }
    return added;
}

static int rounded_count(double v)
{
    return isfinite(v) && v > 0 ? (int)lround(v) : 0;
}

int npeers_evaluate(struct npeers *p, int64_t now_ms)
{
    if (!p->t)
        return 0;
    for (int k = 0; k < p->slots; k++) {
        const struct ae_minute *m = agg_last(p->history[k]);
        p->in[k] = (struct ttm_bp_input){
            .history = p->history[k],
            .ready = m ? rounded_count(m->ready_mean) : 0,
            .requested = m ? rounded_count(m->requested_mean) : 0,
            .controller = &p->ctl[k],
        };
    }
    ttm_evaluate(p->t, now_ms, 1, p->in);
    int made = 0;
    for (int k = 0; k < p->slots; k++) {
        struct ttm_bp_status st;
        made += ttm_get_blueprint(p->t, k, &st) == 0 && st.has_forecast && st.forecast_ms == now_ms;
    }
    return made;
}

int npeers_count(const struct npeers *p)
{
    int rows = 0;
    while (rows < PEERS_MAX && p->members[rows][0])
        rows++;
    return rows * p->nbp;
}

void npeers_get(const struct npeers *p, int k, struct npeers_view *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->member, sizeof(out->member), "%s", p->members[k / p->nbp]);
    out->blueprint = p->cfg->blueprints[k % p->nbp].name;
    out->minutes = agg_count(p->history[k]);
    struct ttm_bp_status st;
    if (ttm_get_blueprint(p->t, k, &st) != 0)
        return;
    out->state = st.state;
    out->has_forecast = st.has_forecast;
    out->forecast_ms = st.forecast_ms;
    out->floor = st.recommendation.floor;
    out->ceiling = st.recommendation.ceiling;
}
