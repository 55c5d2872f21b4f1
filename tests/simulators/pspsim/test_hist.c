/*
 * test_hist.c: pspsim's latency histogram (simulators/pspsim/hist.h):
 * every bucket holds what it says within 1/128, percentiles of known
 * distributions land within 1% of the truth, the maximum is exact, and
 * values past the range are still counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hist.h"

static psp_hist_t *fresh(void)
{
	static psp_hist_t h;
	psp_hist_init(&h);
	return &h;
}

/* |got - want| <= want / 100 (and at least 1). */
static void assert_near(uint64_t got, uint64_t want)
{
	uint64_t tol = want / 100 > 0 ? want / 100 : 1;
	uint64_t diff = got > want ? got - want : want - got;
	if (diff > tol)
		fail_msg("got %llu, want %llu within %llu", (unsigned long long)got,
			 (unsigned long long)want, (unsigned long long)tol);
}

static void test_buckets_cover_the_range(void **state)
{
	(void)state;
	/* Every value from 0 to the top, in steps that visit every bucket:
	 * it lies in its bucket, and the bucket is at most 1/128 wide. */
	uint32_t last = 0;
	for (uint64_t v = 0; v <= PSP_HIST_VALUE_MAX; v += 1 + v / 512) {
		uint32_t i = psp_hist_index(v);
		assert_true(i < PSP_HIST_BUCKETS);
		assert_true(i >= last); /* monotonic */
		last = i;
		uint64_t lo = psp_hist_lowest(i), hi = psp_hist_highest(i);
		assert_true(lo <= v && v <= hi);
		assert_true(hi - lo + 1 <= (lo / 128 > 0 ? lo / 128 : 1));
	}
	assert_int_equal(psp_hist_index(PSP_HIST_VALUE_MAX), PSP_HIST_BUCKETS - 1);
	assert_int_equal(psp_hist_index(UINT64_MAX), PSP_HIST_BUCKETS - 1);
	/* Neighbouring buckets meet: no value falls between two. */
	for (uint32_t i = 0; i + 1 < PSP_HIST_BUCKETS; i++)
		assert_int_equal(psp_hist_highest(i) + 1, psp_hist_lowest(i + 1));
	/* 60 s is inside the range. */
	assert_true(60000000ull <= PSP_HIST_VALUE_MAX);
}

static void test_small_values_are_exact(void **state)
{
	(void)state;
	psp_hist_t *h = fresh();
	for (uint64_t v = 1; v <= 200; v++)
		psp_hist_record(h, v);
	assert_int_equal(psp_hist_percentile(h, 50), 100);
	assert_int_equal(psp_hist_percentile(h, 90), 180);
	assert_int_equal(psp_hist_percentile(h, 99), 198);
	assert_int_equal(psp_hist_percentile(h, 99.9), 200);
	assert_int_equal(psp_hist_percentile(h, 100), 200);
	assert_int_equal(h->min_us, 1);
	assert_int_equal(h->max_us, 200);
	assert_int_equal(psp_hist_mean(h), 100); /* 20100 / 200 = 100.5 */
}

static void test_uniform_percentiles(void **state)
{
	(void)state;
	psp_hist_t *h = fresh();
	for (uint64_t v = 1; v <= 1000000; v++)
		psp_hist_record(h, v);
	assert_near(psp_hist_percentile(h, 50), 500000);
	assert_near(psp_hist_percentile(h, 90), 900000);
	assert_near(psp_hist_percentile(h, 99), 990000);
	assert_near(psp_hist_percentile(h, 99.9), 999000);
	assert_int_equal(h->max_us, 1000000);
	assert_int_equal(h->count, 1000000);
	/* Never below the truth: a bucket reports its highest value. */
	assert_true(psp_hist_percentile(h, 50) >= 500000);
}

static void test_tail_percentiles(void **state)
{
	(void)state;
	/* 999 fast answers (1 ms) and one slow (2 s): p99.9 is still fast,
	 * the maximum is the slow one, exactly. */
	psp_hist_t *h = fresh();
	for (int i = 0; i < 999; i++)
		psp_hist_record(h, 1000);
	psp_hist_record(h, 2000000);
	assert_near(psp_hist_percentile(h, 99.9), 1000);
	assert_near(psp_hist_percentile(h, 99.95), 2000000);
	assert_int_equal(h->max_us, 2000000);
	/* 10,000: 100 slow ones are the top 1%. */
	h = fresh();
	for (int i = 0; i < 9900; i++)
		psp_hist_record(h, 500);
	for (int i = 0; i < 100; i++)
		psp_hist_record(h, 40000);
	assert_near(psp_hist_percentile(h, 99), 500);
	assert_near(psp_hist_percentile(h, 99.9), 40000);
}

static void test_empty_and_over_range(void **state)
{
	(void)state;
	psp_hist_t *h = fresh();
	assert_int_equal(psp_hist_percentile(h, 50), 0);
	assert_int_equal(psp_hist_percentile(h, 100), 0);
	assert_int_equal(psp_hist_mean(h), 0);
	psp_hist_record(h, 100000000ull); /* 100 s: past the top */
	assert_int_equal(h->over, 1);
	assert_int_equal(h->max_us, 100000000ull);
	/* The top bucket, capped at the true maximum. */
	assert_int_equal(psp_hist_percentile(h, 50), PSP_HIST_VALUE_MAX);
	assert_int_equal(psp_hist_percentile(h, 100), 100000000ull);
	psp_hist_record(h, 0);
	assert_int_equal(h->min_us, 0);
	assert_int_equal(psp_hist_percentile(h, 50), 0);
}

static void test_merge(void **state)
{
	(void)state;
	static psp_hist_t a, b;
	psp_hist_init(&a);
	psp_hist_init(&b);
	for (uint64_t v = 1; v <= 500; v++)
		psp_hist_record(&a, v * 10);
	for (uint64_t v = 501; v <= 1000; v++)
		psp_hist_record(&b, v * 10);
	psp_hist_merge(&a, &b);
	assert_int_equal(a.count, 1000);
	assert_int_equal(a.min_us, 10);
	assert_int_equal(a.max_us, 10000);
	assert_near(psp_hist_percentile(&a, 50), 5000);
	assert_near(psp_hist_percentile(&a, 99), 9900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_cover_the_range),
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_uniform_percentiles),
		cmocka_unit_test(test_tail_percentiles),
		cmocka_unit_test(test_empty_and_over_range),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
