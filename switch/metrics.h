/*
 * metrics.h: the switch's counters and latency histograms.
 *
 * Plain integers on one thread: counting is an increment. The plain
 * counters are listed once (sw_counters), so Prometheus (control.c) and
 * `switchctl stats` both show every counter added there. Rendering helpers
 * write the Prometheus text format into a bounded buffer.
 */
#ifndef PAYSWITCH_SW_METRICS_H
#define PAYSWITCH_SW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "adapters.h"
#include "core.h"

#define SW_LATENCY_BUCKETS 16

/* Why the switch closed a connection or refused one (counted by reason;
 * an ordinary close, the peer's or a drain's, is SW_CLOSE_NONE). */
enum sw_close_cause {
	SW_CLOSE_NONE = 0,
	SW_CLOSE_NOT_READING,    /* writes made no progress: write_timeout_ms */
	SW_CLOSE_FRAME_TIMEOUT,  /* a frame begun, not whole: frame_timeout_ms */
	SW_CLOSE_IDLE,           /* no whole message: idle_timeout_ms */
	SW_CLOSE_BAD_FRAMING,    /* a length or line the stream cannot survive */
	SW_CLOSE_UNDECODABLE,    /* a message without the keys to answer it */
	SW_CLOSE_CAUSES
};

enum sw_refuse_cause {
	SW_REFUSE_CONNECTIONS = 0, /* connections_max */
	SW_REFUSE_PER_PEER,        /* connections_per_peer_max */
	SW_REFUSE_DRAINING,
	SW_REFUSE_CAUSES
};

const char *sw_close_cause_name(int cause);
const char *sw_refuse_cause_name(int cause);

typedef struct sw_metrics {
	uint64_t requests[TXN_KIND_COUNT];
	uint64_t answers[100];           /* by response code 00..99 */
	uint64_t format_errors;
	uint64_t duplicates;
	uint64_t refused_bound;          /* 91 for a bound reached */
	uint64_t answers_dropped;        /* their connection closed first */
	uint64_t backpressure_pauses;    /* a connection not read for a while */
	uint64_t not_permitted;          /* operations a listener may not send */
	uint64_t closed[SW_CLOSE_CAUSES];  /* connections closed, by cause */
	uint64_t refused_conns[SW_REFUSE_CAUSES];
	uint64_t legs_unsent;            /* no link up when they were due */
	uint64_t timeouts;
	uint64_t late_responses;
	uint64_t reversals_queued;
	uint64_t reversals_acked;
	uint64_t reversals_expired;
	uint64_t exceptions;             /* raised for an operator */
	uint64_t purged;                 /* finished records past retention */
	uint64_t commits;
	uint64_t commit_failures;
	uint64_t batch_ops;
	uint64_t latency_count;
	uint64_t latency_sum_us;
	uint64_t latency_bucket[SW_LATENCY_BUCKETS];
	uint64_t commit_count;
	uint64_t commit_sum_us;
	uint64_t commit_bucket[SW_LATENCY_BUCKETS];
} sw_metrics_t;

/* Counts an answer by its response code (enum txn_rc). */
void sw_metrics_answer(sw_metrics_t *m, uint8_t rc);
/* Intake to final answer, and one group commit. */
void sw_metrics_latency(sw_metrics_t *m, uint64_t elapsed_ns);
void sw_metrics_commit(sw_metrics_t *m, uint64_t elapsed_ns);

/* The plain counters, once. */
typedef struct sw_counter {
	const char *name;   /* stats key; Prometheus adds "_total" */
	const char *help;
	size_t offset;      /* of its uint64_t in sw_metrics_t */
} sw_counter_t;

extern const sw_counter_t sw_counters[];
extern const size_t sw_counter_count;
uint64_t sw_counter_value(const sw_metrics_t *m, const sw_counter_t *c);

/* Prometheus text: requests and answers by label, both histograms and
 * every plain counter. */
void sw_metrics_render(const sw_metrics_t *m, ps_buf_t *out);
/* "# HELP payswitch_<name> ...\n# TYPE payswitch_<name> <type>\n" */
void sw_metrics_header(ps_buf_t *out, const char *name, const char *type,
		       const char *help);
/* A whole gauge: header and one sample. */
void sw_metrics_gauge(ps_buf_t *out, const char *name, const char *help,
		      uint64_t value);

#endif /* PAYSWITCH_SW_METRICS_H */
