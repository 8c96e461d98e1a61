/*
 * test_raft_core.c: the pure KRaft core (raft/core) driven by the in-test cluster of
 * raft_core_test_util.h (elections, replication, divergence, check-quorum, resignation,
 * observers, snapshots, restarts) and direct single-core tests of message validation and
 * error codes. Safety and liveness regressions found by the simulator live in
 * test_raft_core_safety.c.
 */
#include "raft_core_test_util.h"

/* ---- cluster tests --------------------------------------------------------------------------- */

START_TEST(single_voter_leads_and_commits)
{
	h_setup(1, 1, true);
	struct raft_core *rc = H->node[0].rc;
	ck_assert_int_eq(raft_core_role(rc), RAFT_LEADER);
	ck_assert_int_eq(raft_core_epoch(rc), 1);
	ck_assert_int_eq(H->node[0].hs.voted_id, 1);
	ck_assert_int_eq(H->node[0].hs.leader_id, 1);
	ck_assert_int_eq(H->node[0].log_end, 1); /* LeaderChange at 0 */
	int64_t base = h_propose(0, 3);
	ck_assert_int_eq(base, 1);
	ck_assert_int_eq(raft_core_high_watermark(rc), 4);
	ck_assert_int_eq(raft_core_next_deadline(rc), INT64_MAX);
	/* Restart: a new epoch, leader again at once. */
	h_start(0);
	ck_assert_int_eq(raft_core_role(rc), RAFT_LEADER);
	ck_assert_int_eq(raft_core_epoch(rc), 2);
	ck_assert_int_eq(raft_core_end_offset(rc), 5);
	h_teardown();
}
END_TEST

START_TEST(three_voters_elect_one_leader)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(3000);
	ck_assert_int_eq(h_count_leaders(), 1);
	ck_assert_int_eq(h_leader(), l);
	int32_t e = raft_core_epoch(H->node[l].rc);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(raft_core_epoch(H->node[i].rc), e);
		ck_assert_int_eq(raft_core_leader_id(H->node[i].rc), H->ids[l]);
		if (i != l)
			ck_assert_int_eq(raft_core_role(H->node[i].rc), RAFT_FOLLOWER);
		ck_assert_int_eq(raft_core_high_watermark(H->node[i].rc), 1);
	}
	int64_t base = h_propose(l, 2);
	h_run(100);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(raft_core_high_watermark(H->node[i].rc), base + 2);
	h_teardown();
}
END_TEST

START_TEST(commit_needs_majority_flushed)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(200);
	for (int i = 0; i < 3; i++)
		H->node[i].manual_flush = true;
	int64_t hw0 = raft_core_high_watermark(H->node[l].rc);
	int64_t base = h_propose(l, 1);
	h_run(200);
	/* Followers appended but nobody flushed: nothing commits. */
	ck_assert_int_eq(raft_core_high_watermark(H->node[l].rc), hw0);
	h_flush(l);
	h_run(200);
	ck_assert_int_eq(raft_core_high_watermark(H->node[l].rc), hw0);
	int f = (l + 1) % 3;
	ck_assert_int_eq(H->node[f].log_end, base + 1);
	h_flush(f); /* its next Fetch reports the durable end */
	h_run(50);
	ck_assert_int_eq(raft_core_high_watermark(H->node[l].rc), base + 1);
	h_teardown();
}
END_TEST

START_TEST(leader_hw_not_below_epoch_start)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(100);
	for (int k = 0; k < 5; k++)
		h_propose(l, 1);
	h_run(100);
	/* New leader: the old entries are not exposed before its LeaderChange commits. */
	h_partition(l, true);
	for (int i = 0; i < 3; i++)
		if (i != l)
			H->node[i].manual_flush = true;
	int l2 = -1;
	for (int t = 0; t < 600 && (l2 < 0 || l2 == l); t++) {
		h_run(10);
		l2 = h_leader();
	}
	ck_assert_int_ge(l2, 0);
	ck_assert_int_ne(l2, l);
	h_run(50); /* the other voter appended the LeaderChange but has not flushed it */
	struct raft_ready rd;
	raft_core_ready(H->node[l2].rc, &rd);
	ck_assert_int_le(raft_core_high_watermark(H->node[l2].rc), rd.epoch_start_offset);
	for (int i = 0; i < 3; i++)
		if (i != l)
			h_flush(i);
	h_run(100);
	raft_core_ready(H->node[l2].rc, &rd);
	ck_assert_int_gt(raft_core_high_watermark(H->node[l2].rc), rd.epoch_start_offset);
	h_teardown();
}
END_TEST

START_TEST(prevote_partitioned_node_does_not_disrupt)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(500);
	int32_t e = raft_core_epoch(H->node[l].rc);
	int p = (l + 1) % 3;
	h_partition(p, true);
	h_run(20000);
	ck_assert_int_eq(raft_core_epoch(H->node[p].rc), e); /* pre-votes never bump */
	ck_assert_int_ne(raft_core_role(H->node[p].rc), RAFT_CANDIDATE);
	h_partition(p, false);
	h_run(5000);
	ck_assert_int_eq(h_leader(), l);
	ck_assert_int_eq(raft_core_epoch(H->node[l].rc), e);
	ck_assert_int_eq(raft_core_role(H->node[p].rc), RAFT_FOLLOWER);
	h_teardown();
}
END_TEST

START_TEST(no_prevote_partitioned_node_bumps_epochs)
{
	h_setup(3, 3, false);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(500);
	int32_t e = raft_core_epoch(H->node[l].rc);
	int p = (l + 1) % 3;
	h_partition(p, true);
	h_run(20000);
	ck_assert_int_gt(raft_core_epoch(H->node[p].rc), e + 2);
	h_partition(p, false);
	h_run(10000);
	ck_assert_int_eq(h_count_leaders(), 1);
	h_teardown();
}
END_TEST

START_TEST(diverging_epoch_truncates_uncommitted_suffix)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(100);
	h_propose(l, 1);
	h_run(100);
	int64_t committed = raft_core_high_watermark(H->node[l].rc);
	h_partition(l, true);
	for (int k = 0; k < 4; k++)
		h_propose(l, 2); /* never replicated */
	int64_t old_end = H->node[l].log_end;
	h_run(6000);
	int l2 = h_leader();
	ck_assert_int_ge(l2, 0);
	ck_assert_int_ne(l2, l);
	h_propose(l2, 1);
	h_run(100);
	h_partition(l, false);
	h_run(3000);
	ck_assert_int_eq(raft_core_role(H->node[l].rc), RAFT_FOLLOWER);
	ck_assert_int_eq(H->node[l].log_end, H->node[l2].log_end);
	ck_assert_int_lt(H->node[l2].log_end, old_end);
	for (int64_t o = committed; o < H->node[l].log_end; o++) {
		ck_assert_int_eq(H->node[l].value_at[o], H->node[l2].value_at[o]);
		ck_assert_int_eq(H->node[l].epoch_at[o], H->node[l2].epoch_at[o]);
	}
	ck_assert(!raft_core_failed(H->node[l].rc));
	h_teardown();
}
END_TEST

START_TEST(check_quorum_resigns)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(100);
	h_partition(l, true);
	h_run(2400); /* the last fetches were at most max_wait (500 ms) before the cut */
	ck_assert_int_eq(raft_core_role(H->node[l].rc), RAFT_LEADER);
	h_run(700); /* 1.5 x fetch timeout after the last fetches */
	ck_assert_int_eq(raft_core_role(H->node[l].rc), RAFT_RESIGNED);
	int64_t b;
	int32_t e;
	ck_assert(!raft_core_propose(H->node[l].rc, H->now, 1, &b, &e));
	h_teardown();
}
END_TEST

START_TEST(graceful_resign_hands_over_quickly)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(100);
	int fast = (l + 1) % 3, slow = (l + 2) % 3;
	H->node[slow].manual_flush = true;
	for (int k = 0; k < 3; k++)
		h_propose(l, 1);
	h_run(100);
	ck_assert_int_lt(H->node[slow].durable, H->node[fast].durable);
	int32_t e = raft_core_epoch(H->node[l].rc);
	raft_core_resign(H->node[l].rc, H->now);
	h_ready(l);
	ck_assert_int_eq(raft_core_role(H->node[l].rc), RAFT_RESIGNED);
	H->node[slow].manual_flush = false;
	h_flush(slow);
	int64_t t0 = H->now;
	int nl = -1;
	while (H->now - t0 < 3000) {
		h_run(5);
		nl = h_leader();
		if (nl >= 0 && nl != l)
			break;
	}
	ck_assert_int_eq(nl, fast);
	ck_assert_int_lt(H->now - t0, 300);
	ck_assert_int_eq(raft_core_epoch(H->node[nl].rc), e + 1);
	h_teardown();
}
END_TEST

START_TEST(observer_replicates_never_counts)
{
	h_setup(4, 3, true); /* node 4 observes */
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	ck_assert(!raft_core_is_voter(H->node[3].rc));
	h_run(1000);
	ck_assert_int_eq(raft_core_role(H->node[3].rc), RAFT_FOLLOWER);
	ck_assert_int_eq(raft_core_leader_id(H->node[3].rc), H->ids[l]);
	int64_t base = h_propose(l, 2);
	h_run(100);
	ck_assert_int_eq(H->node[3].log_end, base + 2);
	ck_assert_int_eq(raft_core_high_watermark(H->node[3].rc), base + 2);
	struct raft_replica_state rs[8];
	uint32_t vc;
	uint32_t nr = raft_core_replicas(H->node[l].rc, H->now, rs, 8, &vc);
	ck_assert_uint_eq(vc, 3);
	ck_assert_uint_eq(nr, 4);
	ck_assert_int_eq(rs[3].id, 4);
	ck_assert_int_eq(rs[3].log_end_offset, base + 2);
	/* Voters cut off from the leader (the observer is not): nothing commits. */
	for (int i = 0; i < 3; i++)
		if (i != l) {
			H->cut[i][l] = H->cut[l][i] = true;
		}
	int64_t hw = raft_core_high_watermark(H->node[l].rc);
	h_propose(l, 1);
	h_run(1000);
	ck_assert_int_eq(raft_core_high_watermark(H->node[l].rc), hw);
	ck_assert_int_eq(H->node[3].log_end, H->node[l].log_end);
	/* An isolated observer never campaigns (the invariants would catch it). */
	h_partition(3, true);
	h_run(10000);
	ck_assert(raft_core_role(H->node[3].rc) == RAFT_UNATTACHED ||
	          raft_core_role(H->node[3].rc) == RAFT_FOLLOWER);
	h_teardown();
}
END_TEST

START_TEST(snapshot_redirect_and_install)
{
	h_setup(3, 3, true);
	int late = 2;
	h_partition(late, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	ck_assert_int_ne(l, late);
	h_run(100);
	for (int k = 0; k < 10; k++)
		h_propose(l, 2);
	h_run(100);
	struct h_node *ln = &H->node[l];
	int64_t hw = raft_core_high_watermark(ln->rc);
	ck_assert_int_eq(hw, ln->log_end);
	/* Snapshot at the HW and drop the log below it. */
	struct raft_snapshot_id id = {hw, ln->epoch_at[hw - 1]};
	ln->snap = id;
	ln->snap_size = 1000;
	for (int k = 0; k < 1000; k++)
		ln->snap_bytes[k] = (unsigned char)(k * 7);
	raft_core_snapshot_taken(ln->rc, id, 1000);
	raft_core_log_start_advanced(ln->rc, hw);
	ln->log_start = hw;
	h_ready(l);
	h_propose(l, 1);
	h_run(100);
	h_partition(late, false);
	h_run(3000);
	struct h_node *n2 = &H->node[late];
	ck_assert_int_eq(n2->snap.end_offset, id.end_offset);
	ck_assert_int_eq(memcmp(n2->snap_bytes, ln->snap_bytes, 1000), 0);
	ck_assert_int_eq(raft_core_log_start(n2->rc), hw);
	ck_assert_int_eq(n2->log_end, ln->log_end);
	ck_assert_int_eq(raft_core_high_watermark(n2->rc), ln->log_end);
	ck_assert_int_eq(n2->value_at[hw], ln->value_at[hw]);
	h_teardown();
}
END_TEST

START_TEST(restart_follower_keeps_state)
{
	h_setup(3, 3, true);
	int l = h_await_leader(10000);
	ck_assert_int_ge(l, 0);
	h_run(100);
	h_propose(l, 3);
	h_run(100);
	int f = (l + 1) % 3;
	h_start(f); /* restart from persisted state and log */
	ck_assert_int_eq(raft_core_role(H->node[f].rc), RAFT_FOLLOWER);
	h_run(200);
	ck_assert_int_eq(raft_core_high_watermark(H->node[f].rc), H->node[l].log_end);
	/* The leader restarts: comes back Resigned, another leader takes over. */
	int32_t e = raft_core_epoch(H->node[l].rc);
	h_start(l);
	ck_assert_int_eq(raft_core_role(H->node[l].rc), RAFT_RESIGNED);
	h_run(8000);
	int l2 = h_leader();
	ck_assert_int_ge(l2, 0);
	ck_assert_int_gt(raft_core_epoch(H->node[l2].rc), e);
	h_teardown();
}
END_TEST

/* ---- single-core tests --------------------------------------------------------------------- */

START_TEST(vote_refused_to_stale_log)
{
	struct one o;
	one_init(&o, 3, RAFT_CORE_NONE, RAFT_CORE_NONE);
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_UNATTACHED);
	struct raft_msg m = vote_req(2, 4, 3, 7, false); /* one record short */
	const struct raft_msg *r = one_step(&o, &m);
	ck_assert_ptr_nonnull(r);
	ck_assert(!r->granted);
	ck_assert_int_eq(r->epoch, 4);
	ck_assert(o.rd.persist); /* epoch 4 recorded */
	ck_assert_int_eq(o.rd.hard_state.voted_id, RAFT_CORE_NONE);
	m = vote_req(3, 4, 2, 100, false); /* older last epoch */
	r = one_step(&o, &m);
	ck_assert(!r->granted);
	/* Pre-vote from a stale log: rejected, nothing changes. */
	m = vote_req(2, 4, 3, 5, true);
	r = one_step(&o, &m);
	ck_assert(!r->granted);
	ck_assert(!o.rd.persist);
	free(o.rc);
}
END_TEST

START_TEST(vote_persisted_with_grant)
{
	struct one o;
	one_init(&o, 3, RAFT_CORE_NONE, RAFT_CORE_NONE);
	struct raft_msg m = vote_req(2, 3, 3, 8, true); /* pre-vote, same epoch */
	const struct raft_msg *r = one_step(&o, &m);
	ck_assert(r->granted);
	ck_assert(!o.rd.persist);
	ck_assert_int_eq(raft_core_epoch(o.rc), 3);
	m = vote_req(2, 4, 3, 8, false);
	r = one_step(&o, &m);
	ck_assert(r->granted);
	ck_assert(o.rd.persist);
	ck_assert_int_eq(o.rd.hard_state.epoch, 4);
	ck_assert_int_eq(o.rd.hard_state.voted_id, 2);
	/* Same candidate again: granted; another: refused. */
	r = one_step(&o, &m);
	ck_assert(r->granted);
	m = vote_req(3, 4, 3, 9, false);
	r = one_step(&o, &m);
	ck_assert(!r->granted);
	free(o.rc);
}
END_TEST

START_TEST(follower_prevote_rule)
{
	struct one o;
	one_init(&o, 3, 2, RAFT_CORE_NONE); /* follower of 2 in epoch 3 */
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_FOLLOWER);
	struct raft_msg m = vote_req(3, 3, 3, 8, true);
	const struct raft_msg *r = one_step(&o, &m);
	ck_assert(r->granted); /* has not fetched from its leader yet */
	/* A successful fetch from the leader: no more pre-votes. */
	struct raft_msg f;
	memset(&f, 0, sizeof(f));
	f.type = RAFT_FETCH_RESP;
	f.from = 2;
	f.to = 1;
	f.epoch = 3;
	f.leader_id = 2;
	f.high_watermark = 8;
	f.diverging_epoch = -1;
	f.snapshot_id.end_offset = -1;
	f.records_from = -1;
	f.req_id = o.first_fetch_req_id; /* the fetch the follower sent at init */
	ck_assert_uint_ne(f.req_id, 0);
	one_step(&o, &f);
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 8);
	r = one_step(&o, &m);
	ck_assert(!r->granted);
	free(o.rc);
}
END_TEST

START_TEST(malformed_requests_get_error_codes)
{
	struct one o;
	one_init(&o, 1, RAFT_CORE_NONE, RAFT_CORE_NONE); /* single voter: leader of epoch 4 */
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_LEADER);
	ck_assert_int_eq(raft_core_epoch(o.rc), 4);
	struct {
		struct raft_msg m;
		int16_t err;
	} fc[] = {
	        {fetch_req(9, 4, 0, 0, -1), RC_ERR_INVALID_REQUEST},
	        {fetch_req(9, 4, -1, 0, 0), RC_ERR_INVALID_REQUEST},
	        {fetch_req(9, 4, 0, -1, 0), RC_ERR_INVALID_REQUEST},
	        {fetch_req(9, 4, 0, 5, 0), RC_ERR_INVALID_REQUEST},
	        {fetch_req(9, 3, 0, 0, 0), RC_ERR_FENCED_LEADER_EPOCH},
	        {fetch_req(9, 5, 0, 0, 0), RC_ERR_UNKNOWN_LEADER_EPOCH},
	        {fetch_req(9, 4, 0, 0, 0), RC_ERR_NONE},
	};
	for (size_t i = 0; i < sizeof(fc) / sizeof(fc[0]); i++) {
		const struct raft_msg *r = one_step(&o, &fc[i].m);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->type, RAFT_FETCH_RESP);
		ck_assert_msg(r->error == fc[i].err, "case %zu: %d", i, r->error);
		ck_assert_int_eq(r->epoch, 4);
		ck_assert_int_eq(r->leader_id, 1);
	}
	/* Valid fetch: records from 0, HW and log start filled. */
	struct raft_msg ok = fetch_req(9, 4, 0, 0, 0);
	const struct raft_msg *r = one_step(&o, &ok);
	ck_assert_int_eq(r->records_from, 0);
	ck_assert_int_eq(r->log_start, 0);
	/* Divergence: epoch 2 does not exist (largest <= 2 is 1, ends at 4). */
	struct raft_msg dv = fetch_req(9, 4, 6, 2, 0);
	r = one_step(&o, &dv);
	ck_assert_int_eq(r->error, 0);
	ck_assert_int_eq(r->diverging_epoch, 1);
	ck_assert_int_eq(r->diverging_end_offset, 4);
	ck_assert_int_eq(r->records_from, -1);
	/* Ahead in epoch 3 (which ends at 8): diverging at 3/8. */
	dv = fetch_req(9, 4, 10, 3, 0);
	r = one_step(&o, &dv);
	ck_assert_int_eq(r->diverging_epoch, 3);
	ck_assert_int_eq(r->diverging_end_offset, 8);
	/* Vote validation. */
	struct {
		struct raft_msg m;
		int16_t err;
	} vc[] = {
	        {vote_req(2, 5, 3, -1, false), RC_ERR_INVALID_REQUEST},
	        {vote_req(2, 5, -1, 3, false), RC_ERR_INVALID_REQUEST},
	        {vote_req(2, 5, 5, 3, false), RC_ERR_INVALID_REQUEST},
	        {vote_req(2, 5, 6, 3, true), RC_ERR_INVALID_REQUEST},
	        {vote_req(2, 3, 2, 3, false), RC_ERR_FENCED_LEADER_EPOCH},
	        {vote_req(2, 4, 4, 3, true), RC_ERR_NONE},
	};
	for (size_t i = 0; i < sizeof(vc) / sizeof(vc[0]); i++) {
		r = one_step(&o, &vc[i].m);
		ck_assert_ptr_nonnull(r);
		ck_assert_msg(r->error == vc[i].err, "vote case %zu: %d", i, r->error);
		ck_assert(!r->granted); /* a leader grants nothing */
	}
	ck_assert_int_eq(raft_core_role(o.rc), RAFT_LEADER);
	/* Begin / End with a stale epoch, Begin without a leader. */
	struct raft_msg b;
	memset(&b, 0, sizeof(b));
	b.type = RAFT_BEGIN_REQ;
	b.from = 2;
	b.to = 1;
	b.req_id = 5;
	b.epoch = 3;
	b.leader_id = 2;
	r = one_step(&o, &b);
	ck_assert_int_eq(r->error, RC_ERR_FENCED_LEADER_EPOCH);
	b.epoch = 4;
	b.leader_id = -1;
	r = one_step(&o, &b);
	ck_assert_int_eq(r->error, RC_ERR_INVALID_REQUEST);
	b.type = RAFT_END_REQ;
	b.epoch = 3;
	b.leader_id = 2;
	r = one_step(&o, &b);
	ck_assert_int_eq(r->type, RAFT_END_RESP);
	ck_assert_int_eq(r->error, RC_ERR_FENCED_LEADER_EPOCH);
	/* FetchSnapshot. */
	struct raft_msg s;
	memset(&s, 0, sizeof(s));
	s.type = RAFT_SNAP_REQ;
	s.from = 9;
	s.to = 1;
	s.req_id = 6;
	s.epoch = 4;
	s.snapshot_id = (struct raft_snapshot_id){0, 0};
	s.position = 0;
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_SNAPSHOT_NOT_FOUND); /* 0-0 is never served */
	raft_core_log_flushed(o.rc, 10, raft_core_end_offset(o.rc));
	ck_assert_int_eq(raft_core_high_watermark(o.rc), 9);
	raft_core_snapshot_taken(o.rc, (struct raft_snapshot_id){8, 3}, 500);
	s.snapshot_id = (struct raft_snapshot_id){8, 2};
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_SNAPSHOT_NOT_FOUND);
	s.snapshot_id = (struct raft_snapshot_id){8, 3};
	s.position = 501;
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_POSITION_OUT_OF_RANGE);
	s.position = -1;
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_INVALID_REQUEST);
	s.position = 100;
	s.epoch = 3;
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_FENCED_LEADER_EPOCH);
	s.epoch = 4;
	r = one_step(&o, &s);
	ck_assert_int_eq(r->error, RC_ERR_NONE);
	ck_assert_int_eq(r->size, 500);
	ck_assert_int_eq(r->position, 100);
	/* With a snapshot, a fetch from 0 is redirected. */
	struct raft_msg z = fetch_req(9, 4, 0, 0, 0);
	r = one_step(&o, &z);
	ck_assert_int_eq(r->snapshot_id.end_offset, 8);
	ck_assert_int_eq(r->snapshot_id.epoch, 3);
	free(o.rc);
}
END_TEST

START_TEST(not_leader_answers)
{
	struct one o;
	one_init(&o, 3, 2, RAFT_CORE_NONE);
	struct raft_msg f = fetch_req(3, 3, 0, 0, 0);
	const struct raft_msg *r = one_step(&o, &f);
	ck_assert_int_eq(r->error, RC_ERR_NOT_LEADER_OR_FOLLOWER);
	ck_assert_int_eq(r->leader_id, 2);
	free(o.rc);
}
END_TEST

START_TEST(long_poll_parks_and_wakes)
{
	struct one o;
	one_init(&o, 1, RAFT_CORE_NONE, RAFT_CORE_NONE);
	raft_core_log_flushed(o.rc, 5, raft_core_end_offset(o.rc));
	struct raft_msg f = fetch_req(9, 4, 9, 4, 500);
	const struct raft_msg *r = one_step(&o, &f);
	ck_assert_ptr_nonnull(r); /* first contact: answered at once with the HW */
	ck_assert_int_eq(r->high_watermark, 9);
	ck_assert_int_eq(r->records_from, -1);
	f.req_id = 100;
	raft_core_step(o.rc, 10, &f);
	raft_check_invariants(o.rc);
	raft_core_ready(o.rc, &o.rd);
	ck_assert_uint_eq(o.rd.msg_count, 0); /* parked */
	raft_core_advance(o.rc);
	ck_assert_int_eq(raft_core_next_deadline(o.rc), 510);
	int64_t base;
	int32_t e;
	ck_assert(raft_core_propose(o.rc, 20, 2, &base, &e));
	raft_core_ready(o.rc, &o.rd);
	ck_assert_uint_eq(o.rd.msg_count, 1);
	ck_assert_int_eq(o.rd.msgs[0].records_from, 9);
	ck_assert_uint_eq(o.rd.msgs[0].req_id, 100);
	raft_core_advance(o.rc);
	/* Park again, then expire. */
	f = fetch_req(9, 4, 11, 4, 500);
	r = one_step(&o, &f);
	ck_assert_ptr_null(r);
	raft_core_tick(o.rc, 600);
	raft_core_ready(o.rc, &o.rd);
	ck_assert_uint_eq(o.rd.msg_count, 1);
	ck_assert_int_eq(o.rd.msgs[0].records_from, -1);
	raft_core_advance(o.rc);
	raft_check_invariants(o.rc);
	free(o.rc);
}
END_TEST

START_TEST(init_rejects_bad_state)
{
	struct raft_core *rc = calloc(1, raft_core_size());
	struct raft_epoch_entry eb[4];
	struct raft_msg ob[8];
	struct raft_core_config c;
	memset(&c, 0, sizeof(c));
	c.node_id = 1;
	c.voters[0] = 1;
	c.voters[1] = 1;
	c.voter_count = 2;
	c.election_timeout_ms = c.fetch_timeout_ms = c.request_timeout_ms = 1000;
	c.epoch_buf = eb;
	c.epoch_cap = 4;
	c.out_buf = ob;
	c.out_cap = 8;
	struct raft_hard_state hs = {0, -1, -1};
	struct raft_log_state ls = {0, 0, {-1, -1}, 0, NULL, 0};
	char err[64];
	ck_assert(!raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	c.voters[1] = 2;
	ck_assert(raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	ls.end_offset = -1;
	ck_assert(!raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	ls.end_offset = 5;
	ls.snapshot = (struct raft_snapshot_id){6, 1};
	ck_assert(!raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	ls.snapshot = (struct raft_snapshot_id){-1, -1};
	struct raft_epoch_entry bad[2] = {{2, 0}, {1, 3}};
	hs.epoch = 2;
	ls.epochs = bad;
	ls.epoch_count = 2;
	ck_assert(!raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	c.out_cap = 3;
	ls.epoch_count = 0;
	ck_assert(!raft_core_init(rc, &c, &hs, &ls, 0, err, sizeof(err)));
	free(rc);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("raft_core");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, single_voter_leads_and_commits);
	tcase_add_test(tc, three_voters_elect_one_leader);
	tcase_add_test(tc, commit_needs_majority_flushed);
	tcase_add_test(tc, leader_hw_not_below_epoch_start);
	tcase_add_test(tc, prevote_partitioned_node_does_not_disrupt);
	tcase_add_test(tc, no_prevote_partitioned_node_bumps_epochs);
	tcase_add_test(tc, diverging_epoch_truncates_uncommitted_suffix);
	tcase_add_test(tc, check_quorum_resigns);
	tcase_add_test(tc, graceful_resign_hands_over_quickly);
	tcase_add_test(tc, observer_replicates_never_counts);
	tcase_add_test(tc, snapshot_redirect_and_install);
	tcase_add_test(tc, restart_follower_keeps_state);
	tcase_add_test(tc, vote_refused_to_stale_log);
	tcase_add_test(tc, vote_persisted_with_grant);
	tcase_add_test(tc, follower_prevote_rule);
	tcase_add_test(tc, malformed_requests_get_error_codes);
	tcase_add_test(tc, not_leader_answers);
	tcase_add_test(tc, long_poll_parks_and_wakes);
	tcase_add_test(tc, init_rejects_bad_state);
	suite_add_tcase(s, tc);
	return s;
}
