/* libcurl's global initialisation, done once for the whole module (private). */
#ifndef AETHER_WORKLOAD_CURL_H
#define AETHER_WORKLOAD_CURL_H

/* Calls curl_global_init exactly once, whichever thread or component comes first. */
void workload_curl_init(void);

#endif
