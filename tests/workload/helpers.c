/* Test helpers (see helpers.h). */
#include "helpers.h"

#include "httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct testsrv {
    int fd, port, stop;
    int active; /* connections being answered; guarded by mu */
    pthread_mutex_t mu;
    pthread_t thread;
    double seq[64];
    int nseq, next;
};

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void answer(struct testsrv *s, int fd, const char *path)
{
    char head[256], body[512];
    if (strcmp(path, "/garbage") == 0) {
        snprintf(body, sizeof(body), "<html>not metrics</html>\n");
    } else if (strcmp(path, "/slow") == 0) {
        for (int i = 0; i < 30 && !s->stop; i++)
            sleep_ms(100);
        snprintf(body, sizeof(body), "http_requests_total 1\n");
    } else if (strcmp(path, "/huge") == 0) {
        size_t total = 4u << 20;
        snprintf(head, sizeof(head),
                 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 total);
        send_all(fd, head, strlen(head));
        char line[64];
        memset(line, '#', sizeof(line));
        line[0] = '#';
        line[1] = ' ';
        line[63] = '\n';
        for (size_t sent = 0; sent < total && !s->stop; sent += sizeof(line))
            send_all(fd, line, sizeof(line));
        return;
    } else if (strcmp(path, "/counter") == 0) {
        double v = s->seq[s->next < s->nseq ? s->next : s->nseq - 1];
        if (s->next < s->nseq)
            s->next++;
        snprintf(body, sizeof(body),
                 "# TYPE http_requests_total counter\nhttp_requests_total %g\n"
                 "# TYPE http_request_errors_total counter\nhttp_request_errors_total 0\n",
                 v);
    } else {
        snprintf(head, sizeof(head), "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        send_all(fd, head, strlen(head));
        return;
    }
    snprintf(head, sizeof(head),
             "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

struct conn {
    struct testsrv *s;
    int fd;
};

/* One connection per thread, so a slow answer does not hold up the others. */
static void *serve_conn(void *arg)
{
    struct conn *k = arg;
    char req[2048];
    ssize_t n = recv(k->fd, req, sizeof(req) - 1, 0);
    if (n > 0) {
        req[n] = '\0';
        char path[256] = "";
        sscanf(req, "GET %255s", path);
        pthread_mutex_lock(&k->s->mu); /* the /counter sequence is shared */
        int slow = strcmp(path, "/slow") == 0 || strcmp(path, "/huge") == 0;
        if (slow)
            pthread_mutex_unlock(&k->s->mu);
        answer(k->s, k->fd, path);
        if (!slow)
            pthread_mutex_unlock(&k->s->mu);
    }
    close(k->fd);
    pthread_mutex_lock(&k->s->mu);
    k->s->active--;
    pthread_mutex_unlock(&k->s->mu);
    free(k);
    return NULL;
}

static void *serve(void *arg)
{
    struct testsrv *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct conn *k = malloc(sizeof(*k));
        k->s = s;
        k->fd = c;
        pthread_mutex_lock(&s->mu);
        s->active++;
        pthread_mutex_unlock(&s->mu);
        pthread_t t;
        if (pthread_create(&t, NULL, serve_conn, k) == 0)
            pthread_detach(t);
        else
            serve_conn(k);
    }
    return NULL;
}

struct testsrv *testsrv_start(const double *sequence, int n)
{
    struct testsrv *s = calloc(1, sizeof(*s));
    s->nseq = n > 64 ? 64 : n;
    for (int i = 0; i < s->nseq; i++)
        s->seq[i] = sequence[i];
    if (s->nseq == 0)
        s->seq[s->nseq++] = 0;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s->fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    listen(s->fd, 16);
    pthread_create(&s->thread, NULL, serve, s);
    return s;
}

int testsrv_port(const struct testsrv *s)
{
    return s->port;
}

void testsrv_stop(struct testsrv *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    for (;;) { /* let answering threads finish: they use s */
        pthread_mutex_lock(&s->mu);
        int active = s->active;
        pthread_mutex_unlock(&s->mu);
        if (!active)
            break;
        sleep_ms(20);
    }
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Binds 127.0.0.1:port (0 = any) and returns the port bound, or -1; the socket is closed. */
static int try_bind(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    int got = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        socklen_t len = sizeof(a);
        getsockname(fd, (struct sockaddr *)&a, &len);
        got = ntohs(a.sin_port);
    }
    close(fd);
    return got;
}

int free_port(void)
{
    return free_port_block(1);
}

/* The first port of the kernel's ephemeral range (32768 when it cannot be read): ports from
 * there on are handed to other processes' outgoing connections, which could take a port between
 * the moment it is found free and the moment a test's server binds it. */
static int ephemeral_low(void)
{
    int lo = 32768, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    return lo;
}

int free_port_block(int n)
{
    int top = ephemeral_low() - n; /* the block ends below the ephemeral range */
    if (top <= 10000)
        top = 65535 - n;
    static unsigned seed; /* advances across calls: two picks in a row differ */
    if (!seed)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (int attempt = 0; attempt < 500; attempt++) {
        int base = 10000 + (int)(rand_r(&seed) % (unsigned)(top - 10000));
        int ok = 1;
        for (int k = 0; k < n && ok; k++)
            ok = try_bind(base + k) == base + k;
        if (ok)
            return base;
    }
    return -1;
}

int process_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'Z';
}

int http_get(const char *url)
{
    struct httpc_request req;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.max_body = 1u << 20;
    httpc_get_all(&req, 1, "*/*", 2000);
    /* Any status that arrived counts, as the HTTP layer answered. */
    int code = req.ok || httpc_response_headers_done(&req.resp) ? req.resp.status : -1;
    httpc_request_free(&req);
    return code;
}
