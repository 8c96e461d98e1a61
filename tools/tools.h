/*
 * tools.h: the `sluice` command-line sub-commands. Each takes the arguments after its own
 * name (argv[0] is the sub-command name), prints errors on stderr and returns the process exit
 * code (0 success, 1 failure, 2 usage error).
 */
#ifndef SL_TOOLS_H
#define SL_TOOLS_H

/* sluice storage random-uuid | format | info   (tools/storage_cmd.c) */
int tools_storage_main(int argc, char **argv);
/* sluice server start -c FILE [--override k=v]... (tools/server_cmd.c) */
int tools_server_main(int argc, char **argv);
/* sluice dev [--dir DIR] [--port N]              (tools/dev_cmd.c) */
int tools_dev_main(int argc, char **argv);
/* sluice cluster [--nodes N | --controllers C --brokers B] [--dir DIR] [--base-port P]
 *                [--rack-count R] [-o key=value]... [--print-config]   (tools/cluster_cmd.c) */
int tools_cluster_main(int argc, char **argv);
/* sluice topic create|list|describe|delete|alter-config|describe-config (tools/topic_cmd.c) */
int tools_topic_main(int argc, char **argv);
/* sluice produce --topic T [options] < lines       (tools/produce_cmd.c) */
int tools_produce_main(int argc, char **argv);
/* sluice consume --topic T [options]                (tools/consume_cmd.c) */
int tools_consume_main(int argc, char **argv);
/* sluice quorum describe [--status | --replication]   (tools/quorum_cmd.c) */
int tools_quorum_main(int argc, char **argv);
/* sluice metadata dump [--metadata-dir DIR | -c FILE] [--snapshots-only | --log-only] [FILE...]
 *                                                    (tools/metadata_cmd.c) */
int tools_metadata_main(int argc, char **argv);

#endif
