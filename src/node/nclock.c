/* The node's clock (see nclock.h). */
#include "nclock.h"

void nclock_init(struct nclock *c, int64_t start_ms, double mono_s)
{
    *c = (struct nclock){.base_ms = start_ms, .base_mono_s = mono_s, .suspect_since_ms = -1};
}

int64_t nclock_peek(const struct nclock *c, double mono_s)
{
    return c->base_ms + (int64_t)((mono_s - c->base_mono_s) * 1000.0);
}

/* The wall clock agrees with node time: ends a watched excursion or a backward step. */
static enum nclock_event in_line(struct nclock *c)
{
    enum nclock_event e = NCLOCK_NONE;
    if (c->suspect_since_ms >= 0) {
        c->ignored++;
        e = NCLOCK_IGNORED;
    } else if (c->behind) {
        e = NCLOCK_REJOINED;
    }
    c->suspect_since_ms = -1;
    c->behind = 0;
    return e;
}

/* The wall clock is ahead by more than the tolerance: watch it, adopt it once it has lasted. */
static enum nclock_event ahead(struct nclock *c, int64_t wall_ms, double mono_s, int64_t node)
{
    c->behind = 0;
    if (c->suspect_since_ms < 0) {
        c->suspect_since_ms = node;
        return NCLOCK_SUSPECT;
    }
    if (node - c->suspect_since_ms < NCLOCK_CONFIRM_MS)
        return NCLOCK_NONE;
    c->base_ms = wall_ms;
    c->base_mono_s = mono_s;
    c->suspect_since_ms = -1;
    c->forward++;
    return NCLOCK_FORWARD;
}

enum nclock_event nclock_read(struct nclock *c, int64_t wall_ms, double mono_s, int64_t *now_ms)
{
    int64_t node = nclock_peek(c, mono_s);
    c->offset_ms = wall_ms - node;
    enum nclock_event e;
    if (c->offset_ms > NCLOCK_TOLERANCE_MS) {
        e = ahead(c, wall_ms, mono_s, node);
    } else if (c->offset_ms < -NCLOCK_TOLERANCE_MS) {
        e = NCLOCK_NONE;
        if (c->suspect_since_ms >= 0) { /* back from an excursion, then below: both count */
            c->ignored++;
            c->suspect_since_ms = -1;
        }
        if (!c->behind) {
            c->behind = 1;
            c->backward++;
            e = NCLOCK_BACKWARD;
        }
    } else {
        e = in_line(c);
    }
    *now_ms = nclock_peek(c, mono_s);
    if (e == NCLOCK_FORWARD)
        c->offset_ms = 0;
    return e;
}

int64_t nclock_offset_ms(const struct nclock *c)
{
    return c->offset_ms;
}
