/* aether-model conformance DIR: runs ONNX backend test folders on the engine.
 *
 * DIR is one test folder (model.onnx plus test_data_set_N folders of input_N.pb and output_N.pb)
 * or a folder of such test_* folders. Each data set is loaded, planned for its input shapes, run,
 * and compared with the expected outputs using the ONNX runner's tolerances (rtol 1e-3, atol 1e-7,
 * NaN equal to NaN). A test is skipped, with the reason, when the engine does not run its operators
 * or tensor types. Prints every failure and skip, then `N passed, N failed, N skipped`; exit 1 if
 * any failed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aether/error.h"
#include "tool.h"

#define RTOL 1e-3
#define ATOL 1e-7
#define MAX_TENSORS 64

enum outcome { PASS, FAIL, SKIP };

struct counts {
    int passed, failed, skipped;
};

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir starting with prefix; caller frees each and the array. */
static char **list_dir(const char *dir, const char *prefix, int *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    int cap = 16;
    char **names = malloc(sizeof(char *) * (size_t)cap);
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (*count == cap) {
            char **bigger = realloc(names, sizeof(char *) * (size_t)cap * 2);
            if (!bigger)
                break;
            names = bigger;
            cap *= 2;
        }
        names[*count] = strdup(e->d_name);
        if (names[*count])
            ++*count;
    }
    closedir(d);
    if (names)
        qsort(names, (size_t)*count, sizeof(char *), cmp_names);
    return names;
}

static void free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Reads prefix_0.pb, prefix_1.pb, ... from dir until one is missing. */
static int read_tensors(const char *dir, const char *prefix, struct nn_host_tensor *t, int *n,
                        char *why, size_t whylen, int *unsupported)
{
    *n = 0;
    for (int i = 0; i < MAX_TENSORS; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, i) >= (int)sizeof path)
            break;
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        fclose(f);
        int rc = nn_tensor_load_file(path, &t[i], why, whylen);
        if (rc != 0) {
            *unsupported = rc == AE_EUNSUPPORTED;
            return rc;
        }
        ++*n;
    }
    return 0;
}

static void free_tensors(struct nn_host_tensor *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].data);
}

static int close_enough(float got, float want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs((double)got - (double)want) <= ATOL + RTOL * fabs((double)want);
}

/* Compares an output with its expected tensor; fills why on mismatch. */
static int compare(const struct nn_tensor_info *info, const void *got,
                   const struct nn_host_tensor *want, char *why, size_t whylen)
{
    if (info->dtype != want->dtype) {
        snprintf(why, whylen, "output '%s' is %s, expected %s", info->name,
                 nn_dtype_name(info->dtype), nn_dtype_name(want->dtype));
        return 0;
    }
    int same = info->rank == want->rank;
    for (int d = 0; same && d < info->rank; d++)
        same = info->dims[d] == want->dims[d];
    if (!same) {
        char a[128] = "", b[128] = "";
        for (int d = 0; d < info->rank; d++)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? "," : "",
                     (long long)info->dims[d]);
        for (int d = 0; d < want->rank; d++)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? "," : "",
                     (long long)want->dims[d]);
        snprintf(why, whylen, "output '%s' has shape [%s], expected [%s]", info->name, a, b);
        return 0;
    }
    for (int64_t i = 0; i < want->numel; i++) {
        int ok;
        double g, w;
        switch (want->dtype) {
        case NN_FLOAT:
            g = ((const float *)got)[i], w = ((const float *)want->data)[i];
            ok = close_enough((float)g, (float)w);
            break;
        case NN_INT64:
            g = (double)((const int64_t *)got)[i], w = (double)((const int64_t *)want->data)[i];
            ok = ((const int64_t *)got)[i] == ((const int64_t *)want->data)[i];
            break;
        case NN_INT32:
            g = ((const int32_t *)got)[i], w = ((const int32_t *)want->data)[i];
            ok = g == w;
            break;
        default:
            g = ((const uint8_t *)got)[i], w = ((const uint8_t *)want->data)[i];
            ok = g == w;
            break;
        }
        if (!ok) {
            snprintf(why, whylen, "output '%s' element %lld is %.9g, expected %.9g", info->name,
                     (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}

/* Runs one data set of a test. */
static enum outcome run_data_set(const char *model_path, const char *set_dir, char *why,
                                 size_t whylen)
{
    struct nn_host_tensor in[MAX_TENSORS], out[MAX_TENSORS];
    int n_in = 0, n_out = 0, unsupported = 0;
    enum outcome result = FAIL;
    nn_model *m = NULL;
    int rc = nn_model_load_file(model_path, &m, why, whylen);
    if (rc != 0) {
        result = rc == AE_EUNSUPPORTED ? SKIP : FAIL;
        goto done;
    }
    if (read_tensors(set_dir, "input", in, &n_in, why, whylen, &unsupported) != 0 ||
        read_tensors(set_dir, "output", out, &n_out, why, whylen, &unsupported) != 0) {
        result = unsupported ? SKIP : FAIL;
        goto done;
    }
    if (nn_model_input_count(m) != n_in || nn_model_output_count(m) != n_out) {
        snprintf(why, whylen, "model has %d inputs and %d outputs, the data set %d and %d",
                 nn_model_input_count(m), nn_model_output_count(m), n_in, n_out);
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        if (nn_model_set_input_shape(m, i, in[i].rank, in[i].dims, why, whylen) != 0)
            goto done;
    }
    const void *data[MAX_TENSORS];
    for (int i = 0; i < n_in; i++)
        data[i] = in[i].data;
    rc = nn_model_plan_with_inputs(m, data, why, whylen);
    if (rc != 0) {
        result = rc == AE_EUNSUPPORTED ? SKIP : FAIL;
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        struct nn_tensor_info info;
        nn_model_input_info(m, i, &info);
        if (info.dtype != in[i].dtype) {
            snprintf(why, whylen, "input %d is %s in the data set, %s in the model", i,
                     nn_dtype_name(in[i].dtype), nn_dtype_name(info.dtype));
            goto done;
        }
        size_t bytes = (size_t)in[i].numel * (in[i].dtype == NN_INT64  ? 8
                                              : in[i].dtype == NN_BOOL ? 1
                                                                       : 4);
        if (bytes)
            memcpy(nn_model_input_data(m, i), in[i].data, bytes);
    }
    if (nn_model_run(m, why, whylen) != 0)
        goto done;
    result = PASS;
    for (int i = 0; i < n_out && result == PASS; i++) {
        struct nn_tensor_info info;
        const void *got = nn_model_output_data(m, i, &info);
        if (!compare(&info, got, &out[i], why, whylen))
            result = FAIL;
    }
done:
    nn_model_free(m);
    free_tensors(in, n_in);
    free_tensors(out, n_out);
    return result;
}

/* Runs every data set of one test folder and prints the result unless it passed. */
static void run_test(const char *dir, const char *name, struct counts *c)
{
    char model[4096], why[1024] = "";
    if (snprintf(model, sizeof model, "%s/model.onnx", dir) >= (int)sizeof model)
        return;
    int n_sets;
    char **sets = list_dir(dir, "test_data_set_", &n_sets);
    enum outcome result = n_sets > 0 ? PASS : FAIL;
    if (n_sets == 0)
        snprintf(why, sizeof why, "no test_data_set_* folders");
    for (int i = 0; i < n_sets && result == PASS; i++) {
        char set_dir[4096];
        if (snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[i]) >= (int)sizeof set_dir)
            continue;
        result = run_data_set(model, set_dir, why, sizeof why);
        if (result == FAIL) {
            char tmp[1024];
            if (snprintf(tmp, sizeof tmp, "%s: %s", sets[i], why) < 0)
                tmp[0] = 0;
            memcpy(why, tmp, sizeof why);
        }
    }
    free_list(sets, n_sets);
    if (result == PASS) {
        c->passed++;
    } else if (result == SKIP) {
        c->skipped++;
        printf("SKIP %s: %s\n", name, why);
    } else {
        c->failed++;
        printf("FAIL %s: %s\n", name, why);
    }
}

int cmd_conformance(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: aether-model conformance DIR...\n");
        return 2;
    }
    struct counts c = {0, 0, 0};
    for (int a = 0; a < argc; a++) {
        const char *dir = argv[a];
        char model[4096];
        if (snprintf(model, sizeof model, "%s/model.onnx", dir) >= (int)sizeof model ||
            !is_dir(dir)) {
            fprintf(stderr, "%s: File not found\n", dir);
            return 2;
        }
        FILE *f = fopen(model, "rb");
        if (f) {
            fclose(f);
            const char *base = strrchr(dir, '/');
            run_test(dir, base && base[1] ? base + 1 : dir, &c);
            continue;
        }
        int n;
        char **tests = list_dir(dir, "test_", &n);
        for (int i = 0; i < n; i++) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", dir, tests[i]) < (int)sizeof path &&
                is_dir(path))
                run_test(path, tests[i], &c);
        }
        free_list(tests, n);
    }
    printf("%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped);
    return c.failed ? 1 : 0;
}
