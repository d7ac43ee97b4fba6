/* The TOML document tree: construction helpers for the parser and the read-only accessors that
 * the configuration loader and the toml-test runner use. */
#include "toml_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"

toml_value *toml_value_new(enum toml_type type, int line, int col, int depth)
{
    toml_value *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->type = type;
    v->line = line;
    v->col = col;
    v->depth = depth;
    return v;
}

void toml_free(toml_value *v)
{
    if (!v)
        return;
    if (v->type == TOML_TABLE) {
        for (size_t i = 0; i < v->u.table.count; i++) {
            free(v->u.table.entries[i].key);
            toml_free(v->u.table.entries[i].value);
        }
        free(v->u.table.entries);
    } else if (v->type == TOML_ARRAY) {
        for (size_t i = 0; i < v->u.array.count; i++)
            toml_free(v->u.array.items[i]);
        free(v->u.array.items);
    } else if (v->type == TOML_STRING) {
        free(v->u.str.text);
    }
    free(v);
}

toml_value *toml_table_find(const toml_value *table, const char *key, size_t keylen)
{
    assert(table->type == TOML_TABLE);
    for (size_t i = 0; i < table->u.table.count; i++) {
        const struct toml_entry *e = &table->u.table.entries[i];
        if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
            return e->value;
    }
    return NULL;
}

int toml_table_add(toml_value *table, const char *key, size_t keylen, toml_value *value)
{
    assert(table->type == TOML_TABLE);
    if (table->u.table.count == table->u.table.cap) {
        size_t cap = table->u.table.cap ? table->u.table.cap * 2 : 8;
        struct toml_entry *grown = realloc(table->u.table.entries, cap * sizeof(*grown));
        if (!grown)
            return AE_ENOMEM;
        table->u.table.entries = grown;
        table->u.table.cap = cap;
    }
    char *copy = malloc(keylen + 1);
    if (!copy)
        return AE_ENOMEM;
    memcpy(copy, key, keylen);
    copy[keylen] = '\0';
    struct toml_entry *e = &table->u.table.entries[table->u.table.count++];
    e->key = copy;
    e->keylen = keylen;
    e->value = value;
    return 0;
}

int toml_array_push(toml_value *array, toml_value *item)
{
    assert(array->type == TOML_ARRAY);
    if (array->u.array.count == array->u.array.cap) {
        size_t cap = array->u.array.cap ? array->u.array.cap * 2 : 8;
        toml_value **grown = realloc(array->u.array.items, cap * sizeof(*grown));
        if (!grown)
            return AE_ENOMEM;
        array->u.array.items = grown;
        array->u.array.cap = cap;
    }
    array->u.array.items[array->u.array.count++] = item;
    return 0;
}

enum toml_type toml_type_of(const toml_value *v)
{
    return v->type;
}

const char *toml_type_name(enum toml_type type)
{
    switch (type) {
    case TOML_TABLE:
        return "table";
    case TOML_ARRAY:
        return "array";
    case TOML_STRING:
        return "string";
    case TOML_INTEGER:
        return "integer";
    case TOML_FLOAT:
        return "float";
    case TOML_BOOL:
        return "boolean";
    case TOML_DATETIME:
        return "offset date-time";
    case TOML_DATETIME_LOCAL:
        return "local date-time";
    case TOML_DATE_LOCAL:
        return "local date";
    case TOML_TIME_LOCAL:
        return "local time";
    }
    return "unknown";
}

int toml_line(const toml_value *v)
{
    return v->line;
}

int toml_column(const toml_value *v)
{
    return v->col;
}

size_t toml_table_count(const toml_value *table)
{
    assert(table->type == TOML_TABLE);
    return table->u.table.count;
}

const char *toml_table_key(const toml_value *table, size_t i, size_t *len)
{
    assert(table->type == TOML_TABLE && i < table->u.table.count);
    if (len)
        *len = table->u.table.entries[i].keylen;
    return table->u.table.entries[i].key;
}

const toml_value *toml_table_value(const toml_value *table, size_t i)
{
    assert(table->type == TOML_TABLE && i < table->u.table.count);
    return table->u.table.entries[i].value;
}

const toml_value *toml_table_get(const toml_value *table, const char *key)
{
    return toml_table_find(table, key, strlen(key));
}

size_t toml_array_count(const toml_value *array)
{
    assert(array->type == TOML_ARRAY);
    return array->u.array.count;
}

const toml_value *toml_array_at(const toml_value *array, size_t i)
{
    assert(array->type == TOML_ARRAY && i < array->u.array.count);
    return array->u.array.items[i];
}

const char *toml_string(const toml_value *v, size_t *len)
{
    assert(v->type == TOML_STRING);
    if (len)
        *len = v->u.str.len;
    return v->u.str.text;
}

int64_t toml_integer(const toml_value *v)
{
    assert(v->type == TOML_INTEGER);
    return v->u.integer;
}

double toml_float(const toml_value *v)
{
    assert(v->type == TOML_FLOAT);
    return v->u.real;
}

int toml_bool(const toml_value *v)
{
    assert(v->type == TOML_BOOL);
    return v->u.boolean;
}

const struct toml_datetime *toml_datetime(const toml_value *v)
{
    assert(v->type >= TOML_DATETIME && v->type <= TOML_TIME_LOCAL);
    return &v->u.dt;
}

int toml_datetime_format(const toml_value *v, char *buf, size_t size)
{
    const struct toml_datetime *d = toml_datetime(v);
    char date[32] = "", time[48] = "", frac[16] = "", zone[16] = "";
    if (v->type != TOML_TIME_LOCAL)
        snprintf(date, sizeof(date), "%04d-%02d-%02d", d->year, d->month, d->day);
    if (v->type != TOML_DATE_LOCAL) {
        if (d->frac_digits > 0) {
            /* Print the digits that were written, most significant first. */
            int ns = d->nanosecond;
            for (int i = 9; i > d->frac_digits; i--)
                ns /= 10;
            snprintf(frac, sizeof(frac), ".%0*d", d->frac_digits, ns);
        }
        snprintf(time, sizeof(time), "%s%02d:%02d:%02d%s", v->type == TOML_TIME_LOCAL ? "" : "T",
                 d->hour, d->minute, d->second, frac);
    }
    if (v->type == TOML_DATETIME) {
        int off = d->offset_minutes;
        if (off == 0)
            snprintf(zone, sizeof(zone), "Z");
        else
            snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60,
                     abs(off) % 60);
    }
    return snprintf(buf, size, "%s%s%s", date, time, zone);
}
