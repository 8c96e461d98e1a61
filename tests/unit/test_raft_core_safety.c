/*
 * test_raft_core_safety.c: regressions of the KRaft core found by the deterministic simulator
 * (tests/sim, /work/notes/sim-findings.md), each reduced to a direct test that failed before
 * its fix:
 *   - a FetchResponse carrying DivergingEpoch never advances the follower's high watermark
 *     (its log is not yet known to match the leader), and the truncation point follows Kafka's
 *     ReplicatedLog.truncateToEndOffset (sim seeds 112, 990, 3898);
 *   - a pre-vote with a higher epoch moves the receiver to that epoch, unattached, without a
 *     vote (KAFKA-17641), so a voter left alone in a higher epoch rejoins (sim seeds 228, 2971).
 */
#include "raft_core_test_util.h"

/* The Fetch request node 1 sent in the latest ready (asserted to exist). */
static const struct raft_msg *sent_fetch(const struct one *o)
{
	for (uint32_t i = 0; i < o->rd.msg_count; i++)
		if (o->rd.msgs[i].type == RAFT_FETCH_REQ)
			return &o->rd.msgs[i];
	ck_abort_msg("no Fetch sent");
	return NULL;
}

/* A FetchResponse of leader 2 in epoch 7 to request req_id. */
static struct raft_msg fetch_resp(uint64_t req_id, int64_t hw, int32_t div_epoch, int64_t div_end)
{
	struct raft_msg f;
	memset(&f, 0, sizeof(f));
	f.type = RAFT_FETCH_RESP;
	f.from = 2;
	f.to = 1;
	f.req_id = req_id;
	f.epoch = 7;
	f.leader_id = 2;
	f.high_watermark = hw;
	f.log_start = 0;
	f.diverging_epoch = div_epoch;
	f.diverging_end_offset = div_end;
	f.snapshot_id.end_offset = -1;
	f.snapshot_id.epoch = -1;
	f.records_from = -1;
	return f;
}

/*
 * Follower 1 of leader 2, epoch 7. Follower log: epoch 1 [0,4), epoch 4 [4,10), epoch 6
 * [10,14). Leader log: epoch 1 [0,4), epoch 4 [4,6), epoch 5 [6,8), epoch 7 [8,...), HW 12:
 * the follower's 6..9 (epoch 4) conflict with the leader's committed 6..7 (epoch 5).
 */
START_TEST(diverging_epoch_never_advances_hw)
{
	struct one o;
	struct raft_epoch_entry eps[3] = {{1, 0}, {4, 4}, {6, 10}};
	one_init_log(&o, 3, (struct raft_hard_state){7, RAFT_CORE_NONE, 2}, eps, 3, 14);
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_FOLLOWER);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), -1);
	/* Fetch (14, 6): the leader's largest epoch <= 6 is 5, ending at 8. */
	struct raft_msg r = fetch_resp(o.first_fetch_req_id, 12, 5, 8);
	one_step(&o, &r);
	ck_assert(!raft_core_failed(o.rc));
	/* Local epoch found for 5 is 4 (!= 5): truncate to the local end of epoch 4 (Kafka's
	 * truncateToEndOffset), and adopt no high watermark (entries 6..9 still conflict). */
	ck_assert_int_eq(o.rd.high_watermark, -1);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), -1);
	ck_assert_int_eq(o.rd.truncate_to, 10);
	ck_assert_int_eq(raft_core_end_offset(o.rc), 10);
	const struct raft_msg *f = sent_fetch(&o);
	ck_assert_int_eq(f->fetch_offset, 10);
	ck_assert_int_eq(f->last_fetched_epoch, 4);
	/* Fetch (10, 4): the leader's epoch 4 ends at 6: truncate to min(6, 10). Still no HW. */
	r = fetch_resp(f->req_id, 12, 4, 6);
	one_step(&o, &r);
	ck_assert_int_eq(o.rd.truncate_to, 6);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), -1);
	f = sent_fetch(&o);
	ck_assert_int_eq(f->fetch_offset, 6);
	ck_assert_int_eq(f->last_fetched_epoch, 4);
	/* Fetch (6, 4) is valid: records 6..12 arrive; now the log matches: HW = 12. */
	struct raft_batch b[2] = {{6, 7, 5}, {8, 12, 7}};
	r = fetch_resp(f->req_id, 12, -1, -1);
	r.batches = b;
	r.batch_count = 2;
	one_step(&o, &r);
	ck_assert_uint_eq(o.rd.append_count, 2);
	ck_assert_int_eq(raft_core_end_offset(o.rc), 13);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 12);
	free(o.rc);
}
END_TEST

/* Same epoch found locally: truncate to min(diverging end, local end of that epoch); a
 * follower that already has a HW keeps it (no increase from the diverging response). */
START_TEST(diverging_epoch_same_epoch_takes_min)
{
	struct one o;
	struct raft_epoch_entry eps[2] = {{1, 0}, {5, 4}};
	one_init_log(&o, 3, (struct raft_hard_state){7, RAFT_CORE_NONE, 2}, eps, 2, 12);
	/* A first valid fetch (12, 5) with HW 5 -> hw 5. */
	struct raft_msg r = fetch_resp(o.first_fetch_req_id, 5, -1, -1);
	one_step(&o, &r);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 5);
	/* Leader: epoch 5 ends at 9, HW 11: truncate to 9, HW stays 5. */
	const struct raft_msg *f = sent_fetch(&o);
	r = fetch_resp(f->req_id, 11, 5, 9);
	one_step(&o, &r);
	ck_assert(!raft_core_failed(o.rc));
	ck_assert_int_eq(o.rd.truncate_to, 9);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 5);
	free(o.rc);
}
END_TEST

/* A DivergingEpoch end below the HW is fatal even when the local truncation point is not
 * (Kafka checks the leader's offset against the HW before truncating). */
START_TEST(diverging_end_below_hw_is_fatal)
{
	struct one o;
	struct raft_epoch_entry eps[3] = {{1, 0}, {4, 4}, {6, 10}};
	one_init_log(&o, 3, (struct raft_hard_state){7, RAFT_CORE_NONE, 2}, eps, 3, 14);
	struct raft_msg r = fetch_resp(o.first_fetch_req_id, 11, -1, -1);
	one_step(&o, &r);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 11);
	const struct raft_msg *f = sent_fetch(&o);
	r = fetch_resp(f->req_id, 11, 5, 8); /* local end of epoch 4 is 10, but 8 < HW 11 */
	one_step(&o, &r);
	ck_assert(raft_core_failed(o.rc));
	ck_assert_int_eq(o.rd.truncate_to, -1);
	free(o.rc);
}
END_TEST

/* KAFKA-17641: a follower that fetched from its leader refuses a pre-vote of its own epoch
 * and changes nothing; a pre-vote of a higher epoch moves it to that epoch, unattached,
 * without recording a vote, and is then judged by the Unattached rule (log up to date). */
START_TEST(prevote_higher_epoch_moves_to_unattached)
{
	struct one o;
	one_init(&o, 3, 2, RAFT_CORE_NONE); /* follower of 2 in epoch 3, log (3, 8) */
	struct raft_msg r;
	memset(&r, 0, sizeof(r));
	r.type = RAFT_FETCH_RESP;
	r.from = 2;
	r.to = 1;
	r.req_id = o.first_fetch_req_id;
	r.epoch = 3;
	r.leader_id = 2;
	r.high_watermark = 8;
	r.diverging_epoch = -1;
	r.snapshot_id.end_offset = -1;
	r.records_from = -1;
	one_step(&o, &r);
	struct raft_msg m = vote_req(3, 3, 3, 8, true);
	const struct raft_msg *v = one_step(&o, &m);
	ck_assert_ptr_nonnull(v);
	ck_assert(!v->granted);
	ck_assert(!o.rd.persist);
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_FOLLOWER);
	m = vote_req(3, 4, 3, 8, true);
	v = one_step(&o, &m);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_UNATTACHED);
	ck_assert_int_eq(raft_core_epoch(o.rc), 4);
	ck_assert(o.rd.persist);
	ck_assert_int_eq(o.rd.hard_state.epoch, 4);
	ck_assert_int_eq(o.rd.hard_state.voted_id, RAFT_CORE_NONE);
	ck_assert_int_eq(o.rd.hard_state.leader_id, RAFT_CORE_NONE);
	ck_assert_int_eq(v->epoch, 4);
	ck_assert(v->granted);
	/* A stale log's pre-vote of a still higher epoch moves the epoch but is refused. */
	m = vote_req(3, 5, 2, 100, true);
	v = one_step(&o, &m);
	ck_assert_int_eq(raft_core_epoch(o.rc), 5);
	ck_assert(!v->granted);
	ck_assert_int_eq(o.rd.hard_state.voted_id, RAFT_CORE_NONE);
	free(o.rc);
}
END_TEST

/* Sim seed 228: a voter that became candidate of epoch e+1 and lost its vote requests (here:
 * restarted with that hard state) sends only pre-votes of epoch e+1. The leader and the
 * follower of epoch e must move to e+1 so that a new election includes it again. */
START_TEST(voter_alone_in_higher_epoch_rejoins)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_propose(l, 2);
	h_run(500);
	int32_t e = raft_core_epoch(H->node[l].rc);
	int p = (l + 1) % 3;
	ck_assert_int_eq(raft_core_role(H->node[p].rc), RAFT_FOLLOWER);
	/* p crashed as a candidate of e + 1 whose vote requests were all lost. */
	H->node[p].up = false;
	H->node[p].hs = (struct raft_hard_state){e + 1, H->ids[p], RAFT_CORE_NONE};
	h_start(p);
	ck_assert_int_eq(raft_core_epoch(H->node[p].rc), e + 1);
	h_run(15000);
	int l2 = h_leader();
	ck_assert_int_ge(l2, 0);
	ck_assert_int_gt(raft_core_epoch(H->node[l2].rc), e);
	ck_assert_int_eq(h_count_leaders(), 1);
	int64_t base = h_propose(l2, 3);
	ck_assert_int_ge(base, 0);
	h_run(1000);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(raft_core_epoch(H->node[i].rc), raft_core_epoch(H->node[l2].rc));
		ck_assert_int_eq(raft_core_high_watermark(H->node[i].rc), base + 3);
	}
	h_teardown();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("raft_core_safety");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, diverging_epoch_never_advances_hw);
	tcase_add_test(tc, diverging_epoch_same_epoch_takes_min);
	tcase_add_test(tc, diverging_end_below_hw_is_fatal);
	tcase_add_test(tc, prevote_higher_epoch_moves_to_unattached);
	tcase_add_test(tc, voter_alone_in_higher_epoch_rejoins);
	suite_add_tcase(s, tc);
	return s;
}
