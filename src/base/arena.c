/*
 * arena.c: chunked bump allocator for per-request memory.
 *
 * Invariants: a->allocated_bytes is the sum of the sizes (header included) of all chunks on
 * a->head's list and never exceeds a->limit_bytes; every pointer handed out is 16-byte aligned
 * and lies inside one chunk. Standard chunks (chunk_bytes of data, or less when shrunk to fit
 * the limit) are pushed at the head, so among them the list runs newest to oldest; an allocation
 * larger than the chunk size gets a chunk of its own, linked behind the head so the head keeps its
 * free space. Reset keeps the oldest standard chunk (the first one allocated) and frees the rest.
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct sl_arena_chunk {
	struct sl_arena_chunk *next;
	size_t size; /* bytes of data[] */
	size_t used; /* bytes of data[] handed out; multiple of ARENA_ALIGN */
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

_Static_assert(sizeof(struct sl_arena_chunk) % ARENA_ALIGN == 0, "data[] stays aligned");

void sl_arena_init(struct sl_arena *a, size_t chunk_bytes, size_t limit_bytes)
{
	SL_ASSERT(a != NULL);
	a->head = NULL;
	if (chunk_bytes < 256)
		chunk_bytes = 256;
	if (chunk_bytes > SIZE_MAX / 2)
		chunk_bytes = SIZE_MAX / 2;
	a->chunk_bytes = (chunk_bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	a->limit_bytes = limit_bytes;
	a->allocated_bytes = 0;
}

/* Rounds n up to ARENA_ALIGN; false on overflow. */
static bool align_up(size_t n, size_t *out)
{
	if (n > SIZE_MAX - (ARENA_ALIGN - 1))
		return false;
	*out = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	return true;
}

/*
 * Adds a chunk with room for at least `need` bytes (a multiple of ARENA_ALIGN); NULL past the
 * limit or out of memory. Near the limit a standard chunk shrinks to the remaining budget, so
 * the whole limit is usable.
 */
static struct sl_arena_chunk *arena_grow(struct sl_arena *a, size_t need)
{
	const size_t header = sizeof(struct sl_arena_chunk);
	size_t remaining = a->limit_bytes - SL_MIN(a->allocated_bytes, a->limit_bytes);
	if (remaining < header || need > remaining - header)
		return NULL;
	size_t data_bytes = need;
	if (need <= a->chunk_bytes) {
		size_t budget = (remaining - header) & ~(size_t)(ARENA_ALIGN - 1);
		data_bytes = SL_MIN(a->chunk_bytes, budget);
		SL_ASSERT(data_bytes >= need);
	}
	size_t total = header + data_bytes;
	/* total is a multiple of ARENA_ALIGN: header, chunk_bytes, budget and need all are. */
	struct sl_arena_chunk *c = aligned_alloc(ARENA_ALIGN, total);
	if (c == NULL)
		return NULL;
	c->size = data_bytes;
	c->used = 0;
	a->allocated_bytes += total;
	if (need > a->chunk_bytes && a->head != NULL) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c;
}

void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
	SL_ASSERT(a != NULL);
	size_t need;
	if (!align_up(n, &need))
		return NULL;
	struct sl_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < need) {
		c = arena_grow(a, need);
		if (c == NULL)
			return NULL;
	}
	SL_DASSERT(c->size - c->used >= need);
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

void *sl_arena_calloc(struct sl_arena *a, size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	void *p = sl_arena_alloc(a, n);
	if (p != NULL && n > 0)
		memset(p, 0, n);
	return p;
}

char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = sl_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void sl_arena_reset(struct sl_arena *a)
{
	SL_ASSERT(a != NULL);
	struct sl_arena_chunk *keep = NULL;
	for (struct sl_arena_chunk *c = a->head; c != NULL; c = c->next) {
		if (c->size <= a->chunk_bytes)
			keep = c; /* the last standard chunk in the list is the oldest */
	}
	struct sl_arena_chunk *c = a->head;
	while (c != NULL) {
		struct sl_arena_chunk *next = c->next;
		if (c != keep) {
			a->allocated_bytes -= sizeof(*c) + c->size;
			free(c);
		}
		c = next;
	}
	a->head = keep;
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
		SL_ASSERT(a->allocated_bytes == sizeof(*keep) + keep->size);
	} else {
		SL_ASSERT(a->allocated_bytes == 0);
	}
}

void sl_arena_free(struct sl_arena *a)
{
	SL_ASSERT(a != NULL);
	struct sl_arena_chunk *c = a->head;
	while (c != NULL) {
		struct sl_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->allocated_bytes = 0;
}
