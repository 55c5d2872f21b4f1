/* idmap.c: the request-number hash map (idmap.h). */
#include "idmap.h"

#include <stdlib.h>

#include "core.h"

static uint32_t home(const psp_idmap_t *m, uint64_t key)
{
	/* Fibonacci hashing: consecutive numbers spread over the table. */
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & m->mask;
}

int psp_idmap_init(psp_idmap_t *m, uint32_t max)
{
	PS_ASSERT(max >= 1 && max <= (1u << 30));
	uint64_t slots = 2;
	while (slots < 2ull * max)
		slots <<= 1;
	m->key = calloc(slots, sizeof(*m->key));
	m->val = calloc(slots, sizeof(*m->val));
	if (m->key == NULL || m->val == NULL) {
		psp_idmap_free(m);
		return PS_ENOMEM;
	}
	m->mask = (uint32_t)(slots - 1);
	m->count = 0;
	m->max = max;
	return 0;
}

void psp_idmap_free(psp_idmap_t *m)
{
	free(m->key);
	free(m->val);
	m->key = NULL;
	m->val = NULL;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t probe(const psp_idmap_t *m, uint64_t key)
{
	uint32_t i = home(m, key);
	while (m->key[i] != 0 && m->key[i] != key)
		i = (i + 1) & m->mask;
	return i;
}

int psp_idmap_put(psp_idmap_t *m, uint64_t key, uint32_t val)
{
	PS_ASSERT(key != 0);
	uint32_t i = probe(m, key);
	if (m->key[i] == key)
		return PS_EEXIST;
	if (m->count >= m->max)
		return PS_ELIMIT;
	m->key[i] = key;
	m->val[i] = val;
	m->count++;
	return 0;
}

bool psp_idmap_get(const psp_idmap_t *m, uint64_t key, uint32_t *val)
{
	if (key == 0)
		return false;
	uint32_t i = probe(m, key);
	if (m->key[i] != key)
		return false;
	if (val != NULL)
		*val = m->val[i];
	return true;
}

bool psp_idmap_del(psp_idmap_t *m, uint64_t key)
{
	if (key == 0)
		return false;
	uint32_t i = probe(m, key);
	if (m->key[i] != key)
		return false;
	/* Backward shift: move up every later entry of the run that may sit
	 * in the hole (its home is not between the hole and it). */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & m->mask; m->key[j] != 0; j = (j + 1) & m->mask) {
		uint32_t h = home(m, m->key[j]);
		bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
		if (stays)
			continue;
		m->key[hole] = m->key[j];
		m->val[hole] = m->val[j];
		hole = j;
	}
	m->key[hole] = 0;
	m->count--;
	return true;
}
