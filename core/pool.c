/*
 * pool.c: fixed-size object pools allocated once at start-up.
 *
 * The hot path takes records from here instead of malloc: the cost is a
 * stack pop, exhaustion is a bound the caller answers (91, or a close), and
 * a leak shows up as a pool that never returns to empty.
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>

int ps_pool_init(ps_pool_t *pool, size_t size, uint32_t count)
{
	memset(pool, 0, sizeof(*pool));
	PS_ASSERT(size > 0 && count > 0);
	size = (size + 15u) & ~(size_t)15u;
	pool->slab = calloc(count, size);
	pool->free = calloc(count, sizeof(uint32_t));
	if (pool->slab == NULL || pool->free == NULL) {
		ps_pool_free(pool);
		return PS_ENOMEM;
	}
	pool->size = size;
	pool->count = count;
	/* Hand out low indexes first: it keeps the working set compact. */
	for (uint32_t i = 0; i < count; i++)
		pool->free[i] = count - 1 - i;
	pool->free_top = count;
	return 0;
}

void ps_pool_free(ps_pool_t *pool)
{
	free(pool->slab);
	free(pool->free);
	memset(pool, 0, sizeof(*pool));
}

void *ps_pool_get(ps_pool_t *pool)
{
	if (pool->free_top == 0)
		return NULL;
	uint32_t index = pool->free[--pool->free_top];
	pool->used++;
	void *obj = pool->slab + (size_t)index * pool->size;
	memset(obj, 0, pool->size);
	return obj;
}

uint32_t ps_pool_index(const ps_pool_t *pool, const void *obj)
{
	const uint8_t *p = obj;
	PS_ASSERT(p >= pool->slab);
	size_t offset = (size_t)(p - pool->slab);
	PS_ASSERT(offset % pool->size == 0);
	PS_ASSERT(offset / pool->size < pool->count);
	return (uint32_t)(offset / pool->size);
}

void *ps_pool_at(const ps_pool_t *pool, uint32_t index)
{
	PS_ASSERT(index < pool->count);
	return pool->slab + (size_t)index * pool->size;
}

void ps_pool_put(ps_pool_t *pool, void *obj)
{
	uint32_t index = ps_pool_index(pool, obj);
	PS_ASSERT(pool->used > 0);
	PS_ASSERT(pool->free_top < pool->count);
	pool->free[pool->free_top++] = index;
	pool->used--;
}
