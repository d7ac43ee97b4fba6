/* toml-test conformance runner for the TOML parser.
 *
 * Usage: toml_test_runner TOML_TEST_DIR [LIST]   run every case named in LIST
 *                                                (default TOML_TEST_DIR/files-toml-1.0.0)
 *        toml_test_runner --suite DEFAULT_DIR    the toml-test suite itself: its tests/ folder
 *                                                from AETHER_TOML_TEST_DIR, else DEFAULT_DIR;
 *                                                skipped (exit 77) when absent
 *        toml_test_runner --decode FILE          print FILE in toml-test's tagged JSON
 *
 * toml-test's valid cases come as X.toml + X.json, where the JSON holds the expected document in
 * tagged form: every leaf is {"type": T, "value": "text"}. We decode X.toml into the same form
 * (jansson) and compare leaf by leaf with toml-test's own equivalence rules: integers and floats
 * by numeric value (nan equals nan), date-times as instants, local dates and times by their
 * fields, strings byte for byte. Invalid cases must be rejected by the parser. Failures are
 * printed one per line; the last line is "N passed, N failed". Exit status 0 only when nothing
 * failed and at least one case ran. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/toml.h"
#include "aether/calendar.h"
#include "aether/fileio.h"
#include "conformance_data.h"

static const char *tag_of(enum toml_type t)
{
    switch (t) {
    case TOML_STRING:
        return "string";
    case TOML_INTEGER:
        return "integer";
    case TOML_FLOAT:
        return "float";
    case TOML_BOOL:
        return "bool";
    case TOML_DATETIME:
        return "datetime";
    case TOML_DATETIME_LOCAL:
        return "datetime-local";
    case TOML_DATE_LOCAL:
        return "date-local";
    case TOML_TIME_LOCAL:
        return "time-local";
    default:
        return "?";
    }
}

/* jansson accepts NUL in string values (JSON_ALLOW_NUL) but not in object keys, and one case
 * has the key "\u0000". Both sides therefore spell U+0000 as U+FDD0 (a noncharacter that no case
 * uses; load_expected refuses a file that does). Returns a malloc'd copy. */
#define NUL_STANDIN "\xEF\xB7\x90"

static char *nul_safe(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(3 * len + 1);
    size_t n = 0;
    for (size_t i = 0; out && i < len; i++) {
        if (s[i] == '\0') {
            memcpy(out + n, NUL_STANDIN, 3);
            n += 3;
        } else {
            out[n++] = s[i];
        }
    }
    *out_len = n;
    return out;
}

/* The tagged JSON of a value (new reference). */
static json_t *encode(const toml_value *v)
{
    enum toml_type t = toml_type_of(v);
    if (t == TOML_TABLE) {
        json_t *obj = json_object();
        for (size_t i = 0; i < toml_table_count(v); i++) {
            size_t len, safe_len;
            const char *key = toml_table_key(v, i, &len);
            char *safe = nul_safe(key, len, &safe_len);
            json_object_setn_new_nocheck(obj, safe, safe_len, encode(toml_table_value(v, i)));
            free(safe);
        }
        return obj;
    }
    if (t == TOML_ARRAY) {
        json_t *arr = json_array();
        for (size_t i = 0; i < toml_array_count(v); i++)
            json_array_append_new(arr, encode(toml_array_at(v, i)));
        return arr;
    }
    char text[64];
    json_t *value;
    if (t == TOML_STRING) {
        size_t len, safe_len;
        const char *s = toml_string(v, &len);
        char *safe = nul_safe(s, len, &safe_len);
        value = json_stringn_nocheck(safe, safe_len);
        free(safe);
    } else {
        if (t == TOML_INTEGER) {
            snprintf(text, sizeof(text), "%lld", (long long)toml_integer(v));
        } else if (t == TOML_FLOAT) {
            double d = toml_float(v);
            if (isnan(d))
                snprintf(text, sizeof(text), "nan");
            else if (isinf(d))
                snprintf(text, sizeof(text), "%sinf", d < 0 ? "-" : "");
            else
                snprintf(text, sizeof(text), "%.17g", d);
        } else if (t == TOML_BOOL) {
            snprintf(text, sizeof(text), "%s", toml_bool(v) ? "true" : "false");
        } else {
            toml_datetime_format(v, text, sizeof(text));
        }
        value = json_string(text);
    }
    return json_pack("{s:s, s:o}", "type", tag_of(t), "value", value);
}

/* A comparable form of a date/time text: fields plus, for offset date-times, the instant. */
struct when {
    int y, mo, d, h, mi, s;
    long ns;
    int has_offset, offset;
};

static int parse_when(const char *text, struct when *w)
{
    memset(w, 0, sizeof(*w));
    const char *p = text;
    int n = 0;
    if (strlen(p) >= 10 && p[4] == '-') {
        if (sscanf(p, "%4d-%2d-%2d%n", &w->y, &w->mo, &w->d, &n) != 3)
            return -1;
        p += n;
        if (*p == 'T' || *p == 't' || *p == ' ')
            p++;
        else if (*p == '\0')
            return 0;
    }
    if (sscanf(p, "%2d:%2d:%2d%n", &w->h, &w->mi, &w->s, &n) != 3)
        return -1;
    p += n;
    if (*p == '.') {
        long scale = 100000000;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            w->ns += (*p - '0') * scale;
    }
    if (*p == 'Z' || *p == 'z') {
        w->has_offset = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return -1;
        w->has_offset = 1;
        w->offset = (*p == '-' ? -1 : 1) * (oh * 60 + om);
        p += 6;
    }
    return *p == '\0' ? 0 : -1;
}

static int same_when(const char *a, const char *b)
{
    struct when x, y;
    if (parse_when(a, &x) || parse_when(b, &y) || x.has_offset != y.has_offset)
        return 0;
    if (x.has_offset) {
        long long ix = (ae_days_from_civil(x.y, x.mo, x.d) * 86400LL) + x.h * 3600 + x.mi * 60 +
                       x.s - x.offset * 60LL;
        long long iy = (ae_days_from_civil(y.y, y.mo, y.d) * 86400LL) + y.h * 3600 + y.mi * 60 +
                       y.s - y.offset * 60LL;
        return ix == iy && x.ns == y.ns;
    }
    return x.y == y.y && x.mo == y.mo && x.d == y.d && x.h == y.h && x.mi == y.mi && x.s == y.s &&
           x.ns == y.ns;
}

static double float_of(const char *s)
{
    const char *body = (*s == '+' || *s == '-') ? s + 1 : s;
    if (strcmp(body, "nan") == 0)
        return NAN;
    if (strcmp(body, "inf") == 0)
        return *s == '-' ? -INFINITY : INFINITY;
    return strtod(s, NULL);
}

static int same_leaf(const char *type, const char *got, size_t got_len, const char *want,
                     size_t want_len)
{
    if (strcmp(type, "integer") == 0)
        return strtoll(got, NULL, 10) == strtoll(want, NULL, 10);
    if (strcmp(type, "float") == 0) {
        double g = float_of(got), w = float_of(want);
        return (isnan(g) && isnan(w)) || g == w;
    }
    if (strncmp(type, "date", 4) == 0 || strcmp(type, "time-local") == 0)
        return same_when(got, want);
    return got_len == want_len && memcmp(got, want, got_len) == 0;
}

static int is_leaf(json_t *j)
{
    return json_is_object(j) && json_object_size(j) == 2 &&
           json_is_string(json_object_get(j, "type")) &&
           json_is_string(json_object_get(j, "value"));
}

/* Compares decoded `got` with expected `want`; on mismatch writes where into `why`. */
static int same(json_t *got, json_t *want, const char *path, char *why, size_t n)
{
    if (is_leaf(want)) {
        if (!is_leaf(got)) {
            snprintf(why, n, "at %s: expected a value, decoded a %s", path,
                     json_is_array(got) ? "array" : "table");
            return 0;
        }
        const char *gt = json_string_value(json_object_get(got, "type"));
        const char *wt = json_string_value(json_object_get(want, "type"));
        json_t *gv = json_object_get(got, "value"), *wv = json_object_get(want, "value");
        if (strcmp(gt, wt) != 0 || !same_leaf(wt, json_string_value(gv), json_string_length(gv),
                                              json_string_value(wv), json_string_length(wv))) {
            snprintf(why, n, "at %s: expected %s %s, decoded %s %s", path, wt,
                     json_string_value(wv), gt, json_string_value(gv));
            return 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) {
            snprintf(why, n, "at %s: expected an array of %zu items", path, json_array_size(want));
            return 0;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (!same(json_array_get(got, i), json_array_get(want, i), sub, why, n))
                return 0;
        }
        return 1;
    }
    if (!json_is_object(got) || is_leaf(got) || json_object_size(got) != json_object_size(want)) {
        snprintf(why, n, "at %s: expected a table of %zu keys", path, json_object_size(want));
        return 0;
    }
    const char *key;
    size_t key_len;
    json_t *wv;
    json_object_keylen_foreach(want, key, key_len, wv)
    {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s.%s", path, key);
        json_t *gv = json_object_getn(got, key, key_len);
        if (!gv) {
            snprintf(why, n, "at %s: key missing", sub);
            return 0;
        }
        if (!same(gv, wv, sub, why, n))
            return 0;
    }
    return 1;
}

static json_t *load_expected(const char *path, json_error_t *jerr)
{
    char *text;
    size_t len;
    if (ae_read_file(path, &text, &len, NULL, 0) != 0) {
        snprintf(jerr->text, sizeof(jerr->text), "cannot read");
        return NULL;
    }
    if (strstr(text, "\\ufdd0") || strstr(text, "\\uFDD0") || strstr(text, NUL_STANDIN)) {
        free(text);
        snprintf(jerr->text, sizeof(jerr->text), "uses U+FDD0, the runner's stand-in for NUL");
        return NULL;
    }
    /* Rewrite the escape \u0000 (a backslash that is not itself escaped) to \uFDD0. */
    for (size_t i = 0; i + 6 <= len; i++) {
        if (text[i] != '\\')
            continue;
        if (memcmp(text + i, "\\u0000", 6) == 0)
            memcpy(text + i, "\\uFDD0", 6);
        i++; /* skip the escaped character: an escaped backslash before u0000 is not an escape */
    }
    json_t *j = json_loads(text, 0, jerr);
    free(text);
    return j;
}

/* dir/rel into path; 0 when it fits. */
static int join_path(char *path, size_t size, const char *dir, const char *rel)
{
    int n = snprintf(path, size, "%s/%s", dir, rel);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

static int run_valid(const char *dir, const char *rel, char *why, size_t n)
{
    char path[1024], err[512];
    if (join_path(path, sizeof(path), dir, rel)) {
        snprintf(why, n, "path too long");
        return 0;
    }
    toml_value *doc;
    if (toml_parse_file(path, &doc, err, sizeof(err)) != 0) {
        snprintf(why, n, "rejected: %s", err);
        return 0;
    }
    memcpy(path + strlen(path) - 5, ".json", 5); /* X.toml -> X.json */
    json_error_t jerr;
    json_t *want = load_expected(path, &jerr);
    if (!want) {
        toml_free(doc);
        snprintf(why, n, "cannot read %s: %s", path, jerr.text);
        return 0;
    }
    json_t *got = encode(doc);
    int ok = same(got, want, "(root)", why, n);
    json_decref(got);
    json_decref(want);
    toml_free(doc);
    return ok;
}

static int run_invalid(const char *dir, const char *rel, char *why, size_t n)
{
    char path[1024], err[512];
    if (join_path(path, sizeof(path), dir, rel)) {
        snprintf(why, n, "path too long");
        return 0;
    }
    toml_value *doc;
    int rc = toml_parse_file(path, &doc, err, sizeof(err));
    if (rc == 0) {
        toml_free(doc);
        snprintf(why, n, "accepted, but toml-test says it is invalid");
        return 0;
    }
    if (strstr(err, "cannot open")) {
        snprintf(why, n, "%s", err);
        return 0;
    }
    return 1;
}

static int decode(const char *path)
{
    char err[512];
    toml_value *doc;
    if (toml_parse_file(path, &doc, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    json_t *j = encode(doc);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    putchar('\n');
    json_decref(j);
    toml_free(doc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--decode") == 0)
        return decode(argv[2]);
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s TOML_TEST_DIR [LIST] | --suite DEFAULT_DIR | --decode FILE\n",
                argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    if (argc == 3 && strcmp(argv[1], "--suite") == 0)
        dir = conformance_data_dir("AETHER_TOML_TEST_DIR", argv[2], "toml-test data",
                                   "the tests/ folder of a toml-test checkout");
    char list[1024];
    if (argc == 3 && dir == argv[1])
        snprintf(list, sizeof(list), "%s", argv[2]);
    else
        snprintf(list, sizeof(list), "%s/files-toml-1.0.0", dir);
    FILE *f = fopen(list, "r");
    if (!f) {
        fprintf(stderr, "toml-test: cannot open case list %s\n", list);
        return 2;
    }
    int passed = 0, failed = 0;
    char line[1024], why[1024];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len < 5 || strcmp(line + len - 5, ".toml") != 0)
            continue; /* the .json halves of valid cases */
        int ok;
        if (strncmp(line, "valid/", 6) == 0)
            ok = run_valid(dir, line, why, sizeof(why));
        else if (strncmp(line, "invalid/", 8) == 0)
            ok = run_invalid(dir, line, why, sizeof(why));
        else
            continue;
        if (ok) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: %s\n", line, why);
        }
    }
    fclose(f);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
