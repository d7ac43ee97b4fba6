/* The control step of one node (see scaler.h): TTM schedule, batched evaluation, then every
 * blueprint's adaptive decision. */
#include "aether/scaler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"

struct scl {
    struct cfg_ttm ttm_cfg;
    struct cfg_controller ctl;
    int count;
    struct scl_bp *bps;          /* count */
    struct ttm_bp_input *ttm_in; /* count, filled before each evaluation */
    ttm *ttm;                    /* owned */
    int64_t next_eval_ms;        /* the next TTM slot */
    int is_leader;               /* 1 = runs the TTM tier (a single node is its own leader) */
    int no_records;              /* 1 = scl_output.decision is not filled (scl_skip_records) */
};

int scl_open(const struct cfg_ttm *ttm_cfg, const struct cfg_controller *ctl,
             const struct cfg_blueprint *blueprints, int blueprint_count, scl **out, char *err,
             size_t errlen)
{
    *out = NULL;
    if (blueprint_count < 0 || (blueprint_count > 0 && !blueprints)) {
        snprintf(err, errlen, "control step: %d blueprints", blueprint_count);
        return AE_EINVAL;
    }
    scl *s = calloc(1, sizeof *s);
    size_t n = (size_t)(blueprint_count > 0 ? blueprint_count : 1);
    if (s) {
        s->bps = calloc(n, sizeof *s->bps);
        s->ttm_in = calloc(n, sizeof *s->ttm_in);
    }
    if (!s || !s->bps || !s->ttm_in) {
        scl_free(s);
        snprintf(err, errlen, "control step: out of memory");
        return AE_ENOMEM;
    }
    s->ttm_cfg = *ttm_cfg;
    s->ctl = *ctl;
    s->count = blueprint_count;
    s->is_leader = 1;
    for (int i = 0; i < blueprint_count; i++) {
        struct scl_bp *b = &s->bps[i];
        b->cfg = &blueprints[i];
        b->requested = blueprints[i].instances;
        b->last_ttm_decision_ms = INT64_MIN;
        for (int k = 0; k < SCL_PUSH_SLOTS; k++)
            b->push[k].second_ms = -1;
    }
    int rc = ttm_open(ttm_cfg, ctl, blueprints, blueprint_count, &s->ttm, err, errlen);
    if (rc) {
        scl_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void scl_free(scl *s)
{
    if (!s)
        return;
    ttm_free(s->ttm);
    free(s->bps);
    free(s->ttm_in);
    free(s);
}

/* The first slot of the evaluation grid (Unix-ms multiples of the interval) after now_ms. */
static int64_t slot_after(const scl *s, int64_t now_ms)
{
    int64_t interval = s->ttm_cfg.evaluation_interval_ms;
    int64_t rem = now_ms % interval;
    if (rem < 0)
        rem += interval;
    return now_ms - rem + interval;
}

void scl_start(scl *s, int64_t now_ms)
{
    for (int i = 0; i < s->count; i++)
        adt_init(&s->bps[i].controller, now_ms);
    s->next_eval_ms = slot_after(s, now_ms);
}

void scl_skip_records(scl *s)
{
    s->no_records = 1;
}

ttm *scl_ttm(scl *s)
{
    return s->ttm;
}

const ttm *scl_ttm_const(const scl *s)
{
    return s->ttm;
}

struct scl_bp *scl_bp(scl *s, int i)
{
    return i >= 0 && i < s->count ? &s->bps[i] : NULL;
}

const struct scl_bp *scl_bp_const(const scl *s, int i)
{
    return i >= 0 && i < s->count ? &s->bps[i] : NULL;
}

int scl_count(const scl *s)
{
    return s->count;
}

void scl_set_leader(scl *s, int is_leader)
{
    s->is_leader = is_leader != 0;
    ttm_set_leader(s->ttm, s->is_leader);
}

int scl_is_leader(const scl *s)
{
    return s->is_leader;
}

void scl_evaluate_next(scl *s)
{
    s->next_eval_ms = INT64_MIN;
}

/* 1 when the TTM slot has come (and moves it to the next slot of the grid), else 0. */
static int evaluation_due(scl *s, int64_t now_ms)
{
    if (now_ms < s->next_eval_ms)
        return 0;
    s->next_eval_ms = slot_after(s, now_ms);
    return 1;
}

/* Copies blueprint i's forecast (when one was made at now_ms) and confidence into its state. */
static void take_forecast(scl *s, int i, int64_t now_ms)
{
    struct ttm_bp_status st;
    if (ttm_get_blueprint(s->ttm, i, &st) != 0)
        return;
    struct scl_forecast *f = &s->bps[i].forecast;
    f->confidence = st.confidence;
    f->skill = st.skill;
    if (!st.has_forecast || !st.forecast || st.forecast_ms != now_ms)
        return;
    int h = st.horizon < CONF_MAX_HORIZON ? st.horizon : CONF_MAX_HORIZON;
    f->count++;
    f->made_ms = st.forecast_ms;
    f->horizon = h;
    memcpy(f->values, st.forecast, (size_t)h * AE_FEATURE_COUNT * sizeof *f->values);
    f->recommendation = st.recommendation;
}

/* The TTM evaluation over every blueprint, and what it produced for each. */
static void evaluate(scl *s, int64_t now_ms, const struct scl_input *in, struct scl_output *out)
{
    for (int i = 0; i < s->count; i++) {
        s->ttm_in[i].history = in[i].history;
        s->ttm_in[i].ready = in[i].ready;
        s->ttm_in[i].requested = s->bps[i].requested;
        s->ttm_in[i].controller = &s->bps[i].controller;
    }
    ttm_evaluate(s->ttm, now_ms, s->is_leader, s->ttm_in);
    for (int i = 0; i < s->count; i++) {
        struct scl_bp *b = &s->bps[i];
        take_forecast(s, i, now_ms);
        const struct ae_decision *d = ttm_last_decision(s->ttm, i);
        if (d && d->timestamp_ms != b->last_ttm_decision_ms) {
            b->last_ttm_decision_ms = d->timestamp_ms;
            out[i].ttm_decision = d;
        }
    }
}

/* A follower's copy of the leader's recommendation, applied when new or after an evaluation
 * dropped the one in force ("not the leader"). Its time is when the leader issued it, so the
 * adaptive tree lets it lapse 2 x the [ttm] interval later. */
static void follow_leader(scl *s, struct scl_bp *b, const struct scl_input *in, int evaluated)
{
    if (s->is_leader || !in->has_remote || !s->ttm_cfg.enabled)
        return;
    if (!evaluated && in->remote_issued_ms == b->remote_issued_ms)
        return;
    b->remote_issued_ms = in->remote_issued_ms;
    struct fcst_recommendation rec;
    memset(&rec, 0, sizeof rec);
    rec.type = FCST_HOLD;
    rec.floor = in->remote_floor;
    rec.ceiling = in->remote_ceiling;
    rec.target_instances = in->remote_floor;
    snprintf(rec.text, sizeof rec.text, "leader's recommendation: floor %d, ceiling %d",
             in->remote_floor, in->remote_ceiling);
    adt_apply(&b->controller, s->ttm_cfg.mode, &rec, in->remote_issued_ms);
}

/* Tier 1 and the recommendation in force for one blueprint. */
static void decide(scl *s, struct scl_bp *b, const struct scl_input *in, int64_t now_ms,
                   struct scl_output *out)
{
    struct tree_input ti;
    memset(&ti, 0, sizeof ti);
    tree_input_from_snapshot(&ti, in->snapshot);
    ti.ready = in->ready;
    ti.requested = b->requested;
    ti.min_instances = b->cfg->min_instances;
    ti.max_instances = b->cfg->max_instances;
    int desired = adt_decide(&b->controller, &s->ctl, s->ttm_cfg.evaluation_interval_ms, &ti,
                             now_ms, s->no_records ? NULL : &out->decision);
    out->desired = desired;
    out->changed = desired != b->requested;
    b->requested = desired;
}

int scl_step(scl *s, int64_t now_ms, const struct scl_input *in, struct scl_output *out)
{
    for (int i = 0; i < s->count; i++)
        out[i].ttm_decision = NULL;
    int evaluated = evaluation_due(s, now_ms);
    if (evaluated)
        evaluate(s, now_ms, in, out);
    for (int i = 0; i < s->count; i++) {
        follow_leader(s, &s->bps[i], &in[i], evaluated);
        decide(s, &s->bps[i], &in[i], now_ms, &out[i]);
    }
    return evaluated;
}

int scl_push(struct scl_bp *b, int64_t second_ms, const double *values, uint32_t present)
{
    struct scl_push_slot *slot = NULL;
    for (int k = 0; k < SCL_PUSH_SLOTS && !slot; k++)
        if (b->push[k].second_ms == second_ms)
            slot = &b->push[k];
    for (int k = 0; k < SCL_PUSH_SLOTS && !slot; k++)
        if (b->push[k].second_ms == -1)
            slot = &b->push[k];
    if (!slot)
        return AE_ERANGE;
    if (slot->second_ms != second_ms) {
        slot->second_ms = second_ms;
        slot->present = 0;
    }
    for (int f = 0; f < AE_FEATURE_COUNT; f++)
        if (present & AE_FEATURE_BIT(f)) {
            slot->values[f] = values[f];
            slot->present |= AE_FEATURE_BIT(f);
        }
    b->pushes++;
    return 0;
}

void scl_push_fold(struct scl_bp *b, int64_t second_ms, struct ae_snapshot *s)
{
    for (int k = 0; k < SCL_PUSH_SLOTS; k++) {
        struct scl_push_slot *p = &b->push[k];
        if (p->second_ms == second_ms)
            for (int f = 0; f < AE_FEATURE_COUNT; f++)
                if (p->present & AE_FEATURE_BIT(f))
                    ae_snapshot_set(s, f, p->values[f]);
        if (p->second_ms != -1 && p->second_ms <= second_ms)
            p->second_ms = -1;
    }
}
