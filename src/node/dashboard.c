/* The dashboard's routes (see dashboard.h): embedded files copied into each answer. */
#include "dashboard.h"

#include <stdlib.h>
#include <string.h>

const struct dash_asset *dash_find(const char *name)
{
    for (int i = 0; i < dash_asset_count; i++)
        if (strcmp(dash_assets[i].name, name) == 0)
            return &dash_assets[i];
    return NULL;
}

static void reply_asset(struct http_response *resp, const struct dash_asset *a)
{
    char *body = malloc(a->len ? a->len : 1);
    if (!body) {
        http_error(resp, 500, "out of memory serving %s", a->name);
        return;
    }
    memcpy(body, a->data, a->len);
    http_reply(resp, 200, a->content_type, body, a->len);
}

void dash_page(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    const struct dash_asset *page = dash_find("index.html");
    if (dash_missing[0] || !page) {
        http_error(resp, 503, "dashboard not available in this build: %s (the API works)",
                   dash_missing[0] ? dash_missing : "index.html was not embedded");
        return;
    }
    reply_asset(resp, page);
}

void dash_file(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    const char *name = http_path(req) + strlen("/dashboard/");
    const struct dash_asset *a = dash_find(name);
    if (!a) {
        http_error(resp, 404, "no dashboard file \"%.64s\"%s%s", name, dash_missing[0] ? ": " : "",
                   dash_missing);
        return;
    }
    reply_asset(resp, a);
}
