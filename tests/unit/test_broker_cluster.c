/*
 * test_broker_cluster.c: the broker as one of several (kraft.md §5.6): Metadata and
 * DescribeCluster list the registered, unfenced brokers with the endpoint of the request's
 * listener; partitions report their leader (LEADER_NOT_AVAILABLE / LISTENER_NOT_FOUND) and
 * offline replicas; the data path serves only partitions this broker leads
 * (NOT_LEADER_OR_FOLLOWER with KIP-951 hints otherwise), follows leadership moves in new images,
 * and keeps logs only for partitions whose replicas include it. Real logs in a temp dir.
 *
 * The image: brokers 1 (this one), 2, 3 (fenced) with listeners PLAINTEXT and EXTERNAL, and 4
 * with PLAINTEXT only; racks r1..r3, none for 4. Topics (variant 0):
 *   mine   p0 leader 1 epoch 3 replicas [1,2];  p1 leader 2 epoch 7 replicas [2,1]
 *   other  p0 leader 2 epoch 0 replicas [2,3]  (not hosted here)
 *   none   p0 leader -1 epoch 2 replicas [3,1], ISR [3]
 *   ext4   p0 leader 4 epoch 0 replicas [4]
 * Variant 1 moves mine's leaders (p0 -> 2 at epoch 4, p1 -> 1 at epoch 8); variant 2 adds this
 * broker to other's replicas.
 */
#include "brk_test_util.h"

#define K_METADATA 3
#define K_FETCH 1
#define K_DESCRIBE_CLUSTER 60
#define E_NOT_LEADER 6
#define E_UNKNOWN_TOPIC_OR_PARTITION 3
#define E_LEADER_NOT_AVAILABLE 5
#define E_LISTENER_NOT_FOUND 72
#define E_UNKNOWN_TOPIC_ID 100

/* ---- the image ------------------------------------------------------------------------------ */

static void cl_broker(struct meta_delta *d, int32_t id, bool fenced, bool external)
{
	char host[2][32], rack[8];
	snprintf(host[0], sizeof(host[0]), "b%d.plain", (int)id);
	snprintf(host[1], sizeof(host[1]), "b%d.ext", (int)id);
	snprintf(rack, sizeof(rack), "r%d", (int)id);
	struct meta_register_broker_record_broker_endpoint eps[2];
	for (int i = 0; i < 2; i++) {
		meta_register_broker_record_broker_endpoint_init(&eps[i]);
		eps[i].name = wire_str_c(i == 0 ? "PLAINTEXT" : "EXTERNAL");
		eps[i].host = wire_str_c(host[i]);
		eps[i].port = (uint16_t)((i == 0 ? 9090 : 19090) + id);
	}
	struct meta_register_broker_record r;
	meta_register_broker_record_init(&r);
	r.broker_id = id;
	r.broker_epoch = 10 + id;
	r.end_points_count = external ? 2 : 1;
	r.end_points = eps;
	r.rack = wire_str_c(id == 4 ? NULL : rack);
	r.fenced = fenced;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	meta_frame_put(&b, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&b, 1, &r);
	delta_record(d, &b);
	sl_buf_free(&b);
}

static void cl_topic(struct meta_delta *d, const char *name, uint8_t id)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct meta_topic_record tr;
	meta_topic_record_init(&tr);
	tr.name = wire_str_c(name);
	tr.topic_id = topic_uuid(id);
	meta_frame_put(&b, META_REC_TOPIC, 0);
	meta_topic_record_encode(&b, 0, &tr);
	delta_record(d, &b);
	sl_buf_free(&b);
}

/* A partition with replicas r0, r1 (r1 < 0: one replica); ISR = replicas, or [r0] when the
 * leader is -1. */
static void cl_part(struct meta_delta *d, uint8_t id, int32_t p, int32_t leader, int32_t epoch,
                    int32_t r0, int32_t r1)
{
	int32_t reps[2] = {r0, r1};
	struct meta_partition_record pr;
	meta_partition_record_init(&pr);
	pr.partition_id = p;
	pr.topic_id = topic_uuid(id);
	pr.replicas_count = r1 < 0 ? 1 : 2;
	pr.replicas = reps;
	pr.isr_count = leader < 0 ? 1 : pr.replicas_count;
	pr.isr = reps;
	pr.leader = leader;
	pr.leader_epoch = epoch;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	meta_frame_put(&b, META_REC_PARTITION, 0);
	meta_partition_record_encode(&b, 0, &pr);
	delta_record(d, &b);
	sl_buf_free(&b);
}

/* Publishes the image of `variant` (see the file comment) to the broker. */
static void cl_image(int variant)
{
	struct meta_image *empty = meta_image_create_empty();
	ck_assert_ptr_nonnull(empty);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	meta_image_unref(empty);
	cl_broker(d, 1, false, true);
	cl_broker(d, 2, false, true);
	cl_broker(d, 3, true, true);
	cl_broker(d, 4, false, false);
	cl_topic(d, "mine", 1);
	cl_part(d, 1, 0, variant == 1 ? 2 : 1, variant == 1 ? 4 : 3, 1, 2);
	cl_part(d, 1, 1, variant == 1 ? 1 : 2, variant == 1 ? 8 : 7, 2, 1);
	cl_topic(d, "other", 2);
	cl_part(d, 2, 0, 2, 0, 2, variant == 2 ? 1 : 3);
	cl_topic(d, "none", 3);
	cl_part(d, 3, 0, -1, 2, 3, 1);
	cl_topic(d, "ext4", 4);
	cl_part(d, 4, 0, 4, 0, 4, -1);
	publish(d);
}

static void cl_setup(void)
{
	memset(&T, 0, sizeof(T));
	snprintf(T.dir, sizeof(T.dir), "/tmp/sl_brk_produce_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(T.dir));
	T.dirs[0] = T.dir;
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	char err[256];
	ck_assert_msg(io_loop_create(&lo, &T.loop, err, sizeof(err)) == SL_OK, "%s", err);
	struct stor_log_manager_opts mo;
	stor_log_manager_opts_init(&mo);
	mo.log_dirs = T.dirs;
	mo.log_dir_count = 1;
	mo.start_timer = false;
	ck_assert_msg(stor_log_manager_open(T.loop, &mo, &T.logs, NULL, err, sizeof(err)) == SL_OK,
	              "%s", err);
	struct brk_opts o = {.node_id = NODE_ID,
	                     .cluster_id = "MkU3OEVBNTcwNTJENDM2Qk",
	                     .loop = T.loop,
	                     .logs = T.logs,
	                     .log_dirs = T.dirs,
	                     .log_dir_count = 1,
	                     .fetch_max_bytes = 1 << 20,
	                     .max_incremental_fetch_session_cache_slots = 10};
	ck_assert_int_eq(brk_create(&o, &T.brk), SL_OK);
	sl_arena_init(&T.arena, 4096, 1 << 26);
	sl_buf_init(&T.req, 1 << 22);
	sl_buf_init(&T.resp, 1 << 22);
	sl_buf_init(&T.batch, 1 << 22);
	cl_image(0);
}

/* ---- requests ------------------------------------------------------------------------------- */

/* Like handle() but the request arrives on `listener`. */
static enum brk_outcome handle_on(const char *listener)
{
	ck_assert_int_eq(sl_buf_err(&T.req), SL_OK);
	struct brk_frame f = {.data = T.req.data,
	                      .len = T.req.len,
	                      .arena = &T.arena,
	                      .listener = listener,
	                      .log_ctx = "test",
	                      .done = frame_done};
	enum brk_outcome o = brk_handle(T.brk, &f, &T.resp, T.reason, sizeof(T.reason));
	if (o != BRK_PENDING)
		return o;
	int64_t deadline = sl_mono_ms() + 20000;
	while (T.done_calls == 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for the answer");
		(void)io_loop_run_once(T.loop, 50);
	}
	return T.done_outcome;
}

/* Metadata (all topics) on listener, decoded into *resp. */
static void metadata(int16_t v, const char *listener, struct wire_metadata_response *resp)
{
	begin(K_METADATA, v);
	struct wire_metadata_request req;
	wire_metadata_request_init(&req);
	req.topics_count = -1;
	wire_metadata_request_encode(&T.req, v, &req);
	ck_assert_int_eq(handle_on(listener), BRK_RESPOND);
	struct wire_reader r;
	body_reader(&r, K_METADATA, v);
	ck_assert_int_eq(wire_metadata_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

static const struct wire_metadata_response_partition *
md_part(const struct wire_metadata_response *resp, const char *topic, int32_t p)
{
	for (int32_t i = 0; i < resp->topics_count; i++) {
		const struct wire_metadata_response_topic *t = &resp->topics[i];
		if (!wire_str_eq(t->name, topic))
			continue;
		ck_assert_int_eq(t->error_code, 0);
		for (int32_t k = 0; k < t->partitions_count; k++) {
			if (t->partitions[k].partition_index == p)
				return &t->partitions[k];
		}
	}
	ck_abort_msg("%s-%d not in the Metadata reply", topic, (int)p);
	return NULL;
}

static void fetch_build(int16_t v, const char *topic, int32_t partition, int64_t offset,
                        int32_t max_wait_ms)
{
	begin(K_FETCH, v);
	struct wire_fetch_request_partition p;
	wire_fetch_request_partition_init(&p);
	p.partition = partition;
	p.fetch_offset = offset;
	p.partition_max_bytes = 1 << 20;
	struct wire_fetch_request_topic t;
	wire_fetch_request_topic_init(&t);
	t.topic = wire_str_c(topic);
	const struct meta_topic *mt = meta_image_topic(T.img, topic, strlen(topic));
	t.topic_id = mt != NULL ? mt->id : topic_uuid(0x77);
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_fetch_request req;
	wire_fetch_request_init(&req);
	req.max_wait_ms = max_wait_ms;
	req.min_bytes = 1;
	req.max_bytes = 1 << 20;
	req.topics_count = 1;
	req.topics = &t;
	wire_fetch_request_encode(&T.req, v, &req);
}

static const struct wire_fetch_response_partition_data *
fetch_decode(int16_t v, struct wire_fetch_response *resp)
{
	struct wire_reader r;
	body_reader(&r, K_FETCH, v);
	ck_assert_int_eq(wire_fetch_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp->responses_count, 1);
	ck_assert_int_eq(resp->responses[0].partitions_count, 1);
	return &resp->responses[0].partitions[0];
}

/* A sessionless fetch answered at once (max_wait 0). */
static const struct wire_fetch_response_partition_data *
fetch_now(int16_t v, const char *topic, int32_t partition, struct wire_fetch_response *resp)
{
	fetch_build(v, topic, partition, 0, 0);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	return fetch_decode(v, resp);
}

static bool dir_exists(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", T.dir, name);
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- Metadata and DescribeCluster --------------------------------------------------------- */

START_TEST(metadata_lists_alive_brokers_on_the_listener)
{
	struct wire_metadata_response resp;
	metadata(12, "EXTERNAL", &resp);
	/* 3 is fenced, 4 has no EXTERNAL listener. */
	ck_assert_int_eq(resp.brokers_count, 2);
	ck_assert_int_eq(resp.brokers[0].node_id, 1);
	ck_assert(wire_str_eq(resp.brokers[0].host, "b1.ext"));
	ck_assert_int_eq(resp.brokers[0].port, 19091);
	ck_assert(wire_str_eq(resp.brokers[0].rack, "r1"));
	ck_assert_int_eq(resp.brokers[1].node_id, 2);
	ck_assert(wire_str_eq(resp.brokers[1].host, "b2.ext"));
	ck_assert_int_eq(resp.brokers[1].port, 19092);
	ck_assert(wire_str_eq(resp.brokers[1].rack, "r2"));
	ck_assert_int_eq(resp.controller_id, NODE_ID);

	/* PLAINTEXT, no listener, or an unknown one (this broker's first endpoint): 1, 2, 4. */
	const char *listeners[] = {"PLAINTEXT", NULL, "adopted"};
	for (size_t i = 0; i < SL_ARRAY_LEN(listeners); i++) {
		metadata(5, listeners[i], &resp);
		ck_assert_int_eq(resp.brokers_count, 3);
		ck_assert_int_eq(resp.brokers[0].node_id, 1);
		ck_assert(wire_str_eq(resp.brokers[0].host, "b1.plain"));
		ck_assert_int_eq(resp.brokers[0].port, 9091);
		ck_assert_int_eq(resp.brokers[1].node_id, 2);
		ck_assert_int_eq(resp.brokers[2].node_id, 4);
		ck_assert(wire_str_eq(resp.brokers[2].host, "b4.plain"));
		ck_assert_int_eq(resp.brokers[2].rack.len, -1);
	}
}
END_TEST

START_TEST(metadata_partition_leaders_and_offline_replicas)
{
	struct wire_metadata_response resp;
	metadata(12, "EXTERNAL", &resp);
	ck_assert_int_eq(resp.topics_count, 4);
	const struct wire_metadata_response_partition *p = md_part(&resp, "mine", 0);
	ck_assert_int_eq(p->error_code, 0);
	ck_assert_int_eq(p->leader_id, 1);
	ck_assert_int_eq(p->leader_epoch, 3);
	ck_assert_int_eq(p->offline_replicas_count, 0);
	p = md_part(&resp, "mine", 1);
	ck_assert_int_eq(p->leader_id, 2);
	ck_assert_int_eq(p->leader_epoch, 7);
	ck_assert_int_eq(p->replica_nodes_count, 2);
	ck_assert_int_eq(p->replica_nodes[0], 2);
	ck_assert_int_eq(p->isr_nodes_count, 2);
	/* other: replica 3 is fenced. */
	p = md_part(&resp, "other", 0);
	ck_assert_int_eq(p->error_code, 0);
	ck_assert_int_eq(p->offline_replicas_count, 1);
	ck_assert_int_eq(p->offline_replicas[0], 3);
	/* none: no leader. */
	p = md_part(&resp, "none", 0);
	ck_assert_int_eq(p->error_code, E_LEADER_NOT_AVAILABLE);
	ck_assert_int_eq(p->leader_id, -1);
	ck_assert_int_eq(p->leader_epoch, 2);
	ck_assert_int_eq(p->offline_replicas_count, 1);
	ck_assert_int_eq(p->offline_replicas[0], 3);
	/* ext4: its leader has no EXTERNAL listener. */
	p = md_part(&resp, "ext4", 0);
	ck_assert_int_eq(p->error_code, E_LISTENER_NOT_FOUND);
	ck_assert_int_eq(p->leader_id, -1);
	ck_assert_int_eq(p->offline_replicas_count, 1);
	ck_assert_int_eq(p->offline_replicas[0], 4);
	/* On PLAINTEXT broker 4 is reachable. */
	metadata(12, "PLAINTEXT", &resp);
	p = md_part(&resp, "ext4", 0);
	ck_assert_int_eq(p->error_code, 0);
	ck_assert_int_eq(p->leader_id, 4);
	ck_assert_int_eq(p->offline_replicas_count, 0);
}
END_TEST

START_TEST(controller_id_and_unregistered_brokers)
{
	/* A broker that is fenced (3) points clients at the lowest alive broker. */
	struct brk_opts o = {.node_id = 3, .cluster_id = "MkU3OEVBNTcwNTJENDM2Qk"};
	struct brk *other = NULL;
	ck_assert_int_eq(brk_create(&o, &other), SL_OK);
	brk_set_image(other, T.img);
	struct brk *saved = T.brk;
	T.brk = other;
	struct wire_metadata_response resp;
	metadata(1, "PLAINTEXT", &resp);
	ck_assert_int_eq(resp.controller_id, 1);
	ck_assert_int_eq(resp.brokers_count, 3);
	/* No registration at all: no brokers, no controller, every leader unavailable. */
	struct meta_image *empty = meta_image_create_empty();
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	meta_image_unref(empty);
	cl_topic(d, "solo", 9);
	cl_part(d, 9, 0, 3, 0, 3, -1);
	struct meta_image *img = meta_delta_publish(d, 1);
	brk_set_image(other, img);
	meta_image_unref(img);
	metadata(1, NULL, &resp);
	ck_assert_int_eq(resp.brokers_count, 0);
	ck_assert_int_eq(resp.controller_id, -1);
	ck_assert_int_eq(md_part(&resp, "solo", 0)->error_code, E_LEADER_NOT_AVAILABLE);
	T.brk = saved;
	brk_destroy(other);
}
END_TEST

START_TEST(describe_cluster_lists_alive_brokers)
{
	for (int16_t v = 0; v <= 1; v++) {
		begin(K_DESCRIBE_CLUSTER, v);
		struct wire_describe_cluster_request req;
		wire_describe_cluster_request_init(&req);
		wire_describe_cluster_request_encode(&T.req, v, &req);
		ck_assert_int_eq(handle_on("EXTERNAL"), BRK_RESPOND);
		struct wire_reader r;
		body_reader(&r, K_DESCRIBE_CLUSTER, v);
		struct wire_describe_cluster_response resp;
		ck_assert_int_eq(wire_describe_cluster_response_decode(&r, v, &resp), SL_OK);
		ck_assert_int_eq(resp.error_code, 0);
		ck_assert_int_eq(resp.controller_id, NODE_ID);
		ck_assert_int_eq(resp.brokers_count, 2);
		ck_assert_int_eq(resp.brokers[1].broker_id, 2);
		ck_assert(wire_str_eq(resp.brokers[1].host, "b2.ext"));
		ck_assert_int_eq(resp.brokers[1].port, 19092);
		ck_assert(wire_str_eq(resp.brokers[1].rack, "r2"));
	}
}
END_TEST

/* ---- the data path ------------------------------------------------------------------------ */

START_TEST(logs_only_for_hosted_partitions)
{
	ck_assert(dir_exists("mine-0"));
	ck_assert(dir_exists("mine-1")); /* a follower replica keeps its log */
	ck_assert(dir_exists("none-0"));
	ck_assert(!dir_exists("other-0"));
	ck_assert(!dir_exists("ext4-0"));
	ck_assert_ptr_null(stor_log_manager_get(T.logs, "other", 0));
	/* Reassigned here: the log appears; reassigned away: it goes. */
	cl_image(2);
	ck_assert(dir_exists("other-0"));
	cl_image(0);
	run_until_idle();
	ck_assert(!dir_exists("other-0"));
	ck_assert(dir_exists("mine-0"));
}
END_TEST

START_TEST(produce_only_to_led_partitions)
{
	ck_assert_int_eq(produce_one(7, 1, "mine", 0, 3, 1000), 0);
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 1, 1000, 10, 0);
	const char *topics[] = {"mine", "other", "none", "ext4"};
	int32_t parts[] = {1, 0, 0, 0};
	for (size_t i = 0; i < SL_ARRAY_LEN(topics); i++)
		ck_assert_int_eq(produce_error(7, 1, topics[i], parts[i], T.batch.data,
		                               (int32_t)T.batch.len),
		                 E_NOT_LEADER);
	ck_assert_int_eq(produce_error(7, 1, "mine", 2, T.batch.data, (int32_t)T.batch.len),
	                 E_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(produce_error(7, 1, "nosuch", 0, T.batch.data, (int32_t)T.batch.len),
	                 E_UNKNOWN_TOPIC_OR_PARTITION);
	/* v10+: where the leader is (KIP-951), its endpoint on the first listener. */
	struct pdata pd = {"mine", 1, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(10, 1, &pd, 1), BRK_RESPOND);
	struct wire_produce_response resp;
	struct wire_produce_response_partition_produce_response *pr = produce_reply(10, &resp, 0);
	ck_assert_int_eq(pr->error_code, E_NOT_LEADER);
	ck_assert_int_eq(pr->current_leader.leader_id, 2);
	ck_assert_int_eq(pr->current_leader.leader_epoch, 7);
	ck_assert_int_eq(resp.node_endpoints_count, 1);
	ck_assert_int_eq(resp.node_endpoints[0].node_id, 2);
	ck_assert(wire_str_eq(resp.node_endpoints[0].host, "b2.plain"));
	ck_assert_int_eq(resp.node_endpoints[0].port, 9092);
	ck_assert(wire_str_eq(resp.node_endpoints[0].rack, "r2"));
}
END_TEST

START_TEST(list_offsets_and_fetch_only_on_the_leader)
{
	produce_one(7, -1, "mine", 0, 2, 1000);
	struct wire_list_offsets_response_partition_response lo = list_offsets(4, "mine", 0, -1);
	ck_assert_int_eq(lo.error_code, 0);
	ck_assert_int_eq(lo.offset, 2);
	ck_assert_int_eq(lo.leader_epoch, 3);
	ck_assert_int_eq(list_offsets(4, "mine", 1, -1).error_code, E_NOT_LEADER);
	ck_assert_int_eq(list_offsets(4, "other", 0, -1).error_code, E_NOT_LEADER);
	ck_assert_int_eq(list_offsets(4, "mine", 9, -1).error_code, E_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(delete_records(1, "other", 0).error_code, E_NOT_LEADER);

	struct wire_fetch_response resp;
	const struct wire_fetch_response_partition_data *fp = fetch_now(12, "mine", 0, &resp);
	ck_assert_int_eq(fp->error_code, 0);
	ck_assert_int_eq(fp->high_watermark, 2);
	ck_assert_int_gt(fp->records.len, 0);
	fp = fetch_now(12, "mine", 1, &resp);
	ck_assert_int_eq(fp->error_code, E_NOT_LEADER);
	ck_assert_int_eq(fp->current_leader.leader_id, 2);
	ck_assert_int_eq(fp->current_leader.leader_epoch, 7);
	fp = fetch_now(11, "other", 0, &resp);
	ck_assert_int_eq(fp->error_code, E_NOT_LEADER);
	/* By id (v13+): not hosted, out of range, unknown id. */
	fp = fetch_now(16, "other", 0, &resp);
	ck_assert_int_eq(fp->error_code, E_NOT_LEADER);
	ck_assert_int_eq(fp->current_leader.leader_id, 2);
	ck_assert_int_eq(resp.node_endpoints_count, 1);
	ck_assert_int_eq(resp.node_endpoints[0].node_id, 2);
	ck_assert(wire_str_eq(resp.node_endpoints[0].host, "b2.plain"));
	fp = fetch_now(13, "mine", 5, &resp);
	ck_assert_int_eq(fp->error_code, E_UNKNOWN_TOPIC_OR_PARTITION);
	fp = fetch_now(13, "nosuch", 0, &resp);
	ck_assert_int_eq(fp->error_code, E_UNKNOWN_TOPIC_ID);
	/* A leaderless partition hosted here: not the leader either; no hint without a leader. */
	fp = fetch_now(12, "none", 0, &resp);
	ck_assert_int_eq(fp->error_code, E_NOT_LEADER);
	ck_assert_int_eq(fp->current_leader.leader_id, -1);
}
END_TEST

START_TEST(leadership_move_flips_the_data_path)
{
	produce_one(7, -1, "mine", 0, 2, 1000);
	/* A fetch parked on mine-0 (nothing new to read) ... */
	fetch_build(12, "mine", 0, 2, 30000);
	struct brk_frame f = {.data = T.req.data,
	                      .len = T.req.len,
	                      .arena = &T.arena,
	                      .log_ctx = "test",
	                      .done = frame_done};
	ck_assert_int_eq(brk_handle(T.brk, &f, &T.resp, T.reason, sizeof(T.reason)), BRK_PENDING);
	/* ... answers NOT_LEADER_OR_FOLLOWER as soon as the leadership moves away. */
	int64_t t0 = sl_mono_ms();
	cl_image(1);
	int64_t deadline = sl_mono_ms() + 20000;
	while (T.done_calls == 0) {
		ck_assert(sl_mono_ms() < deadline);
		(void)io_loop_run_once(T.loop, 50);
	}
	ck_assert_int_lt(sl_mono_ms() - t0, 10000);
	ck_assert_int_eq(T.done_outcome, BRK_RESPOND);
	struct wire_fetch_response resp;
	const struct wire_fetch_response_partition_data *fp = fetch_decode(12, &resp);
	ck_assert_int_eq(fp->error_code, E_NOT_LEADER);
	ck_assert_int_eq(fp->current_leader.leader_id, 2);
	ck_assert_int_eq(fp->current_leader.leader_epoch, 4);

	sl_buf_reset(&T.batch);
	make_batch(&T.batch, 1, 1000, 10, 0);
	ck_assert_int_eq(produce_error(7, 1, "mine", 0, T.batch.data, (int32_t)T.batch.len),
	                 E_NOT_LEADER);
	/* mine-1 is ours now, at epoch 8, stamped into the batches. */
	ck_assert_int_eq(produce_one(7, -1, "mine", 1, 1, 1000), 0);
	struct wire_list_offsets_response_partition_response lo = list_offsets(4, "mine", 1, -1);
	ck_assert_int_eq(lo.error_code, 0);
	ck_assert_int_eq(lo.leader_epoch, 8);
	fp = fetch_now(12, "mine", 1, &resp);
	ck_assert_int_eq(fp->error_code, 0);
	ck_assert_int_gt(fp->records.len, 61);
	ck_assert_int_eq((int32_t)sl_load_be32(fp->records.ptr + 12), 8); /* partitionLeaderEpoch */
	ck_assert_int_eq(list_offsets(4, "mine", 0, -1).error_code, E_NOT_LEADER);
	/* Back again: mine-0 is served at the new epoch. */
	cl_image(0);
	ck_assert_int_eq(produce_one(7, -1, "mine", 0, 1, 1000), 2);
}
END_TEST

/* OffsetForLeaderEpoch of partition 'mine'-p for epoch; the answer (error, epoch, end). */
static struct wire_offset_for_leader_epoch_response_epoch_end_offset
epoch_end(int32_t partition, int32_t epoch, int32_t current)
{
	begin(K_OFFSET_FOR_EPOCH, 3);
	struct wire_offset_for_leader_epoch_request_offset_for_leader_partition p;
	wire_offset_for_leader_epoch_request_offset_for_leader_partition_init(&p);
	p.partition = partition;
	p.leader_epoch = epoch;
	p.current_leader_epoch = current;
	struct wire_offset_for_leader_epoch_request_offset_for_leader_topic t;
	wire_offset_for_leader_epoch_request_offset_for_leader_topic_init(&t);
	t.topic = wire_str_c("mine");
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_offset_for_leader_epoch_request req;
	wire_offset_for_leader_epoch_request_init(&req);
	req.replica_id = -1;
	req.topics_count = 1;
	req.topics = &t;
	wire_offset_for_leader_epoch_request_encode(&T.req, 3, &req);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_reader r;
	body_reader(&r, K_OFFSET_FOR_EPOCH, 3);
	struct wire_offset_for_leader_epoch_response resp;
	ck_assert_int_eq(wire_offset_for_leader_epoch_response_decode(&r, 3, &resp), SL_OK);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].partitions_count, 1);
	return resp.topics[0].partitions[0];
}

START_TEST(new_leader_epoch_ends_at_the_log_end)
{
	produce_one(7, -1, "mine", 0, 2, 1000);
	cl_image(1); /* mine-1 ours at epoch 8 */
	produce_one(7, -1, "mine", 1, 4, 1000);
	ck_assert_int_eq(epoch_end(0, 3, -1).error_code, E_NOT_LEADER);
	struct wire_offset_for_leader_epoch_response_epoch_end_offset e = epoch_end(1, 8, 8);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, 8);
	ck_assert_int_eq(e.end_offset, 4);
	/* Epoch 7 was never written here: it ends where 8 starts. */
	e = epoch_end(1, 7, -1);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, 7);
	ck_assert_int_eq(e.end_offset, 0);
	/* A follower with an older current epoch is fenced. */
	ck_assert_int_eq(epoch_end(1, 7, 7).error_code, 74); /* FENCED_LEADER_EPOCH */
}
END_TEST

START_TEST(current_epoch_before_any_append)
{
	/* mine-0 has data at epoch 3; it moves to 2 and back at a new epoch (5) without any
	 * append: epoch 5 ends at the log end, epoch 4 (never ours) where 5 starts. */
	produce_one(7, -1, "mine", 0, 2, 1000);
	cl_image(1);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(T.img, &d), SL_OK);
	struct meta_partition_change_record pc;
	meta_partition_change_record_init(&pc);
	pc.topic_id = topic_uuid(1);
	pc.partition_id = 0;
	pc.leader = NODE_ID; /* leader epoch 4 -> 5 */
	struct sl_buf b;
	sl_buf_init(&b, 1 << 12);
	meta_frame_put(&b, META_REC_PARTITION_CHANGE, 0);
	meta_partition_change_record_encode(&b, 0, &pc);
	delta_record(d, &b);
	sl_buf_free(&b);
	publish(d);
	struct wire_offset_for_leader_epoch_response_epoch_end_offset e = epoch_end(0, 5, 5);
	ck_assert_int_eq(e.error_code, 0);
	ck_assert_int_eq(e.leader_epoch, 5);
	ck_assert_int_eq(e.end_offset, 2);
	e = epoch_end(0, 3, -1);
	ck_assert_int_eq(e.leader_epoch, 3);
	ck_assert_int_eq(e.end_offset, 2);
	/* The next append carries epoch 5 and the cache takes it. */
	ck_assert_int_eq(produce_one(7, -1, "mine", 0, 1, 1000), 2);
	e = epoch_end(0, 5, 5);
	ck_assert_int_eq(e.leader_epoch, 5);
	ck_assert_int_eq(e.end_offset, 3);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_cluster");
	TCase *tc = tcase_create("cluster");
	tcase_add_checked_fixture(tc, cl_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, metadata_lists_alive_brokers_on_the_listener);
	tcase_add_test(tc, metadata_partition_leaders_and_offline_replicas);
	tcase_add_test(tc, controller_id_and_unregistered_brokers);
	tcase_add_test(tc, describe_cluster_lists_alive_brokers);
	tcase_add_test(tc, logs_only_for_hosted_partitions);
	tcase_add_test(tc, produce_only_to_led_partitions);
	tcase_add_test(tc, list_offsets_and_fetch_only_on_the_leader);
	tcase_add_test(tc, leadership_move_flips_the_data_path);
	tcase_add_test(tc, new_leader_epoch_ends_at_the_log_end);
	tcase_add_test(tc, current_epoch_before_any_append);
	suite_add_tcase(s, tc);
	return s;
}
