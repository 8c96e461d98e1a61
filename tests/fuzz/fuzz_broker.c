/*
 * fuzz_broker.c: libFuzzer target for the whole broker request layer over a real data path.
 *
 * The world (created at the first input, torn down by an atexit handler): a temp dir
 * /tmp/sl_fuzz_broker_XXXXXX with logs/ (a real stor_log_manager) and meta/ (bootstrap.checkpoint
 * as `sluice storage format` writes it, then the local metadata log of raft_open), a sync-backend
 * io loop, a controller and a broker with every brk_opts field set. Two topics are created
 * through the broker itself (CreateTopics: "t" with 3 partitions, "orders" with 1; the names
 * the seeds of gen_seeds.py use) and a few records produced into every partition, so Produce,
 * Fetch, ListOffsets, DeleteRecords ... reach real logs.
 *
 * Input: byte 0 picks the api (the table entry with that key, else entry byte0 % count; 0xff =
 * raw mode: the rest is the whole frame, any key or version), byte 1 the version (itself when
 * in range, else min + byte1 % range). The frame is then key, version and the rest of the input
 * (correlation id, client id, tagged fields, body).
 *
 * Each input is one brk_handle call. A parked request is driven by running the loop without
 * waiting (DRAIN_SPINS iterations); a fetch still parked after that (long poll on max_wait_ms) is
 * answered by brk_fetch_stop (the broker stays up: unlike brk_stop it does not refuse later
 * parks), then the loop runs again until the request completes. Deterministic apart from
 * timers: a fetch whose max_wait_ms expires during the spins is answered by its timer instead.
 * A request still unanswered after that is a hang and aborts.
 *
 * Invariants checked (any failure aborts, as do sanitizer reports and SL_ASSERT):
 * - the done callback runs exactly once for BRK_PENDING, never otherwise; brk_busy is false
 *   afterwards;
 * - BRK_CLOSE carries a reason; BRK_NO_RESPONSE only for Produce;
 * - BRK_RESPOND only for a frame whose header decodes, and the response decodes exactly (no
 *   trailing bytes) with the generated decoder of that api and version, with the request's
 *   correlation id (ApiVersions of an unknown version: the v0 body with UNSUPPORTED_VERSION);
 *   unknown api keys and unsupported versions of other apis must close;
 * - every committed metadata image passes meta_image_check_invariants.
 *
 * Skipped inputs: CreateTopics, CreatePartitions and auto-creating Metadata requests that would
 * create more than CREATE_BUDGET partitions (each partition log is created synchronously; see
 * CREATE_BUDGET), so one input cannot take seconds.
 *
 * Fetch sessions: the broker's session-id generator is reseeded (SESSION_RNG_SEED) before every
 * request, so a new session gets a known id (the first free one of a fixed sequence) and
 * incremental fetches in the seeds can name it.
 *
 * Disk and memory stay bounded: segment.bytes 16 KiB, retention.bytes 64 KiB (retention runs by
 * stor_log_manager_tick every TICK_EVERY inputs), at most MAX_LOGS partition logs, and the
 * whole world is rebuilt in a fresh temp dir every RESET_EVERY inputs or once the image holds
 * more than MAX_IMAGE_PARTITIONS partitions. State carries over between inputs (as on a real
 * connection), so a crash may need its predecessors: set SLUICE_FUZZ_BROKER_FRESH=1 to rebuild
 * the world before every input (slow; for reproducing). SLUICE_FUZZ_BROKER_LOG=1 keeps the
 * broker's log lines (off by default: every closed request logs one).
 *
 * Teardown: an atexit handler closes everything and removes the temp dir, so ASan's leak check
 * at exit runs with the default options (libFuzzer's per-input leak check turns itself off:
 * the world keeps memory across inputs on purpose); a crash removes the temp dir through the
 * sanitizer death callback.
 */
#include "brk_int.h"
#include "broker.h"
#include "controller.h"
#include "fetch_int.h"
#include "io.h"
#include "metadata.h"
#include "raft.h"
#include "storage.h"
#include "wire.h"

#include <ftw.h>
#include <inttypes.h>
#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NODE_ID 1
#define CLUSTER_ID "MkU3OEVBNTcwNTJENDM2Qk"
#define RAW_MODE 0xff
#define DRAIN_SPINS 200
#define TICK_EVERY 64
#define RESET_EVERY 2000
#define CHECK_EVERY 32
/* Creating a partition log is synchronous disk work in brk_set_image (~3 ms here): a request
 * for 10000 partitions (the most one metadata batch holds) blocks the loop for ~30 s, so
 * inputs that would create more than CREATE_BUDGET partitions are skipped. */
#define CREATE_BUDGET 32
#define MAX_LOGS 256
#define MAX_IMAGE_PARTITIONS 256
#define SESSION_RNG_SEED 0x9e3779b97f4a7c15ull
#define REQ_ARENA_LIMIT (64u << 20)
#define RESP_LIMIT (64u << 20)

static const struct brk_config_entry fz_configs[] = {
        {"auto.create.topics.enable", "true", 4, false, "BOOLEAN", "auto-create topics"},
        {"log.retention.bytes", "65536", 4, false, "LONG", "retention by size"},
        {"log.segment.bytes", "16384", 4, false, "INT", "segment size"},
        {"message.max.bytes", "1048588", 5, false, "INT", "largest batch"},
        {"num.partitions", "2", 4, false, "INT", "default partition count"},
        {"ssl.keystore.password", NULL, 4, true, "PASSWORD", NULL},
};

struct fz_world {
	bool open;
	char dir[64];
	char logs_dir[96];
	char meta_dir[96];
	const char *dirs[1];
	struct io_loop *loop;
	struct stor_log_manager *logs;
	struct raft *raft;
	struct ctl *ctl;
	struct brk *brk;
	struct meta_image *image; /* committed image (own reference) */
};

static struct fz_world W;

/* Per-request state (the frame, its arena and buffers live until done runs). */
static struct {
	struct sl_arena arena;       /* the request's */
	struct sl_arena check_arena; /* decoding the response */
	struct sl_buf req;
	struct sl_buf resp;
	char reason[512];
	struct brk_frame frame;
	int done_calls;
	enum brk_outcome done_outcome;
	struct brk_api_range ranges[64];
	size_t range_count;
	uint64_t inputs;
	uint64_t resets;
	uint64_t outcomes[65][4]; /* per api table entry (last: raw / other), per outcome */
	bool parked;              /* the last request was answered later */
	bool fresh_each;
	bool ready;
} R;

static _Alignas(16) uint8_t resp_struct[8192];

static void rm_tree(const char *dir);

/* On a crash: the temp dir goes (the state in it cannot be reused). */
static void remove_dir_on_death(void)
{
	if (W.dir[0] != '\0')
		rm_tree(W.dir);
	W.dir[0] = '\0';
}

static void SL_PRINTF(1, 2) fz_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_broker: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	remove_dir_on_death();
	abort();
}

/* ---- the metadata log's apply callback (as node_meta.c) ---------------------------------- */

static enum sl_err fz_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len)
{
	(void)ctx;
	struct meta_delta *d = NULL;
	enum sl_err e = meta_delta_create(W.image, &d);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		e = meta_delta_apply(d, values[i].ptr, (size_t)values[i].len, err, err_len);
		if (e != SL_OK) {
			/* Only the controller writes records: one the image rejects is a bug. */
			fz_fatal("committed metadata record %zu rejected: %s", i, err);
		}
	}
	struct meta_image *img = meta_delta_publish(d, base_offset + (int64_t)count - 1);
	if (img == NULL)
		fz_fatal("meta_delta_publish: out of memory");
	meta_image_check_invariants(img);
	meta_image_unref(W.image);
	W.image = img;
	if (W.ctl != NULL)
		ctl_on_commit(W.ctl, img);
	if (W.brk != NULL)
		brk_set_image(W.brk, img);
	return SL_OK;
}

/* ---- temp dir ------------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static void rm_tree(const char *dir)
{
	if (strncmp(dir, "/tmp/sl_fuzz_broker_", 20) != 0) {
		fprintf(stderr, "fuzz_broker: refusing to remove %s\n", dir);
		abort();
	}
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		fprintf(stderr, "fuzz_broker: cannot remove %s\n", dir);
		abort();
	}
}

/* bootstrap.checkpoint with the metadata.version FeatureLevelRecord (3.9-IV0) and this node
 * registered unfenced, so that placement has a broker and this broker leads what it creates. */
static void write_bootstrap(const char *dir)
{
	struct sl_buf rec, rec2, b;
	sl_buf_init(&rec, 1 << 12);
	sl_buf_init(&rec2, 1 << 12);
	sl_buf_init(&b, 1 << 16);
	struct meta_feature_level_record fl;
	meta_feature_level_record_init(&fl);
	fl.name = wire_str_c("metadata.version");
	fl.feature_level = META_MV_3_9_IV0;
	meta_frame_put(&rec, META_REC_FEATURE_LEVEL, 0);
	meta_feature_level_record_encode(&rec, 0, &fl);
	struct meta_register_broker_record rb;
	meta_register_broker_record_init(&rb);
	rb.broker_id = NODE_ID;
	rb.broker_epoch = 1;
	rb.fenced = false;
	rb.rack = (struct wire_str){NULL, -1};
	meta_frame_put(&rec2, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&rec2, 1, &rb);
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	struct stor_record_in r[2] = {{.value = rec.data, .value_len = (int32_t)rec.len},
	                              {.value = rec2.data, .value_len = (int32_t)rec2.len}};
	if (sl_buf_err(&rec) != SL_OK || sl_buf_err(&rec2) != SL_OK ||
	    stor_batch_build(&b, &p, r, 2) != SL_OK)
		fz_fatal("cannot build the bootstrap batch");
	char path[160], err[256] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	if (stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) != SL_OK)
		fz_fatal("bootstrap.checkpoint: %s", err);
	sl_buf_free(&b);
	sl_buf_free(&rec);
	sl_buf_free(&rec2);
}

/* ---- one request ----------------------------------------------------------------------------- */

static void fz_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	(void)ctx;
	R.done_calls++;
	R.done_outcome = outcome;
}

/* Runs the loop (no waiting) until the request is answered or n iterations passed. */
static void spin(int n)
{
	for (int i = 0; i < n && R.done_calls == 0; i++)
		(void)io_loop_run_once(W.loop, 0);
}

/* Handles the frame in R.req and drives it to its end (see the header). */
static enum brk_outcome fz_handle(void)
{
	if (sl_buf_err(&R.req) != SL_OK)
		fz_fatal("request buffer overflow");
	sl_buf_reset(&R.resp);
	sl_arena_reset(&R.arena);
	R.reason[0] = '\0';
	R.done_calls = 0;
	/* Fetch session ids from a fixed sequence, so seeds can name the session a previous
	 * input opened (gen_broker_seeds.py computes the first id). */
	W.brk->sessions->rng = SESSION_RNG_SEED;
	R.frame = (struct brk_frame){.data = R.req.data,
	                             .len = R.req.len,
	                             .arena = &R.arena,
	                             .log_ctx = "fuzz",
	                             .done = fz_done};
	enum brk_outcome o = brk_handle(W.brk, &R.frame, &R.resp, R.reason, sizeof(R.reason));
	R.parked = o == BRK_PENDING;
	if (o != BRK_PENDING) {
		if (R.done_calls != 0)
			fz_fatal("done callback ran for a request answered at once");
		if (brk_busy(W.brk))
			fz_fatal("broker busy after a request answered at once");
		return o;
	}
	spin(DRAIN_SPINS);
	if (R.done_calls == 0) {
		brk_fetch_stop(W.brk); /* a long poll: answer it now */
		spin(DRAIN_SPINS);
	}
	if (R.done_calls != 1)
		fz_fatal("request not answered after %d loop iterations (done ran %d times)",
		         2 * DRAIN_SPINS, R.done_calls);
	if (brk_busy(W.brk))
		fz_fatal("broker still busy after its only request ended");
	return R.done_outcome;
}

static void begin(int16_t key, int16_t version)
{
	sl_buf_reset(&R.req);
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = key;
	h.api_version = version;
	h.correlation_id = 7;
	h.client_id = wire_str_c("fuzz-setup");
	wire_request_header_encode(&R.req, &h);
}

/* Decodes the response in R.resp into resp_struct (header checked); NULL when it does not. */
static void *decode_response(int16_t key, int16_t version, int32_t correlation_id)
{
	struct wire_reader r;
	int32_t cid = 0;
	sl_arena_reset(&R.check_arena);
	wire_reader_init(&r, R.resp.data, R.resp.len, &R.check_arena);
	if (wire_response_header_decode(&r, wire_response_header_version(key, version), &cid) !=
	    SL_OK)
		fz_fatal("api %d v%d: response header does not decode (%zu bytes)", key, version,
		         R.resp.len);
	if (cid != correlation_id)
		fz_fatal("api %d v%d: correlation id %d, request had %d", key, version, cid,
		         correlation_id);
	if (wire_response_struct_size(key) > sizeof(resp_struct))
		fz_fatal("api %d: response struct larger than the buffer", key);
	enum sl_err e = wire_response_decode_any(&r, key, version, resp_struct);
	if (e != SL_OK)
		fz_fatal("api %d v%d: response does not decode: %s (%zu bytes)", key, version,
		         sl_err_name(e), R.resp.len);
	if (!wire_reader_done(&r))
		fz_fatal("api %d v%d: %zu trailing bytes after the response", key, version,
		         wire_reader_left(&r));
	return resp_struct;
}

/* ---- setup: topics and records through the broker ------------------------------------------- */

/* Creates a topic through CreateTopics v7; false if the broker refused it. */
static bool setup_create_topic(const char *name, int32_t partitions)
{
	begin(19, 7);
	struct wire_create_topics_request_creatable_topic t;
	wire_create_topics_request_creatable_topic_init(&t);
	t.name = wire_str_c(name);
	t.num_partitions = partitions;
	t.replication_factor = 1;
	struct wire_create_topics_request req;
	wire_create_topics_request_init(&req);
	req.topics_count = 1;
	req.topics = &t;
	req.timeout_ms = 30000;
	wire_create_topics_request_encode(&R.req, 7, &req);
	if (fz_handle() != BRK_RESPOND)
		fz_fatal("setup: CreateTopics %s not answered: %s", name, R.reason);
	struct wire_create_topics_response *resp = decode_response(19, 7, 7);
	return resp->topics_count == 1 && resp->topics[0].error_code == 0;
}

/* Produces n records (acks=-1, v9); false if the broker refused them. */
static bool setup_produce(const char *topic, int32_t partition, int n)
{
	static const uint8_t value[] = "fuzz-broker-seed-record";
	struct stor_record_in recs[8];
	for (int i = 0; i < n && i < 8; i++)
		recs[i] = (struct stor_record_in){
		        .timestamp_delta = i, .value = value, .value_len = sizeof(value) - 1};
	struct sl_buf batch;
	sl_buf_init(&batch, 1 << 16);
	struct stor_batch_params p;
	stor_batch_params_init(&p, sl_wall_ms());
	if (stor_batch_build(&batch, &p, recs, (size_t)n) != SL_OK)
		fz_fatal("setup: batch build failed");
	begin(0, 9);
	struct wire_produce_request_partition_produce_data pd;
	wire_produce_request_partition_produce_data_init(&pd);
	pd.index = partition;
	pd.records = (struct wire_bytes){batch.data, (int32_t)batch.len};
	struct wire_produce_request_topic_produce_data td;
	wire_produce_request_topic_produce_data_init(&td);
	td.name = wire_str_c(topic);
	td.partition_data_count = 1;
	td.partition_data = &pd;
	struct wire_produce_request req;
	wire_produce_request_init(&req);
	req.acks = -1;
	req.timeout_ms = 30000;
	req.topic_data_count = 1;
	req.topic_data = &td;
	wire_produce_request_encode(&R.req, 9, &req);
	sl_buf_free(&batch);
	if (fz_handle() != BRK_RESPOND)
		fz_fatal("setup: Produce %s-%d not answered: %s", topic, partition, R.reason);
	struct wire_produce_response *resp = decode_response(0, 9, 7);
	return resp->responses_count == 1 && resp->responses[0].partition_responses_count == 1 &&
	       resp->responses[0].partition_responses[0].error_code == 0;
}

/* (Re)creates the seeded topics the fuzzer may have deleted; false when that fails. */
static bool seed_topics(void)
{
	static const struct {
		const char *name;
		int32_t partitions;
		int records;
	} topics[] = {{"t", 3, 3}, {"orders", 1, 5}};
	for (size_t i = 0; i < SL_ARRAY_LEN(topics); i++) {
		const char *name = topics[i].name;
		if (meta_image_topic(W.image, name, strlen(name)) != NULL)
			continue;
		if (!setup_create_topic(name, topics[i].partitions))
			return false;
		for (int32_t p = 0; p < topics[i].partitions; p++)
			if (!setup_produce(name, p, topics[i].records))
				return false;
	}
	return true;
}

/* ---- the world ----------------------------------------------------------------------------- */

static void open_storage(void)
{
	char err[256] = "";
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	if (io_loop_create(&lo, &W.loop, err, sizeof(err)) != SL_OK)
		fz_fatal("io_loop_create: %s", err);
	struct stor_log_manager_opts mo;
	stor_log_manager_opts_init(&mo);
	mo.log_dirs = W.dirs;
	mo.log_dir_count = 1;
	mo.defaults.segment_bytes = 16u << 10;
	mo.defaults.retention_bytes = 64 << 10;
	mo.defaults.file_delete_delay_ms = 0;
	mo.retention_check_interval_ms = 1;
	mo.max_partitions = MAX_LOGS;
	mo.start_timer = false;
	if (stor_log_manager_open(W.loop, &mo, &W.logs, NULL, err, sizeof(err)) != SL_OK)
		fz_fatal("stor_log_manager_open: %s", err);
	W.image = meta_image_create_empty();
	if (W.image == NULL)
		fz_fatal("meta_image_create_empty: out of memory");
	struct raft_opts ro = {.loop = W.loop,
	                       .metadata_dir = W.meta_dir,
	                       .node_id = NODE_ID,
	                       .segment_bytes = 1u << 20,
	                       .apply = fz_apply};
	if (raft_open(&ro, &W.raft, err, sizeof(err)) != SL_OK)
		fz_fatal("raft_open: %s", err);
}

static void open_services(void)
{
	struct ctl_opts co = {.log = W.raft,
	                      .image = W.image,
	                      .env = {.num_partitions = 2,
	                              .default_replication_factor = 1,
	                              .metadata_version = meta_image_metadata_version(W.image)},
	                      .cluster_id = CLUSTER_ID,
	                      .node_id = NODE_ID};
	if (ctl_create(&co, &W.ctl) != SL_OK)
		fz_fatal("ctl_create failed");
	struct brk_opts bo = {
	        .node_id = NODE_ID,
	        .cluster_id = CLUSTER_ID,
	        .loop = W.loop,
	        .logs = W.logs,
	        .ctl = W.ctl,
	        .log_dirs = W.dirs,
	        .log_dir_count = 1,
	        .auto_create_topics_enable = true,
	        .delete_topic_enable = true,
	        .num_partitions = 2,
	        .default_replication_factor = 1,
	        .fetch_max_bytes = 1 << 20,
	        .max_incremental_fetch_session_cache_slots = 4,
	        .configs = fz_configs,
	        .config_count = SL_ARRAY_LEN(fz_configs),
	};
	if (brk_create(&bo, &W.brk) != SL_OK)
		fz_fatal("brk_create failed");
	brk_set_image(W.brk, W.image);
}

static void world_open(void)
{
	memset(&W, 0, sizeof(W));
	snprintf(W.dir, sizeof(W.dir), "/tmp/sl_fuzz_broker_XXXXXX");
	if (mkdtemp(W.dir) == NULL)
		fz_fatal("mkdtemp failed");
	snprintf(W.logs_dir, sizeof(W.logs_dir), "%s/logs", W.dir);
	snprintf(W.meta_dir, sizeof(W.meta_dir), "%s/meta", W.dir);
	if (mkdir(W.logs_dir, 0700) != 0 || mkdir(W.meta_dir, 0700) != 0)
		fz_fatal("mkdir in %s failed", W.dir);
	W.dirs[0] = W.logs_dir;
	write_bootstrap(W.meta_dir);
	open_storage();
	open_services();
	W.open = true;
	if (!seed_topics())
		fz_fatal("setup: cannot create the seeded topics in a fresh world");
}

static void world_close(void)
{
	if (!W.open)
		return;
	brk_stop(W.brk);
	int64_t deadline = sl_mono_ms() + 30000;
	while (brk_busy(W.brk) || raft_busy(W.raft) || io_loop_pending(W.loop) > 0) {
		if (sl_mono_ms() > deadline)
			fz_fatal("teardown: the loop does not drain");
		(void)io_loop_run_once(W.loop, 10);
	}
	brk_destroy(W.brk);
	char err[256] = "";
	enum sl_err e;
	while ((e = stor_log_manager_close(W.logs, true, err, sizeof(err))) == SL_EAGAIN) {
		if (sl_mono_ms() > deadline)
			fz_fatal("teardown: appends stay in flight");
		(void)io_loop_run_once(W.loop, 10);
	}
	if (e != SL_OK)
		fz_fatal("stor_log_manager_close: %s", err);
	raft_close(W.raft);
	ctl_destroy(W.ctl);
	while (io_loop_pending(W.loop) > 0)
		(void)io_loop_run_once(W.loop, 10);
	io_loop_destroy(W.loop);
	meta_image_unref(W.image);
	rm_tree(W.dir);
	memset(&W, 0, sizeof(W));
}

static void print_stats(void)
{
	static const char *names[4] = {"respond", "close", "pending", "no-response"};
	fprintf(stderr, "fuzz_broker: %" PRIu64 " inputs, %" PRIu64 " worlds\n", R.inputs,
	        R.resets + (R.inputs > 0));
	for (size_t i = 0; i <= R.range_count; i++) {
		const uint64_t *c = R.outcomes[i];
		if (c[0] + c[1] + c[3] == 0)
			continue;
		fprintf(stderr, "fuzz_broker:   api %-3d",
		        i < R.range_count ? R.ranges[i].api_key : -1);
		for (int o = 0; o < 4; o++)
			if (o != BRK_PENDING)
				fprintf(stderr, " %s %" PRIu64, names[o], c[o]);
		fprintf(stderr, " (parked %" PRIu64 ")\n", c[BRK_PENDING]);
	}
}

static void fz_exit(void)
{
	print_stats();
	world_close();
	sl_arena_free(&R.arena);
	sl_arena_free(&R.check_arena);
	sl_buf_free(&R.req);
	sl_buf_free(&R.resp);
}

static void fz_init(void)
{
	const char *log = getenv("SLUICE_FUZZ_BROKER_LOG");
	sl_log_set_level(log != NULL && log[0] == '1' ? SL_LOG_DEBUG : SL_LOG_OFF);
	const char *fresh = getenv("SLUICE_FUZZ_BROKER_FRESH");
	R.fresh_each = fresh != NULL && fresh[0] == '1';
	sl_arena_init(&R.arena, 64u << 10, REQ_ARENA_LIMIT);
	sl_arena_init(&R.check_arena, 64u << 10, REQ_ARENA_LIMIT);
	sl_buf_init(&R.req, 1u << 22);
	sl_buf_init(&R.resp, RESP_LIMIT);
	R.range_count = brk_api_ranges(false, R.ranges, SL_ARRAY_LEN(R.ranges));
	if (R.range_count == 0 || R.range_count > SL_ARRAY_LEN(R.ranges))
		fz_fatal("unexpected api table size %zu", R.range_count);
	atexit(fz_exit);
	__sanitizer_set_death_callback(remove_dir_on_death);
	R.ready = true;
}

static size_t image_partitions(void)
{
	size_t n = 0, topics = meta_image_topic_count(W.image);
	for (size_t i = 0; i < topics; i++)
		n += (size_t)meta_image_topic_at(W.image, i)->partition_count;
	return n;
}

/* Periodic upkeep between inputs: retention, and a fresh world now and then. */
static void maintain(void)
{
	R.inputs++;
	bool reset = R.fresh_each || R.inputs % RESET_EVERY == 0;
	if (!reset && R.inputs % CHECK_EVERY == 0)
		reset = image_partitions() > MAX_IMAGE_PARTITIONS;
	if (reset && W.open) {
		world_close();
		R.resets++;
	}
	if (!W.open)
		world_open();
	else if (R.inputs % TICK_EVERY == 0)
		stor_log_manager_tick(W.logs, sl_wall_ms());
	if (!seed_topics()) {
		/* Something the fuzzer did keeps them from coming back: start over. */
		world_close();
		world_open();
	}
}

/* ---- the input ----------------------------------------------------------------------------- */

/* Builds the frame from the input; false if there is none. */
static bool build_frame(const uint8_t *data, size_t size)
{
	if (size < 2)
		return false;
	sl_buf_reset(&R.req);
	if (data[0] != RAW_MODE) {
		const struct brk_api_range *a = &R.ranges[data[0] % R.range_count];
		for (size_t i = 0; i < R.range_count; i++)
			if (R.ranges[i].api_key == data[0])
				a = &R.ranges[i];
		int16_t v = data[1];
		if (v < a->min_version || v > a->max_version)
			v = (int16_t)(a->min_version + v % (a->max_version - a->min_version + 1));
		sl_buf_put_be16(&R.req, (uint16_t)a->api_key);
		sl_buf_put_be16(&R.req, (uint16_t)v);
	}
	sl_buf_append(&R.req, data + 2, size - 2);
	return sl_buf_err(&R.req) == SL_OK;
}

static const struct brk_api_range *served(int16_t key, int16_t version)
{
	for (size_t i = 0; i < R.range_count; i++)
		if (R.ranges[i].api_key == key)
			return version >= R.ranges[i].min_version &&
			                       version <= R.ranges[i].max_version
			               ? &R.ranges[i]
			               : NULL;
	return NULL;
}

/* Partitions a request may create: num_partitions (-1 = the default), assignments, new totals,
 * auto-created topics. 0 for other apis and for bodies that do not decode. */
static int64_t partitions_created(void)
{
	static _Alignas(16) uint8_t msg[8192];
	struct wire_request_header h;
	struct wire_reader r;
	sl_arena_reset(&R.check_arena);
	wire_reader_init(&r, R.req.data, R.req.len, &R.check_arena);
	if (wire_request_header_decode(&r, &h) != SL_OK ||
	    served(h.api_key, h.api_version) == NULL ||
	    (h.api_key != 3 && h.api_key != 19 && h.api_key != 37))
		return 0;
	SL_ASSERT(wire_request_struct_size(h.api_key) <= sizeof(msg));
	if (wire_request_decode_any(&r, h.api_key, h.api_version, msg) != SL_OK)
		return 0;
	int64_t n = 0;
	if (h.api_key == 3) {
		const struct wire_metadata_request *m = (const void *)msg;
		if (m->allow_auto_topic_creation && m->topics_count > 0)
			n = (int64_t)m->topics_count * 2; /* num.partitions */
	} else if (h.api_key == 19) {
		const struct wire_create_topics_request *c = (const void *)msg;
		for (int32_t i = 0; i < c->topics_count; i++) {
			const struct wire_create_topics_request_creatable_topic *t = &c->topics[i];
			n += t->num_partitions == -1 ? 2 : SL_MAX(t->num_partitions, 0);
			n += SL_MAX(t->assignments_count, 0);
		}
	} else {
		const struct wire_create_partitions_request *c = (const void *)msg;
		for (int32_t i = 0; i < c->topics_count; i++)
			n += SL_MAX(c->topics[i].count, 0);
	}
	return n;
}

static void check_outcome(enum brk_outcome o)
{
	if (o == BRK_CLOSE) {
		if (R.reason[0] == '\0')
			fz_fatal("BRK_CLOSE without a reason");
		return;
	}
	if (R.req.len < 8)
		fz_fatal("outcome %d for a frame of %zu bytes", (int)o, R.req.len);
	int16_t key = (int16_t)sl_load_be16(R.req.data);
	int16_t version = (int16_t)sl_load_be16(R.req.data + 2);
	int32_t correlation_id = (int32_t)sl_load_be32(R.req.data + 4);
	if (o == BRK_NO_RESPONSE) {
		if (key != 0)
			fz_fatal("BRK_NO_RESPONSE for api %d", key);
		return;
	}
	if (o != BRK_RESPOND)
		fz_fatal("unexpected final outcome %d", (int)o);
	if (served(key, version) != NULL) {
		struct wire_request_header h;
		struct wire_reader r;
		sl_arena_reset(&R.check_arena);
		wire_reader_init(&r, R.req.data, R.req.len, &R.check_arena);
		if (wire_request_header_decode(&r, &h) != SL_OK)
			fz_fatal("api %d v%d answered but its header does not decode", key,
			         version);
		(void)decode_response(key, version, correlation_id);
		return;
	}
	if (key != 18)
		fz_fatal("api %d v%d is not served but was answered", key, version);
	/* KIP-511: an ApiVersions version we do not know gets the v0 body (only the first 8
	 * bytes of the header are read). */
	struct wire_api_versions_response *av = decode_response(18, 0, correlation_id);
	if (av->error_code != WIRE_ERR_UNSUPPORTED_VERSION)
		fz_fatal("ApiVersions v%d answered with error %d", version, av->error_code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!R.ready)
		fz_init();
	maintain();
	if (!build_frame(data, size))
		return 0;
	if (partitions_created() > CREATE_BUDGET)
		return 0; /* see CREATE_BUDGET */
	enum brk_outcome o = fz_handle();
	check_outcome(o);
	size_t api = R.range_count;
	for (size_t i = 0; i < R.range_count; i++)
		if (R.req.len >= 2 && R.ranges[i].api_key == (int16_t)sl_load_be16(R.req.data))
			api = i;
	R.outcomes[api][o]++;
	R.outcomes[api][BRK_PENDING] += R.parked;
	return 0;
}
