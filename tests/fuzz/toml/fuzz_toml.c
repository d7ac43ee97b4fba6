/* libFuzzer target for the TOML parser and the configuration loader on top of it.
 *
 * Parses the input as a document; when it parses, walks the whole tree through the public
 * accessors (and formats every date), so a malformed tree would show up under the sanitizers.
 * Then loads the same input as aether.toml, and prints the effective config when it is valid.
 * In normal builds the corpus in corpus/ is replayed as a ctest. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aether/cfgload.h"
#include "aether/toml.h"

static size_t walk(const toml_value *v)
{
    size_t n = 1;
    switch (toml_type_of(v)) {
    case TOML_TABLE:
        for (size_t i = 0; i < toml_table_count(v); i++) {
            size_t len;
            (void)toml_table_key(v, i, &len);
            n += walk(toml_table_value(v, i));
        }
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < toml_array_count(v); i++)
            n += walk(toml_array_at(v, i));
        break;
    case TOML_STRING: {
        size_t len;
        const char *s = toml_string(v, &len);
        n += s[len] == '\0' ? 0 : 1;
        break;
    }
    case TOML_INTEGER:
    case TOML_FLOAT:
    case TOML_BOOL:
        break;
    default: {
        char buf[64];
        toml_datetime_format(v, buf, sizeof(buf));
        break;
    }
    }
    (void)toml_line(v);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    toml_value *doc = NULL;
    if (toml_parse((const char *)data, size, "fuzz.toml", &doc, err, sizeof(err)) == 0) {
        walk(doc);
        toml_free(doc);
    }
    struct ae_config cfg;
    cfg_sources *sources = NULL;
    if (cfg_load_string((const char *)data, size, "fuzz.toml", NULL, &cfg, &sources, err, sizeof(err)) ==
        0) {
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            cfg_print_effective(null, &cfg, sources);
            fclose(null);
        }
        cfg_sources_free(sources);
        cfg_free(&cfg);
    }
    return 0;
}
