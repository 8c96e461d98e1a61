/*
 * server_cmd.c: `sluice server start -c FILE [--override key=value]...`.
 *
 * Loads the config (file + overrides, Kafka's validation), logs the unknown-key warnings, and
 * runs the node in the foreground until SIGTERM / SIGINT. A config or start-up error is one
 * line on stderr and exit code 1; a usage error is exit code 2.
 */
#include "tools.h"
#include "tools_int.h"

#include "config.h"
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_MAX_OVERRIDES 128

static void server_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice server start -c FILE [--override key=value]...\n"
	        "\n"
	        "Runs a node (broker, controller or both, from process.roles) in the foreground\n"
	        "until SIGTERM or SIGINT. The log directories must have been formatted with\n"
	        "`sluice storage format`.\n"
	        "\n"
	        "options:\n"
	        "  -c, --config FILE        server.properties (Kafka's key names)\n"
	        "  --override key=value     set a config key, after the file (repeatable)\n"
	        "  -h, --help               show this help\n");
}

int tools_run_node(const char *config_path, const struct node_override *overrides,
                   size_t override_count)
{
	static struct node_config config; /* large; one per process */
	struct node_config_warnings warnings = {.count = 0};
	char err[1024] = "";
	enum sl_err e = node_config_load(config_path, overrides, override_count, &config, &warnings,
	                                 err, sizeof(err));
	for (size_t i = 0; i < warnings.count; i++)
		SL_WARN(NULL, "%s", warnings.text[i]);
	if (e != SL_OK) {
		fprintf(stderr, "sluice: %s\n", err);
		return 1;
	}
	e = node_run(&config, err, sizeof(err));
	if (e != SL_OK) {
		fprintf(stderr, "sluice: %s\n", err);
		return 1;
	}
	return 0;
}

int tools_server_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		server_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "start") != 0) {
		fprintf(stderr, "sluice server: unknown sub-command '%s'\n\n", argv[1]);
		server_usage(stderr);
		return 2;
	}
	const char *config_path = NULL;
	static struct node_override overrides[SERVER_MAX_OVERRIDES];
	size_t override_count = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			server_usage(stdout);
			return 0;
		}
		bool has_value = i + 1 < argc;
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has_value) {
			config_path = argv[++i];
		} else if (strcmp(a, "--override") == 0 && has_value) {
			char err[256];
			if (override_count == SERVER_MAX_OVERRIDES) {
				fprintf(stderr, "sluice: too many --override options (max %d)\n",
				        SERVER_MAX_OVERRIDES);
				return 2;
			}
			if (node_override_parse(argv[++i], &overrides[override_count], err,
			                        sizeof(err)) != SL_OK) {
				fprintf(stderr, "sluice: %s\n", err);
				return 2;
			}
			override_count++;
		} else {
			fprintf(stderr, "sluice server start: unexpected argument '%s'\n\n", a);
			server_usage(stderr);
			return 2;
		}
	}
	if (config_path == NULL) {
		fprintf(stderr, "sluice server start: -c FILE is required\n\n");
		server_usage(stderr);
		return 2;
	}
	return tools_run_node(config_path, overrides, override_count);
}
