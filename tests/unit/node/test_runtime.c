/* The node's runtime driven tick by tick with explicit times (node_tick takes the time as an
 * input): snapshots from collectors and pushes with push precedence, minute roll-over into the
 * SQLite history, reactive decisions recorded with their result, the open minute saved on
 * shutdown and the window reloaded on the next start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "node.h"
#include "reqparse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPDIR_PREFIX "aether-runtime-test"
#include "tmpdir.h"

static const int64_t T0 = 1767225600000LL; /* 2026-01-01T00:00:00Z, a minute start */

static void make_config(struct ae_config *c)
{
    cfg_defaults(c);
    snprintf(c->node.data_dir, sizeof c->node.data_dir, "%s/data", dir);
    c->controller.warm_up_period_ms = 0;
    c->controller.slice_cooldown_ms = 5000;
    struct cfg_blueprint *b = cfg_blueprint_add(c);
    assert_non_null(b);
    snprintf(b->name, sizeof b->name, "web");
    b->actuator = CFG_ACTUATOR_EXEC;
    b->min_instances = 1;
    b->max_instances = 3;
}

/* A scrape-level collector that knows cpu (low) and heap. */
static int collected;
static void scrape_fill(void *state, int bp, struct ae_snapshot *snap)
{
    (void)state;
    (void)bp;
    collected++;
    ae_snapshot_set(snap, AE_F_CPU_USAGE, 0.1);
    ae_snapshot_set(snap, AE_F_HEAP_USAGE, 0.5);
}

/* A host-level collector that knows heap (high): added after the scrape one, it still runs
 * before it, so the scrape's value wins. */
static void host_fill(void *state, int bp, struct ae_snapshot *snap)
{
    (void)state;
    (void)bp;
    ae_snapshot_set(snap, AE_F_HEAP_USAGE, 0.9);
    ae_snapshot_set(snap, AE_F_ERROR_RATE, 0.01);
}

static int push_cpu(struct node *n, int64_t now, double cpu)
{
    struct req_push p = {0};
    p.values[AE_F_CPU_USAGE] = cpu;
    p.present = 1u << AE_F_CPU_USAGE;
    char err[256];
    return node_push(n, "web", &p, now, err, sizeof err);
}

/* cpu and calls of one second, pushed together. */
static int push_load(struct node *n, int64_t now, double cpu, double calls)
{
    struct req_push p = {0};
    p.values[AE_F_CPU_USAGE] = cpu;
    p.values[AE_F_INVOCATIONS] = calls;
    p.present = 1u << AE_F_CPU_USAGE | 1u << AE_F_INVOCATIONS;
    char err[256];
    return node_push(n, "web", &p, now, err, sizeof err);
}

struct seen {
    int count;
    char action[8][32];
    char result[8][160];
    int from[8], to[8];
};

static int seen_cb(void *ctx, const struct store_decision *d)
{
    struct seen *s = ctx;
    if (s->count < 8) {
        snprintf(s->action[s->count], sizeof s->action[0], "%s/%s", d->tier, d->action);
        snprintf(s->result[s->count], sizeof s->result[0], "%s", d->result);
        s->from[s->count] = d->from;
        s->to[s->count] = d->to;
    }
    s->count++;
    return 0;
}

static int count_cb(void *ctx, const struct ae_minute *m)
{
    (void)m;
    ++*(int *)ctx;
    return 0;
}

static void test_seconds_minutes_decisions(void **state)
{
    (void)state;
    struct node *n;
    struct ae_config c;
    make_config(&c);
    char err[512];
    assert_int_equal(node_open(&c, NULL, T0, &n, err, sizeof err), 0);
    struct node_collector col = {"test-scrape", NODE_SRC_SCRAPE, NULL, scrape_fill, NULL};
    assert_int_equal(node_add_collector(n, &col), 0);
    struct node_collector host = {"test-host", NODE_SRC_HOST, NULL, host_fill, NULL};
    assert_int_equal(node_add_collector(n, &host), 0);

    /* 20 s of a hot pushed load: the push (cpu 0.95) wins over the scrape (0.1); heap comes
     * from the scrape; event_loop_lag_ms is the node's own lag. */
    int64_t t = T0;
    for (int s = 0; s < 20; s++) {
        assert_int_equal(push_load(n, t + 300, 0.95, 7000), 0);
        t += 1000;
        node_tick(n, t + 2, -1);
    }
    assert_int_equal(collected, 20);
    struct node_view *v;
    assert_int_equal(node_view_take(n, &v), 0);
    assert_int_equal(v->ticks, 20);
    const struct ae_snapshot *snap = &v->bps[0].last_snapshot;
    assert_int_equal(snap->timestamp_ms, T0 + 19000);
    assert_true(snap->values[AE_F_CPU_USAGE] == 0.95);
    assert_true(snap->values[AE_F_HEAP_USAGE] == 0.5);   /* scrape over host */
    assert_true(snap->values[AE_F_ERROR_RATE] == 0.01); /* what only the host knows */
    assert_true(snap->values[AE_F_INVOCATIONS] == 7000);
    assert_true(ae_snapshot_has(snap, AE_F_EVENT_LOOP_LAG_MS));

    /* Reactive, on the call rate per requested instance (this build has no actuator for the
     * blueprint, so no instance is ever ready): 7000/s is over 2000 on 1, 2 and 3 instances.
     * 1 -> 2 at once, 2 -> 3 after the 5-s cooldown, then max_instances holds. */
    assert_int_equal(v->bps[0].requested, 3);
    assert_int_equal(v->bps[0].pushes, 20);
    assert_int_equal(v->bps[0].decisions[AE_TIER_REACTIVE][AE_ACTION_SCALE_UP], 2);
    node_view_free(v);
    assert_int_equal(node_flush_history(n, 10000), 0);
    struct seen seen = {0};
    assert_int_equal(store_each_decision(node_store(n), "web", 10, seen_cb, &seen, err, sizeof err), 0);
    assert_int_equal(seen.count, 2);
    assert_string_equal(seen.action[0], "reactive/scale_up");
    assert_int_equal(seen.from[0], 2);
    assert_int_equal(seen.to[0], 3);
    assert_int_equal(seen.from[1], 1);
    assert_int_equal(seen.to[1], 2);
    assert_non_null(strstr(seen.result[0], "not available"));

    /* A push for a second already folded is refused; an unknown blueprint too. */
    assert_int_equal(push_cpu(n, t, 0.5), 0);
    struct req_push old = {.has_timestamp = 1, .timestamp_ms = T0 + 1000, .present = 1};
    assert_int_equal(node_push(n, "web", &old, t, err, sizeof err), AE_ERANGE);
    assert_non_null(strstr(err, "already folded"));
    assert_int_equal(node_push(n, "nope", &old, t, err, sizeof err), AE_ENOENT);

    /* Roll over the first minute: it lands in the history. */
    for (int s = 0; s < 45; s++) {
        t += 1000;
        node_tick(n, t + 2, -1);
    }
    int rows = 0;
    assert_int_equal(node_flush_history(n, 10000), 0);
    assert_int_equal(
        store_each_minute(node_store(n), "web", INT64_MIN, INT64_MAX, count_cb, &rows, err, sizeof err),
        0);
    assert_int_equal(rows, 1);
    assert_int_equal(node_view_take(n, &v), 0);
    assert_int_equal(v->bps[0].history_minutes, 1);
    node_view_free(v);
    /* 40 s into the second minute; shutting down keeps it (>= 30 snapshots). */
    for (int s = 0; s < 35; s++) {
        t += 1000;
        node_tick(n, t + 2, -1);
    }
    node_free(n);
    cfg_free(&c);

    /* A restart reloads both minutes into the window. */
    make_config(&c);
    assert_int_equal(node_open(&c, NULL, t + 5000, &n, err, sizeof err), 0);
    assert_int_equal(node_view_take(n, &v), 0);
    assert_int_equal(v->bps[0].history_minutes, 2);
    node_view_free(v);
    node_free(n);
    cfg_free(&c);
}

static void test_bad_data_dir(void **state)
{
    (void)state;
    struct node *n = (struct node *)&n; /* any non-NULL value: node_open must clear it */
    struct ae_config c;
    make_config(&c);
    snprintf(c.node.data_dir, sizeof c.node.data_dir, "/proc/aether-cannot-exist/data");
    char err[512];
    assert_true(node_open(&c, NULL, T0, &n, err, sizeof err) < 0);
    assert_null(n);
    assert_non_null(strstr(err, "/proc/aether-cannot-exist/data"));
    cfg_free(&c);
}

static void test_model_load_errors(void **state)
{
    (void)state;
    struct node *n;
    struct ae_config c;
    make_config(&c);
    c.ttm.enabled = 1;
    snprintf(c.ttm.model_path, sizeof c.ttm.model_path, "%s/absent.onnx", dir);
    snprintf(c.node.extensions_dir, sizeof c.node.extensions_dir, "%s/ext", dir);
    char err[512];
    assert_int_equal(node_open(&c, NULL, T0, &n, err, sizeof err), 0);
    /* No engine linked and no module: the spec's message. */
    assert_int_equal(node_load_model(n, 0, err, sizeof err), AE_EUNSUPPORTED);
    assert_non_null(strstr(err, "No TTM predictor implementation available"));
    struct node_view *v;
    assert_int_equal(node_view_take(n, &v), 0);
    assert_non_null(strstr(v->model_error, "No TTM predictor implementation available"));
    assert_false(v->model_loaded);
    assert_false(node_model_loaded(n));
    node_view_free(v);
    node_free(n);
    cfg_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seconds_minutes_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_data_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_load_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
