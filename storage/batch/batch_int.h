/*
 * batch_int.h: private helpers shared by the files of storage/batch.
 */
#ifndef SL_STOR_BATCH_INT_H
#define SL_STOR_BATCH_INT_H

#include "batch.h"

/* Checks the frame of the batch at p[0..n) (see stor_batch_parse_header) and fills out
 * (records = the raw or compressed records area). Returns STOR_PROBLEM_NONE or the first
 * problem found: TRUNCATED, MAGIC, CRC, COMPRESSION, or COUNT (negative count or
 * lastOffsetDelta). */
enum stor_batch_problem stor_batch_frame(const uint8_t *p, size_t n, struct stor_batch_view *out);

#endif
