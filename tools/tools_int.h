/*
 * tools_int.h: helpers shared by the sub-commands in tools/ (private to the folder).
 */
#ifndef SL_TOOLS_INT_H
#define SL_TOOLS_INT_H

#include "config.h"

#include <stddef.h>

/* Loads the config at config_path, applies the overrides (borrowed), verifies the formatted
 * directories and runs the node until SIGTERM/SIGINT. Returns the process exit code (0 after a
 * clean shutdown, 1 on a configuration, directory or start-up error). Used by `server start`
 * and `dev`. */
int tools_run_node(const char *config_path, const struct node_override *overrides,
                   size_t override_count);

#endif
