/* aether-load: replays a workload trace as HTTP requests against services on this machine.
 *
 *   aether-load --trace FILE --time-column NAME --value-column NAME
 *               (--url URL ... | --ports LO-HI [--path /work])
 *               [--time-format auto|datetime|unix-s|unix-ms|minute] [--step 1m]
 *               [--per minute|second] [--scale F] [--time-scale N] [--duration S]
 *               [--from TIME] [--to TIME] [--concurrency N] [--max-rps N] [--quiet]
 *
 * The trace (read by the project's one trace reader) gives a request count per step; at real
 * time t the generator sends scale x (that count per second) requests per second, where the
 * trace position is t x time-scale: --time-scale 288 plays a day in five minutes, keeping the
 * trace's rates (the shape of the load is compressed, not its size). Missing slots repeat the
 * last value. Requests go round-robin over the URLs, or over the ports of a blueprint's
 * instances (--ports 9100-9109: a refused port is skipped, like a load balancer would), from a
 * bounded pool of threads, never faster than --max-rps; when the targets cannot keep up the
 * backlog is dropped (counted as "skipped"), so the generator never runs away. Targets must be
 * on loopback. One status line per second; exit 0 at the end of the trace or --duration. */
#include "aether/snapshot.h"
#include "aether/trace.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_URLS 256
#define MAX_THREADS 64

struct load {
    char *urls[MAX_URLS];
    int nurls;
    const struct trace *trace;
    int per_minute; /* trace values are counts per step of one minute... see rate_at */
    double scale, time_scale, max_rps, duration_s;
    int quiet;
    double start_s;
    /* pacing: requests owed so far (a token bucket filled at the trace's rate), shared by the
     * senders; at most one second of backlog is kept */
    pthread_mutex_t mu;
    double credit, credit_t;
    atomic_uint rr; /* round-robin position */
    atomic_ullong sent, ok, http_errors, failures, skipped;
    atomic_int stop;
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig, interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Requests per second at real elapsed time t, or -1 past the end of the trace. */
static double rate_at(const struct load *l, double t)
{
    const struct trace *tr = l->trace;
    double trace_ms = t * l->time_scale * 1000.0;
    size_t slot = (size_t)(trace_ms / (double)tr->step_ms);
    if (slot >= tr->len)
        return -1;
    double v = NAN;
    for (size_t k = slot + 1; k-- > 0 && isnan(v);) /* missing: the last value before */
        v = tr->values[k];
    if (isnan(v))
        v = 0;
    double per_second = l->per_minute ? v / ((double)tr->step_ms / 1000.0) : v;
    double r = per_second * l->scale;
    return r > l->max_rps ? l->max_rps : r;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* One sender: takes a token when one is owed, sends one request. */
static void *sender(void *arg)
{
    struct load *l = arg;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 500L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    while (!atomic_load(&l->stop)) {
        pthread_mutex_lock(&l->mu);
        double now = now_s() - l->start_s;
        double rate = rate_at(l, now);
        if (rate < 0) {
            atomic_store(&l->stop, 1);
            pthread_mutex_unlock(&l->mu);
            break;
        }
        l->credit += rate * (now - l->credit_t);
        l->credit_t = now;
        double cap = rate + 1; /* one second of backlog */
        if (l->credit > cap) {
            atomic_fetch_add(&l->skipped, (unsigned long long)(l->credit - cap));
            l->credit = cap;
        }
        if (l->credit < 1) {
            double wait = rate > 0 ? (1 - l->credit) / rate : 0.02;
            pthread_mutex_unlock(&l->mu);
            sleep_s(wait < 0.02 ? wait : 0.02);
            continue;
        }
        l->credit -= 1;
        pthread_mutex_unlock(&l->mu);
        /* Round-robin; a refused target is skipped (up to one pass over all). */
        for (int tries = 0; tries < l->nurls; tries++) {
            unsigned k = atomic_fetch_add(&l->rr, 1) % (unsigned)l->nurls;
            curl_easy_setopt(c, CURLOPT_URL, l->urls[k]);
            CURLcode rc = curl_easy_perform(c);
            if (rc == CURLE_COULDNT_CONNECT && tries + 1 < l->nurls)
                continue;
            atomic_fetch_add(&l->sent, 1);
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (rc != CURLE_OK)
                atomic_fetch_add(&l->failures, 1);
            else if (code >= 200 && code < 400)
                atomic_fetch_add(&l->ok, 1);
            else
                atomic_fetch_add(&l->http_errors, 1);
            break;
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int is_loopback_url(const char *url)
{
    const char *hosts[] = {"http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
                           "http://localhost/", "http://[::1]:",     "http://[::1]/"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        if (strncmp(url, hosts[i], strlen(hosts[i])) == 0)
            return 1;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aether-load --trace FILE --time-column NAME --value-column NAME\n"
            "                   (--url URL ... | --ports LO-HI [--path /work])\n"
            "                   [--time-format auto|datetime|unix-s|unix-ms|minute] [--step 1m]\n"
            "                   [--per minute|second] [--scale F] [--time-scale N]\n"
            "                   [--duration S] [--from TIME] [--to TIME] [--concurrency N]\n"
            "                   [--max-rps N] [--quiet]\n"
            "  --per          trace values are requests per step (minute, default) or per second\n"
            "  --scale        multiply the load (default 1)\n"
            "  --time-scale   trace seconds played per real second (default 1; 288 = a day in 5 "
            "min)\n"
            "  --duration     stop after S real seconds (default: the end of the trace)\n"
            "  --from, --to   replay only rows with from <= time < to (a datetime, or a number in\n"
            "                 the time column's format)\n"
            "  --concurrency  sender threads, 1..%d (default 8)\n"
            "  --max-rps      upper bound on requests per second (default 2000)\n",
            MAX_THREADS);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static struct load l;
    struct trace_options topt;
    memset(&topt, 0, sizeof(topt));
    const char *trace_path = NULL, *path = "/work", *ports = NULL;
    const char *from_text = NULL, *to_text = NULL;
    double concurrency = 8;
    l.scale = 1;
    l.time_scale = 1;
    l.max_rps = 2000;
    l.per_minute = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            l.quiet = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "aether-load: %s needs a value\n", a);
            return 2;
        }
        int bad = 0;
        if (strcmp(a, "--trace") == 0)
            trace_path = v;
        else if (strcmp(a, "--time-column") == 0)
            topt.time_column = v;
        else if (strcmp(a, "--value-column") == 0)
            topt.value_column = v;
        else if (strcmp(a, "--time-format") == 0)
            bad = trace_parse_time_format(v, &topt.time_format) != 0;
        else if (strcmp(a, "--step") == 0) {
            char err[256];
            if (trace_parse_step(v, &topt.step_ms, err, sizeof(err)) != 0) {
                fprintf(stderr, "aether-load: --step: %s\n", err);
                return 2;
            }
        } else if (strcmp(a, "--per") == 0) {
            bad = strcmp(v, "minute") != 0 && strcmp(v, "second") != 0;
            l.per_minute = strcmp(v, "minute") == 0;
        } else if (strcmp(a, "--scale") == 0)
            bad = parse_double(v, 0, 1e6, &l.scale);
        else if (strcmp(a, "--time-scale") == 0)
            bad = parse_double(v, 0.001, 1e6, &l.time_scale);
        else if (strcmp(a, "--duration") == 0)
            bad = parse_double(v, 0.1, 1e7, &l.duration_s);
        else if (strcmp(a, "--concurrency") == 0)
            bad = parse_double(v, 1, MAX_THREADS, &concurrency);
        else if (strcmp(a, "--max-rps") == 0)
            bad = parse_double(v, 0.01, 1e5, &l.max_rps);
        else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            int from = strcmp(a, "--from") == 0;
            if (from)
                from_text = v;
            else
                to_text = v;
        } else if (strcmp(a, "--path") == 0)
            path = v;
        else if (strcmp(a, "--ports") == 0)
            ports = v;
        else if (strcmp(a, "--url") == 0) {
            if (!is_loopback_url(v)) {
                fprintf(stderr,
                        "aether-load: --url %s: only http:// URLs on loopback "
                        "(127.0.0.1, localhost, [::1]) are allowed\n",
                        v);
                return 2;
            }
            if (l.nurls == MAX_URLS) {
                fprintf(stderr, "aether-load: at most %d URLs\n", MAX_URLS);
                return 2;
            }
            l.urls[l.nurls++] = strdup(v);
        } else {
            fprintf(stderr, "aether-load: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "aether-load: %s %s: invalid value\n", a, v);
            return 2;
        }
    }
    if (ports) {
        int lo, hi;
        char tail;
        if (sscanf(ports, "%d-%d%c", &lo, &hi, &tail) != 2 || lo < 1 || hi > 65535 || lo > hi ||
            hi - lo >= MAX_URLS - l.nurls) {
            fprintf(stderr, "aether-load: --ports %s: expected LO-HI, at most %d ports\n", ports,
                    MAX_URLS);
            return 2;
        }
        for (int p = lo; p <= hi; p++) {
            char url[512];
            snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p, path);
            l.urls[l.nurls++] = strdup(url);
        }
    }
    if (!trace_path || !topt.time_column || !topt.value_column || l.nurls == 0) {
        fprintf(stderr, "aether-load: --trace, --time-column, --value-column and a target "
                        "(--url or --ports) are required\n");
        usage(stderr);
        return 2;
    }

    /* --from/--to are read in the time column's format (after --time-format is known). */
    if (from_text && trace_parse_time(from_text, topt.time_format, &topt.from_ms) != 0) {
        fprintf(stderr, "aether-load: --from %s: not a time\n", from_text);
        return 2;
    }
    if (to_text && trace_parse_time(to_text, topt.time_format, &topt.to_ms) != 0) {
        fprintf(stderr, "aether-load: --to %s: not a time\n", to_text);
        return 2;
    }
    topt.has_from = from_text != NULL;
    topt.has_to = to_text != NULL;

    struct trace *tr = NULL;
    char err[512];
    if (trace_load(trace_path, &topt, &tr, err, sizeof(err)) != 0) {
        fprintf(stderr, "aether-load: %s\n", err);
        return 1;
    }
    char desc[1024];
    trace_describe(tr, desc, sizeof(desc));
    fprintf(stderr, "aether-load: %s\n", desc);
    if (tr->len == 0) {
        fprintf(stderr, "aether-load: the trace has no rows\n");
        trace_free(tr);
        return 1;
    }
    fprintf(stderr,
            "aether-load: replaying %.1f trace minutes in %.1f real seconds against %d target(s); "
            "missing slots repeat the last value\n",
            (double)tr->len * (double)tr->step_ms / (double)AE_MINUTE_MS,
            (double)tr->len * (double)tr->step_ms / 1000.0 / l.time_scale, l.nurls);
    l.trace = tr;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&l.mu, NULL);
    l.start_s = now_s();
    int nthreads = (int)concurrency;
    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, sender, &l) != 0)
            break;

    unsigned long long last_sent = 0;
    while (!atomic_load(&l.stop) && !interrupted) {
        sleep_s(1.0);
        double t = now_s() - l.start_s;
        if (l.duration_s > 0 && t >= l.duration_s)
            break;
        unsigned long long sent = atomic_load(&l.sent);
        if (!l.quiet) {
            char when[32];
            int64_t trace_ms = tr->start_ms + (int64_t)(t * l.time_scale * 1000.0);
            double rate = rate_at(&l, t);
            printf("t=%6.1fs trace=%s target=%7.1f/s sent=%7llu/s ok=%llu errors=%llu "
                   "failed=%llu skipped=%llu\n",
                   t, trace_format_time(trace_ms, when, sizeof(when)), rate < 0 ? 0 : rate,
                   sent - last_sent, (unsigned long long)atomic_load(&l.ok),
                   (unsigned long long)atomic_load(&l.http_errors),
                   (unsigned long long)atomic_load(&l.failures),
                   (unsigned long long)atomic_load(&l.skipped));
            fflush(stdout);
        }
        last_sent = sent;
    }
    atomic_store(&l.stop, 1);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    printf("aether-load: done: sent %llu, ok %llu, HTTP errors %llu, failed %llu, skipped %llu\n",
           (unsigned long long)atomic_load(&l.sent), (unsigned long long)atomic_load(&l.ok),
           (unsigned long long)atomic_load(&l.http_errors),
           (unsigned long long)atomic_load(&l.failures),
           (unsigned long long)atomic_load(&l.skipped));
    for (int i = 0; i < l.nurls; i++)
        free(l.urls[i]);
    trace_free(tr);
    pthread_mutex_destroy(&l.mu);
    curl_global_cleanup();
    return 0;
}
