/*
 * test_broker_produce.c: Produce through brk_handle() with a real log manager and io loop
 * (brk_test_util.h): v3 and flexible v9 with acks 1 / -1 / 0, offsets in order across
 * partitions and batches, every per-partition error, LogAppendTime, recompression to the
 * topic's codec, group commit of parked acks=-1 requests; and the partition table following
 * image changes (a removed topic's log is deleted, after an append in flight; re-creation;
 * a log that cannot be created; enough partitions to grow the hash).
 */
#include "brk_test_util.h"

/* ---- Produce ----------------------------------------------------------------------------------
 */

START_TEST(test_produce_offsets_in_order)
{
	const int16_t versions[] = {3, 9};
	const int16_t acks[] = {1, -1};
	int64_t expect[3] = {0, 0, 0};
	for (size_t vi = 0; vi < 2; vi++) {
		for (size_t ai = 0; ai < 2; ai++) {
			/* Two partitions in one request, plus a second batch for partition 0. */
			struct sl_buf b1, b2;
			sl_buf_init(&b1, 1 << 20);
			sl_buf_init(&b2, 1 << 20);
			make_batch(&b1, 3, 1000, 10, 0);
			make_batch(&b2, 2, 1000, 10, 0);
			struct pdata pd[2] = {{"orders", 0, b1.data, (int32_t)b1.len},
			                      {"orders", 2, b2.data, (int32_t)b2.len}};
			ck_assert_int_eq(produce(versions[vi], acks[ai], pd, 2), BRK_RESPOND);
			struct wire_produce_response resp;
			struct wire_produce_response_partition_produce_response *p0 =
			        produce_reply(versions[vi], &resp, 0);
			struct wire_produce_response_partition_produce_response *p2 =
			        &resp.responses[1].partition_responses[0];
			ck_assert_int_eq(p0->error_code, 0);
			ck_assert_int_eq(p2->error_code, 0);
			ck_assert_int_eq(p0->index, 0);
			ck_assert_int_eq(p2->index, 2);
			ck_assert_int_eq(p0->base_offset, expect[0]);
			ck_assert_int_eq(p2->base_offset, expect[2]);
			ck_assert_int_eq(p0->log_append_time_ms, -1);
			ck_assert_int_eq(p0->log_start_offset, versions[vi] >= 5 ? 0 : -1);
			ck_assert_int_eq(
			        resp.responses[0].partition_responses[0].record_errors_count, 0);
			expect[0] += 3;
			expect[2] += 2;
			if (acks[ai] == -1) {
				/* acks=all answers only once durable: the high watermark is there.
				 */
				ck_assert_int_eq(log_state("orders", 0).durable_offset, expect[0]);
				ck_assert_int_eq(log_state("orders", 2).durable_offset, expect[2]);
			}
			sl_buf_free(&b1);
			sl_buf_free(&b2);
		}
	}
	run_until_idle();
	/* acks=1 still moves the high watermark (the broker asks for durability itself). */
	ck_assert_int_eq(log_state("orders", 0).durable_offset, expect[0]);
	ck_assert_int_eq(log_state("orders", 1).end_offset, 0);
}
END_TEST

START_TEST(test_produce_acks_zero_sends_nothing)
{
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 4, 1000, 10, 0);
	struct pdata pd = {"orders", 1, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(7, 0, &pd, 1), BRK_NO_RESPONSE);
	run_until_idle();
	ck_assert_int_eq(log_state("orders", 1).end_offset, 4);
	ck_assert_int_eq(log_state("orders", 1).durable_offset, 4);
	/* An error with acks=0 closes the connection (Kafka's only way to tell the producer). */
	struct pdata bad = {"nope", 0, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(7, 0, &bad, 1), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(T.reason, "acks=0"));
}
END_TEST

START_TEST(test_produce_errors)
{
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	uint8_t *good = T.batch.data;
	int32_t len = (int32_t)T.batch.len;
	ck_assert_int_eq(produce_error(9, 2, "orders", 0, good, len),
	                 WIRE_ERR_INVALID_REQUIRED_ACKS);
	ck_assert_int_eq(produce_error(9, 1, "nope", 0, good, len),
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(produce_error(9, 1, "orders", 3, good, len),
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(produce_error(9, 1, "orders", 0, NULL, -1), WIRE_ERR_INVALID_RECORD);
	/* CRC mismatch. */
	uint8_t *copy = malloc((size_t)len);
	memcpy(copy, good, (size_t)len);
	copy[len - 1] ^= 0xff;
	ck_assert_int_eq(produce_error(9, 1, "orders", 0, copy, len), WIRE_ERR_CORRUPT_MESSAGE);
	/* Truncated batch. */
	ck_assert_int_eq(produce_error(9, 1, "orders", 0, good, len - 5), WIRE_ERR_CORRUPT_MESSAGE);
	/* Magic 1 (a v1 message set): not supported. */
	memcpy(copy, good, (size_t)len);
	copy[16] = 1;
	for (int16_t v = 0; v <= 3; v++)
		ck_assert_int_eq(produce_error(v, 1, "orders", 0, copy, len),
		                 WIRE_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
	copy[16] = 0;
	ck_assert_int_eq(produce_error(0, 1, "orders", 0, copy, len),
	                 WIRE_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
	free(copy);
	/* Over the topic's max.message.bytes (300). */
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 400, 0);
	ck_assert_int_eq(produce_error(9, 1, "small", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_MESSAGE_TOO_LARGE);
	/* Record count larger than the records present: INVALID_RECORD (v8+ record_errors). */
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	sl_store_be32(T.batch.data + 57, 3);
	uint32_t crc = sl_crc32c(0, T.batch.data + 21, T.batch.len - 21);
	sl_store_be32(T.batch.data + 17, crc);
	ck_assert_int_eq(produce_error(9, 1, "orders", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_INVALID_RECORD);
	/* Nothing was appended by any of them. */
	ck_assert_int_eq(log_state("orders", 0).end_offset, 0);
	ck_assert_int_eq(log_state("small", 0).end_offset, 0);
	/* Offline log: KAFKA_STORAGE_ERROR is covered by brk_partition_log_error (no fault
	 * injection here); a good batch still works after all the failures. */
	ck_assert_int_eq(produce_one(9, 1, "orders", 0, 2, 1000), 0);
}
END_TEST

START_TEST(test_produce_log_append_time)
{
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	int64_t before = sl_wall_ms();
	struct pdata pd = {"lat", 0, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(9, -1, &pd, 1), BRK_RESPOND);
	struct wire_produce_response resp;
	struct wire_produce_response_partition_produce_response *pr = produce_reply(9, &resp, 0);
	ck_assert_int_eq(pr->error_code, 0);
	ck_assert_int_ge(pr->log_append_time_ms, before);
	ck_assert_int_le(pr->log_append_time_ms, sl_wall_ms());
}
END_TEST

/* Reads the first batch of a partition back through the log. */
static struct stor_batch_header first_batch(const char *topic)
{
	struct stor_log *log = stor_log_manager_get(T.logs, topic, 0);
	struct stor_read_result rr;
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, -1, &rr), SL_OK);
	uint8_t *buf = malloc(rr.range.len);
	ck_assert_int_eq(pread(rr.range.fd, buf, rr.range.len, (off_t)rr.range.position),
	                 (ssize_t)rr.range.len);
	struct stor_batch_view v;
	size_t consumed;
	ck_assert_int_eq(stor_batch_parse_header(buf, rr.range.len, &v, &consumed), SL_OK);
	struct stor_batch_header h = v.h;
	free(buf);
	return h;
}

START_TEST(test_produce_recompresses_to_topic_codec)
{
	ck_assert_int_eq(produce_one(9, -1, "gz", 0, 5, 1000), 0);
	struct stor_batch_header h = first_batch("gz");
	ck_assert_int_eq(h.attributes & STOR_BATCH_ATTR_COMPRESSION_MASK, STOR_COMPRESSION_GZIP);
	ck_assert_int_eq(h.record_count, 5);
	/* "producer" (the default): a gzip batch stays gzip, a plain one stays plain. */
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 3, 1000, 10, STOR_COMPRESSION_GZIP);
	struct pdata pd = {"orders", 0, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(9, -1, &pd, 1), BRK_RESPOND);
	h = first_batch("orders");
	ck_assert_int_eq(h.attributes & STOR_BATCH_ATTR_COMPRESSION_MASK, STOR_COMPRESSION_GZIP);
}
END_TEST

/* Kafka's LogValidator rewrites a CreateTime batch's maxTimestamp from its records: a client's
 * header value is not trusted (retention, the time index and ListOffsets -3 read it). */
START_TEST(test_produce_rewrites_bogus_max_timestamp)
{
	const int64_t bogus[] = {INT64_MAX / 2, 5};
	for (size_t i = 0; i < SL_ARRAY_LEN(bogus); i++) {
		sl_buf_reset(&T.batch);
		make_batch(&T.batch, 3, 1000, 10, i == 0 ? 0 : STOR_COMPRESSION_GZIP);
		sl_store_be64(T.batch.data + 35, (uint64_t)bogus[i]);
		uint32_t crc = sl_crc32c(0, T.batch.data + 21, T.batch.len - 21);
		sl_store_be32(T.batch.data + 17, crc);
		struct pdata pd = {"orders", 0, T.batch.data, (int32_t)T.batch.len};
		ck_assert_int_eq(produce(9, -1, &pd, 1), BRK_RESPOND);
		struct wire_produce_response resp;
		ck_assert_int_eq(produce_reply(9, &resp, 0)->error_code, 0);
	}
	ck_assert_int_eq(first_batch("orders").max_timestamp, 1002);
	struct wire_list_offsets_response_partition_response p = list_offsets(7, "orders", 0, -3);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.offset, 2);
	ck_assert_int_eq(p.timestamp, 1002);
	/* The second (gzip) batch's records 1000..1002 are found by time too. */
	p = list_offsets(7, "orders", 0, 1001);
	ck_assert_int_eq(p.offset, 1);
}
END_TEST

/* ---- the partition table follows the image --------------------------------------------------- */

START_TEST(test_topic_removed_deletes_log)
{
	ck_assert_int_eq(produce_one(9, -1, "lat", 0, 2, 1000), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/lat-0", T.dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct meta_remove_topic_record rt;
	meta_remove_topic_record_init(&rt);
	rt.topic_id = topic_uuid(2);
	meta_frame_put(&b, 9, 0);
	meta_remove_topic_record_encode(&b, 0, &rt);
	delta_record(d, &b);
	sl_buf_free(&b);
	publish(d);
	run_until_idle();
	ck_assert_ptr_null(stor_log_manager_get(T.logs, "lat", 0));
	ck_assert_int_ne(stat(path, &st), 0);
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 1, 1000, 10, 0);
	ck_assert_int_eq(produce_error(9, 1, "lat", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	/* Re-created under the same name with another id: a fresh, empty log. */
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	add_topic(d, "lat", 12, 1, 0, NULL, NULL);
	publish(d);
	ck_assert_int_eq(produce_one(9, -1, "lat", 0, 1, 1000), 0);
}
END_TEST

START_TEST(test_produce_several_batches_in_one_entry)
{
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	make_batch(&T.batch, 3, 2000, 10, STOR_COMPRESSION_LZ4);
	struct pdata pd = {"orders", 1, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(8, -1, &pd, 1), BRK_RESPOND);
	struct wire_produce_response resp;
	struct wire_produce_response_partition_produce_response *pr = produce_reply(8, &resp, 0);
	ck_assert_int_eq(pr->error_code, 0);
	ck_assert_int_eq(pr->base_offset, 0);
	ck_assert_int_eq(log_state("orders", 1).durable_offset, 5);
	ck_assert_int_eq(produce_one(8, 1, "orders", 1, 1, 3000), 5);
}
END_TEST

START_TEST(test_produce_storage_error_when_log_cannot_be_created)
{
	/* A plain file where the partition dir should go: the log cannot be created. */
	char path[256];
	snprintf(path, sizeof(path), "%s/blocked-0", T.dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	add_topic(d, "blocked", 20, 1, 0, NULL, NULL);
	publish(d);
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 1, 1000, 10, 0);
	ck_assert_int_eq(produce_error(9, 1, "blocked", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(list_offsets(7, "blocked", 0, -1).error_code,
	                 WIRE_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(delete_records(2, "blocked", 0).error_code, WIRE_ERR_KAFKA_STORAGE_ERROR);
}
END_TEST

START_TEST(test_topic_removed_during_append)
{
	/* The append is in flight when the topic goes: the log is deleted only afterwards. */
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	begin(K_PRODUCE, 9);
	struct wire_produce_request_partition_produce_data pp;
	wire_produce_request_partition_produce_data_init(&pp);
	pp.index = 0;
	pp.records = (struct wire_bytes){T.batch.data, (int32_t)T.batch.len};
	struct wire_produce_request_topic_produce_data td;
	wire_produce_request_topic_produce_data_init(&td);
	td.name = wire_str_c("lat");
	td.partition_data_count = 1;
	td.partition_data = &pp;
	struct wire_produce_request req;
	wire_produce_request_init(&req);
	req.acks = -1;
	req.topic_data_count = 1;
	req.topic_data = &td;
	wire_produce_request_encode(&T.req, 9, &req);
	struct brk_frame f = {
	        .data = T.req.data, .len = T.req.len, .arena = &T.arena, .done = frame_done};
	ck_assert_int_eq(brk_handle(T.brk, &f, &T.resp, T.reason, sizeof(T.reason)), BRK_PENDING);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct meta_remove_topic_record rt;
	meta_remove_topic_record_init(&rt);
	rt.topic_id = topic_uuid(2);
	meta_frame_put(&b, 9, 0);
	meta_remove_topic_record_encode(&b, 0, &rt);
	delta_record(d, &b);
	sl_buf_free(&b);
	publish(d);
	/* Still there: an append is in flight. */
	ck_assert_ptr_nonnull(stor_log_manager_get(T.logs, "lat", 0));
	run_until_idle();
	ck_assert_int_eq(T.done_calls, 1);
	ck_assert_int_eq(T.done_outcome, BRK_RESPOND);
	ck_assert_ptr_null(stor_log_manager_get(T.logs, "lat", 0));
}
END_TEST

START_TEST(test_produce_not_enough_replicas)
{
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	add_topic(d, "misr", 22, 1, 0, "min.insync.replicas", "2");
	publish(d);
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 1, 1000, 10, 0);
	ck_assert_int_eq(produce_error(9, -1, "misr", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_NOT_ENOUGH_REPLICAS);
	ck_assert_int_eq(log_state("misr", 0).end_offset, 0);
	/* acks=1 does not look at the ISR (Kafka). */
	ck_assert_int_eq(produce_one(9, 1, "misr", 0, 1, 1000), 0);
}
END_TEST

/* Several acks=-1 requests parked at once share fdatasync rounds (group commit). */
struct parked {
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	char reason[128];
	int done;
	enum brk_outcome outcome;
};

static void parked_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	struct parked *pk = ctx;
	pk->done++;
	pk->outcome = outcome;
}

START_TEST(test_produce_group_commit)
{
	enum { N = 8 };
	static struct parked pk[N];
	static struct brk_frame frames[N];
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 2, 1000, 10, 0);
	for (int i = 0; i < N; i++) {
		sl_arena_init(&pk[i].arena, 4096, 1 << 20);
		sl_buf_init(&pk[i].req, 1 << 16);
		sl_buf_init(&pk[i].resp, 1 << 16);
		pk[i].done = 0;
		struct wire_request_header h;
		wire_request_header_init(&h);
		h.api_key = K_PRODUCE;
		h.api_version = 9;
		h.correlation_id = i;
		h.client_id = wire_str_c("gc");
		wire_request_header_encode(&pk[i].req, &h);
		struct wire_produce_request_partition_produce_data pp;
		wire_produce_request_partition_produce_data_init(&pp);
		pp.index = 0;
		pp.records = (struct wire_bytes){T.batch.data, (int32_t)T.batch.len};
		struct wire_produce_request_topic_produce_data td;
		wire_produce_request_topic_produce_data_init(&td);
		td.name = wire_str_c("orders");
		td.partition_data_count = 1;
		td.partition_data = &pp;
		struct wire_produce_request req;
		wire_produce_request_init(&req);
		req.acks = -1;
		req.topic_data_count = 1;
		req.topic_data = &td;
		wire_produce_request_encode(&pk[i].req, 9, &req);
		frames[i] = (struct brk_frame){.data = pk[i].req.data,
		                               .len = pk[i].req.len,
		                               .arena = &pk[i].arena,
		                               .done = parked_done,
		                               .done_ctx = &pk[i]};
		ck_assert_int_eq(brk_handle(T.brk, &frames[i], &pk[i].resp, pk[i].reason,
		                            sizeof(pk[i].reason)),
		                 BRK_PENDING);
	}
	ck_assert(brk_busy(T.brk));
	run_until_idle();
	bool seen[N] = {false};
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pk[i].done, 1);
		ck_assert_int_eq(pk[i].outcome, BRK_RESPOND);
		struct wire_reader r;
		wire_reader_init(&r, pk[i].resp.data, pk[i].resp.len, &pk[i].arena);
		int32_t cid;
		ck_assert_int_eq(wire_response_header_decode(&r, 1, &cid), SL_OK);
		ck_assert_int_eq(cid, i);
		struct wire_produce_response resp;
		ck_assert_int_eq(wire_produce_response_decode(&r, 9, &resp), SL_OK);
		const struct wire_produce_response_partition_produce_response *p =
		        &resp.responses[0].partition_responses[0];
		ck_assert_int_eq(p->error_code, 0);
		ck_assert_int_eq(p->base_offset % 2, 0);
		ck_assert_int_lt(p->base_offset, 2 * N);
		ck_assert(!seen[p->base_offset / 2]);
		seen[p->base_offset / 2] = true;
		sl_arena_free(&pk[i].arena);
		sl_buf_free(&pk[i].req);
		sl_buf_free(&pk[i].resp);
	}
	struct stor_log *log = stor_log_manager_get(T.logs, "orders", 0);
	ck_assert_int_eq(log_state("orders", 0).durable_offset, 2 * N);
	ck_assert_uint_lt(stor_log_flush_rounds(log), N);
}
END_TEST

START_TEST(test_topic_config_change_applies)
{
	ck_assert_int_eq(produce_one(9, 1, "orders", 0, 2, 1000), 0);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct meta_config_record cr;
	meta_config_record_init(&cr);
	cr.resource_type = META_RESOURCE_TOPIC;
	cr.resource_name = wire_str_c("orders");
	cr.name = wire_str_c("max.message.bytes");
	cr.value = wire_str_c("200");
	meta_frame_put(&b, 4, 0);
	meta_config_record_encode(&b, 0, &cr);
	delta_record(d, &b);
	/* A key storage does not hold is ignored, not an error. */
	cr.name = wire_str_c("min.compaction.lag.ms");
	cr.value = wire_str_c("5");
	meta_frame_put(&b, 4, 0);
	meta_config_record_encode(&b, 0, &cr);
	delta_record(d, &b);
	sl_buf_free(&b);
	publish(d);
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 3, 1000, 100, 0);
	ck_assert_int_eq(produce_error(9, 1, "orders", 0, T.batch.data, (int32_t)T.batch.len),
	                 WIRE_ERR_MESSAGE_TOO_LARGE);
	ck_assert_int_eq(produce_one(9, 1, "orders", 0, 1, 1000), 2);
}
END_TEST

START_TEST(test_many_partitions)
{
	/* Enough partitions to grow the partition table's hash several times. */
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	add_topic(d, "wide", 21, 300, 0, NULL, NULL);
	publish(d);
	for (int32_t p = 0; p < 300; p += 37)
		ck_assert_int_eq(produce_one(9, 1, "wide", p, 1, 1000), 0);
	ck_assert_int_eq(produce_one(9, 1, "wide", 299, 2, 1000), 0);
	ck_assert_int_eq(produce_one(9, -1, "wide", 299, 1, 1000), 2);
	ck_assert_int_eq(list_offsets(7, "wide", 299, -1).offset, 3);
	ck_assert_int_eq(list_offsets(7, "wide", 300, -1).error_code,
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_produce");
	TCase *tc = tcase_create("data");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_produce_offsets_in_order);
	tcase_add_test(tc, test_produce_acks_zero_sends_nothing);
	tcase_add_test(tc, test_produce_errors);
	tcase_add_test(tc, test_produce_log_append_time);
	tcase_add_test(tc, test_produce_recompresses_to_topic_codec);
	tcase_add_test(tc, test_produce_rewrites_bogus_max_timestamp);
	tcase_add_test(tc, test_topic_removed_deletes_log);
	tcase_add_test(tc, test_produce_several_batches_in_one_entry);
	tcase_add_test(tc, test_produce_storage_error_when_log_cannot_be_created);
	tcase_add_test(tc, test_topic_removed_during_append);
	tcase_add_test(tc, test_many_partitions);
	tcase_add_test(tc, test_topic_config_change_applies);
	tcase_add_test(tc, test_produce_group_commit);
	tcase_add_test(tc, test_produce_not_enough_replicas);
	suite_add_tcase(s, tc);
	return s;
}
