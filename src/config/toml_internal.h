/* The TOML document tree as the parser builds it (private to src/config).
 *
 * Tables carry flags recording how they came to exist, because TOML 1.0's redefinition rules
 * depend on it: a table made by a [header] cannot be defined again, one made by dotted keys
 * cannot be opened with a header, an inline table can never be extended, and a [[header]] may
 * only append to an array that [[headers]] created. */
#ifndef AETHER_TOML_INTERNAL_H
#define AETHER_TOML_INTERNAL_H

#include "aether/toml.h"

/* Deepest nesting of tables and arrays accepted (keeps recursion bounded on hostile input). */
#define TOML_MAX_DEPTH 256

enum toml_table_flags {
    TOML_TBL_HEADER = 1u << 0,   /* defined by a [header] or as a [[header]] element */
    TOML_TBL_IMPLICIT = 1u << 1, /* created as a parent of a header; may be defined once later */
    TOML_TBL_DOTTED = 1u << 2,   /* created by a dotted key in a key/value pair */
    TOML_TBL_INLINE = 1u << 3,   /* an inline table (or inside one): sealed */
};

struct toml_entry {
    char *key; /* owned, NUL-terminated; may hold NUL bytes before keylen */
    size_t keylen;
    toml_value *value; /* owned */
};

struct toml_value {
    enum toml_type type;
    int line, col;
    int depth; /* nesting level: the root is 0 */
    union {
        struct {
            struct toml_entry *entries;
            size_t count, cap;
            unsigned flags;
        } table;
        struct {
            toml_value **items;
            size_t count, cap;
            int of_tables; /* created by [[header]]: the only arrays [[header]] may extend */
        } array;
        struct {
            char *text; /* owned, NUL-terminated */
            size_t len;
        } str;
        int64_t integer;
        double real;
        int boolean;
        struct toml_datetime dt;
    } u;
};

/* Allocates a value of the given type with zeroed contents; NULL when out of memory. */
toml_value *toml_value_new(enum toml_type type, int line, int col, int depth);

/* Looks a key up by exact bytes; NULL when absent. */
toml_value *toml_table_find(const toml_value *table, const char *key, size_t keylen);

/* Appends key -> value (takes ownership of value; copies key). Returns 0 or AE_ENOMEM. The caller
 * has checked that the key is new. */
int toml_table_add(toml_value *table, const char *key, size_t keylen, toml_value *value);

/* Appends an item (takes ownership). Returns 0 or AE_ENOMEM. */
int toml_array_push(toml_value *array, toml_value *item);

#endif
