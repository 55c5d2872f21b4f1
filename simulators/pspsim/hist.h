/*
 * hist.h: a latency histogram with bounded memory and about 1% precision,
 * in the manner of HdrHistogram: log-linear buckets over microseconds.
 *
 * Values 0..255 us have a bucket each (exact); above that every power of
 * two is split into 128 equal buckets, so a bucket is at most 1/128 of
 * its values wide (0.8%). The range ends at PSP_HIST_VALUE_MAX (about 67
 * s); a larger value is counted in the last bucket, and the exact maximum
 * is kept beside the buckets. Recording is a few shifts and an increment;
 * nothing allocates (the buckets are in the struct).
 *
 * Pure: no I/O, no clock, so it is unit tested directly.
 */
#ifndef PAYSWITCH_PSPSIM_HIST_H
#define PAYSWITCH_PSPSIM_HIST_H

#include <stdint.h>

#define PSP_HIST_LINEAR 256u    /* exact buckets: 0..255 us */
#define PSP_HIST_HALF 128u      /* buckets per power of two above them */
#define PSP_HIST_SHIFT_MAX 18u  /* the top power of two: 2^26 us */
#define PSP_HIST_BUCKETS (PSP_HIST_LINEAR + PSP_HIST_SHIFT_MAX * PSP_HIST_HALF)
#define PSP_HIST_VALUE_MAX ((1ull << 26) - 1) /* 67.1 s in us */

typedef struct psp_hist {
	uint64_t bucket[PSP_HIST_BUCKETS];
	uint64_t count;
	uint64_t sum_us;
	uint64_t min_us; /* UINT64_MAX while empty */
	uint64_t max_us; /* exact, even past PSP_HIST_VALUE_MAX */
	uint64_t over;   /* values past PSP_HIST_VALUE_MAX */
} psp_hist_t;

void psp_hist_init(psp_hist_t *h);
void psp_hist_record(psp_hist_t *h, uint64_t value_us);
/* Adds every value of from to into (per-connection histograms merge). */
void psp_hist_merge(psp_hist_t *into, const psp_hist_t *from);

/*
 * The value at percentile p (0 < p <= 100, e.g. 99.9): the highest value
 * of the bucket that holds the ceil(p% of count)-th value, never more
 * than the recorded maximum. 0 when empty. Within 1/128 of the truth.
 */
uint64_t psp_hist_percentile(const psp_hist_t *h, double p);
/* Mean in us, rounded down; 0 when empty. */
uint64_t psp_hist_mean(const psp_hist_t *h);

/* Bucket index of a value, and the lowest and highest value of a
 * bucket (exposed for the tests). */
uint32_t psp_hist_index(uint64_t value_us);
uint64_t psp_hist_lowest(uint32_t index);
uint64_t psp_hist_highest(uint32_t index);

#endif /* PAYSWITCH_PSPSIM_HIST_H */
