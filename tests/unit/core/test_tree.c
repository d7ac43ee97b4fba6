/* Tier 1: the rule at and around every threshold, and the warm-up/cooldown gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aether/tree.h"

static const struct tree_thresholds th = {.cpu_up = 0.8, .cpu_down = 0.2};

static struct tree_input input(double cpu, double calls, int ready, int requested)
{
    struct tree_input in = {.has_cpu = 1,
                            .cpu_usage = cpu,
                            .has_calls = 1,
                            .calls_per_s = calls,
                            .ready = ready,
                            .requested = requested,
                            .min_instances = 1,
                            .max_instances = 10};
    return in;
}

static void cpu_thresholds_are_strict(void **state)
{
    (void)state;
    struct tree_input in = input(0.8, 0, 2, 2);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0); /* exactly at up: no */
    in.cpu_usage = 0.1 + 0.7; /* 0.7999999999999999: still "exactly" 0.8 */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    in.cpu_usage = 0.8001;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
    in.cpu_usage = 0.2; /* exactly at down: no */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    in.cpu_usage = 0.1999;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), -1);
}

static void call_rate_is_per_requested_instance(void **state)
{
    (void)state;
    struct ae_decision d;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 4);
    /* 8000 calls/s over 4 instances = 2000 each: at the threshold, no */
    struct tree_input in = input(0.5, 8000, 4, 4);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 0);
    assert_string_equal(d.reason, "within thresholds");
    in.calls_per_s = 8004;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 4);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason, "calls per instance 2001.0/s > 2000.0/s");
    assert_string_equal(d.inputs[0].name, "cpu_usage");
    assert_string_equal(d.inputs[1].name, "cpu_usage_requested");
    assert_string_equal(d.inputs[2].name, "calls_per_requested_instance");
    assert_float_equal(d.inputs[2].value, 2001, 1e-9);
    /* 10000 calls/s with 4 ready of 5 requested: 2000 per requested instance (2500 per ready
     * one): no; 10005/s is 2001 each: scale up */
    in = input(0.5, 10000, 4, 5);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    in.calls_per_s = 10005;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 5);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason,
                        "calls per instance 2001.0/s > 2000.0/s (over 5 requested, 4 ready)");
    assert_float_equal(d.inputs[2].value, 2001, 1e-9);
    /* more ready than requested (a scale-down in progress): the ready ones count */
    in = input(0.5, 10005, 5, 4);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
    in.calls_per_s = 10000;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    /* no ready instance: the calls count against the requested ones, and against one when
     * none is requested either, so a flood still scales up */
    in = input(0.5, 4001, 0, 2);
    in.has_cpu = 0;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
    in.calls_per_s = 4000;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    in.requested = 0;
    in.calls_per_s = 2001;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
}

static void cpu_counts_starting_instances(void **state)
{
    (void)state;
    struct ae_decision d;
    /* cpu 0.9 on 4 ready of 5 requested: 0.72 once the fifth serves, below 0.8: no scale-up */
    struct tree_input in = input(0.9, 10, 4, 5);
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 5);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 0);
    assert_string_equal(d.reason, "within thresholds (over 5 requested, 4 ready)");
    assert_string_equal(d.inputs[0].name, "cpu_usage");
    assert_float_equal(d.inputs[0].value, 0.9, 0);
    assert_string_equal(d.inputs[1].name, "cpu_usage_requested");
    assert_float_equal(d.inputs[1].value, 0.72, 1e-12);
    assert_string_equal(d.inputs[2].name, "calls_per_requested_instance");
    assert_float_equal(d.inputs[2].value, 2, 1e-12);
    /* all ready: the measured cpu itself, as before */
    in.ready = 5;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 5);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason, "cpu_usage 0.900 > 0.800");
    assert_float_equal(d.inputs[1].value, 0.9, 0);
    /* 0.96 on 5 ready of 6 is exactly 0.8 once all serve: no; 0.97 is 0.808: scale up */
    in = input(0.96, 10, 5, 6);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    in.cpu_usage = 0.97;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 6);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason, "cpu_usage 0.808 > 0.800 (over 6 requested, 5 ready)");
    /* the same projection can scale down: 0.3 on 2 ready of 4 is 0.15 < 0.2 */
    in = input(0.3, 10, 2, 4);
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 4);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), -1);
    assert_string_equal(d.reason, "cpu_usage 0.150 < 0.200 (over 4 requested, 2 ready)");
    in.cpu_usage = 0.4; /* 0.2 exactly: no */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    /* more ready than requested: the ready ones are what serves, cpu as measured */
    in = input(0.9, 10, 5, 4);
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 4);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason, "cpu_usage 0.900 > 0.800");
}

/* Nothing ready: there is nothing to project the cpu over, so a measured cpu (pushed, or the
 * host's) is taken as it is, not scaled to 0 by ready / requested. */
static void cpu_as_measured_when_nothing_is_ready(void **state)
{
    (void)state;
    struct ae_decision d;
    struct tree_input in = input(0.95, 10, 0, 3);
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 3);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1); /* not -1 */
    assert_string_equal(d.reason, "cpu_usage 0.950 > 0.800 (over 3 requested, 0 ready)");
    assert_string_equal(d.inputs[1].name, "cpu_usage_requested");
    assert_float_equal(d.inputs[1].value, 0.95, 0);
    /* within the thresholds: hold */
    in.cpu_usage = 0.5;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    /* low: down one while requested > min */
    in.cpu_usage = 0.1;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 3);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), -1);
    assert_string_equal(d.reason, "cpu_usage 0.100 < 0.200 (over 3 requested, 0 ready)");
    in.requested = 1; /* = min: no */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
    /* nothing requested either (and a negative ready count is none) */
    in = input(0.95, 10, -1, 0);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
}

static void scale_up_wins_over_scale_down(void **state)
{
    (void)state;
    /* cpu is low, but calls per instance are high: the up rule takes precedence */
    struct tree_input in = input(0.05, 9000, 3, 3);
    struct ae_decision d;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 3);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 1);
    assert_string_equal(d.reason, "calls per instance 3000.0/s > 2000.0/s");
}

static void scale_down_only_above_min(void **state)
{
    (void)state;
    struct tree_input in = input(0.05, 10, 1, 1);
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0); /* n = min */
    in.requested = 2;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), -1);
    in.min_instances = 2;
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
}

static void missing_features_trigger_nothing(void **state)
{
    (void)state;
    struct tree_input in = input(0.99, 1e9, 1, 5);
    in.has_cpu = 0;
    in.has_calls = 0;
    struct ae_decision d;
    ae_decision_init(&d, 0, AE_TIER_REACTIVE, 5);
    assert_int_equal(tree_rule(&th, 2000, &in, &d), 0);
    assert_string_equal(d.reason, "no cpu or call metrics");
    in.has_calls = 1; /* calls alone can scale up */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 1);
    in.calls_per_s = 0; /* ... but never down: that needs cpu */
    assert_int_equal(tree_rule(&th, 2000, &in, NULL), 0);
}

static void input_from_snapshot(void **state)
{
    (void)state;
    struct ae_snapshot s;
    ae_snapshot_init(&s, 5000);
    ae_snapshot_set(&s, AE_F_INVOCATIONS, 120);
    s.ready = 3;
    s.requested = 4;
    struct tree_input in = {.min_instances = 1, .max_instances = 9};
    tree_input_from_snapshot(&in, &s);
    assert_false(in.has_cpu);
    assert_true(in.has_calls);
    assert_float_equal(in.calls_per_s, 120, 0);
    assert_int_equal(in.ready, 3);
    assert_int_equal(in.requested, 4);
    assert_int_equal(in.max_instances, 9);
}

static void gate_warm_up_and_cooldown(void **state)
{
    (void)state;
    struct cfg_controller c;
    cfg_controller_defaults(&c); /* warm-up 30 s, cooldown 10 s */
    struct tree_gate g;
    tree_gate_init(&g, 1000000);
    const char *why = "x";
    assert_false(tree_gate_allows(&g, &c, 1000000 + 29999, &why));
    assert_string_equal(why, "warm-up");
    assert_true(tree_gate_allows(&g, &c, 1000000 + 30000, &why));
    assert_null(why);
    tree_gate_record(&g, 1040000);
    assert_false(tree_gate_allows(&g, &c, 1049999, &why));
    assert_string_equal(why, "cooldown");
    assert_true(tree_gate_allows(&g, &c, 1050000, NULL));
    c.slice_cooldown_ms = 0;
    c.warm_up_period_ms = 0;
    tree_gate_init(&g, 5);
    assert_true(tree_gate_allows(&g, &c, 5, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_thresholds_are_strict),
        cmocka_unit_test(call_rate_is_per_requested_instance),
        cmocka_unit_test(cpu_counts_starting_instances),
        cmocka_unit_test(cpu_as_measured_when_nothing_is_ready),
        cmocka_unit_test(scale_up_wins_over_scale_down),
        cmocka_unit_test(scale_down_only_above_min),
        cmocka_unit_test(missing_features_trigger_nothing),
        cmocka_unit_test(input_from_snapshot),
        cmocka_unit_test(gate_warm_up_and_cooldown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
