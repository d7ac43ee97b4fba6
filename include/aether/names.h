/* The one lookup behind the name function of every X-macro enum in the core (tiers, actions,
 * forecast types and reasons, TTM states): each builds its static table of texts from its map and
 * asks here. */
#ifndef AETHER_NAMES_H
#define AETHER_NAMES_H

/* names[v] (static storage), or fallback when v is outside 0..count-1. */
const char *ae_name_in(const char *const *names, int count, int v, const char *fallback);

#endif
