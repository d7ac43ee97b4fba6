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
 * backlog is dropped (counted as "skipped"), so the generator never runs away; "failed" counts
 * requests that got no answer (refused by every target, reset, 5 s timeout). Targets must be
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

/* The command line beyond what struct load keeps. */
struct args {
    struct trace_options topt;
    const char *trace_path, *path, *ports, *from_text, *to_text;
    double concurrency;
};

/* --url v: a loopback http:// URL added to the targets. Returns 0, or 2 (reported). */
static int add_url(struct load *l, const char *v)
{
    if (!is_loopback_url(v)) {
        fprintf(stderr,
                "aether-load: --url %s: only http:// URLs on loopback "
                "(127.0.0.1, localhost, [::1]) are allowed\n",
                v);
        return 2;
    }
    if (l->nurls == MAX_URLS) {
        fprintf(stderr, "aether-load: at most %d URLs\n", MAX_URLS);
        return 2;
    }
    l->urls[l->nurls++] = strdup(v);
    return 0;
}

/* One option opt with its value v. Returns 0, or 2 (reported). */
static int parse_option(struct load *l, struct args *g, const char *opt, const char *v)
{
    int bad = 0;
    if (strcmp(opt, "--trace") == 0)
        g->trace_path = v;
    else if (strcmp(opt, "--time-column") == 0)
        g->topt.time_column = v;
    else if (strcmp(opt, "--value-column") == 0)
        g->topt.value_column = v;
    else if (strcmp(opt, "--time-format") == 0)
        bad = trace_parse_time_format(v, &g->topt.time_format) != 0;
    else if (strcmp(opt, "--step") == 0) {
        char err[256];
        if (trace_parse_step(v, &g->topt.step_ms, err, sizeof(err)) != 0) {
            fprintf(stderr, "aether-load: --step: %s\n", err);
            return 2;
        }
    } else if (strcmp(opt, "--per") == 0) {
        bad = strcmp(v, "minute") != 0 && strcmp(v, "second") != 0;
        l->per_minute = strcmp(v, "minute") == 0;
    } else if (strcmp(opt, "--scale") == 0)
        bad = parse_double(v, 0, 1e6, &l->scale);
    else if (strcmp(opt, "--time-scale") == 0)
        bad = parse_double(v, 0.001, 1e6, &l->time_scale);
    else if (strcmp(opt, "--duration") == 0)
        bad = parse_double(v, 0.1, 1e7, &l->duration_s);
    else if (strcmp(opt, "--concurrency") == 0)
        bad = parse_double(v, 1, MAX_THREADS, &g->concurrency);
    else if (strcmp(opt, "--max-rps") == 0)
        bad = parse_double(v, 0.01, 1e5, &l->max_rps);
    else if (strcmp(opt, "--from") == 0)
        g->from_text = v;
    else if (strcmp(opt, "--to") == 0)
        g->to_text = v;
    else if (strcmp(opt, "--path") == 0)
        g->path = v;
    else if (strcmp(opt, "--ports") == 0)
        g->ports = v;
    else if (strcmp(opt, "--url") == 0)
        return add_url(l, v);
    else {
        fprintf(stderr, "aether-load: unknown option %s\n", opt);
        usage(stderr);
        return 2;
    }
    if (bad) {
        fprintf(stderr, "aether-load: %s %s: invalid value\n", opt, v);
        return 2;
    }
    return 0;
}

/* The whole command line. Returns -1 to go on, else the exit status (0 after --help). */
static int parse_args(int argc, char **argv, struct load *l, struct args *g)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            l->quiet = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "aether-load: %s needs a value\n", a);
            return 2;
        }
        if (parse_option(l, g, a, v))
            return 2;
    }
    return -1;
}

/* --ports LO-HI: http://127.0.0.1:PORT<path> for each. Returns 0, or 2 (reported). */
static int add_ports(struct load *l, const char *ports, const char *path)
{
    int lo, hi;
    char tail;
    if (sscanf(ports, "%d-%d%c", &lo, &hi, &tail) != 2 || lo < 1 || hi > 65535 || lo > hi ||
        hi - lo >= MAX_URLS - l->nurls) {
        fprintf(stderr, "aether-load: --ports %s: expected LO-HI, at most %d ports\n", ports,
                MAX_URLS);
        return 2;
    }
    for (int p = lo; p <= hi; p++) {
        char url[512];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p, path);
        l->urls[l->nurls++] = strdup(url);
    }
    return 0;
}

/* The targets, the required options, and --from/--to read in the time column's format (after
 * --time-format is known). Returns 0, or 2 (reported). */
static int check_args(struct load *l, struct args *g)
{
    if (g->ports && add_ports(l, g->ports, g->path))
        return 2;
    if (!g->trace_path || !g->topt.time_column || !g->topt.value_column || l->nurls == 0) {
        fprintf(stderr, "aether-load: --trace, --time-column, --value-column and a target "
                        "(--url or --ports) are required\n");
        usage(stderr);
        return 2;
    }
    if (g->from_text && trace_parse_time(g->from_text, g->topt.time_format, &g->topt.from_ms)) {
        fprintf(stderr, "aether-load: --from %s: not a time\n", g->from_text);
        return 2;
    }
    if (g->to_text && trace_parse_time(g->to_text, g->topt.time_format, &g->topt.to_ms)) {
        fprintf(stderr, "aether-load: --to %s: not a time\n", g->to_text);
        return 2;
    }
    g->topt.has_from = g->from_text != NULL;
    g->topt.has_to = g->to_text != NULL;
    return 0;
}

/* Loads the trace into *out (and l->trace) and says what will be replayed. Returns 0, or 1
 * (reported). */
static int open_trace(struct load *l, const struct args *g, struct trace **out)
{
    struct trace *tr = NULL;
    char err[512];
    if (trace_load(g->trace_path, &g->topt, &tr, err, sizeof(err)) != 0) {
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
            (double)tr->len * (double)tr->step_ms / 1000.0 / l->time_scale, l->nurls);
    fprintf(stderr, "aether-load: counters: ok = answered 2xx/3xx; errors = answered with another"
                    " HTTP status; failed = no answer (refused by every target, reset, or no"
                    " reply within 5 s); skipped = due by the trace but never sent, because more"
                    " than 1 s of backlog built up (targets, --concurrency or --max-rps could not"
                    " keep up)\n");
    l->trace = *out = tr;
    return 0;
}

/* The progress line of second t. */
static void print_second(struct load *l, double t, unsigned long long sent_now)
{
    char when[32];
    int64_t trace_ms = l->trace->start_ms + (int64_t)(t * l->time_scale * 1000.0);
    double rate = rate_at(l, t);
    printf("t=%6.1fs trace=%s target=%7.1f/s sent=%7llu/s ok=%llu errors=%llu "
           "failed=%llu skipped=%llu\n",
           t, trace_format_time(trace_ms, when, sizeof(when)), rate < 0 ? 0 : rate, sent_now,
           (unsigned long long)atomic_load(&l->ok),
           (unsigned long long)atomic_load(&l->http_errors),
           (unsigned long long)atomic_load(&l->failures),
           (unsigned long long)atomic_load(&l->skipped));
    fflush(stdout);
}

/* nthreads senders until the trace ends, --duration passes or a signal comes; then the totals. */
static void replay(struct load *l, int nthreads)
{
    l->start_s = now_s();
    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, sender, l) != 0)
            break;
    unsigned long long last_sent = 0;
    while (!atomic_load(&l->stop) && !interrupted) {
        sleep_s(1.0);
        double t = now_s() - l->start_s;
        if (l->duration_s > 0 && t >= l->duration_s)
            break;
        unsigned long long sent = atomic_load(&l->sent);
        if (!l->quiet)
            print_second(l, t, sent - last_sent);
        last_sent = sent;
    }
    atomic_store(&l->stop, 1);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    printf("aether-load: done: sent %llu, ok %llu, HTTP errors %llu, failed %llu (no answer),"
           " skipped %llu (not sent: backlog over 1 s)\n",
           (unsigned long long)atomic_load(&l->sent), (unsigned long long)atomic_load(&l->ok),
           (unsigned long long)atomic_load(&l->http_errors),
           (unsigned long long)atomic_load(&l->failures),
           (unsigned long long)atomic_load(&l->skipped));
}

int main(int argc, char **argv)
{
    static struct load l;
    struct args g;
    memset(&g, 0, sizeof(g));
    g.path = "/work";
    g.concurrency = 8;
    l.scale = 1;
    l.time_scale = 1;
    l.max_rps = 2000;
    l.per_minute = 1;
    int rc = parse_args(argc, argv, &l, &g);
    if (rc >= 0)
        return rc;
    if (check_args(&l, &g))
        return 2;
    struct trace *tr;
    if (open_trace(&l, &g, &tr))
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&l.mu, NULL);
    replay(&l, (int)g.concurrency);
    for (int i = 0; i < l.nurls; i++)
        free(l.urls[i]);
    trace_free(tr);
    pthread_mutex_destroy(&l.mu);
    curl_global_cleanup();
    return 0;
}
