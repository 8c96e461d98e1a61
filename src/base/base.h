/*
 * base.h: the L0 toolbox every other layer uses (libc only).
 *
 * Errors, always-on assertions, per-request arenas, a bounded byte buffer, levelled logging,
 * clocks, big-endian / varint / zig-zag helpers, CRC32C, Kafka Uuids and a Java
 * `.properties` parser. Nothing here allocates behind the caller's back except the arena,
 * the byte buffer and the properties set, all of which have explicit limits and free calls.
 */
#ifndef SL_BASE_H
#define SL_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#define SL_MUST_USE __attribute__((warn_unused_result))
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- errors ---------------------------------------------------------------------------- */

/* X(name, message). SL_OK must stay first (= 0). */
#define SL_ERRORS(X)                                                    \
	X(SL_OK, "success")                                             \
	X(SL_EMALFORMED, "malformed input")                             \
	X(SL_ENOMEM, "out of memory or over a configured memory limit") \
	X(SL_EINVAL, "invalid argument")                                \
	X(SL_ECONFIG, "invalid configuration")                          \
	X(SL_EIO, "input/output error")                                 \
	X(SL_ENOENT, "no such file, directory or entry")                \
	X(SL_EEXIST, "already exists")                                  \
	X(SL_EACCES, "permission denied")                               \
	X(SL_ENOSPC, "no space left on device")                         \
	X(SL_ETOOBIG, "too large")                                      \
	X(SL_EUNSUPPORTED, "unsupported")                               \
	X(SL_ECLOSED, "connection closed")                              \
	X(SL_EAGAIN, "try again")                                       \
	X(SL_ETIMEDOUT, "timed out")                                    \
	X(SL_ECANCELED, "canceled")                                     \
	X(SL_ECORRUPT, "corrupt data")                                  \
	X(SL_EADDRINUSE, "address already in use")                      \
	X(SL_ECONNREFUSED, "connection refused")                        \
	X(SL_ELIMIT, "limit reached")                                   \
	X(SL_ESYS, "unexpected system error")

enum sl_err {
#define SL_ERR_ENUM(name, msg) name,
	SL_ERRORS(SL_ERR_ENUM)
#undef SL_ERR_ENUM
	        SL_ERR_COUNT
};

/* Returns the constant's name ("SL_EMALFORMED"); "SL_E?" for out-of-range values. */
const char *sl_err_name(enum sl_err e);
/* Returns a human-readable message; never NULL. */
const char *sl_err_msg(enum sl_err e);
/* Maps an errno value (positive) to the closest sl_err; unknown values map to SL_ESYS. */
enum sl_err sl_err_from_errno(int errno_value);

/* ---- assertions ------------------------------------------------------------------------ */

noreturn void sl_assert_fail(const char *expr, const char *file, int line);

/* Always on, release builds included. */
#define SL_ASSERT(c) ((c) ? (void)0 : sl_assert_fail(#c, __FILE__, __LINE__))
/* Expensive checks; on when SL_DEBUG_ASSERTS is defined (debug and sanitizer builds). */
#ifdef SL_DEBUG_ASSERTS
#define SL_DASSERT(c) SL_ASSERT(c)
#else
#define SL_DASSERT(c) ((void)0)
#endif
#define SL_UNREACHABLE() sl_assert_fail("unreachable", __FILE__, __LINE__)

/* ---- arena: per-request bump allocator ------------------------------------------------- */

struct sl_arena_chunk;

/* Memory handed out lives until sl_arena_reset/sl_arena_free. Allocation fails (NULL) once
 * the total would exceed limit_bytes, so an arena bounds what one request can take. */
struct sl_arena {
	struct sl_arena_chunk *head;
	size_t chunk_bytes;     /* default chunk size */
	size_t limit_bytes;     /* maximum total bytes of all chunks */
	size_t allocated_bytes; /* bytes of chunks currently held */
};

/* chunk_bytes is rounded up to a multiple of 16 (at least 256). limit_bytes counts chunk
 * headers too; near the limit the last standard chunk shrinks to what remains. */
void sl_arena_init(struct sl_arena *a, size_t chunk_bytes, size_t limit_bytes);
/* Returns 16-byte aligned memory, or NULL past the limit. n == 0 returns a valid pointer. */
void *sl_arena_alloc(struct sl_arena *a, size_t n);
/* As sl_arena_alloc, zeroed. */
void *sl_arena_calloc(struct sl_arena *a, size_t count, size_t size);
/* Copies n bytes and appends a NUL. NULL past the limit. */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Frees everything but the first chunk, which is kept for reuse. */
void sl_arena_reset(struct sl_arena *a);
void sl_arena_free(struct sl_arena *a);

/* ---- byte buffer: growable, bounded ---------------------------------------------------- */

/* An owned, growable byte buffer with a hard maximum. Once an append would pass max_bytes the
 * buffer sets `failed` and ignores further appends, so encoders can write without checking
 * every call and test `failed` (or sl_buf_err) once at the end. */
struct sl_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max_bytes;
	bool failed;
};

void sl_buf_init(struct sl_buf *b, size_t max_bytes);
void sl_buf_free(struct sl_buf *b);
void sl_buf_reset(struct sl_buf *b); /* len = 0, failed = false; keeps memory */
/* SL_OK, or SL_ENOMEM if any append failed. */
enum sl_err sl_buf_err(const struct sl_buf *b) SL_MUST_USE;
/* Makes room for n more bytes; returns a pointer to them (len is advanced) or NULL. */
uint8_t *sl_buf_extend(struct sl_buf *b, size_t n);
void sl_buf_append(struct sl_buf *b, const void *p, size_t n);
void sl_buf_put_u8(struct sl_buf *b, uint8_t v);
void sl_buf_put_be16(struct sl_buf *b, uint16_t v);
void sl_buf_put_be32(struct sl_buf *b, uint32_t v);
void sl_buf_put_be64(struct sl_buf *b, uint64_t v);
void sl_buf_put_uvarint(struct sl_buf *b, uint64_t v);
void sl_buf_put_varint(struct sl_buf *b, int64_t v); /* zig-zag */
void sl_buf_printf(struct sl_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);

/* ---- logging ---------------------------------------------------------------------------- */

enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR, SL_LOG_OFF };

void sl_log_set_level(enum sl_log_level level);
enum sl_log_level sl_log_get_level(void);
/* "debug", "info", "warn", "error", "off" (case-insensitive). SL_EINVAL otherwise. */
enum sl_err sl_log_level_parse(const char *s, enum sl_log_level *out) SL_MUST_USE;
/* Log output goes to this fd (default 2). */
void sl_log_set_fd(int fd);
/* One line: "<wall time ISO-8601> <LEVEL> [<ctx>] message\n", written with one write(2).
 * ctx may be NULL or "" (then no brackets). */
void sl_log_write(enum sl_log_level level, const char *ctx, const char *fmt, ...) SL_PRINTF(3, 4);
void sl_log_vwrite(enum sl_log_level level, const char *ctx, const char *fmt, va_list ap)
        SL_PRINTF(3, 0);

#define SL_LOG(level, ctx, ...)                                    \
	do {                                                       \
		if ((level) >= sl_log_get_level())                 \
			sl_log_write((level), (ctx), __VA_ARGS__); \
	} while (0)
#define SL_DEBUG(ctx, ...) SL_LOG(SL_LOG_DEBUG, ctx, __VA_ARGS__)
#define SL_INFO(ctx, ...) SL_LOG(SL_LOG_INFO, ctx, __VA_ARGS__)
#define SL_WARN(ctx, ...) SL_LOG(SL_LOG_WARN, ctx, __VA_ARGS__)
#define SL_ERROR(ctx, ...) SL_LOG(SL_LOG_ERROR, ctx, __VA_ARGS__)

/* ---- clocks ------------------------------------------------------------------------------ */

int64_t sl_mono_ns(void); /* CLOCK_MONOTONIC */
int64_t sl_mono_ms(void);
int64_t sl_wall_ms(void); /* CLOCK_REALTIME, ms since the Unix epoch */

/* ---- byte order and varints ---------------------------------------------------------------- */

static inline uint16_t sl_load_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t sl_load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t sl_load_be64(const uint8_t *p)
{
	return ((uint64_t)sl_load_be32(p) << 32) | sl_load_be32(p + 4);
}
static inline void sl_store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void sl_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void sl_store_be64(uint8_t *p, uint64_t v)
{
	sl_store_be32(p, (uint32_t)(v >> 32));
	sl_store_be32(p + 4, (uint32_t)v);
}

static inline uint32_t sl_zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline int32_t sl_unzigzag32(uint32_t v)
{
	return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}
static inline uint64_t sl_zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t sl_unzigzag64(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#define SL_UVARINT_MAX_BYTES 10
/* Number of bytes of the unsigned LEB128 encoding of v (1..10). */
size_t sl_uvarint_len(uint64_t v);
/* Writes v at p (room for SL_UVARINT_MAX_BYTES assumed); returns bytes written. */
size_t sl_uvarint_put(uint8_t *p, uint64_t v);
/* Reads an unsigned LEB128 value of at most max_bytes bytes (5 for Kafka's 32-bit varints,
 * 10 for 64-bit) from p[0..n). Returns bytes consumed, or 0 if truncated, too long, or the
 * value does not fit in max_bytes*7 bits / 64 bits. */
size_t sl_uvarint_get(const uint8_t *p, size_t n, size_t max_bytes, uint64_t *out);

/* ---- CRC32C (Castagnoli) ------------------------------------------------------------------- */

/* Standard CRC32C: sl_crc32c(0, "123456789", 9) == 0xE3069283. Chain by passing the previous
 * result as crc. Uses SSE4.2 when the CPU has it, else a table-driven software version. */
uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t n);
uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t n);
bool sl_crc32c_hw_available(void);

/* ---- Kafka Uuid ---------------------------------------------------------------------------- */

#define SL_UUID_STR_LEN 22 /* base64url, no padding */

struct sl_uuid {
	uint8_t b[16]; /* big-endian: b[0..8) = most significant bits, b[8..16) = least */
};

extern const struct sl_uuid SL_UUID_ZERO;     /* AAAAAAAAAAAAAAAAAAAAAA */
extern const struct sl_uuid SL_UUID_METADATA; /* Uuid(0,1) = AAAAAAAAAAAAAAAAAAAAAQ */

bool sl_uuid_eq(const struct sl_uuid *a, const struct sl_uuid *b);
bool sl_uuid_is_zero(const struct sl_uuid *u);
/* Reserved for directory ids: msb == 0 and lsb < 100 (includes zero). */
bool sl_uuid_is_reserved(const struct sl_uuid *u);
/* 16 random bytes from getrandom(2); re-rolls reserved values and values whose text starts
 * with '-' (as kafka-storage random-uuid does). SL_ESYS if the kernel has no randomness. */
enum sl_err sl_uuid_random(struct sl_uuid *out) SL_MUST_USE;
/* Writes 22 chars plus NUL. */
void sl_uuid_to_str(const struct sl_uuid *u, char out[SL_UUID_STR_LEN + 1]);
/* Parses exactly 22 base64url chars (no padding); the unused low bits of the last char must be
 * zero. SL_EINVAL otherwise. */
enum sl_err sl_uuid_parse(const char *s, size_t n, struct sl_uuid *out) SL_MUST_USE;

/* ---- Java .properties ----------------------------------------------------------------------- */

struct sl_prop {
	char *key;
	char *value;
	int line; /* 1-based line where the entry starts; 0 when set programmatically */
};

/* An owned list of key/value pairs in file order; a later duplicate key replaces the earlier
 * value (as java.util.Properties does). */
struct sl_props {
	struct sl_prop *items;
	size_t count;
	size_t cap;
};

/* Parses Java properties text: '#' and '!' comment lines, `key=value`, `key:value` and
 * `key value`, leading whitespace ignored, backslash line continuations, escapes \t \n \r \f
 * \\ \= \: \uXXXX (encoded as UTF-8). Appends to *out (which must be zeroed or previously
 * used). On error writes "line N: reason" into err and returns SL_EINVAL. */
enum sl_err sl_props_parse(const char *text, size_t len, struct sl_props *out, char *err,
                           size_t err_len) SL_MUST_USE;
/* Reads and parses a file (max 16 MiB). err names the path on failure. */
enum sl_err sl_props_load(const char *path, struct sl_props *out, char *err,
                          size_t err_len) SL_MUST_USE;
/* Returns the value for key or NULL. Borrowed: valid until the set changes. */
const char *sl_props_get(const struct sl_props *p, const char *key);
/* Sets key (replacing any previous value). */
enum sl_err sl_props_set(struct sl_props *p, const char *key, const char *value) SL_MUST_USE;
void sl_props_free(struct sl_props *p);

#endif
