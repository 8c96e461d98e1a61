/*
 * test_broker_fetch.c: the Fetch handler through brk_handle() with a real log manager: empty
 * and non-empty partitions, max_bytes / partition_max_bytes (KIP-74: the first batch even when
 * larger), OFFSET_OUT_OF_RANGE, unknown partitions and topic ids, followers, the hand-written
 * encoder checked against the generated decoder and encoder at versions 0-16, and long polls
 * (answered by arriving data before the timer, by the timer, by brk_stop).
 */
#include "fetch_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VALUE_LEN 100

static void setup(void)
{
	ft_setup();
}

static void teardown(void)
{
	ft_teardown();
}

/* The log's bytes of topic-partition from offset, whole batches up to the high watermark. */
static uint8_t *log_bytes(const char *topic, int32_t partition, int64_t offset, size_t *len)
{
	struct brk_partition *p = ft_part(topic, partition);
	struct stor_read_result res;
	ck_assert_int_eq(stor_log_read(p->log, offset, 1 << 30, p->high_watermark, &res), SL_OK);
	*len = (size_t)res.range.len;
	return lt_pread_range(&res.range);
}

static const struct wire_fetch_response_partition_data *
only_part(int16_t v, const struct wire_fetch_response *resp, const char *topic, int32_t partition)
{
	const struct wire_fetch_response_partition_data *pd = ft_find(v, resp, topic, partition);
	ck_assert_ptr_nonnull(pd);
	return pd;
}

START_TEST(test_empty_partition)
{
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 4, .max_bytes = 1 << 20, .parts = ps, .part_count = 1};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(resp.responses_count, 1);
	const struct wire_fetch_response_partition_data *pd = only_part(4, &resp, "alpha", 0);
	ck_assert_int_eq(pd->error_code, WIRE_ERR_NONE);
	ck_assert_int_eq(pd->high_watermark, 0);
	ck_assert_int_eq(pd->last_stable_offset, 0);
	ck_assert_int_eq(pd->aborted_transactions_count, -1);
	ck_assert_int_eq(pd->records.len, 0);
}
END_TEST

/* The hand-written encoder against the generated codec at every version the task names. */
START_TEST(test_encoder_matches_generated_codec)
{
	ft_produce("alpha", 0, 3, VALUE_LEN);
	ft_produce("alpha", 0, 2, VALUE_LEN);
	ft_produce("alpha", 2, 1, VALUE_LEN);
	size_t len0 = 0, len2 = 0;
	uint8_t *want0 = log_bytes("alpha", 0, 0, &len0);
	uint8_t *want2 = log_bytes("alpha", 2, 0, &len2);
	static const int16_t versions[] = {0, 1, 3, 4, 5, 7, 11, 12, 13, 15, 16};
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20},
	                            {"alpha", 1, 0, 1 << 20},
	                            {"alpha", 2, 0, 1 << 20},
	                            {"beta", 0, 0, 1 << 20}};
	for (size_t i = 0; i < SL_ARRAY_LEN(versions); i++) {
		int16_t v = versions[i];
		struct ft_fetch q = {.version = v,
		                     .max_bytes = 1 << 20,
		                     .session_epoch = -1,
		                     .isolation_level = 1,
		                     .parts = ps,
		                     .part_count = 4};
		struct wire_fetch_response resp;
		ft_fetch_now(&q, &resp);
		ck_assert_int_eq(resp.error_code, 0);
		ck_assert_int_eq(resp.session_id, 0);
		ck_assert_int_eq(resp.responses_count, 2);
		if (v >= 13)
			ck_assert(sl_uuid_eq(&resp.responses[0].topic_id, &F.alpha_id));
		else
			ck_assert(wire_str_eq(resp.responses[0].topic, "alpha"));
		ck_assert_int_eq(resp.responses[0].partitions_count, 3);
		ck_assert_uint_eq(ft_partition_count(&resp), 4);
		const struct wire_fetch_response_partition_data *a0 =
		        only_part(v, &resp, "alpha", 0);
		ck_assert_int_eq(a0->error_code, 0);
		ck_assert_int_eq(a0->high_watermark, 5);
		ck_assert_int_eq(a0->last_stable_offset, (v >= 4 ? 5 : -1));
		ck_assert_int_eq(a0->log_start_offset, (v >= 5 ? 0 : -1));
		ck_assert_int_eq(a0->preferred_read_replica, -1);
		if (v >= 4)
			ck_assert_int_eq(a0->aborted_transactions_count, 0);
		ck_assert_int_eq(a0->records.len, (int32_t)len0);
		ck_assert_mem_eq(a0->records.ptr, want0, len0);
		const struct wire_fetch_response_partition_data *a2 =
		        only_part(v, &resp, "alpha", 2);
		ck_assert_int_eq(a2->high_watermark, 1);
		ck_assert_int_eq(a2->records.len, (int32_t)len2);
		ck_assert_mem_eq(a2->records.ptr, want2, len2);
		ck_assert_int_eq(only_part(v, &resp, "alpha", 1)->records.len, 0);
		ck_assert_int_eq(only_part(v, &resp, "beta", 0)->high_watermark, 0);
		/* Byte for byte what the generated encoder writes for the same values. */
		struct sl_buf again;
		sl_buf_init(&again, 1 << 22);
		wire_response_header_encode(&again, wire_response_header_version(1, v),
		                            F.correlation_id);
		wire_fetch_response_encode(&again, v, &resp);
		ck_assert_int_eq(sl_buf_err(&again), SL_OK);
		ck_assert_uint_eq(again.len, F.resp.len);
		ck_assert_mem_eq(again.data, F.resp.data, again.len);
		sl_buf_free(&again);
	}
	free(want0);
	free(want2);
}
END_TEST

START_TEST(test_read_uncommitted_aborted_null)
{
	ft_produce("alpha", 0, 1, VALUE_LEN);
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(12, &resp, "alpha", 0);
	ck_assert_int_eq(pd->aborted_transactions_count, -1);
	ck_assert_int_gt(pd->records.len, 0);
}
END_TEST

START_TEST(test_fetch_from_middle)
{
	size_t b1 = ft_produce("alpha", 0, 3, VALUE_LEN);
	size_t b2 = ft_produce("alpha", 0, 2, VALUE_LEN);
	struct ft_part_spec ps[] = {{"alpha", 0, 3, 1 << 20}};
	struct ft_fetch q = {.version = 11,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(11, &resp, "alpha", 0);
	ck_assert_int_eq(pd->records.len, (int32_t)b2);
	ck_assert_int_eq((int64_t)sl_load_be64(pd->records.ptr), 3); /* baseOffset */
	(void)b1;
	/* At the high watermark: nothing, no error. */
	struct ft_part_spec at_hw[] = {{"alpha", 0, 5, 1 << 20}};
	q.parts = at_hw;
	ft_fetch_now(&q, &resp);
	pd = only_part(11, &resp, "alpha", 0);
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->records.len, 0);
	ck_assert_int_eq(pd->high_watermark, 5);
}
END_TEST

START_TEST(test_max_bytes)
{
	size_t b1 = ft_produce("alpha", 0, 3, VALUE_LEN);
	ft_produce("alpha", 0, 3, VALUE_LEN);
	size_t c1 = ft_produce("alpha", 1, 3, VALUE_LEN);
	/* partition_max_bytes 1: still the first batch (KIP-74), and only it. */
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1}};
	struct ft_fetch q = {.version = 4, .max_bytes = 1 << 20, .parts = ps, .part_count = 1};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(only_part(4, &resp, "alpha", 0)->records.len, (int32_t)b1);
	/* max_bytes 1 over two partitions: the first batch of the first, nothing of the second
	 * (it does not fit) but its high watermark. */
	struct ft_part_spec two[] = {{"alpha", 0, 0, 1 << 20}, {"alpha", 1, 0, 1 << 20}};
	q = (struct ft_fetch){.version = 4, .max_bytes = 1, .parts = two, .part_count = 2};
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(only_part(4, &resp, "alpha", 0)->records.len, (int32_t)b1);
	const struct wire_fetch_response_partition_data *p1 = only_part(4, &resp, "alpha", 1);
	ck_assert_int_eq(p1->records.len, 0);
	ck_assert_int_eq(p1->high_watermark, 3);
	ck_assert_int_eq(p1->error_code, 0);
	/* partition_max_bytes b1 keeps alpha/0 to one batch; max_bytes b1 + c1 leaves room for
	 * alpha/1's batch. */
	struct ft_part_spec cap[] = {{"alpha", 0, 0, (int32_t)b1}, {"alpha", 1, 0, 1 << 20}};
	q = (struct ft_fetch){
	        .version = 4, .max_bytes = (int32_t)(b1 + c1), .parts = cap, .part_count = 2};
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(only_part(4, &resp, "alpha", 0)->records.len, (int32_t)b1);
	ck_assert_int_eq(only_part(4, &resp, "alpha", 1)->records.len, (int32_t)c1);
	/* An empty first partition does not use up "at least one": the second still gets its
	 * oversized first batch. */
	struct ft_part_spec skip[] = {{"alpha", 2, 0, 1 << 20}, {"alpha", 1, 0, 1 << 20}};
	q = (struct ft_fetch){.version = 4, .max_bytes = 1, .parts = skip, .part_count = 2};
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(only_part(4, &resp, "alpha", 1)->records.len, (int32_t)c1);
}
END_TEST

/* Before v3 limits are hard: a first batch over partition_max_bytes comes cut (as Kafka). */
START_TEST(test_v2_hard_limit)
{
	size_t b1 = ft_produce("alpha", 0, 3, VALUE_LEN);
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 20}};
	struct ft_fetch q = {.version = 2, .parts = ps, .part_count = 1};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(2, &resp, "alpha", 0);
	ck_assert_uint_gt(b1, 20);
	ck_assert_int_eq(pd->records.len, 20);
	ck_assert_int_eq(pd->high_watermark, 3);
}
END_TEST

START_TEST(test_offset_out_of_range)
{
	ft_produce("alpha", 0, 3, VALUE_LEN);
	struct ft_part_spec ps[] = {{"alpha", 0, 4, 1 << 20}, {"alpha", 1, -1, 1 << 20}};
	struct ft_fetch q = {.version = 5, .max_bytes = 1 << 20, .parts = ps, .part_count = 2};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(5, &resp, "alpha", 0);
	ck_assert_int_eq(pd->error_code, WIRE_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(pd->high_watermark, 3);
	ck_assert_int_eq(pd->log_start_offset, 0);
	ck_assert_int_eq(pd->records.len, 0);
	pd = only_part(5, &resp, "alpha", 1);
	ck_assert_int_eq(pd->error_code, WIRE_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(pd->high_watermark, 0);
}
END_TEST

START_TEST(test_unknown_partitions)
{
	struct ft_part_spec ps[] = {
	        {"alpha", 7, 0, 1 << 20}, {"gamma", 0, 0, 1 << 20}, {"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 3};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(resp.responses_count, 3); /* alpha, gamma, alpha: runs, as Kafka */
	const struct wire_fetch_response_partition_data *pd = only_part(12, &resp, "alpha", 7);
	ck_assert_int_eq(pd->error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(pd->high_watermark, -1);
	ck_assert_int_eq(only_part(12, &resp, "gamma", 0)->error_code,
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(only_part(12, &resp, "alpha", 0)->error_code, WIRE_ERR_NONE);
	/* v13+: by topic id. */
	for (int16_t v = 13; v <= 16; v += 3) {
		q.version = v;
		ft_fetch_now(&q, &resp);
		ck_assert_int_eq(only_part(v, &resp, "alpha", 7)->error_code,
		                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		ck_assert_int_eq(only_part(v, &resp, "gamma", 0)->error_code,
		                 WIRE_ERR_UNKNOWN_TOPIC_ID);
		ck_assert_int_eq(only_part(v, &resp, "alpha", 0)->error_code, WIRE_ERR_NONE);
	}
}
END_TEST

/* Decision: no followers on a single node; replica ids >= 0 get NOT_LEADER_OR_FOLLOWER. */
START_TEST(test_follower_fetch)
{
	ft_produce("alpha", 0, 1, VALUE_LEN);
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}};
	static const int16_t versions[] = {4, 14, 15};
	for (size_t i = 0; i < SL_ARRAY_LEN(versions); i++) {
		struct ft_fetch q = {.version = versions[i],
		                     .max_bytes = 1 << 20,
		                     .follower_id = 2,
		                     .session_epoch = 0,
		                     .parts = ps,
		                     .part_count = 1};
		struct wire_fetch_response resp;
		ft_fetch_now(&q, &resp);
		const struct wire_fetch_response_partition_data *pd =
		        only_part(versions[i], &resp, "alpha", 0);
		ck_assert_int_eq(pd->error_code, WIRE_ERR_NOT_LEADER_OR_FOLLOWER);
		ck_assert_int_eq(pd->records.len, 0);
		ck_assert_int_eq(resp.session_id, 0);
	}
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 0);
}
END_TEST

START_TEST(test_leader_epoch_checked)
{
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 9,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	struct wire_fetch_response resp;
	ft_part("alpha", 0)->leader_epoch = 3;
	ft_fetch_now(&q, &resp); /* current_leader_epoch -1: not checked */
	ck_assert_int_eq(only_part(9, &resp, "alpha", 0)->error_code, 0);
	static const struct {
		int32_t epoch;
		int16_t error;
	} cases[] = {{3, WIRE_ERR_NONE},
	             {2, WIRE_ERR_FENCED_LEADER_EPOCH},
	             {4, WIRE_ERR_UNKNOWN_LEADER_EPOCH}};
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		q.with_epoch = true;
		q.current_leader_epoch = cases[i].epoch;
		ft_fetch_now(&q, &resp);
		ck_assert_int_eq(only_part(9, &resp, "alpha", 0)->error_code, cases[i].error);
	}
	ft_part("alpha", 0)->leader_epoch = 0;
}
END_TEST

START_TEST(test_malformed_closes)
{
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	ck_assert_int_eq(ft_send(&q), BRK_RESPOND);
	/* Same request cut short by 3 bytes. */
	F.frame.len -= 3;
	sl_buf_reset(&F.resp);
	ck_assert_int_eq(brk_handle(F.brk, &F.frame, &F.resp, F.reason, sizeof(F.reason)),
	                 BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(F.reason, "Fetch"));
}
END_TEST

/* ---- long polls (both io backends) ---- */

static void lp_setup(int backend)
{
	ft_setup_backend(backend);
}

START_TEST(test_long_poll_answered_by_data)
{
	ft_teardown();
	lp_setup(_i);
	struct ft_part_spec ps[] = {{"alpha", 0, 0, 1 << 20}, {"beta", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_wait_ms = 30000,
	                     .min_bytes = 1,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 2};
	int64_t t0 = sl_mono_ms();
	ck_assert_int_eq(ft_send(&q), BRK_PENDING);
	ck_assert(brk_busy(F.brk));
	ck_assert_ptr_nonnull(ft_part("beta", 0)->waits);
	(void)io_loop_run_once(F.loop, 0);
	ck_assert_int_eq(F.done_calls, 0);
	size_t len = ft_produce("beta", 0, 2, VALUE_LEN); /* runs the loop; wakes the fetch */
	ft_run_until_done();
	/* Answered by the data, long before the 30 s timer could fire. */
	ck_assert_int_lt(sl_mono_ms() - t0, 15000);
	ck_assert(!brk_busy(F.brk));
	ck_assert_ptr_null(ft_part("beta", 0)->waits);
	ck_assert_ptr_null(ft_part("alpha", 0)->waits);
	struct wire_fetch_response resp;
	ft_decode(12, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(12, &resp, "beta", 0);
	ck_assert_int_eq(pd->records.len, (int32_t)len);
	ck_assert_int_eq(pd->high_watermark, 2);
	ck_assert_int_eq(only_part(12, &resp, "alpha", 0)->records.len, 0);
	lt_run_idle(F.loop); /* the cancelled timer is gone; nothing else completes */
	ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

START_TEST(test_long_poll_timeout)
{
	ft_teardown();
	lp_setup(_i);
	struct ft_part_spec ps[] = {{"alpha", 1, 0, 1 << 20}};
	struct ft_fetch q = {.version = 7,
	                     .max_wait_ms = 100,
	                     .min_bytes = 1,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	int64_t t0 = sl_mono_ms();
	ck_assert_int_eq(ft_send(&q), BRK_PENDING);
	ft_run_until_done();
	ck_assert_int_ge(sl_mono_ms() - t0, 90);
	struct wire_fetch_response resp;
	ft_decode(7, &resp);
	const struct wire_fetch_response_partition_data *pd = only_part(7, &resp, "alpha", 1);
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->records.len, 0);
	ck_assert_ptr_null(ft_part("alpha", 1)->waits);
	ck_assert(!brk_busy(F.brk));
}
END_TEST

/* Data below min_bytes does not answer; brk_stop answers with what there is. */
START_TEST(test_long_poll_min_bytes_then_stop)
{
	ft_teardown();
	lp_setup(_i);
	struct ft_part_spec ps[] = {{"alpha", 2, 0, 1 << 20}};
	struct ft_fetch q = {.version = 16,
	                     .max_wait_ms = 60000,
	                     .min_bytes = 1 << 20,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	ck_assert_int_eq(ft_send(&q), BRK_PENDING);
	size_t len = ft_produce("alpha", 2, 1, VALUE_LEN);
	(void)io_loop_run_once(F.loop, 10);
	ck_assert_int_eq(F.done_calls, 0);
	ck_assert(brk_busy(F.brk));
	brk_stop(F.brk);
	ft_run_until_done();
	struct wire_fetch_response resp;
	ft_decode(16, &resp);
	ck_assert_int_eq(only_part(16, &resp, "alpha", 2)->records.len, (int32_t)len);
	ck_assert(!brk_busy(F.brk));
	/* Stopping: a new fetch is answered at once. */
	ck_assert_int_eq(ft_send(&q), BRK_RESPOND);
}
END_TEST

/* A parked fetch on a topic that gets deleted answers UNKNOWN_TOPIC_OR_PARTITION at once. */
START_TEST(test_long_poll_topic_deleted)
{
	ft_teardown();
	lp_setup(_i);
	struct ft_part_spec ps[] = {{"beta", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_wait_ms = 30000,
	                     .min_bytes = 1,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 1};
	ck_assert_int_eq(ft_send(&q), BRK_PENDING);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create((struct meta_image *)brk_image(F.brk), &d), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 12);
	struct meta_remove_topic_record rt;
	meta_remove_topic_record_init(&rt);
	rt.topic_id = F.beta_id;
	meta_frame_put(&b, META_REC_REMOVE_TOPIC, 0);
	meta_remove_topic_record_encode(&b, 0, &rt);
	ft_apply(d, &b);
	sl_buf_free(&b);
	struct meta_image *img = meta_delta_publish(d, 11);
	brk_set_image(F.brk, img);
	meta_image_unref(img);
	ft_run_until_done();
	struct wire_fetch_response resp;
	ft_decode(12, &resp);
	ck_assert_int_eq(only_part(12, &resp, "beta", 0)->error_code,
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	lt_run_idle(F.loop);
	ck_assert_ptr_null(brk_partition_get(F.brk, wire_str_c("beta"), 0));
}
END_TEST

/* A fetch with an error (unknown partition) is answered at once, as Kafka does. */
START_TEST(test_error_answers_at_once)
{
	struct ft_part_spec ps[] = {{"alpha", 9, 0, 1 << 20}, {"alpha", 0, 0, 1 << 20}};
	struct ft_fetch q = {.version = 12,
	                     .max_wait_ms = 60000,
	                     .min_bytes = 1,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = ps,
	                     .part_count = 2};
	ck_assert_int_eq(ft_send(&q), BRK_RESPOND);
}
END_TEST

/* ---- through net: record bytes as file ranges (net_resp_add_file) ---- */

static const enum net_zero_copy zc_modes[] = {NET_ZC_SPLICE, NET_ZC_COPY};
#define NET_COMBOS ((int)(LT_BACKEND_COUNT * SL_ARRAY_LEN(zc_modes)))

struct tn {
	struct net_server *srv;
	int client;
	uint8_t buf[1 << 20];
	size_t len;
};

static struct tn N;

static void net_start(int combo)
{
	ft_teardown();
	ft_setup_backend(combo % LT_BACKEND_COUNT);
	signal(SIGPIPE, SIG_IGN);
	struct net_server_opts o = {.request_max_bytes = 1 << 20,
	                            .max_connections = 4,
	                            .send_buffer_bytes = -1,
	                            .recv_buffer_bytes = -1,
	                            .zero_copy = zc_modes[combo / LT_BACKEND_COUNT],
	                            .dispatch = brk_dispatch,
	                            .dispatch_ctx = F.brk};
	ck_assert_int_eq(net_server_create(F.loop, &o, &N.srv), SL_OK);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(net_server_adopt(N.srv, sv[0], "test-peer", NULL), SL_OK);
	N.client = sv[1];
	ck_assert_int_eq(fcntl(N.client, F_SETFL, fcntl(N.client, F_GETFL) | O_NONBLOCK), 0);
	N.len = 0;
}

static void net_finish(void)
{
	close(N.client);
	net_server_stop(N.srv);
	int64_t deadline = sl_mono_ms() + 10000;
	while (!net_server_stopped(N.srv)) {
		ck_assert(sl_mono_ms() < deadline);
		(void)io_loop_run_once(F.loop, 10);
	}
	net_server_destroy(N.srv);
}

static void net_send(const struct ft_fetch *q)
{
	ft_build(q);
	uint8_t size[4];
	sl_store_be32(size, (uint32_t)F.req.len);
	ck_assert_int_eq(write(N.client, size, 4), 4);
	ck_assert_int_eq(write(N.client, F.req.data, F.req.len), (ssize_t)F.req.len);
}

/* True once a whole response frame is in N.buf (reads what the socket has). */
static bool net_poll_response(void)
{
	ssize_t n = read(N.client, N.buf + N.len, sizeof(N.buf) - N.len);
	if (n > 0)
		N.len += (size_t)n;
	return N.len >= 4 && N.len >= 4 + sl_load_be32(N.buf);
}

static void net_wait_response(void)
{
	int64_t deadline = sl_mono_ms() + 15000;
	while (!net_poll_response()) {
		ck_assert_msg(sl_mono_ms() < deadline, "no response");
		(void)io_loop_run_once(F.loop, 10);
	}
	ck_assert_uint_eq(N.len, 4 + sl_load_be32(N.buf));
	sl_buf_reset(&F.resp);
	sl_buf_append(&F.resp, N.buf + 4, N.len - 4);
	N.len = 0;
}

START_TEST(test_net_zero_copy)
{
	net_start(_i);
	ft_produce("alpha", 0, 3, VALUE_LEN);
	ft_produce("alpha", 0, 4, VALUE_LEN);
	ft_produce("beta", 0, 2, VALUE_LEN);
	size_t len_a = 0, len_b = 0;
	uint8_t *want_a = log_bytes("alpha", 0, 0, &len_a);
	uint8_t *want_b = log_bytes("beta", 0, 0, &len_b);
	static const int16_t versions[] = {0, 4, 12, 13, 16};
	struct ft_part_spec ps[] = {
	        {"alpha", 0, 0, 1 << 20}, {"alpha", 1, 0, 1 << 20}, {"beta", 0, 0, 1 << 20}};
	for (size_t i = 0; i < SL_ARRAY_LEN(versions); i++) {
		int16_t v = versions[i];
		struct ft_fetch q = {.version = v,
		                     .max_bytes = 1 << 20,
		                     .session_epoch = -1,
		                     .parts = ps,
		                     .part_count = 3};
		F.correlation_id++;
		net_send(&q);
		net_wait_response();
		struct wire_fetch_response resp;
		ft_decode(v, &resp);
		const struct wire_fetch_response_partition_data *a =
		        only_part(v, &resp, "alpha", 0);
		ck_assert_int_eq(a->records.len, (int32_t)len_a);
		ck_assert_mem_eq(a->records.ptr, want_a, len_a);
		const struct wire_fetch_response_partition_data *b = only_part(v, &resp, "beta", 0);
		ck_assert_int_eq(b->records.len, (int32_t)len_b);
		ck_assert_mem_eq(b->records.ptr, want_b, len_b);
		ck_assert_int_eq(only_part(v, &resp, "alpha", 1)->records.len, 0);
	}
	/* A long poll over the connection, answered by data. */
	struct ft_part_spec lp[] = {{"alpha", 2, 0, 1 << 20}};
	struct ft_fetch q = {.version = 16,
	                     .max_wait_ms = 30000,
	                     .min_bytes = 1,
	                     .max_bytes = 1 << 20,
	                     .session_epoch = -1,
	                     .parts = lp,
	                     .part_count = 1};
	F.correlation_id++;
	net_send(&q);
	for (int k = 0; k < 5; k++)
		(void)io_loop_run_once(F.loop, 10);
	ck_assert(!net_poll_response());
	ck_assert(brk_busy(F.brk));
	size_t len = ft_produce("alpha", 2, 2, VALUE_LEN);
	net_wait_response();
	struct wire_fetch_response resp;
	ft_decode(16, &resp);
	ck_assert_int_eq(only_part(16, &resp, "alpha", 2)->records.len, (int32_t)len);
	ck_assert(!brk_busy(F.brk));
	free(want_a);
	free(want_b);
	net_finish();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_fetch");
	TCase *tc = tcase_create("fetch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty_partition);
	tcase_add_test(tc, test_encoder_matches_generated_codec);
	tcase_add_test(tc, test_read_uncommitted_aborted_null);
	tcase_add_test(tc, test_fetch_from_middle);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_v2_hard_limit);
	tcase_add_test(tc, test_offset_out_of_range);
	tcase_add_test(tc, test_unknown_partitions);
	tcase_add_test(tc, test_follower_fetch);
	tcase_add_test(tc, test_leader_epoch_checked);
	tcase_add_test(tc, test_malformed_closes);
	tcase_add_test(tc, test_error_answers_at_once);
	suite_add_tcase(s, tc);
	TCase *lp = tcase_create("long_poll");
	tcase_add_checked_fixture(lp, setup, teardown);
	tcase_set_timeout(lp, 60);
	tcase_add_loop_test(lp, test_long_poll_answered_by_data, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(lp, test_long_poll_timeout, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(lp, test_long_poll_min_bytes_then_stop, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(lp, test_long_poll_topic_deleted, 0, LT_BACKEND_COUNT);
	suite_add_tcase(s, lp);
	TCase *net = tcase_create("net");
	tcase_add_checked_fixture(net, setup, teardown);
	tcase_set_timeout(net, 60);
	tcase_add_loop_test(net, test_net_zero_copy, 0, NET_COMBOS);
	suite_add_tcase(s, net);
	return s;
}
