/*
 * test_fetch_session.c: KIP-227 fetch sessions through the Fetch handler: a full fetch creates
 * a session, incremental fetches return only partitions with news, add partitions and forget
 * them; wrong epoch, unknown id, topic-id mismatch; epoch -1 closes; a full cache gives
 * sessionless replies until the least recently used session is old enough to evict; an
 * incremental long poll answered by data.
 */
#include "fetch_test_util.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_LEN 64
#define BIG (1 << 20)

static void setup(void)
{
	ft_setup();
}

static void teardown(void)
{
	ft_teardown();
}

static const struct ft_part_spec all3[] = {
        {"alpha", 0, 0, BIG}, {"alpha", 1, 0, BIG}, {"alpha", 2, 0, BIG}};

/* A new full session over all3 at version v; returns its id. */
static int32_t new_session(int16_t v)
{
	struct ft_fetch q = {.version = v, .max_bytes = BIG, .parts = all3, .part_count = 3};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert_int_gt(resp.session_id, 0);
	ck_assert_uint_eq(ft_partition_count(&resp), 3);
	return resp.session_id;
}

static void incremental(int16_t v, int32_t id, int32_t epoch, const struct ft_part_spec *ps,
                        size_t n, const struct ft_part_spec *forget, size_t nf,
                        struct wire_fetch_response *resp)
{
	struct ft_fetch q = {.version = v,
	                     .max_bytes = BIG,
	                     .session_id = id,
	                     .session_epoch = epoch,
	                     .parts = ps,
	                     .part_count = n,
	                     .forgotten = forget,
	                     .forgotten_count = nf};
	ft_fetch_now(&q, resp);
}

START_TEST(test_full_then_incremental)
{
	ft_produce("alpha", 0, 2, VALUE_LEN);
	int32_t id = new_session(12);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 1);
	struct wire_fetch_response resp;
	/* alpha/0 has records at the session's offset 0: returned although nothing changed. */
	incremental(12, id, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert_int_eq(resp.session_id, id);
	ck_assert_uint_eq(ft_partition_count(&resp), 1);
	ck_assert_ptr_nonnull(ft_find(12, &resp, "alpha", 0));
	/* The client moves to offset 2: nothing new anywhere, no partitions at all. */
	struct ft_part_spec upd0[] = {{"alpha", 0, 2, BIG}};
	incremental(12, id, 2, upd0, 1, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert_int_eq(resp.responses_count, 0);
	/* New data on alpha/1: only alpha/1 comes back. */
	size_t len = ft_produce("alpha", 1, 3, VALUE_LEN);
	incremental(12, id, 3, NULL, 0, NULL, 0, &resp);
	ck_assert_uint_eq(ft_partition_count(&resp), 1);
	const struct wire_fetch_response_partition_data *pd = ft_find(12, &resp, "alpha", 1);
	ck_assert_ptr_nonnull(pd);
	ck_assert_int_eq(pd->records.len, (int32_t)len);
	ck_assert_int_eq(pd->high_watermark, 3);
	/* The client moves its offset to 3: no news, nothing returned. */
	struct ft_part_spec upd[] = {{"alpha", 1, 3, BIG}};
	incremental(12, id, 4, upd, 1, NULL, 0, &resp);
	ck_assert_int_eq(resp.responses_count, 0);
}
END_TEST

START_TEST(test_add_and_forget)
{
	int32_t id = new_session(12);
	struct wire_fetch_response resp;
	/* Add beta/0: new to the session, so it is returned once even without data. */
	struct ft_part_spec add[] = {{"beta", 0, 0, BIG}};
	incremental(12, id, 1, add, 1, NULL, 0, &resp);
	ck_assert_uint_eq(ft_partition_count(&resp), 1);
	ck_assert_ptr_nonnull(ft_find(12, &resp, "beta", 0));
	/* Forget alpha/1: data arriving there is no longer returned. */
	struct ft_part_spec forget[] = {{"alpha", 1, 0, 0}};
	incremental(12, id, 2, NULL, 0, forget, 1, &resp);
	ck_assert_int_eq(resp.responses_count, 0);
	ft_produce("alpha", 1, 1, VALUE_LEN);
	ft_produce("beta", 0, 1, VALUE_LEN);
	incremental(12, id, 3, NULL, 0, NULL, 0, &resp);
	ck_assert_uint_eq(ft_partition_count(&resp), 1);
	ck_assert_ptr_nonnull(ft_find(12, &resp, "beta", 0));
	ck_assert_ptr_null(ft_find(12, &resp, "alpha", 1));
}
END_TEST

START_TEST(test_bad_epoch_and_unknown_id)
{
	int32_t id = new_session(12);
	struct wire_fetch_response resp;
	incremental(12, id, 5, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_INVALID_FETCH_SESSION_EPOCH);
	ck_assert_int_eq(resp.session_id, 0);
	ck_assert_int_eq(resp.responses_count, 0);
	/* The session survives a bad epoch: epoch 1 still works. */
	incremental(12, id, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert_int_eq(resp.session_id, id);
	int32_t other = id == INT32_MAX ? 1 : id + 1;
	incremental(12, other, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_FETCH_SESSION_ID_NOT_FOUND);
	ck_assert_int_eq(resp.session_id, 0);
	/* A v12 session (topic names) used from v13 (topic ids). */
	incremental(13, id, 2, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_FETCH_SESSION_TOPIC_ID_ERROR);
}
END_TEST

START_TEST(test_topic_id_session)
{
	ft_produce("alpha", 2, 1, VALUE_LEN);
	int32_t id = new_session(13);
	struct wire_fetch_response resp;
	incremental(13, id, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.responses_count, 1); /* alpha/2 has unread records */
	ck_assert(sl_uuid_eq(&resp.responses[0].topic_id, &F.alpha_id));
	struct ft_part_spec upd[] = {{"alpha", 2, 1, BIG}};
	incremental(13, id, 2, upd, 1, NULL, 0, &resp);
	ck_assert_int_eq(resp.responses_count, 0);
	struct ft_part_spec forget[] = {{"alpha", 2, 0, 0}};
	incremental(16, id, 3, NULL, 0, forget, 1, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ft_produce("alpha", 2, 1, VALUE_LEN);
	incremental(16, id, 4, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.responses_count, 0);
}
END_TEST

START_TEST(test_close_with_final_epoch)
{
	int32_t id = new_session(7);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 1);
	struct ft_fetch q = {.version = 7,
	                     .max_bytes = BIG,
	                     .session_id = id,
	                     .session_epoch = -1,
	                     .parts = all3,
	                     .part_count = 3};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(resp.session_id, 0);
	ck_assert_uint_eq(ft_partition_count(&resp), 3);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 0);
	/* Below v7 there are no sessions at all. */
	q.version = 6;
	ft_fetch_now(&q, &resp);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 0);
}
END_TEST

START_TEST(test_cache_full_sessionless_then_evict)
{
	int32_t first = new_session(12);
	F.fake_now_ms += 1000;
	int32_t second = new_session(12);
	ck_assert_int_ne(first, second);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), FT_SLOTS);
	/* Full: the reply is sessionless (id 0) but has the data. */
	struct ft_fetch q = {.version = 12, .max_bytes = BIG, .parts = all3, .part_count = 3};
	struct wire_fetch_response resp;
	ft_fetch_now(&q, &resp);
	ck_assert_int_eq(resp.session_id, 0);
	ck_assert_uint_eq(ft_partition_count(&resp), 3);
	/* Using the second session keeps it recent; after the eviction time the first (least
	 * recently used) is evicted for a new one. */
	F.fake_now_ms += FETCH_SESSION_EVICTION_MS;
	incremental(12, second, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	F.fake_now_ms += 1000;
	int32_t third = new_session(12);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), FT_SLOTS);
	incremental(12, first, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_FETCH_SESSION_ID_NOT_FOUND);
	incremental(12, second, 2, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	incremental(12, third, 1, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
}
END_TEST

/* The partitions of all sessions together are bounded (FETCH_SESSIONS_PARTITIONS_TOTAL_MAX):
 * without it every slot could hold FETCH_SESSION_PARTITIONS_MAX entries (~30 MB each). */
static void grow_session(int32_t id, int32_t *epoch, int32_t first_partition, size_t n,
                         struct wire_fetch_response *resp)
{
	struct wire_fetch_request_partition *ps = calloc(n, sizeof(*ps));
	ck_assert_ptr_nonnull(ps);
	for (size_t i = 0; i < n; i++) {
		wire_fetch_request_partition_init(&ps[i]);
		ps[i].partition = first_partition + (int32_t)i;
		ps[i].partition_max_bytes = BIG;
	}
	struct wire_fetch_request_topic t;
	wire_fetch_request_topic_init(&t);
	t.topic = wire_str_c("nosuch");
	t.partitions = ps;
	t.partitions_count = (int32_t)n;
	struct wire_fetch_request r;
	wire_fetch_request_init(&r);
	r.replica_id = -1;
	r.max_bytes = BIG;
	r.session_id = id;
	r.session_epoch = *epoch;
	r.topics = &t;
	r.topics_count = 1;
	sl_buf_reset(&F.req);
	sl_buf_reset(&F.resp);
	sl_arena_reset(&F.arena);
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = 1;
	h.api_version = 12;
	h.correlation_id = ++F.correlation_id;
	h.client_id = wire_str_c("fetch-test");
	wire_request_header_encode(&F.req, &h);
	wire_fetch_request_encode(&F.req, 12, &r);
	ck_assert_int_eq(sl_buf_err(&F.req), SL_OK);
	free(ps);
	F.frame = (struct brk_frame){
	        .data = F.req.data, .len = F.req.len, .arena = &F.arena, .log_ctx = "fetch-test"};
	ck_assert_int_eq(brk_handle(F.brk, &F.frame, &F.resp, F.reason, sizeof(F.reason)),
	                 BRK_RESPOND);
	ft_decode(12, resp);
	if (resp->error_code == 0)
		(*epoch)++;
}

START_TEST(test_total_session_partitions_bounded)
{
	/* The budget of all sessions together, lowered so small requests reach it (the default,
	 * FETCH_SESSIONS_PARTITIONS_TOTAL_MAX, works the same way; capacities double from 8). */
	enum { STEP = 20 };
	fetch_sessions_set_partitions_total_max(F.brk, 100);
	struct wire_fetch_response resp;
	int32_t a = new_session(12), ea = 1;
	for (int32_t k = 0; k < 2; k++) { /* A: 40+ entries, capacity 64 */
		grow_session(a, &ea, k * STEP, STEP, &resp);
		ck_assert_int_eq(resp.error_code, 0);
	}
	int32_t b = new_session(12), eb = 1;
	bool refused = false;
	/* B needs capacity 64 for 60 entries: within the per-session bound, over what is left
	 * of the total (64 + 64 > 100). */
	for (int32_t k = 0; k < 3 && !refused; k++) {
		grow_session(b, &eb, k * STEP, STEP, &resp);
		refused = resp.error_code == WIRE_ERR_FETCH_SESSION_ID_NOT_FOUND;
	}
	ck_assert(refused);
	ck_assert_uint_eq(fetch_sessions_used(F.brk), 1);
	/* The first session still works. */
	incremental(12, a, ea, NULL, 0, NULL, 0, &resp);
	ck_assert_int_eq(resp.error_code, 0);
}
END_TEST

START_TEST(test_incremental_long_poll)
{
	int32_t id = new_session(12);
	struct ft_fetch q = {.version = 12,
	                     .max_wait_ms = 30000,
	                     .min_bytes = 1,
	                     .max_bytes = BIG,
	                     .session_id = id,
	                     .session_epoch = 1};
	ck_assert_int_eq(ft_send(&q), BRK_PENDING);
	size_t len = ft_produce("alpha", 2, 2, VALUE_LEN);
	ft_run_until_done();
	struct wire_fetch_response resp;
	ft_decode(12, &resp);
	ck_assert_int_eq(resp.session_id, id);
	ck_assert_uint_eq(ft_partition_count(&resp), 1);
	const struct wire_fetch_response_partition_data *pd = ft_find(12, &resp, "alpha", 2);
	ck_assert_ptr_nonnull(pd);
	ck_assert_int_eq(pd->records.len, (int32_t)len);
	lt_run_idle(F.loop);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fetch_session");
	TCase *tc = tcase_create("sessions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full_then_incremental);
	tcase_add_test(tc, test_add_and_forget);
	tcase_add_test(tc, test_bad_epoch_and_unknown_id);
	tcase_add_test(tc, test_topic_id_session);
	tcase_add_test(tc, test_close_with_final_epoch);
	tcase_add_test(tc, test_cache_full_sessionless_then_evict);
	tcase_add_test(tc, test_incremental_long_poll);
	tcase_add_test(tc, test_total_session_partitions_bounded);
	suite_add_tcase(s, tc);
	return s;
}
