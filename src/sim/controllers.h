/* Constructors of the simulator's controllers (all behind controller.h's interface).
 * Each returns 0 and a controller in *out the caller frees with sim_controller_free(), or a
 * negative AE_E* code with a message in err and *out NULL. */
#ifndef AETHER_SIM_CONTROLLERS_H
#define AETHER_SIM_CONTROLLERS_H

#include <stddef.h>
#include <stdint.h>

#include "aether/config.h"
#include "controller.h"
#include "load.h"

/* Tier 1 only: the core's adaptive decision tree with no forecast ([controller] as given). */
int sim_ctl_reactive_open(const struct cfg_controller *ctl, struct sim_controller **out, char *err,
                          size_t errlen);

/* Both tiers: the core's TTM manager driven by ttm->forecaster, evaluated every
 * ttm->evaluation_interval_ms of simulated time; ttm->mode active or forecast-only. With the
 * model, model_path is opened by the ONNX engine; window and horizon come from the model's
 * metadata whenever model_path is given (so that another forecaster runs at the model's
 * horizon), else ttm->input_window_minutes and horizon_default. The blueprint's min/max come
 * from the simulation. preload feeds the history before the simulated part to the forecaster. */
int sim_ctl_ttm_open(const struct cfg_controller *ctl, const struct cfg_ttm *ttm,
                     const char *model_path, int horizon_default, int min_instances,
                     int max_instances, struct sim_controller **out, char *err, size_t errlen);

/* Kubernetes HPA target tracking on CPU (see docs/simulator.md for the exact rules). */
struct sim_hpa_params {
    double target;            /* 0.6 */
    double tolerance;         /* 0.1 */
    int64_t sync_ms;          /* 15000 */
    int64_t stabilization_ms; /* scale-down stabilisation window, 300000 */
};
void sim_hpa_defaults(struct sim_hpa_params *p);
int sim_ctl_hpa_open(const struct sim_hpa_params *p, struct sim_controller **out, char *err,
                     size_t errlen);

/* HPA plus a classical demand forecast, in the manner of the Kubernetes Predictive HPA: at each
 * sync the replica target is the larger of the HPA's and the forecast's (peak demand over the
 * start-up delay, divided by the measured per-instance throughput at the HPA target).
 * kind: "holt-winters" or "linear", the core's fitted forecasters (forecaster.h; Holt-Winters
 * with a season of season_minutes), fitted on the preloaded history and refitted daily. */
int sim_ctl_predictive_open(const char *kind, const struct sim_hpa_params *p, int64_t startup_ms,
                            int season_minutes, struct sim_controller **out, char *err,
                            size_t errlen);

/* Perfect foresight: at every second, the fewest instances that keep the utilisation of ready
 * capacity at or below util for every minute until instances requested now are ready. The load
 * is borrowed and must outlive the controller. */
int sim_ctl_oracle_open(const struct sim_load *load, double capacity_per_min, double util,
                        int64_t startup_ms, struct sim_controller **out, char *err, size_t errlen);

#endif
