/* Decision tree, tier 1: the per-second rule and the warm-up/cooldown gate. */
#include <stdio.h>
#include <string.h>

#include "aether/tree.h"

void tree_input_from_snapshot(struct tree_input *in, const struct ae_snapshot *s)
{
    in->has_cpu = ae_snapshot_has(s, AE_F_CPU_USAGE);
    in->cpu_usage = in->has_cpu ? s->values[AE_F_CPU_USAGE] : 0;
    in->has_calls = ae_snapshot_has(s, AE_F_INVOCATIONS);
    in->calls_per_s = in->has_calls ? s->values[AE_F_INVOCATIONS] : 0;
    in->ready = s->ready;
    in->requested = s->requested;
}

int tree_rule(const struct tree_thresholds *t, double call_rate_up, const struct tree_input *in,
              struct ae_decision *why)
{
    /* Count the instances already requested: what the load will be on each once they serve.
     * Without that the rule keeps adding instances while the first ones start. */
    int serving = in->ready > 0 ? in->ready : 0;
    int counted = in->requested > serving ? in->requested : serving;
    /* With nothing serving yet a measured cpu (pushed, or the host's) is taken as it is. */
    double cpu = serving > 0 ? in->cpu_usage * serving / counted : in->cpu_usage;
    double per_instance = in->calls_per_s / (counted > 1 ? counted : 1);
    /* which rule fired: 0 cpu up, 1 calls up, 2 cpu down, 3 none */
    int step = 0, rule = 3;
    if (in->has_cpu && cpu > t->cpu_up + AE_CMP_EPS) {
        step = 1;
        rule = 0;
    } else if (in->has_calls && per_instance > call_rate_up + AE_CMP_EPS) {
        step = 1;
        rule = 1;
    } else if (in->has_cpu && cpu < t->cpu_down - AE_CMP_EPS && in->requested > in->min_instances) {
        step = -1;
        rule = 2;
    }
    if (why) { /* the record: formatted only when asked for (once a second per blueprint) */
        char *reason = why->reason;
        size_t len = sizeof why->reason;
        if (rule == 0)
            snprintf(reason, len, "cpu_usage %.3f > %.3f", cpu, t->cpu_up);
        else if (rule == 1)
            snprintf(reason, len, "calls per instance %.1f/s > %.1f/s", per_instance, call_rate_up);
        else if (rule == 2)
            snprintf(reason, len, "cpu_usage %.3f < %.3f", cpu, t->cpu_down);
        else
            snprintf(reason, len, "%s",
                     in->has_cpu || in->has_calls ? "within thresholds" : "no cpu or call metrics");
        if (counted > serving && (in->has_cpu || in->has_calls))
            snprintf(reason + strlen(reason), len - strlen(reason),
                     " (over %d requested, %d ready)", counted, serving);
        if (in->has_cpu) {
            ae_decision_add(why, "cpu_usage", in->cpu_usage);
            ae_decision_add(why, "cpu_usage_requested", cpu);
        }
        if (in->has_calls)
            ae_decision_add(why, "calls_per_requested_instance", per_instance);
        ae_decision_add(why, "cpu_scale_up_threshold", t->cpu_up);
        ae_decision_add(why, "cpu_scale_down_threshold", t->cpu_down);
        ae_decision_add(why, "call_rate_scale_up_threshold", call_rate_up);
        ae_decision_add(why, "ready", in->ready);
        ae_decision_add(why, "requested", in->requested);
    }
    return step;
}

void tree_gate_init(struct tree_gate *g, int64_t start_ms)
{
    g->start_ms = start_ms;
    g->last_change_ms = 0;
    g->has_changed = 0;
}

int tree_gate_allows(const struct tree_gate *g, const struct cfg_controller *c, int64_t now_ms,
                     const char **why)
{
    const char *no = NULL;
    if (now_ms - g->start_ms < c->warm_up_period_ms)
        no = "warm-up";
    else if (g->has_changed && now_ms - g->last_change_ms < c->slice_cooldown_ms)
        no = "cooldown";
    if (why)
        *why = no;
    return no == NULL;
}

void tree_gate_record(struct tree_gate *g, int64_t now_ms)
{
    g->last_change_ms = now_ms;
    g->has_changed = 1;
}
