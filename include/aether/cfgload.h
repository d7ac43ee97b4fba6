/* Loading aether.toml into struct ae_config (config.h), checking it, and describing it.
 *
 * One table in src/config (cfg_schema.c) lists every key: section, name, type, range and help;
 * defaults come from the core's cfg_*_defaults(). The same table drives loading (unknown keys,
 * wrong types and out-of-range values are errors naming file, line, key and the allowed range),
 * the effective-config printout of `aether-node --check-config` and the key reference in
 * docs/config.md. Cross-field rules (cpu_scale_up_threshold > cpu_scale_down_threshold, max >=
 * min, unique blueprint names, ...) are the core's cfg_validate(); its messages get the file and
 * line of the key they name.
 *
 * Relative paths in the file (node.data_dir, node.extensions_dir, ttm.model_path) are kept as
 * written: they are relative to the working directory of the process, not to the file. */
#ifndef AETHER_CFGLOAD_H
#define AETHER_CFGLOAD_H

#include <stddef.h>
#include <stdio.h>

#include "aether/config.h"

/* Where each key of a loaded file was written (file name and line); opaque. */
typedef struct cfg_sources cfg_sources;

/* A further check of a loaded config that passed cfg_validate, for rules the config library
 * cannot know (each actuator kind's own, actuator_check_config). 0, or an AE_E* code with a
 * message that starts with the key it names ("blueprint.web.command must ..."), like
 * cfg_validate's: the loader prefixes the file and line of that key. */
typedef int (*cfg_check_fn)(const struct ae_config *c, char *err, size_t errlen);

/* Loads and validates a TOML file: defaults first, then every key of the file, then the core's
 * validation, then `check` (NULL: none), then the derived defaults of each blueprint (instances =
 * min_instances, memory_limit_bytes = host memory / max_instances; see cfg_blueprint_resolve).
 * Returns 0 and fills *out (caller frees with cfg_free); when `sources` is not NULL also stores
 * where each key came from (caller frees with cfg_sources_free).
 * On failure returns AE_ENOENT/AE_EIO (file), AE_EPARSE (TOML syntax), AE_EINVAL (unknown key,
 * wrong type, bad value), AE_ERANGE (out of range), AE_EEXIST (duplicate blueprint name) or
 * AE_ENOMEM; writes one message to err such as
 *   "aether.toml:12: ttm.input_window_minutes = 500 is out of range 1..120"
 * and leaves *out holding nothing to free (defaults, no blueprints), *sources NULL. */
int cfg_load_file(const char *path, cfg_check_fn check, struct ae_config *out,
                  cfg_sources **sources, char *err, size_t errlen);

/* The same from text in memory; `name` (borrowed) stands for the file name in messages. */
int cfg_load_string(const char *text, size_t len, const char *name, cfg_check_fn check,
                    struct ae_config *out, cfg_sources **sources, char *err, size_t errlen);

/* Frees what cfg_load_* stored in *sources (NULL is fine). */
void cfg_sources_free(cfg_sources *sources);

/* The file name the sources were loaded from (borrowed; "" for NULL). */
const char *cfg_sources_file(const cfg_sources *sources);

/* Line where `key` was set ("ttm.mode", "blueprint[0].port_base", "blueprint[0].metrics.
 * requests_total"), or 0 when it was not in the file (the value is the default). */
int cfg_sources_line(const cfg_sources *sources, const char *key);

/* Prints the effective configuration as TOML: every key of every section and blueprint with its
 * value, and a comment saying "default" or the file:line it was set at. api.token is masked.
 * `sources` may be NULL (every value is then reported as a default). Returns 0 or AE_EIO. */
int cfg_print_effective(FILE *out, const struct ae_config *c, const cfg_sources *sources);

/* `aether-node --check-config FILE`: loads FILE (with `check`, as cfg_load_file); when valid prints
 * the effective config to `out` and returns 0, else returns the error code with the message in err
 * (nothing printed). A valid file whose enabled TTM model cannot be read (ttm.model_path, relative
 * to the working directory) gets a "# warning: FILE:LINE: ttm.model_path = ..." line before the
 * config; it is still valid (the node starts, reactive only), so the return is 0. */
int cfg_check_file(const char *path, cfg_check_fn check, FILE *out, char *err, size_t errlen);

/* Writes the key reference (markdown: one table per section, from the schema table). This is
 * the generated part of docs/config.md. Returns 0 or AE_EIO. */
int cfg_write_reference(FILE *out);

#endif
