/* Control-loop lag statistics: the last LAG_WINDOW lags (how late each tick started after its
 * deadline), for the gauges and quantiles on /metrics and the benchmark; how long each tick ran
 * (a histogram) and how many ticks were skipped because the loop fell more than an interval
 * behind. Not thread-safe: the node guards it with its state lock. */
#ifndef AETHER_LAGSTAT_H
#define AETHER_LAGSTAT_H

#define LAG_WINDOW 600
#define LAG_DURATION_BUCKETS 11

/* Upper bounds (seconds) of the tick-duration histogram's buckets, ascending; +Inf follows. */
extern const double lag_duration_bounds[LAG_DURATION_BUCKETS];

struct lagstat {
    double ring[LAG_WINDOW]; /* seconds */
    int next;
    int count;                                      /* valid entries, <= LAG_WINDOW */
    long total;                                     /* ticks recorded since start */
    double last;                                    /* seconds */
    double sum;                                     /* seconds, since start */
    double max_seen;                                /* seconds, since start */
    long missed;                                    /* ticks skipped since start */
    long duration_counts[LAG_DURATION_BUCKETS + 1]; /* per bucket (not cumulative), +Inf last */
    double duration_sum;                            /* seconds */
    long duration_total;
};

void lagstat_add(struct lagstat *l, double seconds);
/* Records how long one tick ran. */
void lagstat_add_duration(struct lagstat *l, double seconds);
/* Ticks skipped when the loop, after a tick, is behind_s past its next deadline (ticks due every
 * interval_s): every whole interval behind is one missed tick; 0 when not behind. */
long lagstat_missed_ticks(double behind_s, double interval_s);
/* Quantile q (0..1) over the window (nearest rank); 0 when empty. */
double lagstat_quantile(const struct lagstat *l, double q);

#endif
