/*
 * random.c: the seeded generator and the latency distributions.
 *
 * splitmix64 is small, fast and passes BigCrush; what matters here is
 * that a seed replays a run exactly, not cryptographic strength.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#include "core.h"

void sim_rng_seed(sim_rng_t *rng, uint64_t seed)
{
	rng->state = seed;
}

void sim_rng_seed_text(sim_rng_t *rng, uint64_t seed, const char *salt,
		       const char *text)
{
	/* FNV-1a over salt, a separator and text; splitmix64 then mixes the
	 * result with the seed, so nearby texts give unrelated streams. */
	uint64_t h = 14695981039346656037ull;
	for (const char *p = salt; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = text; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	rng->state = seed ^ h;
	rng->state = sim_rng_next(rng);
}

uint64_t sim_rng_next(sim_rng_t *rng)
{
	uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double sim_rng_unit(sim_rng_t *rng)
{
	/* The top 53 bits: every double in [0, 1) this can give is exact. */
	return (double)(sim_rng_next(rng) >> 11) * 0x1.0p-53;
}

bool sim_rng_chance(sim_rng_t *rng, double p)
{
	if (p <= 0.0)
		return false;
	if (p >= 1.0)
		return true;
	return sim_rng_unit(rng) < p;
}

/* A decimal count of milliseconds, 0..SIM_LATENCY_MS_MAX. */
static bool parse_ms(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (ps_parse_u64(s, len, &v) != 0 || v > SIM_LATENCY_MS_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int sim_latency_parse(const char *text, sim_latency_t *out, char *err,
		      size_t err_cap)
{
	static const char rule[] =
		"must be milliseconds: \"5\", a uniform range \"2-20\" or an "
		"exponential mean \"exp:5\" (each at most 600000)";
	memset(out, 0, sizeof(*out));
	size_t len = strlen(text);
	if (strncmp(text, "exp:", 4) == 0) {
		out->kind = SIM_LATENCY_EXP;
		if (!parse_ms(text + 4, len - 4, &out->a_ms) || out->a_ms == 0)
			return sim_fail(err, err_cap, PS_EINVAL, "%s", rule);
		return 0;
	}
	const char *dash = strchr(text, '-');
	if (dash == NULL) {
		out->kind = SIM_LATENCY_FIXED;
		if (!parse_ms(text, len, &out->a_ms))
			return sim_fail(err, err_cap, PS_EINVAL, "%s", rule);
		return 0;
	}
	out->kind = SIM_LATENCY_UNIFORM;
	if (!parse_ms(text, (size_t)(dash - text), &out->a_ms) ||
	    !parse_ms(dash + 1, strlen(dash + 1), &out->b_ms) ||
	    out->b_ms < out->a_ms)
		return sim_fail(err, err_cap, PS_EINVAL, "%s", rule);
	return 0;
}

uint32_t sim_latency_sample(const sim_latency_t *l, sim_rng_t *rng)
{
	switch (l->kind) {
	case SIM_LATENCY_FIXED:
		return l->a_ms;
	case SIM_LATENCY_UNIFORM: {
		uint64_t span = (uint64_t)l->b_ms - l->a_ms + 1;
		return l->a_ms + (uint32_t)(sim_rng_next(rng) % span);
	}
	case SIM_LATENCY_EXP: {
		/* Inverse transform; a float is fine for a delay, never for
		 * money. 1 - u is in (0, 1], so the log is finite. */
		double ms = -log(1.0 - sim_rng_unit(rng)) * l->a_ms;
		double cap = PS_MIN((double)l->a_ms * 20.0,
				    (double)SIM_LATENCY_MS_MAX);
		return (uint32_t)(ms < cap ? ms : cap);
	}
	}
	PS_ASSERT(!"latency kind");
	return 0;
}

bool sim_latency_is_zero(const sim_latency_t *l)
{
	return l->kind != SIM_LATENCY_EXP && l->a_ms == 0 &&
	       (l->kind == SIM_LATENCY_FIXED || l->b_ms == 0);
}
