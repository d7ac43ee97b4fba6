/* Request deadlines for the HTTP server: each watched connection must deliver a whole request
 * (headers and body) within a time limit, counted from when it was accepted or from the end of
 * its previous answer. A connection past its deadline is shut down (shutdown(2); the server
 * closes it when it sees the end of the stream), so clients that trickle bytes (slowloris) or
 * sit idle give their slot back. While an answer is being sent the clock is paused.
 * One thread checks the watched connections a few times per limit. Private to src/http. */
#ifndef AETHER_HTTP_DEADLINE_H
#define AETHER_HTTP_DEADLINE_H

struct deadline_watch;
struct deadline_entry;

/* Starts the checking thread. 0, or a negative AE_E* code. */
int deadline_open(int timeout_ms, struct deadline_watch **out);
/* Stops the thread and frees every entry. NULL is fine. */
void deadline_close(struct deadline_watch *w);

/* Watches socket fd (peer: text for the log, copied); its clock starts now. NULL when out of
 * memory (the connection is then not watched). */
struct deadline_entry *deadline_add(struct deadline_watch *w, int fd, const char *peer);
/* Forgets e (before its socket is closed). NULL is fine. */
void deadline_remove(struct deadline_watch *w, struct deadline_entry *e);
/* The request is complete and being answered: the clock stops. */
void deadline_pause(struct deadline_watch *w, struct deadline_entry *e);
/* The answer is done: the next request's clock starts now. */
void deadline_restart(struct deadline_watch *w, struct deadline_entry *e);

#endif
