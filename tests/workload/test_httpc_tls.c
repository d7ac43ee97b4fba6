/* The HTTP client's https:// requests against a real local TLS server (`openssl s_server`) with
 * a self-signed certificate the test makes with `openssl req`: trusted through ca_file, refused
 * without it (verification is on by default) and with a certificate for another name, accepted
 * with tls_insecure; an unreadable ca_file is named. Skipped (77) when openssl is missing. */
#include "helpers.h"
#include "httpc.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256], cert[300], key[300];
static int port;
static pid_t server = -1;

/* Makes a key and a self-signed certificate for `cn` (with it as IP or DNS subjectAltName). */
static int make_cert(const char *cn, const char *san)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=%s "
             "-addext subjectAltName=%s -keyout %s -out %s >/dev/null 2>&1",
             cn, san, key, cert);
    return system(cmd);
}

/* `openssl s_server -www` on a free port: answers GET with a 200 status page. */
static void start_server(void)
{
    port = free_port();
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    server = fork();
    if (server == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", p, "-cert", cert,
               "-key", key, (char *)NULL);
        _exit(127);
    }
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    for (int i = 0; i < 100; i++) { /* until it accepts (a TCP connect is enough) */
        struct httpc_request r;
        memset(&r, 0, sizeof r);
        char u[80];
        snprintf(u, sizeof u, "http://%s/", url);
        r.url = u;
        r.max_body = 1024;
        r.headers_only = 1;
        httpc_get_all(&r, 1, "*/*", 200);
        int refused = strstr(r.error, "cannot connect") != NULL;
        httpc_request_free(&r);
        if (!refused)
            return;
        sleep_ms(50);
    }
    fail_msg("openssl s_server did not start on port %d", port);
}

static void stop_server(void)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    server = -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/aether-tls-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_server();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* GET https://<host>:port/ with the options; returns ok and the error in err. */
static int get(const char *host, const char *ca_file, int insecure, char *err, size_t len)
{
    char url[128];
    snprintf(url, sizeof url, "https://%s:%d/", host, port);
    struct httpc_request r;
    memset(&r, 0, sizeof r);
    r.url = url;
    r.max_body = 1 << 20;
    r.ca_file = ca_file;
    r.tls_insecure = insecure;
    httpc_get_all(&r, 1, "text/html", 3000);
    int ok = r.ok && r.resp.status == 200 && r.resp.body_len > 0;
    snprintf(err, len, "%s", r.error);
    httpc_request_free(&r);
    return ok;
}

static void verified_against_ca_file(void **state)
{
    (void)state;
    assert_int_equal(make_cert("127.0.0.1", "IP:127.0.0.1"), 0);
    start_server();
    char err[256];
    assert_true(get("127.0.0.1", cert, 0, err, sizeof err));
    /* verification is on by default: the system's CAs do not know a self-signed certificate */
    assert_false(get("127.0.0.1", NULL, 0, err, sizeof err));
    print_message("system CAs: %s\n", err);
    if (!strstr(err, "certificate of 127.0.0.1 not trusted"))
        fail_msg("unexpected reason: %s", err);
    assert_true(get("127.0.0.1", NULL, 1, err, sizeof err)); /* tls_verify = false */
    char missing[320];
    snprintf(missing, sizeof missing, "%s/none.pem", dir);
    assert_false(get("127.0.0.1", missing, 0, err, sizeof err));
    if (!strstr(err, "ca_file \"") || !strstr(err, "no certificate could be read"))
        fail_msg("unexpected reason: %s", err);
}

static void wrong_name_refused(void **state)
{
    (void)state;
    assert_int_equal(make_cert("other.example", "DNS:other.example"), 0);
    start_server();
    char err[256];
    assert_false(get("127.0.0.1", cert, 0, err, sizeof err));
    print_message("other name: %s\n", err);
    if (!strstr(err, "not trusted") || !strstr(err, "does not match"))
        fail_msg("unexpected reason: %s", err);
}

int main(void)
{
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("SKIP: openssl is not installed (needed to make the test's certificate)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verified_against_ca_file, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_name_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
