/* The configuration key table (private to src/config and its tests).
 *
 * One row per key: section, name, type, where the field lives in the core's structs, range and
 * help. Defaults are not written here: they are read from structs filled by the core's
 * cfg_*_defaults(), so the table and the core cannot disagree about them. */
#ifndef AETHER_CFG_SCHEMA_H
#define AETHER_CFG_SCHEMA_H

#include <stddef.h>

#include "aether/config.h"

enum cfg_section_id {
    CFG_SEC_NODE,
    CFG_SEC_API,
    CFG_SEC_CONTROLLER,
    CFG_SEC_TTM,
    CFG_SEC_CLUSTER,
    CFG_SEC_BLUEPRINT,            /* [[blueprint]]: fields of struct cfg_blueprint */
    CFG_SEC_BLUEPRINT_METRICS,    /* [blueprint.metrics]: also fields of struct cfg_blueprint */
    CFG_SEC_BLUEPRINT_PROMETHEUS, /* [blueprint.prometheus]: also fields of the blueprint */
    CFG_SEC_BLUEPRINT_QUERIES,    /* [blueprint.prometheus.queries]: also fields of it */
    CFG_SEC_COUNT
};

enum cfg_type {
    CFG_BOOL,   /* int field, true/false */
    CFG_INT,    /* int field */
    CFG_INT64,  /* int64_t field */
    CFG_DOUBLE, /* double field; integers are accepted too */
    CFG_STRING, /* fixed char buffer of `aux` bytes */
    CFG_ENUM,   /* enum field (int-sized), spelled as one of names[] */
    CFG_STRV,   /* char ** + int count at `aux`: array of strings */
    CFG_ENV,    /* struct cfg_env_var * + int count at `aux`: table of strings */
};

enum cfg_key_flags {
    CFG_REQUIRED = 1u << 0,       /* no default: the key must be written */
    CFG_MIN_EXCLUSIVE = 1u << 1,  /* value must be > min rather than >= min */
    CFG_NO_MAX = 1u << 2,         /* no upper bound */
    CFG_NONEMPTY = 1u << 3,       /* arrays: at least one element when written */
    CFG_PATH = 1u << 6,           /* a path, relative to the working directory */
    CFG_SECRET = 1u << 7,         /* never printed */
    CFG_HTTP_URL = 1u << 8,       /* arrays of strings: each an http:// URL (etcd: no TLS) */
    CFG_WEB_URL = 1u << 9,        /* arrays of strings: each an http:// or https:// URL */
    CFG_RECORDS_GIVEN = 1u << 10, /* writing the key sets the int at `given` to 1 */
};

struct cfg_key {
    enum cfg_section_id section;
    const char *name;
    enum cfg_type type;
    size_t offset;            /* field within the section's struct */
    size_t aux;               /* CFG_STRING: buffer size; CFG_STRV/ENV: count offset */
    double min, max;          /* numbers: allowed range (see flags) */
    const char *const *names; /* CFG_ENUM: spellings */
    int name_count;           /* CFG_ENUM: number of spellings */
    unsigned flags;           /* enum cfg_key_flags */
    unsigned kinds;           /* blueprint keys: the CFG_KIND()s they apply to; 0 = every kind */
    const char *default_text; /* shown instead of the struct default (derived ones) */
    size_t given;             /* CFG_RECORDS_GIVEN: offset of the int marking the key written */
    const char *help;
};

struct cfg_section_info {
    const char *name; /* "node", ..., "blueprint", "blueprint.metrics", ... */
    const char *help;
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_key_count;
extern const struct cfg_section_info cfg_sections[CFG_SEC_COUNT];

/* The sub-table of a blueprint section (`metrics` of [[blueprint]], `queries` of
 * [blueprint.prometheus]): its section, or -1 when name is none. */
int cfg_subsection(enum cfg_section_id parent, const char *name);

/* The row of `name` in `section`, or NULL. */
const struct cfg_key *cfg_key_find(enum cfg_section_id section, const char *name);

/* Base address of a row's section struct: a section of c, or blueprint b for blueprint rows. */
void *cfg_key_base(const struct cfg_key *k, struct ae_config *c, struct cfg_blueprint *b);
void *cfg_section_base(enum cfg_section_id section, struct ae_config *c, struct cfg_blueprint *b);

/* Writes the allowed values in words for docs and messages: "1..120", "> 0", ">= 0",
 * "one of: active, forecast-only", or "" when anything of the type goes. */
void cfg_key_range_text(const struct cfg_key *k, char *buf, size_t size);

/* Writes the field's value at base as a TOML literal ("60", "0.7", "\"info\"", "[\"a\"]",
 * "{ A = \"1\" }"). */
void cfg_key_format_value(const struct cfg_key *k, const void *base, char *buf, size_t size);

/* Writes the default as documented: default_text, else the core default as a TOML literal. */
void cfg_key_default_text(const struct cfg_key *k, char *buf, size_t size);

/* Type in words: "boolean", "integer", "float", "string", "string (one of the names)",
 * "array of strings", "table of strings". */
const char *cfg_type_words(const struct cfg_key *k);

/* Writes s as a TOML basic string (quotes and escapes included). */
void cfg_toml_quote(const char *s, char *buf, size_t size);

#endif
