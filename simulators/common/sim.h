/*
 * sim.h: the plumbing every simulator shares (banksim now; netsim, pbocsim
 * and pspsim later).
 *
 *  - Options: one table describes a simulator's options. The same table
 *    reads the command line (--name VALUE, --name=VALUE, --flag) and a
 *    JSON config file named by --config, where each option is a key: its
 *    name with '-' written '_' ("latency-ms" -> "latency_ms"). The file is
 *    applied first, so the command line overrides it.
 *  - Random draws: a seeded generator (splitmix64), so that a run with the
 *    same seed and the same input makes the same decisions, and latency
 *    distributions ("5", "2-20", "exp:5") drawn from it.
 *  - Start-up chores: HOST:PORT parsing and the ready file, written
 *    atomically so a test never reads half of it.
 *
 * Never includes uv.h; nothing here allocates after start-up.
 */
#ifndef PAYSWITCH_SIM_H
#define PAYSWITCH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- errors ------------------------------------------------------------ */

/* Writes the printf-style message into err (cap bytes, always terminated)
 * and returns rc: the one way a simulator's start-up code says what is
 * wrong. */
int sim_fail(char *err, size_t cap, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- options ----------------------------------------------------------- */

enum sim_opt_kind {
	SIM_OPT_STR = 0, /* text into a char array of `size` bytes */
	SIM_OPT_UINT,    /* decimal integer min..max into an unsigned field
			    of `size` bytes (2, 4 or 8) */
	SIM_OPT_RATE,    /* a probability 0..1 into a double */
	SIM_OPT_FLAG,    /* a bool: --flag, --flag=false, or JSON true/false */
};

typedef struct sim_opt {
	const char *name;   /* "latency-ms": --latency-ms, JSON "latency_ms" */
	const char *arg;    /* "DIST" for the usage text; NULL for a flag */
	const char *help;   /* one line */
	uint8_t kind;       /* enum sim_opt_kind */
	bool cli_only;      /* not a config-file key (modes like --help) */
	size_t offset;      /* of the field in the caller's config struct */
	size_t size;        /* bytes of the field */
	uint64_t min, max;  /* SIM_OPT_UINT bounds */
} sim_opt_t;

/* Returned by sim_opts_parse when --help or -h was given. */
#define SIM_OPTS_HELP 1

/*
 * Applies --config FILE (if given anywhere on the command line), then the
 * command line, to the struct at cfg. Unknown options and keys, values
 * out of class or bounds, and a missing value are refused: returns
 * PS_EINVAL with err naming the option or key and the rule ("--latency-ms:
 * ...", "bank.json: latency_ms: ..."). Returns SIM_OPTS_HELP for --help.
 * Positional arguments are refused too.
 */
int sim_opts_parse(const sim_opt_t *opts, size_t count, int argc,
		   char **argv, void *cfg, char *err, size_t err_cap);

/* Prints the usage text: synopsis, then one line per option. */
void sim_opts_usage(FILE *out, const char *synopsis, const sim_opt_t *opts,
		    size_t count);

/* ---- random draws -------------------------------------------------------- */

typedef struct sim_rng {
	uint64_t state;
} sim_rng_t;

void sim_rng_seed(sim_rng_t *rng, uint64_t seed);
/*
 * Seeds rng from seed and a text (a request's key), salted by what the
 * draws are for ("decline", "answer"). A simulator that seeds each
 * request's draws this way decides the same for the same request in
 * every run, however requests interleave or batch.
 */
void sim_rng_seed_text(sim_rng_t *rng, uint64_t seed, const char *salt,
		       const char *text);
uint64_t sim_rng_next(sim_rng_t *rng);
/* Uniform in [0, 1). */
double sim_rng_unit(sim_rng_t *rng);
/* True with probability p. p <= 0 is never and p >= 1 always, and neither
 * draws, so a disabled feature leaves the sequence of the others alone. */
bool sim_rng_chance(sim_rng_t *rng, double p);

/* ---- latency distributions ------------------------------------------------ */

#define SIM_LATENCY_MS_MAX 600000u /* ten minutes: any draw is capped here */
#define SIM_LATENCY_TEXT_MAX 48

enum sim_latency_kind {
	SIM_LATENCY_FIXED = 0, /* "5": always a_ms */
	SIM_LATENCY_UNIFORM,   /* "2-20": a_ms..b_ms inclusive, uniform */
	SIM_LATENCY_EXP,       /* "exp:5": exponential with mean a_ms */
};

typedef struct sim_latency {
	uint8_t kind;
	uint32_t a_ms;
	uint32_t b_ms;
} sim_latency_t;

/* Parses "0", "5", "2-20" or "exp:5" (integers, milliseconds, at most
 * SIM_LATENCY_MS_MAX). PS_EINVAL with err saying what is accepted. */
int sim_latency_parse(const char *text, sim_latency_t *out, char *err,
		      size_t err_cap);
/* One draw in milliseconds. An exponential draw is capped at twenty times
 * its mean (and SIM_LATENCY_MS_MAX) so one unlucky draw cannot stall. */
uint32_t sim_latency_sample(const sim_latency_t *latency, sim_rng_t *rng);
/* Is every draw 0? */
bool sim_latency_is_zero(const sim_latency_t *latency);

/* ---- start-up ------------------------------------------------------------- */

/*
 * Splits "HOST:PORT" ("127.0.0.1:0", "[::1]:8583", "localhost:9000"):
 * host without brackets into host (cap bytes), port 0..65535. PS_EINVAL
 * when there is no colon, the host is empty or too long, or the port is
 * not a number in range.
 */
int sim_hostport_parse(const char *text, char *host, size_t cap,
		       uint16_t *port);

/* Writes text to path through path.tmp and rename(2), so a reader sees
 * the whole file or none. PS_EIO on failure. */
int sim_ready_write(const char *path, const char *text, size_t len);

/* Reads a whole file of at most max_bytes into a malloc'ed, NUL-terminated
 * buffer (start-up use). PS_EIO when unreadable, PS_ELIMIT when larger. */
int sim_file_read(const char *path, size_t max_bytes, char **out,
		  size_t *len);

#endif /* PAYSWITCH_SIM_H */
