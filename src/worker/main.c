/* aether-worker: the demo service that aether-node scales.
 *
 *   aether-worker --port N [--bind ADDR] [--work-us N] [--error-rate F] [--seed N]
 *
 * A tiny HTTP service (libmicrohttpd, a thread per connection). Every request other than
 * GET /metrics burns about work-us microseconds of real CPU time (measured on the thread's CPU
 * clock, not slept) and fails with 500 at the given rate. The work of all requests runs under
 * one lock, so an instance is worth at most one core and a saturated one queues requests the
 * way a single-core service does, while GET /metrics never waits behind that queue (a scrape
 * of a busy instance still answers).
 * GET /metrics exports request and error counters, a latency histogram and the process' CPU
 * and resident memory, as OpenMetrics 1.0 when the client asks for it in Accept, else as the
 * Prometheus text format 0.0.4. SIGTERM or SIGINT stop it cleanly (exit status 0). */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* Latency buckets in seconds: CPU work of 100 us to queues of several seconds. */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUNDS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct worker {
    pthread_mutex_t cpu; /* one request's work at a time: one core per instance */
    long work_us;
    double error_rate;
    uint64_t rng;
    double start_time;
    atomic_ullong requests, errors;
    atomic_ullong buckets[NBOUNDS + 1]; /* non-cumulative; the last is +Inf */
    atomic_ullong latency_sum_ns;
};

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Real CPU work: mixes a value until this thread has used us microseconds of CPU. */
static void burn_cpu(long us)
{
    double until = now_s(CLOCK_THREAD_CPUTIME_ID) + (double)us / 1e6;
    volatile uint64_t sink = 0x9e3779b97f4a7c15ULL;
    uint64_t x = sink;
    do {
        for (int i = 0; i < 2000; i++)
            x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL + (uint64_t)i;
        sink = x;
    } while (now_s(CLOCK_THREAD_CPUTIME_ID) < until);
}

/* xorshift64*: drawn under the cpu lock. */
static double next_uniform(struct worker *w)
{
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return (double)((w->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* CPU seconds and resident bytes of this process, from getrusage and /proc/self/statm. */
static void process_usage(double *cpu_s, double *rss_bytes)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    *rss_bytes = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size, resident;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
            *rss_bytes = (double)resident * (double)sysconf(_SC_PAGESIZE);
        fclose(f);
    }
}

/* Renders the metrics page into buf; om selects OpenMetrics (counter families named without
 * _total, "# EOF" at the end). Returns the length. */
static size_t render_metrics(struct worker *w, int om, char *buf, size_t cap)
{
    size_t n = 0;
#define OUT(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__);                            \
        if (k_ > 0)                                                                                \
            n += (size_t)k_;                                                                       \
    } while (0)
    const char *req_family = om ? "http_requests" : "http_requests_total";
    const char *err_family = om ? "http_request_errors" : "http_request_errors_total";
    const char *cpu_family = om ? "process_cpu_seconds" : "process_cpu_seconds_total";
    OUT("# HELP %s Requests completed (any status).\n# TYPE %s counter\n", req_family, req_family);
    OUT("http_requests_total %llu\n", (unsigned long long)atomic_load(&w->requests));
    OUT("# HELP %s Requests answered with status 500.\n# TYPE %s counter\n", err_family,
        err_family);
    OUT("http_request_errors_total %llu\n", (unsigned long long)atomic_load(&w->errors));
    OUT("# HELP http_request_duration_seconds Request latency.\n"
        "# TYPE http_request_duration_seconds histogram\n");
    if (om)
        OUT("# UNIT http_request_duration_seconds seconds\n");
    unsigned long long cumulative = 0;
    for (size_t i = 0; i <= NBOUNDS; i++) {
        cumulative += atomic_load(&w->buckets[i]);
        if (i < NBOUNDS)
            OUT("http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_bounds[i],
                cumulative);
        else
            OUT("http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
    }
    OUT("http_request_duration_seconds_sum %.9f\n", (double)atomic_load(&w->latency_sum_ns) / 1e9);
    OUT("http_request_duration_seconds_count %llu\n", cumulative);
    double cpu, rss;
    process_usage(&cpu, &rss);
    OUT("# HELP %s CPU time used by the process.\n# TYPE %s counter\n", cpu_family, cpu_family);
    OUT("process_cpu_seconds_total %.6f\n", cpu);
    OUT("# HELP process_resident_memory_bytes Resident memory.\n"
        "# TYPE process_resident_memory_bytes gauge\n");
    OUT("process_resident_memory_bytes %.0f\n", rss);
    OUT("# HELP process_start_time_seconds Start time since the epoch.\n"
        "# TYPE process_start_time_seconds gauge\n");
    OUT("process_start_time_seconds %.3f\n", w->start_time);
    if (om)
        OUT("# EOF\n");
#undef OUT
    return n;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body,
                                 size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct worker *w = cls;
    if (*con_cls == NULL) { /* first call: headers only; remember when the request arrived */
        static int arrived_marker;
        *con_cls = &arrived_marker;
        return MHD_YES;
    }
    if (*upload_size) { /* request bodies are ignored */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        int om = accept && strstr(accept, "application/openmetrics-text");
        char buf[8192];
        size_t n = render_metrics(w, om, buf, sizeof(buf));
        return send_text(c, MHD_HTTP_OK, buf, n < sizeof(buf) ? n : sizeof(buf) - 1,
                         om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                            : "text/plain; version=0.0.4; charset=utf-8");
    }
    double t0 = now_s(CLOCK_MONOTONIC);
    pthread_mutex_lock(&w->cpu);
    burn_cpu(w->work_us);
    int failed = w->error_rate > 0 && next_uniform(w) < w->error_rate;
    pthread_mutex_unlock(&w->cpu);
    enum MHD_Result ret = failed ? send_text(c, 500, "error\n", 6, "text/plain")
                                 : send_text(c, MHD_HTTP_OK, "ok\n", 3, "text/plain");
    double dt = now_s(CLOCK_MONOTONIC) - t0;
    size_t b = 0;
    while (b < NBOUNDS && dt > bucket_bounds[b])
        b++;
    atomic_fetch_add(&w->buckets[b], 1);
    atomic_fetch_add(&w->latency_sum_ns, (unsigned long long)(dt * 1e9));
    atomic_fetch_add(&w->requests, 1);
    if (failed)
        atomic_fetch_add(&w->errors, 1);
    return ret;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: aether-worker --port N [--bind ADDR] [--work-us N] [--error-rate F] "
               "[--seed N]\n"
               "  --port N        TCP port to listen on (required)\n"
               "  --bind ADDR     IPv4 address (default 127.0.0.1)\n"
               "  --work-us N     CPU microseconds burnt per request (default 1000)\n"
               "  --error-rate F  share of requests answered with 500, 0..1 (default 0)\n"
               "  --seed N        seed of the error draw (default: the pid)\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The command line into w, port, seed and bind. -1 to go on, else the exit code (usage and
 * errors printed). */
static int parse_args(int argc, char **argv, struct worker *w, long *port, long *seed,
                      const char **bind)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "aether-worker: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        char *end;
        if (strcmp(a, "--port") == 0) {
            if (parse_long(v, 1, 65535, port) != 0) {
                fprintf(stderr, "aether-worker: --port %s is not a port 1..65535\n", v);
                return 2;
            }
        } else if (strcmp(a, "--work-us") == 0) {
            if (parse_long(v, 0, 10000000, &w->work_us) != 0) {
                fprintf(stderr, "aether-worker: --work-us %s is not 0..10000000\n", v);
                return 2;
            }
        } else if (strcmp(a, "--error-rate") == 0) {
            w->error_rate = strtod(v, &end);
            if (end == v || *end || !(w->error_rate >= 0 && w->error_rate <= 1)) {
                fprintf(stderr, "aether-worker: --error-rate %s is not 0..1\n", v);
                return 2;
            }
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_long(v, 0, 0x7fffffffL, seed) != 0) {
                fprintf(stderr, "aether-worker: --seed %s is not a number\n", v);
                return 2;
            }
        } else if (strcmp(a, "--bind") == 0) {
            *bind = v;
        } else {
            fprintf(stderr, "aether-worker: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (*port < 0) {
        fprintf(stderr, "aether-worker: --port is required\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static struct worker w;
    long port = -1, seed = (long)getpid();
    const char *bind = "127.0.0.1";
    w.work_us = 1000;
    int rc = parse_args(argc, argv, &w, &port, &seed, &bind);
    if (rc >= 0)
        return rc;
    w.rng = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + 1;
    pthread_mutex_init(&w.cpu, NULL);
    w.start_time = now_s(CLOCK_REALTIME);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
        fprintf(stderr, "aether-worker: --bind %s is not an IPv4 address\n", bind);
        return 2;
    }

    /* Block the stop signals before MHD starts its thread, so only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, &w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "aether-worker: cannot listen on %s:%ld\n", bind, port);
        return 1;
    }
    fprintf(stderr, "aether-worker: listening on %s:%ld (work %ld us, error rate %g)\n", bind, port,
            w.work_us, w.error_rate);
    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    fprintf(stderr, "aether-worker: stopped by signal %d after %llu requests\n", sig,
            (unsigned long long)atomic_load(&w.requests));
    return 0;
}
