/*
 * crc32c.c: CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka record
 * batches (KIP-98 / message format v2).
 *
 * Two implementations that must agree bit for bit: the SSE4.2 crc32 instruction (chosen at
 * run time with __builtin_cpu_supports) and a slicing-by-8 table version. The tables are
 * built once (pthread_once), on first use of the software path. Both take and return the finalised
 * CRC (pre- and post-inverted), so results chain: crc(crc(0, a), b) == crc(0, a || b).
 */
#include "base.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define CRC_HAVE_SSE42 1
#else
#define CRC_HAVE_SSE42 0
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = crc_table[0][i];
		for (int t = 1; t < 8; t++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[t][i] = c;
		}
	}
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
	pthread_once(&crc_table_once, crc_table_init);
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	while (n >= 8) {
		uint32_t lo = load_le32(p) ^ c;
		uint32_t hi = load_le32(p + 4);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

#if CRC_HAVE_SSE42
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	/* Align to 8 bytes so the 64-bit loads below are aligned. */
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8(c, *p++);
		n--;
	}
#if defined(__x86_64__)
	uint64_t c64 = c;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, sizeof(w));
		c64 = _mm_crc32_u64(c64, w);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
#endif
	while (n > 0) {
		c = _mm_crc32_u8(c, *p++);
		n--;
	}
	return ~c;
}
#endif

bool sl_crc32c_hw_available(void)
{
#if CRC_HAVE_SSE42
	return __builtin_cpu_supports("sse4.2");
#else
	return false;
#endif
}

uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t n)
{
#if CRC_HAVE_SSE42
	/* -1 unknown, 0 no, 1 yes; racing first callers store the same answer. */
	static int hw = -1;
	int have = __atomic_load_n(&hw, __ATOMIC_RELAXED);
	if (have < 0) {
		have = sl_crc32c_hw_available() ? 1 : 0;
		__atomic_store_n(&hw, have, __ATOMIC_RELAXED);
	}
	if (have)
		return crc32c_hw(crc, buf, n);
#endif
	return sl_crc32c_sw(crc, buf, n);
}
