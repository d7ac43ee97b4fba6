/* Describing the configuration from the key table: the effective configuration printed by
 * `aether-node --check-config` (valid TOML, each key with where its value came from) and the
 * key reference that docs/config.md carries. */
#include "cfg_schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aether/cfgload.h"
#include "aether/error.h"

/* Does row k apply to a blueprint with this actuator? */
static int applies(const struct cfg_key *k, enum cfg_actuator actuator)
{
    return !k->kinds || (k->kinds & CFG_KIND(actuator));
}

static void print_row(FILE *out, const struct cfg_key *k, const void *base, const char *source_key,
                      const cfg_sources *sources, const char *file_note)
{
    char value[4096], assign[4200], origin[256];
    if ((k->flags & CFG_SECRET) && ((const char *)base + k->offset)[0])
        snprintf(value, sizeof(value), "\"********\"");
    else
        cfg_key_format_value(k, base, value, sizeof(value));
    int line = cfg_sources_line(sources, source_key);
    if (line > 0)
        snprintf(origin, sizeof(origin), "%s:%d", file_note, line);
    else if (k->default_text && k->type != CFG_STRV && k->type != CFG_ENV)
        snprintf(origin, sizeof(origin), "default: %s", k->default_text);
    else
        snprintf(origin, sizeof(origin), "default");
    if ((k->flags & CFG_PATH) && value[1] != '/')
        strncat(origin, " (relative to the working directory)",
                sizeof(origin) - strlen(origin) - 1);
    if (k->flags & CFG_SECRET)
        strncat(origin, " (hidden)", sizeof(origin) - strlen(origin) - 1);
    /* A key whose absence means something (api.token: generate one) is printed as a comment
     * when it was not written, so that the printout read back keeps that meaning. */
    int unwritten =
        (k->flags & CFG_RECORDS_GIVEN) && !*(const int *)((const char *)base + k->given);
    snprintf(assign, sizeof(assign), "%s%s = %s", unwritten ? "# " : "", k->name, value);
    fprintf(out, "%-48s # %s\n", assign, origin);
}

int cfg_print_effective(FILE *out, const struct ae_config *c, const cfg_sources *sources)
{
    /* cfg_section_base wants mutable pointers; nothing here writes through them. */
    struct ae_config *cc = (struct ae_config *)c;
    const char *file = cfg_sources_file(sources);
    fprintf(out, "# Effective configuration. Each key shows where its value comes from: the line\n"
                 "# of the file that set it, or \"default\".\n");
    for (int s = CFG_SEC_NODE; s <= CFG_SEC_CLUSTER; s++) {
        fprintf(out, "\n[%s]\n", cfg_sections[s].name);
        for (size_t i = 0; i < cfg_key_count; i++) {
            const struct cfg_key *k = &cfg_keys[i];
            if ((int)k->section != s)
                continue;
            char key[128];
            snprintf(key, sizeof(key), "%s.%s", cfg_sections[s].name, k->name);
            print_row(out, k, cfg_key_base(k, cc, NULL), key, sources, file);
        }
    }
    for (int b = 0; b < c->blueprint_count; b++) {
        struct cfg_blueprint *bp = &cc->blueprints[b];
        for (int s = CFG_SEC_BLUEPRINT; s <= CFG_SEC_BLUEPRINT_QUERIES; s++) {
            const char *sub = cfg_sections[s].name + strlen("blueprint");
            if (s == CFG_SEC_BLUEPRINT)
                fprintf(out, "\n[[blueprint]]\n");
            else
                fprintf(out, "\n[%s]\n", cfg_sections[s].name);
            for (size_t i = 0; i < cfg_key_count; i++) {
                const struct cfg_key *k = &cfg_keys[i];
                if ((int)k->section != s || !applies(k, bp->actuator))
                    continue;
                char key[128];
                snprintf(key, sizeof(key), "blueprint[%d]%s.%s", b, sub, k->name);
                print_row(out, k, bp, key, sources, file);
            }
        }
    }
    return ferror(out) ? AE_EIO : 0;
}

/* What a valid file may still get wrong at run time, checked against the file system: a TTM
 * model that cannot be read (the node would then run the reactive tier only). Each warning is a
 * comment line of `out` naming the file:line and the key. Returns the number of warnings. */
static int warn_runtime(FILE *out, const char *path, const struct ae_config *c,
                        const cfg_sources *sources)
{
    int warnings = 0;
    if (c->ttm.enabled && access(c->ttm.model_path, R_OK) != 0) {
        int line = cfg_sources_line(sources, "ttm.model_path");
        fprintf(out,
                "# warning: %s:%d: ttm.model_path = \"%s\" cannot be read: %s (relative to the"
                " working directory); the node will run the reactive tier only\n",
                path, line, c->ttm.model_path, strerror(errno));
        warnings++;
    }
    return warnings;
}

int cfg_check_file(const char *path, cfg_check_fn check, FILE *out, char *err, size_t errlen)
{
    struct ae_config c;
    cfg_sources *sources = NULL;
    int rc = cfg_load_file(path, check, &c, &sources, err, errlen);
    if (rc)
        return rc;
    fprintf(out, "# %s is valid.\n", path);
    warn_runtime(out, path, &c, sources);
    rc = cfg_print_effective(out, &c, sources);
    cfg_sources_free(sources);
    cfg_free(&c);
    if (rc)
        snprintf(err, errlen, "cannot write the effective configuration");
    return rc;
}

/* Markdown table cell: '|' would end the cell. */
static void cell(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputs("\\|", out);
        else
            fputc(*p, out);
    }
}

int cfg_write_reference(FILE *out)
{
    for (int s = 0; s < CFG_SEC_COUNT; s++) {
        const char *name = cfg_sections[s].name;
        if (s == CFG_SEC_BLUEPRINT)
            fprintf(out, "### `[[blueprint]]`\n\n");
        else
            fprintf(out, "### `[%s]`\n\n", name);
        fprintf(out, "%s\n\n", cfg_sections[s].help);
        fprintf(out, "| Key | Type | Default | Allowed | Description |\n");
        fprintf(out, "|---|---|---|---|---|\n");
        for (size_t i = 0; i < cfg_key_count; i++) {
            const struct cfg_key *k = &cfg_keys[i];
            if ((int)k->section != s)
                continue;
            char def[512], range[256];
            if (k->flags & CFG_REQUIRED)
                snprintf(def, sizeof(def), "(required)");
            else
                cfg_key_default_text(k, def, sizeof(def));
            cfg_key_range_text(k, range, sizeof(range));
            fprintf(out, "| `%s` | %s | ", k->name, cfg_type_words(k));
            if (def[0] == '"' || def[0] == '[' || def[0] == '{' ||
                (def[0] >= '0' && def[0] <= '9') || strcmp(def, "true") == 0 ||
                strcmp(def, "false") == 0) {
                /* A TOML literal, possibly followed by words: code-format the literal. */
                const char *rest = strstr(def, " (");
                size_t lit = rest ? (size_t)(rest - def) : strlen(def);
                fprintf(out, "`%.*s`", (int)lit, def);
                if (rest)
                    cell(out, rest);
            } else {
                cell(out, def);
            }
            fputs(" | ", out);
            cell(out, range);
            fputs(" | ", out);
            cell(out, k->help);
            if (k->flags & CFG_PATH)
                fputs(" A relative path is relative to the working directory.", out);
            fputs(" |\n", out);
        }
        fputs("\n", out);
    }
    return ferror(out) ? AE_EIO : 0;
}
