/* TEMPORARY (removed by the CLI helper): link placeholders while the CLI commands are written. */
#include "tools.h"
#include <stdio.h>
int tools_topic_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
int tools_produce_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
int tools_consume_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
