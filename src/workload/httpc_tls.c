/* TLS sessions of the HTTP client on GnuTLS (see httpc_tls.h). */
#include "httpc_tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_CACHE_MAX 8 /* distinct CA files (+ the system's) trusted in one process */

struct httpc_tls {
    gnutls_session_t session;
    char host[256];
};

/* Loaded trust lists, one per CA file ("" = the system's), never freed: few, and shared by every
 * session of every thread for the life of the process. */
static struct {
    char ca_file[1024];
    gnutls_certificate_credentials_t cred;
} cache[TLS_CACHE_MAX];
static int cache_used;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* Loads the trust list of ca_file (or the system's) into a new credential. */
static gnutls_certificate_credentials_t load_trust(const char *ca_file, char *err, size_t errlen)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0) {
        snprintf(err, errlen, "out of memory for TLS credentials");
        return NULL;
    }
    int n = ca_file[0] ? gnutls_certificate_set_x509_trust_file(cred, ca_file, GNUTLS_X509_FMT_PEM)
                       : gnutls_certificate_set_x509_system_trust(cred);
    if (n <= 0) {
        if (ca_file[0])
            snprintf(err, errlen, "ca_file \"%.200s\": no certificate could be read (%s)", ca_file,
                     n < 0 ? gnutls_strerror(n) : "the file holds none");
        else
            snprintf(err, errlen, "the system's certificate authorities could not be loaded (%s)",
                     n < 0 ? gnutls_strerror(n) : "none found");
        gnutls_certificate_free_credentials(cred);
        return NULL;
    }
    return cred;
}

/* The shared credential of ca_file, loaded on first use; NULL with the reason. */
static gnutls_certificate_credentials_t trust_for(const char *ca_file, char *err, size_t errlen)
{
    const char *key = ca_file ? ca_file : "";
    gnutls_certificate_credentials_t cred = NULL;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < cache_used && !cred; i++)
        if (strcmp(cache[i].ca_file, key) == 0)
            cred = cache[i].cred;
    if (!cred && strlen(key) >= sizeof cache[0].ca_file)
        snprintf(err, errlen, "ca_file path too long");
    else if (!cred && cache_used == TLS_CACHE_MAX)
        snprintf(err, errlen, "more than %d CA files in use", TLS_CACHE_MAX);
    else if (!cred && (cred = load_trust(key, err, errlen)) != NULL) {
        snprintf(cache[cache_used].ca_file, sizeof cache[0].ca_file, "%s", key);
        cache[cache_used++].cred = cred;
    }
    pthread_mutex_unlock(&cache_mu);
    return cred;
}

int httpc_tls_open(int fd, const char *host, const char *ca_file, int insecure,
                   struct httpc_tls **out, char *err, size_t errlen)
{
    *out = NULL;
    gnutls_certificate_credentials_t cred = trust_for(ca_file, err, errlen);
    if (!cred)
        return -1;
    struct httpc_tls *t = calloc(1, sizeof *t);
    if (!t || gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
        free(t);
        snprintf(err, errlen, "out of memory for a TLS session");
        return -1;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    int rc = gnutls_set_default_priority(t->session);
    if (rc >= 0)
        rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, cred);
    if (rc >= 0)
        rc = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, host, strlen(host));
    if (rc < 0) {
        snprintf(err, errlen, "TLS setup: %s", gnutls_strerror(rc));
        httpc_tls_close(t);
        return -1;
    }
    if (!insecure)
        gnutls_session_set_verify_cert(t->session, host, 0);
    gnutls_transport_set_int(t->session, fd);
    gnutls_handshake_set_timeout(t->session, 0); /* the client's deadline applies */
    *out = t;
    return 0;
}

int httpc_tls_handshake(struct httpc_tls *t, char *err, size_t errlen)
{
    int rc = gnutls_handshake(t->session);
    if (rc == GNUTLS_E_SUCCESS)
        return 1;
    if (!gnutls_error_is_fatal(rc))
        return 0;
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        gnutls_datum_t why = {NULL, 0};
        unsigned status = gnutls_session_get_verify_cert_status(t->session);
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
        snprintf(err, errlen, "certificate of %s not trusted: %s", t->host,
                 why.data ? (const char *)why.data : "verification failed");
        gnutls_free(why.data);
    } else {
        snprintf(err, errlen, "TLS handshake with %s failed: %s", t->host, gnutls_strerror(rc));
    }
    return -1;
}

int httpc_tls_wants_write(const struct httpc_tls *t)
{
    return gnutls_record_get_direction(t->session) == 1;
}

ssize_t httpc_tls_send(struct httpc_tls *t, const char *buf, size_t len, char *err, size_t errlen)
{
    ssize_t n = gnutls_record_send(t->session, buf, len);
    if (n >= 0)
        return n;
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        return 0;
    snprintf(err, errlen, "TLS send failed: %s", gnutls_strerror((int)n));
    return -1;
}

ssize_t httpc_tls_recv(struct httpc_tls *t, char *buf, size_t len, char *err, size_t errlen)
{
    ssize_t n = gnutls_record_recv(t->session, buf, len);
    if (n >= 0)
        return n;
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        return -2;
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
        return 0; /* a close without close_notify: the response parser decides if that is whole */
    snprintf(err, errlen, "TLS receive failed: %s", gnutls_strerror((int)n));
    return -1;
}

void httpc_tls_close(struct httpc_tls *t)
{
    if (!t)
        return;
    gnutls_deinit(t->session);
    free(t);
}
