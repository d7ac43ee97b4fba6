/* Shared declarations of the aether-model subcommands. */
#ifndef AETHER_MODEL_TOOL_H
#define AETHER_MODEL_TOOL_H

#include "aether/nn.h"

/* Each subcommand gets argv after its name and returns the process exit status. */
int cmd_validate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_conformance(int argc, char **argv);

/* Finds the window (W) and horizon (H) of a predictor model: W from want_window when > 0, else the
 * declared input or aether.window; H from want_horizon when > 0, else by planning the model for
 * W. Returns 0 or prints the error and returns non-zero. */
int tool_model_dims(const char *path, int want_window, int want_horizon, int *window, int *horizon);

/* Parses a positive int option value; prints an error naming opt and returns -1 when invalid. */
int tool_parse_int(const char *opt, const char *value);

#endif
