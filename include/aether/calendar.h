/* Proleptic Gregorian calendar arithmetic in UTC, without the C library's time zone state. */
#ifndef AETHER_CALENDAR_H
#define AETHER_CALENDAR_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31); negative before 1970. */
int64_t ae_days_from_civil(int64_t y, int m, int d);

/* The date of day z since 1970-01-01 (the inverse of ae_days_from_civil). */
void ae_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif
