/*
 * metrics.c: counters and histograms, and their Prometheus text.
 *
 * Counting is a few increments per message on plain integers (one thread);
 * rendering walks them only when /metrics is scraped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bucket_us[SW_LATENCY_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000, 30000000,
};

static void observe(uint64_t *buckets, uint64_t *count, uint64_t *sum_us,
		    uint64_t elapsed_ns)
{
	uint64_t us = elapsed_ns / 1000;
	size_t i = 0;
	while (i < PS_ARRAY_LEN(bucket_us) && us > bucket_us[i])
		i++;
	buckets[i]++;
	(*count)++;
	*sum_us += us;
}

#define COUNTER(field, name, help) {name, help, offsetof(sw_metrics_t, field)}

const sw_counter_t sw_counters[] = {
	COUNTER(format_errors, "format_errors", "Requests that could not be decoded."),
	COUNTER(duplicates, "duplicates", "Requests seen before."),
	COUNTER(refused_bound, "refused", "Requests refused because a bound was reached."),
	COUNTER(answers_dropped, "answers_dropped",
		"Answers not written: their connection closed first."),
	COUNTER(backpressure_pauses, "backpressure_pauses",
		"Times a connection was not read until its answers were written."),
	COUNTER(not_permitted, "not_permitted",
		"Requests for an operation their listener does not permit."),
	COUNTER(legs_unsent, "legs_unsent",
		"Legs with no link up when due to leave (they time out and are reversed)."),
	COUNTER(timeouts, "timeouts", "Legs with no response by their deadline."),
	COUNTER(late_responses, "late_responses", "Responses after their deadline."),
	COUNTER(reversals_queued, "reversals_queued", "Reversals and completion advices queued."),
	COUNTER(reversals_acked, "reversals_acknowledged",
		"Reversals and completion advices acknowledged."),
	COUNTER(reversals_expired, "reversals_expired",
		"Reversals and completion advices given up (need an operator)."),
	COUNTER(exceptions, "exceptions",
		"Exceptions raised for an operator (switchctl exceptions)."),
	COUNTER(purged, "purged", "Finished transactions forgotten after retention_ms."),
	COUNTER(commits, "commits", "Group commits."),
	COUNTER(commit_failures, "commit_failures", "Group commits that failed."),
};
const size_t sw_counter_count = PS_ARRAY_LEN(sw_counters);

const char *sw_close_cause_name(int cause)
{
	static const char *const names[SW_CLOSE_CAUSES] = {
		"", "not_reading", "frame_timeout", "idle_timeout",
		"bad_framing", "undecodable"};
	return cause > 0 && cause < SW_CLOSE_CAUSES ? names[cause] : "";
}

const char *sw_refuse_cause_name(int cause)
{
	static const char *const names[SW_REFUSE_CAUSES] = {
		"connections_max", "connections_per_peer_max", "draining"};
	return cause >= 0 && cause < SW_REFUSE_CAUSES ? names[cause] : "";
}

uint64_t sw_counter_value(const sw_metrics_t *m, const sw_counter_t *c)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)m + c->offset, sizeof(v));
	return v;
}

void sw_metrics_answer(sw_metrics_t *m, uint8_t rc)
{
	if (rc < PS_ARRAY_LEN(m->answers))
		m->answers[rc]++;
}

void sw_metrics_latency(sw_metrics_t *m, uint64_t elapsed_ns)
{
	observe(m->latency_bucket, &m->latency_count, &m->latency_sum_us,
		elapsed_ns);
}

void sw_metrics_commit(sw_metrics_t *m, uint64_t elapsed_ns)
{
	observe(m->commit_bucket, &m->commit_count, &m->commit_sum_us,
		elapsed_ns);
}

void sw_metrics_header(ps_buf_t *out, const char *name, const char *type,
		       const char *help)
{
	ps_buf_printf(out, "# HELP payswitch_%s %s\n# TYPE payswitch_%s %s\n",
		      name, help, name, type);
}

static void histogram(ps_buf_t *out, const char *name, const char *help,
		      const uint64_t *buckets, uint64_t count, uint64_t sum_us)
{
	sw_metrics_header(out, name, "histogram", help);
	uint64_t cumulative = 0;
	for (size_t i = 0; i < PS_ARRAY_LEN(bucket_us); i++) {
		cumulative += buckets[i];
		ps_buf_printf(out, "payswitch_%s_bucket{le=\"%g\"} %" PRIu64 "\n",
			      name, (double)bucket_us[i] / 1e6, cumulative);
	}
	cumulative += buckets[PS_ARRAY_LEN(bucket_us)];
	ps_buf_printf(out, "payswitch_%s_bucket{le=\"+Inf\"} %" PRIu64 "\n",
		      name, cumulative);
	ps_buf_printf(out, "payswitch_%s_sum %.6f\n", name, (double)sum_us / 1e6);
	ps_buf_printf(out, "payswitch_%s_count %" PRIu64 "\n", name, count);
}

void sw_metrics_gauge(ps_buf_t *out, const char *name, const char *help,
		      uint64_t value)
{
	sw_metrics_header(out, name, "gauge", help);
	ps_buf_printf(out, "payswitch_%s %" PRIu64 "\n", name, value);
}

void sw_metrics_render(const sw_metrics_t *m, ps_buf_t *out)
{
	sw_metrics_header(out, "requests_total", "counter",
			  "Requests received, by kind.");
	for (int k = 1; k < TXN_KIND_COUNT; k++)
		ps_buf_printf(out, "payswitch_requests_total{kind=\"%s\"} %" PRIu64 "\n",
			      txn_kind_name(k), m->requests[k]);
	sw_metrics_header(out, "responses_total", "counter",
			  "Answers sent to origins, by response code.");
	for (int c = 0; c < 100; c++)
		if (m->answers[c] > 0)
			ps_buf_printf(out, "payswitch_responses_total{code=\"%02d\"} %" PRIu64 "\n",
				      c, m->answers[c]);
	histogram(out, "latency_seconds",
		  "Time from a request's intake to its final answer.",
		  m->latency_bucket, m->latency_count, m->latency_sum_us);
	histogram(out, "commit_seconds", "Time of one group commit.",
		  m->commit_bucket, m->commit_count, m->commit_sum_us);
	sw_metrics_header(out, "connections_closed_total", "counter",
			  "Connections the switch closed for cause, by cause.");
	for (int c = 1; c < SW_CLOSE_CAUSES; c++)
		ps_buf_printf(out, "payswitch_connections_closed_total{cause=\"%s\"} %" PRIu64 "\n",
			      sw_close_cause_name(c), m->closed[c]);
	sw_metrics_header(out, "connections_refused_total", "counter",
			  "Connections refused at accept, by bound.");
	for (int c = 0; c < SW_REFUSE_CAUSES; c++)
		ps_buf_printf(out, "payswitch_connections_refused_total{cause=\"%s\"} %" PRIu64 "\n",
			      sw_refuse_cause_name(c), m->refused_conns[c]);
	for (size_t i = 0; i < sw_counter_count; i++) {
		const sw_counter_t *c = &sw_counters[i];
		ps_buf_printf(out, "# HELP payswitch_%s_total %s\n"
			      "# TYPE payswitch_%s_total counter\n"
			      "payswitch_%s_total %" PRIu64 "\n",
			      c->name, c->help, c->name, c->name,
			      sw_counter_value(m, c));
	}
}
