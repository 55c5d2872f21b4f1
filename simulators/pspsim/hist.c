/*
 * hist.c: the log-linear latency histogram (hist.h).
 *
 * A value v >= 256 has its top bit at position b >= 8; shifting it right
 * by s = b - 7 leaves a sub-bucket 128..255, so the bucket is
 * 256 + (s - 1) * 128 + (sub - 128), and it spans 2^s values starting at
 * sub << s. Below 256 the value is its own bucket.
 */
#include "hist.h"

#include <string.h>

#include "core.h"

void psp_hist_init(psp_hist_t *h)
{
	memset(h, 0, sizeof(*h));
	h->min_us = UINT64_MAX;
}

uint32_t psp_hist_index(uint64_t v)
{
	if (v > PSP_HIST_VALUE_MAX)
		v = PSP_HIST_VALUE_MAX;
	if (v < PSP_HIST_LINEAR)
		return (uint32_t)v;
	uint32_t top = 63u - (uint32_t)__builtin_clzll(v); /* >= 8 */
	uint32_t shift = top - 7u;
	uint32_t sub = (uint32_t)(v >> shift); /* 128..255 */
	return PSP_HIST_LINEAR + (shift - 1u) * PSP_HIST_HALF + (sub - PSP_HIST_HALF);
}

uint64_t psp_hist_lowest(uint32_t index)
{
	PS_ASSERT(index < PSP_HIST_BUCKETS);
	if (index < PSP_HIST_LINEAR)
		return index;
	uint32_t k = index - PSP_HIST_LINEAR;
	uint32_t shift = k / PSP_HIST_HALF + 1u;
	uint64_t sub = PSP_HIST_HALF + k % PSP_HIST_HALF;
	return sub << shift;
}

uint64_t psp_hist_highest(uint32_t index)
{
	if (index < PSP_HIST_LINEAR)
		return index;
	uint32_t shift = (index - PSP_HIST_LINEAR) / PSP_HIST_HALF + 1u;
	return psp_hist_lowest(index) + (1ull << shift) - 1u;
}

void psp_hist_record(psp_hist_t *h, uint64_t v)
{
	h->bucket[psp_hist_index(v)]++;
	h->count++;
	h->sum_us += v;
	if (v < h->min_us)
		h->min_us = v;
	if (v > h->max_us)
		h->max_us = v;
	if (v > PSP_HIST_VALUE_MAX)
		h->over++;
}

void psp_hist_merge(psp_hist_t *into, const psp_hist_t *from)
{
	for (uint32_t i = 0; i < PSP_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum_us += from->sum_us;
	into->over += from->over;
	into->min_us = PS_MIN(into->min_us, from->min_us);
	into->max_us = PS_MAX(into->max_us, from->max_us);
}

uint64_t psp_hist_percentile(const psp_hist_t *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max_us;
	/* The rank of the value asked for, 1-based: ceil(p% of count), done
	 * in integers (p in thousandths of a percent) so 99.9% of 1000 is
	 * exactly the 999th value. */
	uint64_t milli = p <= 0.0 ? 0 : (uint64_t)(p * 1000.0 + 0.5);
	uint64_t rank = (h->count * milli + 99999u) / 100000u;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < PSP_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			return PS_MIN(psp_hist_highest(i), h->max_us);
	}
	return h->max_us;
}

uint64_t psp_hist_mean(const psp_hist_t *h)
{
	return h->count == 0 ? 0 : h->sum_us / h->count;
}
