/*
 * main.c: the `sluice` binary. Dispatches to the sub-commands in tools/.
 */
#include "tools.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice <command> [options]\n"
	             "\n"
	             "commands:\n"
	             "  storage random-uuid|format|info   prepare and inspect log directories\n"
	             "  server start -c FILE              run a node (broker, controller or both)\n"
	             "  dev                               format ./data if needed and run a\n"
	             "                                    single-node cluster on localhost:9092\n"
	             "  cluster [--nodes N]               format and run a local cluster on\n"
	             "                                    127.0.0.1 (combined or split)\n"
	             "  topic create|list|describe|delete|alter-config|describe-config\n"
	             "                                    manage topics over the Kafka protocol\n"
	             "  produce --topic T                 send lines from stdin or a file\n"
	             "  consume --topic T                 print records\n"
	             "  metadata dump                     print the metadata log and snapshots\n"
	             "\n"
	             "Run `sluice <command> --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("sluice 0.1.0\n");
		return 0;
	}
	if (strcmp(cmd, "storage") == 0)
		return tools_storage_main(argc - 1, argv + 1);
	if (strcmp(cmd, "server") == 0)
		return tools_server_main(argc - 1, argv + 1);
	if (strcmp(cmd, "dev") == 0)
		return tools_dev_main(argc - 1, argv + 1);
	if (strcmp(cmd, "cluster") == 0)
		return tools_cluster_main(argc - 1, argv + 1);
	if (strcmp(cmd, "topic") == 0)
		return tools_topic_main(argc - 1, argv + 1);
	if (strcmp(cmd, "produce") == 0)
		return tools_produce_main(argc - 1, argv + 1);
	if (strcmp(cmd, "consume") == 0)
		return tools_consume_main(argc - 1, argv + 1);
	if (strcmp(cmd, "quorum") == 0)
		return tools_quorum_main(argc - 1, argv + 1);
	if (strcmp(cmd, "metadata") == 0)
		return tools_metadata_main(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
