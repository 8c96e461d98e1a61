/* TEMPORARY (removed by the fetch helper): link placeholders while fetch.c is written. */
#include "brk_int.h"
void brk_fetch_stop(struct brk *b) { (void)b; }
enum sl_err brk_fetch_sessions_create(struct brk *b) { (void)b; return SL_OK; }
void brk_fetch_sessions_destroy(struct brk *b) { (void)b; }
