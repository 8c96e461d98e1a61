/*
 * test_broker_offsets.c: ListOffsets (earliest / latest / by time / max timestamp, v0 old-style
 * offsets, flexible v9), DeleteRecords (then ListOffsets earliest moved; -1; out of range;
 * policy), OffsetForLeaderEpoch (Kafka's epoch-cache answers, fenced / unknown epochs) and
 * DescribeLogDirs (every version, filtered and unfiltered) through brk_handle() with a real log
 * manager and io loop (brk_test_util.h).
 */
#include "brk_test_util.h"

START_TEST(test_list_offsets)
{
	/* Batches with timestamps 1000..1002, 5000..5001, 3000..3003. */
	ck_assert_int_eq(produce_one(9, -1, "orders", 0, 3, 1000), 0);
	ck_assert_int_eq(produce_one(9, -1, "orders", 0, 2, 5000), 3);
	ck_assert_int_eq(produce_one(9, -1, "orders", 0, 4, 3000), 5);
	struct wire_list_offsets_response_partition_response p;
	p = list_offsets(7, "orders", 0, -2);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.offset, 0);
	ck_assert_int_eq(p.timestamp, -1);
	ck_assert_int_eq(p.leader_epoch, 0);
	p = list_offsets(7, "orders", 0, -1);
	ck_assert_int_eq(p.offset, 9);
	p = list_offsets(7, "orders", 0, -3);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.offset, 4);
	ck_assert_int_eq(p.timestamp, 5001);
	p = list_offsets(7, "orders", 0, 1001);
	ck_assert_int_eq(p.offset, 1);
	ck_assert_int_eq(p.timestamp, 1001);
	p = list_offsets(7, "orders", 0, 4000);
	ck_assert_int_eq(p.offset, 3);
	ck_assert_int_eq(p.timestamp, 5000);
	p = list_offsets(7, "orders", 0, 9999);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.offset, -1);
	ck_assert_int_eq(p.timestamp, -1);
	/* Flexible v9 and v0 (old-style offsets). */
	p = list_offsets(9, "orders", 0, -1);
	ck_assert_int_eq(p.offset, 9);
	p = list_offsets(0, "orders", 0, -1);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.old_style_offsets_count, 1);
	ck_assert_int_eq(p.old_style_offsets[0], 9);
	p = list_offsets(1, "orders", 0, -2);
	ck_assert_int_eq(p.offset, 0);
	/* Empty partition, unknown partition. */
	p = list_offsets(7, "orders", 1, -3);
	ck_assert_int_eq(p.error_code, 0);
	ck_assert_int_eq(p.offset, -1);
	p = list_offsets(7, "orders", 9, -1);
	ck_assert_int_eq(p.error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

START_TEST(test_delete_records)
{
	ck_assert_int_eq(produce_one(9, -1, "orders", 0, 5, 1000), 0);
	struct wire_delete_records_response_partition_result d = delete_records(2, "orders", 3);
	ck_assert_int_eq(d.error_code, 0);
	ck_assert_int_eq(d.low_watermark, 3);
	ck_assert_int_eq(list_offsets(7, "orders", 0, -2).offset, 3);
	/* Lower than the log start: nothing moves. */
	d = delete_records(1, "orders", 1);
	ck_assert_int_eq(d.error_code, 0);
	ck_assert_int_eq(d.low_watermark, 3);
	/* Beyond the high watermark. */
	d = delete_records(0, "orders", 6);
	ck_assert_int_eq(d.error_code, WIRE_ERR_OFFSET_OUT_OF_RANGE);
	/* -1: up to the high watermark. */
	d = delete_records(2, "orders", -1);
	ck_assert_int_eq(d.error_code, 0);
	ck_assert_int_eq(d.low_watermark, 5);
	ck_assert_int_eq(list_offsets(7, "orders", 0, -2).offset, 5);
	ck_assert_int_eq(delete_records(2, "nope", 0).error_code,
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(delete_records(2, "compact", 0).error_code, WIRE_ERR_POLICY_VIOLATION);
}
END_TEST

/* ---- OffsetForLeaderEpoch ------------------------------------------------------------------ */

static struct wire_offset_for_leader_epoch_response_epoch_end_offset
epoch_end(int16_t v, const char *topic, int32_t partition, int32_t epoch, int32_t current)
{
	begin(K_OFFSET_FOR_EPOCH, v);
	struct wire_offset_for_leader_epoch_request_offset_for_leader_partition p = {
	        .partition = partition, .current_leader_epoch = current, .leader_epoch = epoch};
	struct wire_offset_for_leader_epoch_request_offset_for_leader_topic t;
	wire_offset_for_leader_epoch_request_offset_for_leader_topic_init(&t);
	t.topic = wire_str_c(topic);
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_offset_for_leader_epoch_request req;
	wire_offset_for_leader_epoch_request_init(&req);
	req.replica_id = -1;
	req.topics_count = 1;
	req.topics = &t;
	wire_offset_for_leader_epoch_request_encode(&T.req, v, &req);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_reader r;
	body_reader(&r, K_OFFSET_FOR_EPOCH, v);
	struct wire_offset_for_leader_epoch_response resp;
	ck_assert_int_eq(wire_offset_for_leader_epoch_response_decode(&r, v, &resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	return resp.topics[0].partitions[0];
}

START_TEST(test_offset_for_leader_epoch)
{
	ck_assert_int_eq(produce_one(9, -1, "epochs", 0, 4, 1000), 0);
	struct wire_offset_for_leader_epoch_response_epoch_end_offset e;
	e = epoch_end(4, "epochs", 0, 5, 5);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, 5);
	ck_assert_int_eq(e.end_offset, 4);
	/* Beyond every known epoch: undefined (Kafka's LeaderEpochFileCache.endOffsetFor). */
	e = epoch_end(3, "epochs", 0, 7, -1);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, -1);
	ck_assert_int_eq(e.end_offset, -1);
	/* Below the first epoch: the requested epoch, ending where the first one starts. */
	e = epoch_end(4, "epochs", 0, 2, -1);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, 2);
	ck_assert_int_eq(e.end_offset, 0);
	/* v0 has no leader_epoch in the reply. */
	e = epoch_end(0, "epochs", 0, 5, -1);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.end_offset, 4);
	ck_assert_int_eq(epoch_end(4, "epochs", 0, 5, 3).error_code, WIRE_ERR_FENCED_LEADER_EPOCH);
	ck_assert_int_eq(epoch_end(4, "epochs", 0, 5, 9).error_code, WIRE_ERR_UNKNOWN_LEADER_EPOCH);
	ck_assert_int_eq(epoch_end(0, "nope", 0, 5, -1).error_code,
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

/* ---- DescribeLogDirs ----------------------------------------------------------------------- */

START_TEST(test_describe_log_dirs)
{
	ck_assert_int_eq(produce_one(9, -1, "orders", 1, 5, 1000), 0);
	for (int16_t v = 0; v <= 4; v++) {
		begin(K_DESCRIBE_LOG_DIRS, v);
		struct wire_describe_log_dirs_request req;
		wire_describe_log_dirs_request_init(&req);
		req.topics_count = -1;
		if (v == 1) {
			/* Ask for orders-1 only (and an unknown partition, left out). */
			static int32_t parts[2] = {1, 7};
			static struct wire_describe_log_dirs_request_describable_log_dir_topic t;
			wire_describe_log_dirs_request_describable_log_dir_topic_init(&t);
			t.topic = wire_str_c("orders");
			t.partitions_count = 2;
			t.partitions = parts;
			req.topics_count = 1;
			req.topics = &t;
		}
		wire_describe_log_dirs_request_encode(&T.req, v, &req);
		ck_assert_int_eq(handle(), BRK_RESPOND);
		struct wire_reader r;
		body_reader(&r, K_DESCRIBE_LOG_DIRS, v);
		struct wire_describe_log_dirs_response resp;
		ck_assert_int_eq(wire_describe_log_dirs_response_decode(&r, v, &resp), SL_OK);
		ck_assert(wire_reader_done(&r));
		ck_assert_int_eq(resp.results_count, 1);
		ck_assert_int_eq(resp.results[0].error_code, 0);
		ck_assert(resp.results[0].log_dir.len == (int32_t)strlen(T.dir));
		int partitions = 0;
		int64_t orders1 = -1;
		for (int32_t i = 0; i < resp.results[0].topics_count; i++) {
			const struct wire_describe_log_dirs_response_topic *t =
			        &resp.results[0].topics[i];
			for (int32_t k = 0; k < t->partitions_count; k++) {
				partitions++;
				ck_assert_int_eq(t->partitions[k].offset_lag, 0);
				ck_assert(!t->partitions[k].is_future_key);
				if (wire_str_eq(t->name, "orders") &&
				    t->partitions[k].partition_index == 1)
					orders1 = t->partitions[k].partition_size;
			}
		}
		ck_assert_int_eq(partitions, v == 1 ? 1 : 8);
		ck_assert_int_eq(orders1, (int64_t)log_state("orders", 1).size_bytes);
		ck_assert_int_gt(orders1, 0);
		if (v == 4) {
			ck_assert_int_gt(resp.results[0].total_bytes, 0);
			ck_assert_int_ge(resp.results[0].usable_bytes, 0);
		}
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_offsets");
	TCase *tc = tcase_create("offsets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_list_offsets);
	tcase_add_test(tc, test_delete_records);
	tcase_add_test(tc, test_offset_for_leader_epoch);
	tcase_add_test(tc, test_describe_log_dirs);
	suite_add_tcase(s, tc);
	return s;
}
