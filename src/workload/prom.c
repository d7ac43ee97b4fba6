/* Prometheus text 0.0.4 / OpenMetrics 1.0 parser (see include/aether/prom.h).
 *
 * One pass over the lines. Every string of the result lives in a chunked arena owned by the
 * document, so prom_doc_free is one walk. In OpenMetrics mode the parser also tracks the state
 * the format's rules need: which names each family claims (clashes, families that reappear),
 * which label groups a family has shown (grouping, timestamp order) and the histogram point
 * being read (bucket order, +Inf, _count/_sum consistency). Errors name the line. */
#include "aether/prom.h"

#include "aether/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- arena: every string and label array of a document ---- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

struct prom_arena {
    struct arena_chunk *head;
};

static void *arena_alloc(struct prom_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        struct arena_chunk *c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static char *arena_strndup(struct prom_arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void arena_free(struct prom_arena *a)
{
    if (!a)
        return;
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

/* ---- name -> index map (open addressing; keys live in the arena) ---- */

struct name_map {
    const char **keys;
    size_t *vals;
    size_t cap, count;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int map_find(const struct name_map *m, const char *key, size_t *val)
{
    if (m->cap == 0)
        return 0;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return 0;
        if (strcmp(m->keys[i], key) == 0) {
            if (val)
                *val = m->vals[i];
            return 1;
        }
    }
}

/* key must outlive the map (arena string). Returns 0 or AE_ENOMEM. */
static int map_put(struct name_map *m, const char *key, size_t val)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const char **keys = calloc(cap, sizeof(*keys));
        size_t *vals = calloc(cap, sizeof(*vals));
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return AE_ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = hash_str(m->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

static void map_clear(struct name_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- parser state ---- */

/* The histogram point (one group at one timestamp) being read, OpenMetrics only. */
struct hist_point {
    int active;
    size_t nbuckets;
    double last_le, last_count;
    int has_inf;
    double inf_count;
    int has_count, has_sum, has_gsum, negative_buckets, negative_gsum;
    double count;
};

struct parser {
    const char *text;
    size_t len;
    size_t lineno;
    int om;
    struct prom_doc *doc;
    size_t fam_cap, sample_cap;
    char *err;
    size_t errlen;
    struct name_map names; /* OM: every claimed sample name -> family; text: family names */
    long cur;              /* current family, -1 before the first */
    int cur_has_samples, cur_has_help, cur_has_type, cur_has_unit;
    struct name_map groups; /* OM: label groups seen in the current family */
    const char *group;      /* current group key (arena) or NULL */
    int group_has_ts;
    double group_ts;
    struct hist_point hp;
    struct prom_label *labels; /* labels of the line being parsed */
    size_t nlabels, labels_cap;
    char *scratch; /* number tokens, group keys */
    size_t scratch_cap;
};

static int fail(struct parser *p, const char *fmt, ...)
{
    size_t n = ae_errf(p->err, p->errlen, 0, "line %zu: ", p->lineno);
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(p->err, p->errlen, n, fmt, ap);
    va_end(ap);
    return AE_EPARSE;
}

static int oom(struct parser *p)
{
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "line %zu: out of memory", p->lineno);
    return AE_ENOMEM;
}

static char *scratch(struct parser *p, size_t n)
{
    if (n + 1 > p->scratch_cap) {
        size_t cap = (n + 1) * 2;
        char *s = realloc(p->scratch, cap);
        if (!s)
            return NULL;
        p->scratch = s;
        p->scratch_cap = cap;
    }
    return p->scratch;
}

/* Shows a token in a message: at most 40 bytes, unprintable bytes as '?'. */
static const char *show(const char *s, size_t n, char *buf, size_t bufsz)
{
    size_t k = 0, i = 0;
    for (; i < n && i < 40 && k + 4 < bufsz; i++)
        buf[k++] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    if (i < n)
        for (int d = 0; d < 3 && k + 1 < bufsz; d++)
            buf[k++] = '.';
    buf[k] = '\0';
    return buf;
}

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}
static int is_label_start(char c)
{
    return is_name_start(c) && c != ':';
}
static int is_label_char(char c)
{
    return is_name_char(c) && c != ':';
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *const type_names[] = {"unknown",        "counter", "gauge", "histogram",
                                         "gaugehistogram", "summary", "info",  "stateset"};

/* Sample-name suffixes a family of each type may use (OpenMetrics). */
static const char *const *suffixes_for(enum prom_type t)
{
    static const char *const counter[] = {"_total", "_created", NULL};
    static const char *const plain[] = {"", NULL};
    static const char *const histogram[] = {"_bucket", "_count", "_sum", "_created", NULL};
    static const char *const gaugehistogram[] = {"_bucket", "_gcount", "_gsum", NULL};
    static const char *const summary[] = {"", "_count", "_sum", "_created", NULL};
    static const char *const info[] = {"_info", NULL};
    switch (t) {
    case PROM_TYPE_COUNTER:
        return counter;
    case PROM_TYPE_HISTOGRAM:
        return histogram;
    case PROM_TYPE_GAUGEHISTOGRAM:
        return gaugehistogram;
    case PROM_TYPE_SUMMARY:
        return summary;
    case PROM_TYPE_INFO:
        return info;
    default:
        return plain;
    }
}

/* ---- numbers ---- */

enum num_kind {
    NUM_VALUE,     /* decimal, or Inf/NaN in any case */
    NUM_CANONICAL, /* le and quantile label values: decimal, "+Inf" or "-Inf" only */
    NUM_REAL,      /* OpenMetrics timestamps: decimal only */
};

/* Decimal grammar: [sign] (digits [. digits*] | . digits) [(e|E) [sign] digits]. */
static int is_decimal(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < n && is_digit(s[i]))
            i++, exp++;
        if (exp == 0)
            return 0;
    }
    return i == n;
}

static int parse_number(struct parser *p, const char *s, size_t n, enum num_kind kind, double *out)
{
    if (n == 0)
        return -1;
    if (is_decimal(s, n)) {
        char *buf = scratch(p, n);
        if (!buf)
            return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
        return 0;
    }
    if (kind == NUM_REAL)
        return -1;
    if (kind == NUM_CANONICAL) {
        if (n == 4 && memcmp(s, "+Inf", 4) == 0)
            *out = INFINITY;
        else if (n == 4 && memcmp(s, "-Inf", 4) == 0)
            *out = -INFINITY;
        else
            return -1;
        return 0;
    }
    const char *body = s;
    size_t bn = n;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        body++;
        bn--;
    }
    if ((bn == 3 && strncasecmp(body, "inf", 3) == 0) ||
        (bn == 8 && strncasecmp(body, "infinity", 8) == 0)) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (body == s && bn == 3 && strncasecmp(body, "nan", 3) == 0) {
        *out = NAN;
        return 0;
    }
    return -1;
}

/* ---- labels ---- */

static int push_label(struct parser *p, const char *name, const char *value)
{
    if (p->nlabels == p->labels_cap) {
        size_t cap = p->labels_cap ? p->labels_cap * 2 : 16;
        struct prom_label *l = realloc(p->labels, cap * sizeof(*l));
        if (!l)
            return oom(p);
        p->labels = l;
        p->labels_cap = cap;
    }
    p->labels[p->nlabels].name = name;
    p->labels[p->nlabels].value = value;
    p->nlabels++;
    return 0;
}

/* Resolves \\ \" \n; any other backslash is kept as written (OpenMetrics parsers do so). */
static char *unescape(struct parser *p, const char *s, size_t n)
{
    char *d = arena_alloc(p->doc->arena, n + 1);
    if (!d)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == '\\' || c == '"' || c == 'n') {
                d[k++] = c == 'n' ? '\n' : c;
                i++;
                continue;
            }
        }
        d[k++] = s[i];
    }
    d[k] = '\0';
    return d;
}

static void skip_blanks(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

/* Parses "{name="value",...}" at s[*i] (which is '{') into p->labels (appended from index
 * first). OpenMetrics allows no blanks and no trailing comma; the text format allows both. */
static int parse_labels(struct parser *p, const char *s, size_t n, size_t *i, size_t first,
                        const char *what)
{
    char shown[64];
    (*i)++; /* '{' */
    int lenient = !p->om;
    for (int expect_more = 0;;) {
        if (lenient)
            skip_blanks(s, n, i);
        if (*i < n && s[*i] == '}') {
            if (expect_more && !lenient)
                return fail(p, "%s: trailing comma in label set", what);
            (*i)++;
            return 0;
        }
        size_t start = *i;
        if (*i >= n || !is_label_start(s[*i]))
            return fail(p, "%s: expected a label name at '%s'", what,
                        show(s + *i, n - *i, shown, sizeof(shown)));
        while (*i < n && is_label_char(s[*i]))
            (*i)++;
        size_t name_len = *i - start;
        if (lenient)
            skip_blanks(s, n, i);
        if (*i >= n || s[*i] != '=')
            return fail(p, "%s: label %s has no '='", what,
                        show(s + start, name_len, shown, sizeof(shown)));
        (*i)++;
        if (lenient)
            skip_blanks(s, n, i);
        if (*i >= n || s[*i] != '"')
            return fail(p, "%s: value of label %s is not in double quotes", what,
                        show(s + start, name_len, shown, sizeof(shown)));
        (*i)++;
        size_t vstart = *i;
        while (*i < n && s[*i] != '"') {
            if (s[*i] == '\\')
                (*i)++;
            (*i)++;
        }
        if (*i >= n)
            return fail(p, "%s: value of label %s has no closing quote", what,
                        show(s + start, name_len, shown, sizeof(shown)));
        size_t vlen = *i - vstart;
        (*i)++;
        char *name = arena_strndup(p->doc->arena, s + start, name_len);
        char *value = unescape(p, s + vstart, vlen);
        if (!name || !value)
            return oom(p);
        for (size_t k = first; k < p->nlabels; k++)
            if (strcmp(p->labels[k].name, name) == 0)
                return fail(p, "%s: label %s appears twice", what, name);
        int rc = push_label(p, name, value);
        if (rc)
            return rc;
        if (lenient)
            skip_blanks(s, n, i);
        if (*i < n && s[*i] == ',') {
            (*i)++;
            expect_more = 1;
            continue;
        }
        if (*i < n && s[*i] == '}') {
            (*i)++;
            return 0;
        }
        return fail(p, "%s: expected ',' or '}' after label %s", what, name);
    }
}

/* ---- families ---- */

static int new_family(struct parser *p, const char *name, size_t name_len, long *idx)
{
    struct prom_doc *d = p->doc;
    if (d->nfamilies == p->fam_cap) {
        size_t cap = p->fam_cap ? p->fam_cap * 2 : 16;
        struct prom_parsed_family *f = realloc(d->families, cap * sizeof(*f));
        if (!f)
            return oom(p);
        d->families = f;
        p->fam_cap = cap;
    }
    struct prom_parsed_family *f = &d->families[d->nfamilies];
    memset(f, 0, sizeof(*f));
    f->name = arena_strndup(d->arena, name, name_len);
    if (!f->name)
        return oom(p);
    f->type = PROM_TYPE_UNKNOWN;
    *idx = (long)d->nfamilies++;
    return 0;
}

/* Claims name + suffix for family idx; a name another family already claims is a clash. */
static int claim_name(struct parser *p, long idx, const char *suffix)
{
    const char *base = p->doc->families[idx].name;
    size_t bl = strlen(base), sl = strlen(suffix);
    char *full = arena_alloc(p->doc->arena, bl + sl + 1);
    if (!full)
        return oom(p);
    memcpy(full, base, bl);
    memcpy(full + bl, suffix, sl + 1);
    size_t owner;
    if (map_find(&p->names, full, &owner)) {
        if ((long)owner != idx)
            return fail(p, "metric name %s clashes with metric family %s", full,
                        p->doc->families[owner].name);
        return 0;
    }
    return map_put(&p->names, full, (size_t)idx) ? oom(p) : 0;
}

static int finish_histogram_point(struct parser *p);

/* Makes a new family current. In OpenMetrics a family name seen before (as a family or as a
 * sample name of one) means its samples are not contiguous or two families clash. */
static int start_family(struct parser *p, const char *name, size_t name_len)
{
    int rc = finish_histogram_point(p);
    if (rc)
        return rc;
    if (p->om) {
        char *key = arena_strndup(p->doc->arena, name, name_len);
        if (!key)
            return oom(p);
        size_t owner;
        if (map_find(&p->names, key, &owner))
            return fail(p,
                        "metric family %s appears again after other families, or clashes "
                        "with family %s",
                        key, p->doc->families[owner].name);
    }
    long idx = -1;
    rc = new_family(p, name, name_len, &idx);
    if (rc)
        return rc;
    p->cur = idx;
    p->cur_has_samples = p->cur_has_help = p->cur_has_type = p->cur_has_unit = 0;
    map_clear(&p->groups);
    p->group = NULL;
    if (p->om)
        return claim_name(p, idx, "");
    return map_put(&p->names, p->doc->families[idx].name, (size_t)idx) ? oom(p) : 0;
}

/* ---- histogram points (OpenMetrics consistency rules) ---- */

static int finish_histogram_point(struct parser *p)
{
    struct hist_point *h = &p->hp;
    if (!h->active)
        return 0;
    h->active = 0;
    const char *name = p->doc->families[p->cur].name;
    if (!h->has_inf)
        return fail(p, "histogram %s has no +Inf bucket", name);
    if (h->has_count && h->count != h->inf_count)
        return fail(p, "histogram %s: count %g does not match the +Inf bucket %g", name, h->count,
                    h->inf_count);
    if (h->has_sum && !h->has_count)
        return fail(p, "histogram %s has _sum without _count", name);
    if (h->has_gsum && !h->has_count)
        return fail(p, "gauge histogram %s has _gsum without _gcount", name);
    if (h->has_count && !h->has_sum && !h->has_gsum)
        return fail(p, "histogram %s has a count without a sum", name);
    if (h->negative_buckets && h->has_sum)
        return fail(p, "histogram %s has negative buckets, so it cannot have _sum", name);
    if (!h->negative_buckets && h->negative_gsum)
        return fail(p, "gauge histogram %s has a negative _gsum without negative buckets", name);
    return 0;
}

static int add_to_histogram_point(struct parser *p, const char *suffix,
                                  const struct prom_parsed_sample *s, double le)
{
    struct hist_point *h = &p->hp;
    if (!h->active) {
        memset(h, 0, sizeof(*h));
        h->active = 1;
    }
    if (strcmp(suffix, "_bucket") == 0) {
        if (h->nbuckets > 0 && le <= h->last_le)
            return fail(p, "bucket le=\"%g\" of %s is not after the previous le=\"%g\"", le,
                        s->name, h->last_le);
        if (h->nbuckets > 0 && s->value < h->last_count)
            return fail(p, "bucket counts of %s decrease (%g after %g)", s->name, s->value,
                        h->last_count);
        if (le < 0)
            h->negative_buckets = 1;
        if (isinf(le) && le > 0) {
            h->has_inf = 1;
            h->inf_count = s->value;
        }
        h->last_le = le;
        h->last_count = s->value;
        h->nbuckets++;
    } else if (strcmp(suffix, "_count") == 0 || strcmp(suffix, "_gcount") == 0) {
        h->has_count = 1;
        h->count = s->value;
    } else if (strcmp(suffix, "_sum") == 0) {
        h->has_sum = 1;
    } else if (strcmp(suffix, "_gsum") == 0) {
        h->has_gsum = 1;
        if (s->value < 0)
            h->negative_gsum = 1;
    }
    return 0;
}

/* ---- OpenMetrics sample rules ---- */

/* The group of a sample: its labels without le (buckets), quantile (summary quantiles) or the
 * state label (stateset), sorted, as one string; info samples form a single group. */
static const char *group_key(struct parser *p, const struct prom_parsed_sample *s, const char *skip)
{
    size_t need = 1;
    for (size_t i = 0; i < s->nlabels; i++)
        need += strlen(s->labels[i].name) + strlen(s->labels[i].value) + 2;
    char *key = arena_alloc(p->doc->arena, need);
    if (!key)
        return NULL;
    key[0] = '\0';
    if (p->doc->families[s->family].type == PROM_TYPE_INFO)
        return key;
    /* Insertion order by name: label sets are small. */
    const char *last = NULL;
    size_t k = 0;
    for (;;) {
        const struct prom_label *next = NULL;
        for (size_t i = 0; i < s->nlabels; i++) {
            const struct prom_label *l = &s->labels[i];
            if (skip && strcmp(l->name, skip) == 0)
                continue;
            if (last && strcmp(l->name, last) <= 0)
                continue;
            if (!next || strcmp(l->name, next->name) < 0)
                next = l;
        }
        if (!next)
            break;
        size_t nl = strlen(next->name), vl = strlen(next->value);
        memcpy(key + k, next->name, nl);
        k += nl;
        key[k++] = '\x01';
        memcpy(key + k, next->value, vl);
        k += vl;
        key[k++] = '\x02';
        last = next->name;
    }
    key[k] = '\0';
    return key;
}

/* What a sample's type and suffix allow: whether it may carry an exemplar, the label its
 * group key leaves out (le, quantile, the stateset's own), and a bucket's le. */
struct om_rules {
    int exemplar_ok;
    const char *skip;
    double le;
};

static int check_om_histogram(struct parser *p, const struct prom_parsed_sample *s,
                              const char *suffix, struct om_rules *r)
{
    const char *name = s->name;
    double v = s->value;
    if (strcmp(suffix, "_bucket") == 0) {
        r->exemplar_ok = 1;
        r->skip = "le";
        const char *lev = prom_label_value(s, "le");
        if (!lev)
            return fail(p, "histogram bucket %s has no le label", name);
        if (parse_number(p, lev, strlen(lev), NUM_CANONICAL, &r->le) != 0 || isnan(r->le))
            return fail(p, "histogram bucket %s has an invalid le=\"%s\"", name, lev);
    }
    if (strcmp(suffix, "_gsum") == 0) {
        if (isnan(v))
            return fail(p, "%s is NaN", name);
    } else if (strcmp(suffix, "_created") != 0 && (isnan(v) || v < 0)) {
        return fail(p, "%s has an invalid value %g (must be >= 0)", name, v);
    }
    return 0;
}

static int check_om_summary(struct parser *p, const struct prom_parsed_sample *s,
                            const char *suffix, struct om_rules *r)
{
    const char *name = s->name;
    double v = s->value;
    if (suffix[0] == '\0') {
        r->skip = "quantile";
        const char *q = prom_label_value(s, "quantile");
        double qv;
        if (!q)
            return fail(p, "summary sample %s has no quantile label", name);
        if (parse_number(p, q, strlen(q), NUM_CANONICAL, &qv) != 0 || !(qv >= 0 && qv <= 1))
            return fail(p, "summary %s has an invalid quantile=\"%s\" (must be 0..1)", name, q);
        if (v < 0)
            return fail(p, "summary quantile %s has a negative value %g", name, v);
    } else if (strcmp(suffix, "_created") != 0 && (isnan(v) || v < 0)) {
        return fail(p, "%s has an invalid value %g (must be >= 0)", name, v);
    }
    return 0;
}

/* The value and labels a sample of its family's type must have, and its exemplar. */
static int check_om_value(struct parser *p, const struct prom_parsed_sample *s, const char *suffix,
                          struct om_rules *r)
{
    const struct prom_parsed_family *f = &p->doc->families[s->family];
    const char *name = s->name;
    double v = s->value;
    int rc = 0;
    switch (f->type) {
    case PROM_TYPE_COUNTER:
        if (strcmp(suffix, "_total") == 0) {
            r->exemplar_ok = 1;
            if (isnan(v) || v < 0)
                return fail(p, "counter %s has an invalid value %g (must be >= 0)", name, v);
        }
        break;
    case PROM_TYPE_HISTOGRAM:
    case PROM_TYPE_GAUGEHISTOGRAM:
        rc = check_om_histogram(p, s, suffix, r);
        break;
    case PROM_TYPE_SUMMARY:
        rc = check_om_summary(p, s, suffix, r);
        break;
    case PROM_TYPE_INFO:
        if (v != 1)
            return fail(p, "info %s must have the value 1, not %g", name, v);
        break;
    case PROM_TYPE_STATESET:
        r->skip = f->name;
        if (!prom_label_value(s, f->name))
            return fail(p, "stateset sample %s has no label %s", name, f->name);
        if (v != 0 && v != 1)
            return fail(p, "stateset %s must have the value 0 or 1, not %g", name, v);
        break;
    default:
        break;
    }
    if (rc)
        return rc;
    if (s->has_exemplar && !r->exemplar_ok)
        return fail(p, "%s cannot have an exemplar (only counter _total and histogram _bucket)",
                    name);
    return 0;
}

/* Grouping and timestamp order: the samples of one label set (less r->skip) come together, with
 * timestamps on all or none, never going backwards. */
static int check_om_group(struct parser *p, const struct prom_parsed_sample *s, const char *skip,
                          int hist)
{
    const struct prom_parsed_family *f = &p->doc->families[s->family];
    const char *key = group_key(p, s, skip);
    if (!key)
        return oom(p);
    if (p->group && strcmp(p->group, key) == 0) {
        if (s->has_timestamp != p->group_has_ts)
            return fail(p, "%s mixes samples with and without timestamps", f->name);
        if (s->has_timestamp && s->timestamp_s < p->group_ts && f->type != PROM_TYPE_INFO)
            return fail(p, "timestamps of %s go backwards (%g after %g)", f->name, s->timestamp_s,
                        p->group_ts);
        if (hist && s->has_timestamp && s->timestamp_s != p->group_ts) {
            int rc = finish_histogram_point(p);
            if (rc)
                return rc;
        }
    } else {
        if (map_find(&p->groups, key, NULL))
            return fail(p, "samples of %s with the same labels are not grouped together", f->name);
        int rc = finish_histogram_point(p);
        if (rc)
            return rc;
        if (map_put(&p->groups, key, 0))
            return oom(p);
        p->group = key;
    }
    p->group_has_ts = s->has_timestamp;
    p->group_ts = s->timestamp_s;
    return 0;
}

static int check_om_sample(struct parser *p, struct prom_parsed_sample *s, const char *suffix)
{
    enum prom_type t = p->doc->families[s->family].type;
    struct om_rules r = {0, NULL, 0};
    int hist = t == PROM_TYPE_HISTOGRAM || t == PROM_TYPE_GAUGEHISTOGRAM;
    int rc = check_om_value(p, s, suffix, &r);
    if (rc == 0)
        rc = check_om_group(p, s, r.skip, hist);
    if (rc == 0 && hist)
        rc = add_to_histogram_point(p, suffix, s, r.le);
    return rc;
}

/* ---- samples ---- */

static int token_end(const char *s, size_t n, size_t i, int om)
{
    while (i < n && s[i] != ' ' && (om || s[i] != '\t'))
        i++;
    return (int)i;
}

/* Exemplar after " # ": "{labels} value [timestamp]"; label names and values together at most
 * 128 code points. */
static int parse_exemplar(struct parser *p, const char *s, size_t n, size_t i,
                          struct prom_parsed_sample *smp)
{
    char shown[64];
    if (i >= n || s[i] != ' ' || i + 1 >= n || s[i + 1] != '{')
        return fail(p, "exemplar of %s must be \" # {labels} value\"", smp->name);
    i++;
    size_t first = p->nlabels;
    int rc = parse_labels(p, s, n, &i, first, "exemplar");
    if (rc)
        return rc;
    size_t points = 0;
    for (size_t k = first; k < p->nlabels; k++)
        for (const char *c = p->labels[k].name; *c; c++)
            points += 1;
    for (size_t k = first; k < p->nlabels; k++)
        for (const unsigned char *c = (const unsigned char *)p->labels[k].value; *c; c++)
            points += (*c & 0xC0) != 0x80;
    p->nlabels = first; /* exemplar labels are checked, not kept */
    if (points > 128)
        return fail(p, "exemplar labels of %s are %zu characters long (at most 128)", smp->name,
                    points);
    if (i >= n || s[i] != ' ')
        return fail(p, "exemplar of %s: expected a space and a value after the labels", smp->name);
    i++;
    size_t e = (size_t)token_end(s, n, i, 1);
    if (parse_number(p, s + i, e - i, NUM_VALUE, &smp->exemplar_value) != 0)
        return fail(p, "exemplar of %s has an invalid value '%s'", smp->name,
                    show(s + i, e - i, shown, sizeof(shown)));
    smp->has_exemplar = 1;
    if (e == n)
        return 0;
    i = e + 1;
    e = (size_t)token_end(s, n, i, 1);
    double ts;
    if (e != n || parse_number(p, s + i, e - i, NUM_REAL, &ts) != 0)
        return fail(p, "exemplar of %s has an invalid timestamp '%s'", smp->name,
                    show(s + i, n - i, shown, sizeof(shown)));
    return 0;
}

static int add_sample(struct parser *p, struct prom_parsed_sample *s)
{
    struct prom_doc *d = p->doc;
    if (d->nsamples == p->sample_cap) {
        size_t cap = p->sample_cap ? p->sample_cap * 2 : 64;
        struct prom_parsed_sample *a = realloc(d->samples, cap * sizeof(*a));
        if (!a)
            return oom(p);
        d->samples = a;
        p->sample_cap = cap;
    }
    d->samples[d->nsamples++] = *s;
    return 0;
}

/* Text format: the family already named name (families may reappear there). 1 and *owner,
 * 0 when there is none, -1 when out of memory. */
static int find_text_family(struct parser *p, const char *name, size_t n, size_t *owner)
{
    char *key = arena_strndup(p->doc->arena, name, n);
    if (!key)
        return -1;
    return map_find(&p->names, key, owner);
}

/* Which family a sample named name (length n) belongs to, starting a new one if needed; sets
 * *suffix to the part after the family name. */
static int assign_family(struct parser *p, const char *name, size_t n, size_t *fam,
                         const char **suffix)
{
    if (p->cur >= 0) {
        const struct prom_parsed_family *f = &p->doc->families[p->cur];
        size_t fl = strlen(f->name);
        enum prom_type t = f->type;
        if (!p->om && t == PROM_TYPE_UNKNOWN)
            t = PROM_TYPE_GAUGE; /* untyped: the name itself only */
        if (n >= fl && memcmp(name, f->name, fl) == 0) {
            for (const char *const *sx = suffixes_for(t); *sx; sx++) {
                if (n - fl == strlen(*sx) && memcmp(name + fl, *sx, n - fl) == 0) {
                    /* 0.0.4 counters and gauges use the bare family name */
                    if (!p->om && (t == PROM_TYPE_HISTOGRAM || t == PROM_TYPE_SUMMARY) &&
                        strcmp(*sx, "_created") == 0)
                        continue;
                    *fam = (size_t)p->cur;
                    *suffix = *sx;
                    return 0;
                }
            }
            if (!p->om && n == fl) {
                *fam = (size_t)p->cur;
                *suffix = "";
                return 0;
            }
        }
    }
    if (!p->om) {
        size_t owner;
        int found = find_text_family(p, name, n, &owner);
        if (found < 0)
            return oom(p);
        if (found) {
            *fam = owner;
            *suffix = "";
            p->cur = (long)owner;
            return 0;
        }
    }
    int rc = start_family(p, name, n);
    if (rc)
        return rc;
    *fam = (size_t)p->cur;
    *suffix = "";
    return 0;
}

/* The value at s[*i], after one space (OpenMetrics) or any blanks (text format); *i moves past
 * it. */
static int parse_value(struct parser *p, const char *s, size_t n, size_t *i,
                       struct prom_parsed_sample *smp)
{
    char shown[64];
    size_t before = *i;
    if (p->om && *i < n && s[*i] == ' ')
        (*i)++;
    else if (!p->om)
        skip_blanks(s, n, i);
    if (*i == before)
        return fail(p, "%s: expected a space and a value after the %s", smp->name,
                    p->nlabels ? "labels" : "name");
    size_t e = (size_t)token_end(s, n, *i, p->om);
    if (e == *i)
        return fail(p, "%s: missing value", smp->name);
    if (parse_number(p, s + *i, e - *i, NUM_VALUE, &smp->value) != 0)
        return fail(p, "%s: invalid value '%s'", smp->name,
                    show(s + *i, e - *i, shown, sizeof(shown)));
    *i = e;
    return 0;
}

/* OpenMetrics: what may follow the value at s[i]: " TIMESTAMP", " # EXEMPLAR", or both. */
static int parse_om_tail(struct parser *p, const char *s, size_t n, size_t i,
                         struct prom_parsed_sample *smp)
{
    char shown[64];
    if (i >= n)
        return 0;
    i++; /* the single space */
    if (i < n && s[i] == '#')
        return parse_exemplar(p, s, n, i + 1, smp);
    size_t e = (size_t)token_end(s, n, i, 1);
    if (parse_number(p, s + i, e - i, NUM_REAL, &smp->timestamp_s) != 0)
        return fail(p, "%s: invalid timestamp '%s'", smp->name,
                    show(s + i, e - i, shown, sizeof(shown)));
    smp->has_timestamp = 1;
    if (e < n) {
        if (e + 1 >= n || s[e + 1] != '#')
            return fail(p, "%s: unexpected text after the timestamp", smp->name);
        return parse_exemplar(p, s, n, e + 2, smp);
    }
    return 0;
}

/* Text format: an optional timestamp in integer milliseconds after the value at s[i]. */
static int parse_text_tail(struct parser *p, const char *s, size_t n, size_t i,
                           struct prom_parsed_sample *smp)
{
    char shown[64];
    skip_blanks(s, n, &i);
    if (i >= n)
        return 0;
    size_t e = (size_t)token_end(s, n, i, 0);
    size_t k = i;
    if (s[k] == '-' || s[k] == '+')
        k++;
    int ok = k < e;
    for (; k < e; k++)
        ok = ok && is_digit(s[k]);
    if (!ok)
        return fail(p, "%s: invalid timestamp '%s' (integer milliseconds expected)", smp->name,
                    show(s + i, e - i, shown, sizeof(shown)));
    char *buf = scratch(p, e - i);
    if (!buf)
        return oom(p);
    memcpy(buf, s + i, e - i);
    buf[e - i] = '\0';
    smp->timestamp_s = strtod(buf, NULL) / 1000.0;
    smp->has_timestamp = 1;
    i = e;
    skip_blanks(s, n, &i);
    if (i < n)
        return fail(p, "%s: unexpected text after the timestamp", smp->name);
    return 0;
}

/* A parsed sample into its family (with its labels), checked in OpenMetrics mode. */
static int store_sample(struct parser *p, struct prom_parsed_sample *smp, size_t name_len)
{
    const char *suffix;
    int rc = assign_family(p, smp->name, name_len, &smp->family, &suffix);
    if (rc)
        return rc;
    if (p->nlabels) {
        struct prom_label *l = arena_alloc(p->doc->arena, p->nlabels * sizeof(*l));
        if (!l)
            return oom(p);
        memcpy(l, p->labels, p->nlabels * sizeof(*l));
        smp->labels = l;
        smp->nlabels = p->nlabels;
    }
    p->cur_has_samples = 1;
    if (p->om) {
        rc = check_om_sample(p, smp, suffix);
        if (rc)
            return rc;
    }
    return add_sample(p, smp);
}

static int parse_sample(struct parser *p, const char *s, size_t n)
{
    char shown[64];
    struct prom_parsed_sample smp;
    memset(&smp, 0, sizeof(smp));
    smp.line = p->lineno;
    size_t i = 0;
    if (!is_name_start(s[0]))
        return fail(p, "expected a metric name at '%s'", show(s, n, shown, sizeof(shown)));
    while (i < n && is_name_char(s[i]))
        i++;
    size_t name_len = i;
    char *name = arena_strndup(p->doc->arena, s, name_len);
    if (!name)
        return oom(p);
    smp.name = name;
    p->nlabels = 0;
    size_t after_name = i;
    if (!p->om)
        skip_blanks(s, n, &i); /* the text format allows blanks before '{' */
    if (i < n && s[i] == '{') {
        int rc = parse_labels(p, s, n, &i, 0, name);
        if (rc)
            return rc;
    } else {
        i = after_name;
    }
    int rc = parse_value(p, s, n, &i, &smp);
    if (rc == 0)
        rc = p->om ? parse_om_tail(p, s, n, i, &smp) : parse_text_tail(p, s, n, i, &smp);
    if (rc == 0)
        rc = store_sample(p, &smp, name_len);
    return rc;
}

/* ---- metadata lines ---- */

static int parse_type_word(const char *w, size_t n, int om, enum prom_type *t)
{
    for (size_t k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++) {
        if (strlen(type_names[k]) == n && memcmp(type_names[k], w, n) == 0) {
            *t = (enum prom_type)k;
            if (!om && (k == PROM_TYPE_GAUGEHISTOGRAM || k == PROM_TYPE_INFO ||
                        k == PROM_TYPE_STATESET || k == PROM_TYPE_UNKNOWN))
                return -1;
            return 0;
        }
    }
    if (!om && n == 7 && memcmp(w, "untyped", 7) == 0) {
        *t = PROM_TYPE_UNKNOWN;
        return 0;
    }
    return -1;
}

/* The family a metadata line for name refers to: the current one if it has no samples yet,
 * else a new one. */
static int metadata_family(struct parser *p, const char *name, size_t n)
{
    if (p->cur >= 0) {
        const char *cur = p->doc->families[p->cur].name;
        if (strlen(cur) == n && memcmp(cur, name, n) == 0) {
            if (p->om && p->cur_has_samples)
                return fail(p, "metadata for %s after its samples", cur);
            return 0;
        }
    }
    if (!p->om) {
        size_t owner;
        int found = find_text_family(p, name, n, &owner);
        if (found < 0)
            return oom(p);
        if (found) {
            p->cur = (long)owner;
            p->cur_has_samples = 1;
            return 0;
        }
    }
    return start_family(p, name, n);
}

static int check_unit_fits(struct parser *p, const struct prom_parsed_family *f)
{
    if (f->unit && (f->type == PROM_TYPE_INFO || f->type == PROM_TYPE_STATESET))
        return fail(p, "%s is a %s and cannot have a unit", f->name, type_names[f->type]);
    return 0;
}

enum md_kind { MD_COMMENT, MD_HELP, MD_TYPE, MD_UNIT };

/* The keyword after '#' (HELP, TYPE, or in OpenMetrics UNIT) into *kind, *i past it; MD_COMMENT
 * for a plain comment of the text format. */
static int metadata_keyword(struct parser *p, const char *s, size_t n, size_t *i,
                            enum md_kind *kind)
{
    char shown[64];
    *i = 1;
    if (p->om) {
        if (n < 2 || s[1] != ' ')
            return fail(p, "comment lines are not allowed in OpenMetrics: '%s'",
                        show(s, n, shown, sizeof(shown)));
        *i = 2;
    } else {
        skip_blanks(s, n, i);
    }
    size_t kw = *i;
    while (*i < n && s[*i] != ' ' && s[*i] != '\t')
        (*i)++;
    size_t kwl = *i - kw;
    *kind = MD_COMMENT;
    if (kwl == 4 && memcmp(s + kw, "HELP", 4) == 0)
        *kind = MD_HELP;
    else if (kwl == 4 && memcmp(s + kw, "TYPE", 4) == 0)
        *kind = MD_TYPE;
    else if (p->om && kwl == 4 && memcmp(s + kw, "UNIT", 4) == 0)
        *kind = MD_UNIT;
    if (*kind == MD_COMMENT && p->om)
        return fail(p, "unknown metadata '%s' (expected HELP, TYPE, UNIT or EOF)",
                    show(s + kw, kwl, shown, sizeof(shown)));
    return 0;
}

/* The metric name after the keyword at s[*i] (s[*ns..*ns + *nl)), and the separator before the
 * rest, *i past it. *kind becomes MD_COMMENT for a text-format "# HELP" with nothing after. */
static int metadata_name(struct parser *p, const char *s, size_t n, size_t *i, enum md_kind *kind,
                         size_t *ns, size_t *nl)
{
    char shown[64];
    const char *kwname = *kind == MD_HELP ? "HELP" : *kind == MD_TYPE ? "TYPE" : "UNIT";
    if (*i >= n || s[*i] != ' ')
        return fail(p, "# %s needs a metric name", kwname);
    if (p->om)
        (*i)++;
    else
        skip_blanks(s, n, i);
    *ns = *i;
    while (*i < n && is_name_char(s[*i]))
        (*i)++;
    *nl = *i - *ns;
    if (*nl == 0 || !is_name_start(s[*ns])) {
        if (!p->om && *nl == 0) {
            *kind = MD_COMMENT; /* "# HELP" with nothing after: a comment */
            return 0;
        }
        return fail(p, "# %s: invalid metric name '%s'", kwname,
                    show(s + *ns, n - *ns, shown, sizeof(shown)));
    }
    if (*i >= n || (s[*i] != ' ' && (p->om || s[*i] != '\t'))) {
        if (*i < n)
            return fail(p, "# %s: invalid metric name '%s'", kwname,
                        show(s + *ns, n - *ns, shown, sizeof(shown)));
        if (!p->om && *kind == MD_HELP)
            *i = n; /* 0.0.4: HELP with an empty text */
        else
            return fail(p, "# %s %s: missing %s", kwname, show(s + *ns, *nl, shown, sizeof(shown)),
                        *kind == MD_HELP   ? "help text"
                        : *kind == MD_TYPE ? "type"
                                           : "unit");
    } else if (p->om) {
        (*i)++;
    } else {
        skip_blanks(s, n, i);
    }
    return 0;
}

static int metadata_help(struct parser *p, struct prom_parsed_family *f, const char *rest,
                         size_t rl)
{
    if (p->cur_has_help)
        return fail(p, "second HELP line for %s", f->name);
    p->cur_has_help = 1;
    f->help = unescape(p, rest, rl);
    return f->help ? 0 : oom(p);
}

static int metadata_type(struct parser *p, struct prom_parsed_family *f, const char *rest,
                         size_t rl)
{
    char shown[64];
    enum prom_type t;
    if (!p->om)
        while (rl > 0 && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t'))
            rl--;
    if (parse_type_word(rest, rl, p->om, &t) != 0)
        return fail(p, "# TYPE %s: unknown type '%s'", f->name,
                    show(rest, rl, shown, sizeof(shown)));
    if (p->cur_has_type)
        return fail(p, "second TYPE line for %s", f->name);
    p->cur_has_type = 1;
    f->type = t;
    int rc;
    if (p->om)
        for (const char *const *sx = suffixes_for(t); *sx; sx++)
            if ((rc = claim_name(p, p->cur, *sx)) != 0)
                return rc;
    return check_unit_fits(p, f);
}

static int metadata_unit(struct parser *p, struct prom_parsed_family *f, const char *rest,
                         size_t rl)
{
    char shown[64];
    for (size_t k = 0; k < rl; k++)
        if (!is_name_char(rest[k]))
            return fail(p, "# UNIT %s: invalid unit '%s'", f->name,
                        show(rest, rl, shown, sizeof(shown)));
    if (p->cur_has_unit)
        return fail(p, "second UNIT line for %s", f->name);
    p->cur_has_unit = 1;
    size_t fl = strlen(f->name);
    if (rl > 0 &&
        !(fl > rl + 1 && f->name[fl - rl - 1] == '_' && memcmp(f->name + fl - rl, rest, rl) == 0))
        return fail(p, "# UNIT: metric name %s does not end with its unit _%.*s", f->name, (int)rl,
                    rest);
    f->unit = arena_strndup(p->doc->arena, rest, rl);
    if (!f->unit)
        return oom(p);
    return check_unit_fits(p, f);
}

static int parse_metadata(struct parser *p, const char *s, size_t n)
{
    size_t i, ns = 0, nl = 0;
    enum md_kind kind = MD_COMMENT;
    int rc = metadata_keyword(p, s, n, &i, &kind);
    if (rc == 0 && kind != MD_COMMENT)
        rc = metadata_name(p, s, n, &i, &kind, &ns, &nl);
    if (rc || kind == MD_COMMENT)
        return rc;
    if ((rc = metadata_family(p, s + ns, nl)) != 0)
        return rc;
    struct prom_parsed_family *f = &p->doc->families[p->cur];
    if (kind == MD_HELP)
        return metadata_help(p, f, s + i, n - i);
    if (kind == MD_TYPE)
        return metadata_type(p, f, s + i, n - i);
    return metadata_unit(p, f, s + i, n - i);
}

/* ---- driver ---- */

static int parse_all(struct parser *p)
{
    size_t pos = 0;
    int saw_eof = 0;
    while (pos < p->len) {
        p->lineno++;
        const char *line = p->text + pos;
        const char *nl = memchr(line, '\n', p->len - pos);
        size_t n = nl ? (size_t)(nl - line) : p->len - pos;
        pos += n + (nl ? 1 : 0);
        if (p->om) {
            if (saw_eof)
                return fail(p, "text after # EOF");
            if (n == 5 && memcmp(line, "# EOF", 5) == 0) {
                saw_eof = 1;
                continue;
            }
            if (!nl)
                return fail(p, "the last line has no newline, and no # EOF follows");
            if (n == 0)
                return fail(p, "blank lines are not allowed in OpenMetrics");
            int rc = line[0] == '#' ? parse_metadata(p, line, n) : parse_sample(p, line, n);
            if (rc)
                return rc;
        } else {
            if (n > 0 && line[n - 1] == '\r')
                n--;
            size_t i = 0;
            skip_blanks(line, n, &i);
            if (i == n)
                continue;
            int rc = line[i] == '#' ? parse_metadata(p, line + i, n - i)
                                    : parse_sample(p, line + i, n - i);
            if (rc)
                return rc;
        }
    }
    if (p->om && !saw_eof) {
        p->lineno++;
        return fail(p, "missing # EOF at the end");
    }
    return p->cur >= 0 ? finish_histogram_point(p) : 0;
}

int prom_parse(const char *text, size_t len, enum prom_format format, struct prom_doc **out,
               char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct prom_doc *doc = calloc(1, sizeof(*doc));
    if (!doc)
        return AE_ENOMEM;
    doc->format = format;
    doc->arena = calloc(1, sizeof(*doc->arena));
    if (!doc->arena) {
        free(doc);
        return AE_ENOMEM;
    }
    struct parser p;
    memset(&p, 0, sizeof(p));
    p.text = text ? text : "";
    p.len = text ? len : 0;
    p.om = format == PROM_FORMAT_OPENMETRICS;
    p.doc = doc;
    p.err = err;
    p.errlen = errlen;
    p.cur = -1;
    int rc = parse_all(&p);
    map_clear(&p.names);
    map_clear(&p.groups);
    free(p.labels);
    free(p.scratch);
    if (rc) {
        prom_doc_free(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

void prom_doc_free(struct prom_doc *doc)
{
    if (!doc)
        return;
    free(doc->families);
    free(doc->samples);
    arena_free(doc->arena);
    free(doc);
}

enum prom_format prom_format_for_content_type(const char *content_type)
{
    if (content_type && strstr(content_type, "application/openmetrics-text"))
        return PROM_FORMAT_OPENMETRICS;
    return PROM_FORMAT_TEXT;
}

const char *prom_label_value(const struct prom_parsed_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

static int sum_named(const struct prom_doc *doc, const char *name, double *out)
{
    int found = 0;
    double total = 0;
    for (size_t i = 0; i < doc->nsamples; i++) {
        if (strcmp(doc->samples[i].name, name) == 0) {
            total += doc->samples[i].value;
            found = 1;
        }
    }
    if (found)
        *out = total;
    return found;
}

int prom_sum(const struct prom_doc *doc, const char *name, double *out)
{
    if (sum_named(doc, name, out))
        return 0;
    size_t n = strlen(name);
    if (n >= 6 && strcmp(name + n - 6, "_total") == 0)
        return AE_ENOENT;
    char buf[256];
    if (n + 7 > sizeof(buf))
        return AE_ENOENT;
    memcpy(buf, name, n);
    memcpy(buf + n, "_total", 7);
    return sum_named(doc, buf, out) ? 0 : AE_ENOENT;
}

int prom_histogram_get(const struct prom_doc *doc, const char *base, struct prom_histogram *out)
{
    char bucket[256], sum[256], count[256];
    if (snprintf(bucket, sizeof(bucket), "%s_bucket", base) >= (int)sizeof(bucket))
        return AE_EINVAL;
    snprintf(sum, sizeof(sum), "%s_sum", base);
    snprintf(count, sizeof(count), "%s_count", base);
    memset(out, 0, sizeof(*out));
    out->sum = NAN;
    int has_count = 0;
    double total_count = 0, total_sum = 0;
    int has_sum = 0;
    for (size_t i = 0; i < doc->nsamples; i++) {
        const struct prom_parsed_sample *s = &doc->samples[i];
        if (strcmp(s->name, sum) == 0) {
            total_sum += s->value;
            has_sum = 1;
            continue;
        }
        if (strcmp(s->name, count) == 0) {
            total_count += s->value;
            has_count = 1;
            continue;
        }
        if (strcmp(s->name, bucket) != 0)
            continue;
        const char *lev = prom_label_value(s, "le");
        double le;
        char *end;
        if (!lev)
            continue;
        le = strtod(lev, &end);
        if (end == lev || *end != '\0' || isnan(le))
            continue;
        /* insert into the ascending bound list, or add to an equal bound */
        size_t k = 0;
        while (k < out->nbuckets && out->le[k] < le)
            k++;
        if (k < out->nbuckets && out->le[k] == le) {
            out->cumulative[k] += s->value;
            continue;
        }
        if (out->nbuckets == PROM_HIST_MAX_BUCKETS)
            return AE_ERANGE;
        memmove(&out->le[k + 1], &out->le[k], (out->nbuckets - k) * sizeof(double));
        memmove(&out->cumulative[k + 1], &out->cumulative[k], (out->nbuckets - k) * sizeof(double));
        out->le[k] = le;
        out->cumulative[k] = s->value;
        out->nbuckets++;
    }
    if (out->nbuckets == 0 || !isinf(out->le[out->nbuckets - 1]))
        return AE_ENOENT;
    if (has_sum)
        out->sum = total_sum;
    out->count = has_count ? total_count : out->cumulative[out->nbuckets - 1];
    return 0;
}
