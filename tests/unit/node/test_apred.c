/* Inference off the loop's thread (apred.h) with a scripted model that takes a set time: a fast
 * one answers in the call, a slow one answers "still running" and later the same input gets the
 * result at once, another input meanwhile is told an earlier window runs, and one that runs past
 * the limit is a timeout error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "apred.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 2
#define H 1
#define F 11

struct scripted {
    ae_predictor self;
    long sleep_ms;
    atomic_int calls;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Output: every value is the input's first value plus 1. */
static int scripted_predict(void *state, const float *in, int batch, float *out, char *err,
                            size_t errlen)
{
    (void)err;
    (void)errlen;
    struct scripted *s = state;
    atomic_fetch_add(&s->calls, 1);
    sleep_ms(s->sleep_ms);
    for (int i = 0; i < batch * H * F; i++)
        out[i] = in[0] + 1;
    return 0;
}

static void scripted_info(void *state, struct ae_predictor_info *out)
{
    (void)state;
    *out = (struct ae_predictor_info){.window = W, .horizon = H, .features = F, .max_batch = 2};
}

static void scripted_close(ae_predictor *self)
{
    free(self->state);
}

static struct scripted *scripted_new(long sleep_ms)
{
    struct scripted *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->sleep_ms = sleep_ms;
    s->self = (ae_predictor){s, scripted_predict, scripted_info, scripted_close};
    return s;
}

static atomic_int done_calls;

static void on_done(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&done_calls, 1);
}

static void fill(float *in, float v)
{
    for (int i = 0; i < W * F; i++)
        in[i] = v;
}

static void test_fast_model_answers_in_the_call(void **state)
{
    (void)state;
    atomic_store(&done_calls, 0);
    struct scripted *s = scripted_new(0);
    ae_predictor *p = apred_wrap(&s->self, 2000, 10000, on_done, NULL);
    assert_non_null(p);
    float in[W * F], out[H * F];
    char err[256] = "";
    fill(in, 4);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), 0);
    assert_true(out[0] == 5);
    fill(in, 6);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), 0);
    assert_true(out[0] == 7);
    struct ae_predictor_info info;
    p->info(p->state, &info);
    assert_int_equal(info.window, W);
    ae_predictor_close(p);
    assert_int_equal(atomic_load(&done_calls), 0); /* answered in the call: nothing is late */
}

static void test_slow_model_answers_later(void **state)
{
    (void)state;
    atomic_store(&done_calls, 0);
    struct scripted *s = scripted_new(600);
    ae_predictor *p = apred_wrap(&s->self, 20, 10000, on_done, NULL);
    float in[W * F], other[W * F], out[H * F];
    char err[256] = "";
    fill(in, 1);
    fill(other, 9);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), AE_EAGAIN);
    assert_non_null(strstr(err, "still running"));
    assert_int_equal(p->predict(p->state, other, 1, out, err, sizeof err), AE_EAGAIN);
    assert_non_null(strstr(err, "earlier window"));
    for (int i = 0; i < 100 && atomic_load(&done_calls) == 0; i++)
        sleep_ms(50);
    assert_int_equal(atomic_load(&done_calls), 1);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), 0); /* no new run */
    assert_true(out[0] == 2);
    assert_int_equal(atomic_load(&s->calls), 1);
    ae_predictor_close(p);
}

static void test_run_past_the_limit_is_a_timeout(void **state)
{
    (void)state;
    struct scripted *s = scripted_new(1500);
    ae_predictor *p = apred_wrap(&s->self, 20, 300, NULL, NULL);
    float in[W * F], out[H * F];
    char err[256] = "";
    fill(in, 1);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), AE_EAGAIN);
    sleep_ms(400);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), AE_ETIMEOUT);
    assert_non_null(strstr(err, "timed out"));
    fill(in, 3);
    assert_int_equal(p->predict(p->state, in, 1, out, err, sizeof err), AE_ETIMEOUT);
    assert_int_equal(p->predict(p->state, in, 3, out, err, sizeof err), AE_EINVAL); /* batch */
    ae_predictor_close(p); /* waits for the run to end */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_model_answers_in_the_call),
        cmocka_unit_test(test_slow_model_answers_later),
        cmocka_unit_test(test_run_past_the_limit_is_a_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
