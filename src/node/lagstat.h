/* Control-loop lag statistics: the last LAG_WINDOW lags (how late each tick started after its
 * deadline), for the gauges and quantiles on /metrics and the benchmark. Not thread-safe: the
 * node guards it with its state lock. */
#ifndef AETHER_NODE_LAGSTAT_H
#define AETHER_NODE_LAGSTAT_H

#define LAG_WINDOW 600

struct lagstat {
    double ring[LAG_WINDOW]; /* seconds */
    int next;
    int count;       /* valid entries, <= LAG_WINDOW */
    long total;      /* ticks recorded since start */
    double last;     /* seconds */
    double sum;      /* seconds, since start */
    double max_seen; /* seconds, since start */
};

void lagstat_add(struct lagstat *l, double seconds);
/* Quantile q (0..1) over the window (nearest rank); 0 when empty. */
double lagstat_quantile(const struct lagstat *l, double q);

#endif
