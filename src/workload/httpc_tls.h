/* TLS for the HTTP client's https:// requests (private to src/workload), on GnuTLS: the library
 * the node's HTTP server (libmicrohttpd) already links, so a node gains no library for it, and a
 * setup without https:// URLs never creates a TLS session or loads a certificate.
 *
 * A session runs on the request's non-blocking socket inside the client's poll loop: the
 * handshake, then records in and out. The peer's certificate chain is verified against the
 * system's certificate authorities (or the request's ca_file) and its name against the URL's
 * host (SNI sent), unless the request says tls_insecure. The trust lists are loaded once per CA
 * file and shared by every later session (a small process-wide cache under a mutex). */
#ifndef AETHER_WORKLOAD_HTTPC_TLS_H
#define AETHER_WORKLOAD_HTTPC_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct httpc_tls;

/* A client session on connected socket fd for host (SNI and the name check), trusting ca_file
 * (NULL = the system's CAs); insecure = no verification. 0 and *out, or -1 with the reason in err
 * (e.g. "ca_file \"x.pem\": no certificate could be read"). */
int httpc_tls_open(int fd, const char *host, const char *ca_file, int insecure,
                   struct httpc_tls **out, char *err, size_t errlen);

/* Advances the handshake: 1 done, 0 not yet (call again when the socket is ready as
 * httpc_tls_wants_write says), -1 failed with the reason in err (for a refused certificate:
 * "certificate of 127.0.0.1 not trusted: The certificate issuer is unknown. ..."). */
int httpc_tls_handshake(struct httpc_tls *t, char *err, size_t errlen);

/* 1 when the session waits for the socket to be writable, 0 for readable. */
int httpc_tls_wants_write(const struct httpc_tls *t);

/* Sends up to len bytes: the count sent, 0 when the socket is not ready, -1 with the reason. */
ssize_t httpc_tls_send(struct httpc_tls *t, const char *buf, size_t len, char *err, size_t errlen);

/* Receives up to len bytes: the count, 0 at the end of the stream, -2 when nothing is there
 * yet, -1 with the reason. */
ssize_t httpc_tls_recv(struct httpc_tls *t, char *buf, size_t len, char *err, size_t errlen);

/* Ends the session (not the socket); NULL allowed. */
void httpc_tls_close(struct httpc_tls *t);

#endif
