/* The dashboard the node serves: one page (dashboard/index.html) with its script, styles and the
 * charting library, all embedded at build time (dashboard/embed.cmake), so it works with no
 * network. The page reads the node's own API (status, blueprints, decisions, training data,
 * forecasts) and refreshes itself.
 *
 *   GET /, GET /dashboard      the page (503 naming what is missing when the build had no
 *                              charting library)
 *   GET /dashboard/{asset}     an embedded file (404 for any other name)
 *
 * Same bind and token rules as the API (GET needs no token). */
#ifndef AETHER_NODE_DASHBOARD_H
#define AETHER_NODE_DASHBOARD_H

#include "http.h"

#include <stddef.h>

/* One embedded file; static storage (generated dashboard_assets.c). */
struct dash_asset {
    const char *name;         /* as served under /dashboard/ */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
};

extern const struct dash_asset dash_assets[];
extern const int dash_asset_count;
/* What the build could not embed (the charting library), "" when everything is there. */
extern const char dash_missing[];

/* The asset called name, or NULL. */
const struct dash_asset *dash_find(const char *name);

/* Route handlers (context: the struct node *, unused). */
void dash_page(void *ctx, const struct http_request *req, struct http_response *resp);
void dash_file(void *ctx, const struct http_request *req, struct http_response *resp);

#endif
