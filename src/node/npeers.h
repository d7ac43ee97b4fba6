/* The leader's forecasts for the other members of its cluster: one TTM manager over every
 * (member, blueprint) window rebuilt from the minutes the members publish to etcd, evaluated in
 * one batched inference when the leader's own TTM tier evaluates. Each member thus gets a floor
 * and ceiling from its own load, and a new leader has the members' windows from its first
 * evaluation (no cold start). Not thread-safe: the node calls it under its lock. */
#ifndef AETHER_NODE_NPEERS_H
#define AETHER_NODE_NPEERS_H

#include <stddef.h>
#include <stdint.h>

#include "aether/cluster.h"
#include "aether/config.h"
#include "aether/predictor.h"
#include "aether/ttm.h"

/* What the API shows of one (member, blueprint) window. */
struct npeers_view {
    char member[CLUSTER_NAME_MAX];
    const char *blueprint; /* borrowed from the config */
    enum ttm_bp_state state;
    int minutes; /* closed minutes held */
    int has_forecast;
    int64_t forecast_ms;
    int floor, ceiling; /* of the last forecast */
};

struct npeers;

/* Windows for up to CLUSTER_MEMBERS_MAX - 1 other members with cfg's blueprints (cfg borrowed,
 * must outlive it). 0, or AE_ENOMEM / the TTM manager's error with a message. */
int npeers_open(const struct ae_config *cfg, struct npeers **out, char *err, size_t errlen);
void npeers_free(struct npeers *p);

/* The predictor to use (borrowed, as ttm_set_predictor; NULL = none). */
int npeers_set_predictor(struct npeers *p, ae_predictor *pred, char *err, size_t errlen);

/* Forgets every window (a new leadership term: the next minutes are a full read). */
int npeers_reset(struct npeers *p, char *err, size_t errlen);

/* Adds minutes read from etcd to their (member, blueprint) windows; a blueprint this node does
 * not have, a member past the capacity, or a minute not newer than the window's newest is
 * skipped. Returns how many were added. */
int npeers_add(struct npeers *p, const struct cluster_minute_record *recs, int n);

/* One batched evaluation over every window at now_ms; returns how many windows forecast. */
int npeers_evaluate(struct npeers *p, int64_t now_ms);

/* Windows held (members with minutes x blueprints), and window k's state. */
int npeers_count(const struct npeers *p);
void npeers_get(const struct npeers *p, int k, struct npeers_view *out);

#endif
