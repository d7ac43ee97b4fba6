/* Loading aether.toml: TOML tree -> struct ae_config, driven by the key table (cfg_schema.c).
 *
 * Every section and key of the file is looked up in the table; unknown keys, wrong types and
 * values outside the row's range stop loading with "file:line: key ...". Once all keys are in,
 * the core's cfg_validate() checks the cross-field rules; its message names a key, and we add
 * the file and line where that key (or its section) was written. Where each key came from is
 * kept in a cfg_sources list for the effective-config printout. */
#include "cfg_schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/cfgload.h"
#include "aether/error.h"
#include "aether/hostmem.h"
#include "aether/toml.h"

struct cfg_source {
    char *key; /* "ttm.mode", "blueprint[0].port_base", "blueprint.web.port_base", "node" */
    int line;
};

struct cfg_sources {
    char *file; /* the file's name as given to the loader */
    struct cfg_source *items;
    size_t count, cap;
};

struct loader {
    const char *file;
    struct ae_config *cfg;
    struct cfg_sources *src;
    char *err;
    size_t errlen;
    int status;
};

/* Records the first error as "file:line: message" (just "file: " when line is 0). */
static int lfail(struct loader *L, int code, int line, const char *fmt, ...)
{
    if (L->status)
        return L->status;
    L->status = code;
    if (!L->err || !L->errlen)
        return code;
    size_t n = line > 0 ? ae_errf(L->err, L->errlen, 0, "%s:%d: ", L->file, line)
                        : ae_errf(L->err, L->errlen, 0, "%s: ", L->file);
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(L->err, L->errlen, n, fmt, ap);
    va_end(ap);
    return code;
}

/* Keys are built with ae_errf: a key too long for its buffer is cut (it only appears in
 * messages). */
static int note_source(struct loader *L, const char *key, int line)
{
    struct cfg_sources *s = L->src;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct cfg_source *grown = realloc(s->items, cap * sizeof(*grown));
        if (!grown)
            return lfail(L, AE_ENOMEM, 0, "out of memory");
        s->items = grown;
        s->cap = cap;
    }
    size_t n = strlen(key) + 1;
    char *copy = malloc(n);
    if (!copy)
        return lfail(L, AE_ENOMEM, 0, "out of memory");
    memcpy(copy, key, n);
    s->items[s->count++] = (struct cfg_source){copy, line};
    return 0;
}

void cfg_sources_free(cfg_sources *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i].key);
    free(s->items);
    free(s->file);
    free(s);
}

const char *cfg_sources_file(const cfg_sources *s)
{
    return s && s->file ? s->file : "";
}

int cfg_sources_line(const cfg_sources *s, const char *key)
{
    if (!s)
        return 0;
    for (size_t i = s->count; i-- > 0;) /* the latest wins (a duplicate name points at its 2nd) */
        if (strcmp(s->items[i].key, key) == 0)
            return s->items[i].line;
    return 0;
}

/* A value as it would be quoted in a message ("\"60\"", "1.5", "an array"). */
static void describe_value(const toml_value *v, char *buf, size_t size)
{
    switch (toml_type_of(v)) {
    case TOML_STRING: {
        char quoted[96];
        cfg_toml_quote(toml_string(v, NULL), quoted, sizeof(quoted));
        snprintf(buf, size, "string %s", quoted);
        return;
    }
    case TOML_INTEGER:
        snprintf(buf, size, "integer %lld", (long long)toml_integer(v));
        return;
    case TOML_FLOAT:
        snprintf(buf, size, "float %g", toml_float(v));
        return;
    case TOML_BOOL:
        snprintf(buf, size, "boolean %s", toml_bool(v) ? "true" : "false");
        return;
    case TOML_TABLE:
    case TOML_ARRAY:
        snprintf(buf, size, "%s", toml_type_name(toml_type_of(v)));
        return;
    default: {
        char when[64];
        toml_datetime_format(v, when, sizeof(when));
        snprintf(buf, size, "%s %s", toml_type_name(toml_type_of(v)), when);
        return;
    }
    }
}

static int type_error(struct loader *L, const struct cfg_key *k, const toml_value *v,
                      const char *key)
{
    char range[160], found[128], want[256];
    cfg_key_range_text(k, range, sizeof(range));
    describe_value(v, found, sizeof(found));
    switch (k->type) {
    case CFG_BOOL:
        snprintf(want, sizeof(want), "a boolean (true or false)");
        break;
    case CFG_INT:
    case CFG_INT64:
        snprintf(want, sizeof(want), "an integer (%s)", range);
        break;
    case CFG_DOUBLE:
        snprintf(want, sizeof(want), "a number (%s)", range);
        break;
    case CFG_ENUM:
        snprintf(want, sizeof(want), "a string, %s", range);
        break;
    case CFG_STRING:
        snprintf(want, sizeof(want), "a string");
        break;
    case CFG_STRV:
        snprintf(want, sizeof(want), "an array of strings");
        break;
    case CFG_ENV:
        snprintf(want, sizeof(want), "a table of strings");
        break;
    }
    return lfail(L, AE_EINVAL, toml_line(v), "%s must be %s, found %s", key, want, found);
}

static int range_error(struct loader *L, const struct cfg_key *k, const toml_value *v,
                       const char *key)
{
    char range[64], value[64];
    cfg_key_range_text(k, range, sizeof(range));
    if (toml_type_of(v) == TOML_INTEGER)
        snprintf(value, sizeof(value), "%lld", (long long)toml_integer(v));
    else
        snprintf(value, sizeof(value), "%g", toml_float(v));
    if (k->flags & CFG_NO_MAX)
        return lfail(L, AE_ERANGE, toml_line(v), "%s = %s is out of range: it must be %s", key,
                     value, range);
    return lfail(L, AE_ERANGE, toml_line(v), "%s = %s is out of range %s", key, value, range);
}

/* A string value that fits a C string of `size` bytes (no NUL inside). */
static int string_value(struct loader *L, const toml_value *v, size_t size, const char *key,
                        const char **out)
{
    size_t len;
    const char *s = toml_string(v, &len);
    if (strlen(s) != len)
        return lfail(L, AE_EINVAL, toml_line(v), "%s must not contain a NUL character", key);
    if (size && len >= size)
        return lfail(L, AE_EINVAL, toml_line(v), "%s is %zu bytes long; at most %zu are allowed",
                     key, len, size - 1);
    *out = s;
    return 0;
}

static int in_range(const struct cfg_key *k, double x)
{
    int lo_ok = (k->flags & CFG_MIN_EXCLUSIVE) ? x > k->min : x >= k->min;
    int hi_ok = (k->flags & CFG_NO_MAX) || x <= k->max;
    return lo_ok && hi_ok; /* NaN fails both */
}

/* One handler per value type: checks the TOML type (and range, length, spelling) of v for key
 * row k and stores it in the field at base + k->offset. 0, or the loader's status after lfail. */
typedef int (*apply_fn)(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                        const char *key);

static int apply_bool(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                      const char *key)
{
    if (toml_type_of(v) != TOML_BOOL)
        return type_error(L, k, v, key);
    *(int *)((char *)base + k->offset) = toml_bool(v);
    return 0;
}

static int apply_integer(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                         const char *key)
{
    if (toml_type_of(v) != TOML_INTEGER)
        return type_error(L, k, v, key);
    int64_t x = toml_integer(v);
    if (!in_range(k, (double)x) || (k->type == CFG_INT && (x < INT32_MIN || x > INT32_MAX)))
        return range_error(L, k, v, key);
    char *field = (char *)base + k->offset;
    if (k->type == CFG_INT)
        *(int *)field = (int)x;
    else
        *(int64_t *)field = x;
    return 0;
}

static int apply_double(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                        const char *key)
{
    enum toml_type t = toml_type_of(v);
    if (t != TOML_FLOAT && t != TOML_INTEGER)
        return type_error(L, k, v, key);
    double x = t == TOML_FLOAT ? toml_float(v) : (double)toml_integer(v);
    if (!in_range(k, x))
        return range_error(L, k, v, key);
    *(double *)((char *)base + k->offset) = x;
    return 0;
}

static int apply_string(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                        const char *key)
{
    const char *s = NULL;
    if (toml_type_of(v) != TOML_STRING)
        return type_error(L, k, v, key);
    if (string_value(L, v, k->aux, key, &s))
        return L->status;
    memcpy((char *)base + k->offset, s, strlen(s) + 1);
    return 0;
}

static int apply_enum(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                      const char *key)
{
    const char *s = NULL;
    if (toml_type_of(v) != TOML_STRING)
        return type_error(L, k, v, key);
    if (string_value(L, v, 0, key, &s))
        return L->status;
    int i = cfg_enum_parse(k->names, k->name_count, s);
    if (i < 0) {
        char range[160], quoted[96];
        cfg_key_range_text(k, range, sizeof(range));
        cfg_toml_quote(s, quoted, sizeof(quoted));
        return lfail(L, AE_EINVAL, toml_line(v), "%s = %s is not allowed: it must be %s", key,
                     quoted, range);
    }
    *(int *)((char *)base + k->offset) = i;
    return 0;
}

static int apply_strv(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                      const char *key)
{
    if (toml_type_of(v) != TOML_ARRAY)
        return type_error(L, k, v, key);
    char ***list = (char ***)((char *)base + k->offset);
    int *count = (int *)((char *)base + k->aux);
    if ((k->flags & CFG_NONEMPTY) && toml_array_count(v) == 0)
        return lfail(L, AE_EINVAL, toml_line(v), "%s must not be empty", key);
    for (size_t i = 0; i < toml_array_count(v); i++) {
        const toml_value *item = toml_array_at(v, i);
        const char *s = NULL;
        char item_key[256];
        ae_errf(item_key, sizeof(item_key), 0, "%s[%zu]", key, i);
        if (toml_type_of(item) != TOML_STRING)
            return type_error(L, k, item, item_key);
        if (string_value(L, item, 0, item_key, &s))
            return L->status;
        int http = strncmp(s, "http://", 7) == 0, https = strncmp(s, "https://", 8) == 0;
        if (((k->flags & CFG_HTTP_URL) && !http) || ((k->flags & CFG_WEB_URL) && !http && !https)) {
            char quoted[CFG_PATH_MAX + 8];
            cfg_toml_quote(s, quoted, sizeof(quoted));
            return lfail(L, AE_EINVAL, toml_line(item), "%s = %s: only %s URLs are supported",
                         item_key, quoted,
                         (k->flags & CFG_WEB_URL) ? "http:// and https://" : "http://");
        }
        if (cfg_strv_append(list, count, s))
            return lfail(L, AE_ENOMEM, 0, "out of memory");
    }
    return 0;
}

static int apply_env(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                     const char *key)
{
    if (toml_type_of(v) != TOML_TABLE)
        return type_error(L, k, v, key);
    for (size_t i = 0; i < toml_table_count(v); i++) {
        size_t name_len;
        const char *name = toml_table_key(v, i, &name_len);
        const toml_value *item = toml_table_value(v, i);
        const char *s = NULL;
        char item_key[256];
        ae_errf(item_key, sizeof(item_key), 0, "%s.%s", key, name);
        if (strlen(name) != name_len || name_len == 0 || strchr(name, '='))
            return lfail(L, AE_EINVAL, toml_line(item),
                         "%s: environment variable names must be non-empty, without '=' or NUL",
                         item_key);
        if (toml_type_of(item) != TOML_STRING)
            return type_error(L, k, item, item_key);
        if (string_value(L, item, 0, item_key, &s))
            return L->status;
        if (cfg_env_set((struct cfg_blueprint *)base, name, s))
            return lfail(L, AE_ENOMEM, 0, "out of memory");
    }
    return 0;
}

static const apply_fn apply_by_type[] = {
    [CFG_BOOL] = apply_bool,     [CFG_INT] = apply_integer,   [CFG_INT64] = apply_integer,
    [CFG_DOUBLE] = apply_double, [CFG_STRING] = apply_string, [CFG_ENUM] = apply_enum,
    [CFG_STRV] = apply_strv,     [CFG_ENV] = apply_env,
};

/* Stores value v of key row k into the struct at base, through its type's handler. */
static int apply_value(struct loader *L, const struct cfg_key *k, const toml_value *v, void *base,
                       const char *key)
{
    int rc = apply_by_type[k->type](L, k, v, base, key);
    if (rc == 0 && (k->flags & CFG_RECORDS_GIVEN))
        *(int *)((char *)base + k->given) = 1;
    return rc;
}

/* Edit distance of two short words (for "did you mean"). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_key(struct loader *L, enum cfg_section_id sec, const char *prefix,
                       const char *name, int line)
{
    const char *guess = NULL;
    size_t best = 3;
    char known[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < cfg_key_count; i++) {
        if (cfg_keys[i].section != sec)
            continue;
        size_t d = distance(name, cfg_keys[i].name);
        if (d < best) {
            best = d;
            guess = cfg_keys[i].name;
        }
        int n = snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "",
                         cfg_keys[i].name);
        if (n > 0 && (size_t)n < sizeof(known) - used)
            used += (size_t)n;
    }
    if (sec == CFG_SEC_BLUEPRINT && used + 24 < sizeof(known))
        snprintf(known + used, sizeof(known) - used, ", metrics, prometheus");
    if (sec == CFG_SEC_BLUEPRINT_PROMETHEUS && used + 10 < sizeof(known))
        snprintf(known + used, sizeof(known) - used, ", queries");
    if (guess)
        return lfail(L, AE_EINVAL, line, "unknown key %s.%s (did you mean %s?)", prefix, name,
                     guess);
    return lfail(L, AE_EINVAL, line, "unknown key %s.%s; [%s] has: %s", prefix, name,
                 cfg_sections[sec].name, known);
}

/* Loads the keys of one table of section `sec` into base; `prefixes` are the names the keys
 * are recorded under ("ttm"; or "blueprint[0]" and "blueprint.web"). `skip` names keys already
 * loaded (a blueprint's name and actuator). */
static int load_table(struct loader *L, enum cfg_section_id sec, const toml_value *table,
                      void *base, const char *const prefixes[2], const char *const skip[2]);

static int load_entry(struct loader *L, enum cfg_section_id sec, const char *name,
                      const toml_value *v, void *base, const char *const prefixes[2])
{
    char key[2][256];
    for (int p = 0; p < 2; p++)
        if (prefixes[p])
            ae_errf(key[p], sizeof(key[p]), 0, "%s.%s", prefixes[p], name);
    const char *shown = prefixes[1] ? key[1] : key[0];
    int subsec = cfg_subsection(sec, name);
    if (subsec >= 0) {
        if (toml_type_of(v) != TOML_TABLE)
            return lfail(L, AE_EINVAL, toml_line(v), "%s must be a table ([%s])", shown,
                         cfg_sections[subsec].name);
        const char *const sub[2] = {key[0], prefixes[1] ? key[1] : NULL};
        const char *const none[2] = {NULL, NULL};
        for (int p = 0; p < 2; p++)
            if (sub[p] && note_source(L, sub[p], toml_line(v)))
                return L->status;
        return load_table(L, (enum cfg_section_id)subsec, v, base, sub, none);
    }
    const struct cfg_key *k = cfg_key_find(sec, name);
    if (!k)
        return unknown_key(L, sec, prefixes[1] ? prefixes[1] : prefixes[0], name, toml_line(v));
    if (sec == CFG_SEC_BLUEPRINT && k->kinds) {
        enum cfg_actuator have = ((const struct cfg_blueprint *)base)->actuator;
        if (!(k->kinds & CFG_KIND(have))) {
            char kinds[128];
            size_t at = 0;
            for (int a = 0; a < CFG_ACTUATOR_COUNT; a++)
                if (k->kinds & CFG_KIND(a))
                    at = ae_errf(kinds, sizeof(kinds), at, "%s\"%s\"", at ? " or " : "",
                                 cfg_actuator_names[a]);
            return lfail(L, AE_EINVAL, toml_line(v),
                         "%s applies only to actuator %s, and this blueprint's actuator is "
                         "\"%s\"",
                         shown, kinds, cfg_actuator_names[have]);
        }
    }
    if (apply_value(L, k, v, base, shown))
        return L->status;
    for (int p = 0; p < 2; p++)
        if (prefixes[p] && note_source(L, key[p], toml_line(v)))
            return L->status;
    return 0;
}

static int load_table(struct loader *L, enum cfg_section_id sec, const toml_value *table,
                      void *base, const char *const prefixes[2], const char *const skip[2])
{
    for (size_t i = 0; i < toml_table_count(table) && !L->status; i++) {
        size_t len;
        const char *name = toml_table_key(table, i, &len);
        if ((skip[0] && strcmp(name, skip[0]) == 0) || (skip[1] && strcmp(name, skip[1]) == 0))
            continue;
        if (strlen(name) != len)
            return lfail(L, AE_EINVAL, toml_line(toml_table_value(table, i)),
                         "unknown key with a NUL character in [%s]", cfg_sections[sec].name);
        load_entry(L, sec, name, toml_table_value(table, i), base, prefixes);
    }
    return L->status;
}

static int load_blueprint(struct loader *L, const toml_value *t, int index)
{
    struct cfg_blueprint *b = cfg_blueprint_add(L->cfg);
    if (!b)
        return lfail(L, AE_ENOMEM, 0, "out of memory");
    char by_index[32], by_name[CFG_NAME_MAX + 16];
    snprintf(by_index, sizeof(by_index), "blueprint[%d]", index);
    const char *prefixes[2] = {by_index, NULL};
    const char *const skip[2] = {"name", "actuator"};
    if (note_source(L, by_index, toml_line(t)))
        return L->status;
    /* The name and the actuator first: messages name the blueprint, and the actuator decides
     * which keys are allowed. */
    const toml_value *name = toml_table_get(t, "name");
    if (!name)
        return lfail(L, AE_EINVAL, toml_line(t), "%s.name is missing (every blueprint needs one)",
                     by_index);
    if (load_entry(L, CFG_SEC_BLUEPRINT, "name", name, b, prefixes))
        return L->status;
    /* Messages say blueprint.<name>.key once the name is usable (the core checks it fully). */
    if (b->name[0] && strspn(b->name, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(b->name)) {
        snprintf(by_name, sizeof(by_name), "blueprint.%s", b->name);
        prefixes[1] = by_name;
        char name_key[CFG_NAME_MAX + 32];
        ae_errf(name_key, sizeof(name_key), 0, "%s.name", by_name);
        if (note_source(L, by_name, toml_line(t)) || note_source(L, name_key, toml_line(name)))
            return L->status;
    }
    const toml_value *actuator = toml_table_get(t, "actuator");
    if (actuator && load_entry(L, CFG_SEC_BLUEPRINT, "actuator", actuator, b, prefixes))
        return L->status;
    return load_table(L, CFG_SEC_BLUEPRINT, t, b, prefixes, skip);
}

static int load_document(struct loader *L, const toml_value *root)
{
    for (size_t i = 0; i < toml_table_count(root) && !L->status; i++) {
        size_t len;
        const char *name = toml_table_key(root, i, &len);
        const toml_value *v = toml_table_value(root, i);
        int sec = -1;
        for (int s = 0; s <= CFG_SEC_BLUEPRINT; s++)
            if (strlen(name) == len && strcmp(name, cfg_sections[s].name) == 0)
                sec = s;
        if (sec < 0) {
            if (toml_type_of(v) == TOML_TABLE)
                return lfail(L, AE_EINVAL, toml_line(v),
                             "unknown section [%s]; sections are [node], [api], [controller], "
                             "[ttm], [cluster] and [[blueprint]]",
                             name);
            return lfail(L, AE_EINVAL, toml_line(v),
                         "unknown key %s outside any section; keys belong in [node], [api], "
                         "[controller], [ttm], [cluster] or [[blueprint]]",
                         name);
        }
        if (sec == CFG_SEC_BLUEPRINT) {
            if (toml_type_of(v) != TOML_ARRAY)
                return lfail(L, AE_EINVAL, toml_line(v),
                             "blueprint must be an array of tables: write [[blueprint]] once "
                             "per blueprint");
            for (size_t j = 0; j < toml_array_count(v) && !L->status; j++) {
                const toml_value *item = toml_array_at(v, j);
                if (toml_type_of(item) != TOML_TABLE)
                    return lfail(L, AE_EINVAL, toml_line(item),
                                 "blueprint[%zu] must be a table, found %s", j,
                                 toml_type_name(toml_type_of(item)));
                load_blueprint(L, item, (int)j);
            }
            continue;
        }
        if (toml_type_of(v) != TOML_TABLE)
            return lfail(L, AE_EINVAL, toml_line(v), "%s must be a section ([%s]), found %s", name,
                         name, toml_type_name(toml_type_of(v)));
        const char *const prefixes[2] = {name, NULL};
        const char *const none[2] = {NULL, NULL};
        if (note_source(L, name, toml_line(v)))
            return L->status;
        load_table(L, (enum cfg_section_id)sec, v, cfg_section_base(sec, L->cfg, NULL), prefixes,
                   none);
    }
    return L->status;
}

/* The line of the key a core validation message starts with ("ttm.mode = ..."), trying its
 * parents ("blueprint.web") when the key itself was not written; 0 when none was. */
static int line_of_message(const struct cfg_sources *src, const char *msg)
{
    char key[256];
    size_t n = strcspn(msg, " =");
    if (n >= sizeof(key))
        return 0;
    memcpy(key, msg, n);
    key[n] = '\0';
    for (;;) {
        int line = cfg_sources_line(src, key);
        if (line > 0)
            return line;
        char *dot = strrchr(key, '.');
        if (!dot)
            return 0;
        *dot = '\0';
    }
}

static int load_tree(const toml_value *root, const char *name, cfg_check_fn check,
                     struct ae_config *out, cfg_sources **sources, char *err, size_t errlen)
{
    struct loader L = {.file = name, .cfg = out, .err = err, .errlen = errlen};
    L.src = calloc(1, sizeof(*L.src));
    cfg_defaults(out);
    if (!L.src || !(L.src->file = malloc(strlen(name) + 1))) {
        free(L.src);
        return lfail(&L, AE_ENOMEM, 0, "out of memory");
    }
    memcpy(L.src->file, name, strlen(name) + 1);
    if (load_document(&L, root) == 0) {
        char msg[512];
        int rc = cfg_validate(out, msg, sizeof(msg));
        if (rc == 0 && check)
            rc = check(out, msg, sizeof(msg));
        if (rc)
            lfail(&L, rc, line_of_message(L.src, msg), "%s", msg);
    }
    if (L.status) {
        cfg_free(out);
        cfg_defaults(out);
        cfg_sources_free(L.src);
        return L.status;
    }
    int64_t memory = ae_host_memory_bytes();
    for (int i = 0; i < out->blueprint_count; i++)
        cfg_blueprint_resolve(&out->blueprints[i], memory);
    if (sources)
        *sources = L.src;
    else
        cfg_sources_free(L.src);
    return 0;
}

int cfg_load_string(const char *text, size_t len, const char *name, cfg_check_fn check,
                    struct ae_config *out, cfg_sources **sources, char *err, size_t errlen)
{
    toml_value *root;
    if (sources)
        *sources = NULL;
    int rc = toml_parse(text, len, name, &root, err, errlen);
    if (rc) {
        cfg_defaults(out);
        return rc;
    }
    rc = load_tree(root, name, check, out, sources, err, errlen);
    toml_free(root);
    return rc;
}

int cfg_load_file(const char *path, cfg_check_fn check, struct ae_config *out,
                  cfg_sources **sources, char *err, size_t errlen)
{
    toml_value *root;
    if (sources)
        *sources = NULL;
    int rc = toml_parse_file(path, &root, err, errlen);
    if (rc) {
        cfg_defaults(out);
        return rc;
    }
    rc = load_tree(root, path, check, out, sources, err, errlen);
    toml_free(root);
    return rc;
}
