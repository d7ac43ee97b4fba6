/* Fault-injection points (see fault.h). Without AETHER_FAULT_INJECTION every point is off and
 * the predictor is used as it is: release builds contain no way to switch a fault on. */
#include "fault.h"

#include <stdlib.h>

#ifdef AETHER_FAULT_INJECTION
#include "aether/error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int fault_active(const char *name)
{
    const char *path = getenv("AETHER_FAULTS_FILE");
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[128];
    int on = 0;
    while (!on && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        on = strcmp(line, name) == 0;
    }
    fclose(f);
    return on;
}

struct fault_pred {
    ae_predictor self;
    ae_predictor *inner;
};

static int fault_predict(void *state, const float *in, int batch, float *out, char *err,
                         size_t errlen)
{
    struct fault_pred *f = state;
    if (fault_active("inference")) {
        snprintf(err, errlen, "injected inference failure (fault point \"inference\")");
        return AE_EINFER;
    }
    if (fault_active("slow-inference")) {
        struct timespec slow = {FAULT_SLOW_INFERENCE_S, 0};
        nanosleep(&slow, NULL);
    }
    return f->inner->predict(f->inner->state, in, batch, out, err, errlen);
}

static void fault_info(void *state, struct ae_predictor_info *out)
{
    struct fault_pred *f = state;
    f->inner->info(f->inner->state, out);
}

static void fault_close(ae_predictor *self)
{
    struct fault_pred *f = self->state;
    ae_predictor_close(f->inner);
    free(f);
}

ae_predictor *fault_wrap_predictor(ae_predictor *p)
{
    if (!p)
        return NULL;
    struct fault_pred *f = calloc(1, sizeof *f);
    if (!f) {
        ae_predictor_close(p);
        return NULL;
    }
    f->inner = p;
    f->self = (ae_predictor){f, fault_predict, fault_info, fault_close};
    return &f->self;
}
#else
int fault_active(const char *name)
{
    (void)name;
    return 0;
}

ae_predictor *fault_wrap_predictor(ae_predictor *p)
{
    return p;
}
#endif
