/*
 * report.c: the end of a load run: the exit code it earns, and the
 * report, as text for people or as one JSON object for tools
 * (docs/pspsim.md has the schema). The JSON is written by hand in a fixed
 * shape: every string in it is either of pspsim's own character set
 * (participant, ids, names) or escaped (the link error).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "pspsim.h"

static const char *const status_names[PSP_STATUS_COUNT] = {
	"approved", "declined", "error", "ok", "pending", "other",
};

const char *psp_status_name(int status)
{
	return status >= 0 && status < PSP_STATUS_COUNT ? status_names[status] : "other";
}

int psp_status_of(const char *status)
{
	for (int i = 0; i < PSP_STATUS_OTHER; i++)
		if (strcmp(status, status_names[i]) == 0)
			return i;
	return PSP_STATUS_OTHER;
}

static bool exactly_once(const psp_run_t *r)
{
	return r->missing == 0 && r->timed_out == 0 && r->late == 0 && r->extra == 0 &&
	       r->unknown == 0 && r->unparsed == 0 && r->answered == r->sent;
}

int psp_report_exit_code(const psp_run_t *r)
{
	if (r->connect_failed || r->hello_refused || r->connections_lost > 0)
		return PSP_EXIT_LINK;
	if (!exactly_once(r))
		return PSP_EXIT_UNANSWERED;
	if (r->plan.dup_mismatched > 0 || r->plan.query_mismatched > 0)
		return PSP_EXIT_MISMATCH;
	return PSP_EXIT_OK;
}

static double seconds(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e9 : 0.0;
}

/* Answers a second over the measured time: first request to last answer. */
static double throughput(const psp_run_t *r)
{
	double s = seconds(r->first_send_ns, r->last_answer_ns);
	return s > 0 ? (double)r->answered / s : 0.0;
}

/* The rate requests left at: n requests span n - 1 intervals. */
static double achieved_rate(const psp_run_t *r)
{
	double s = seconds(r->first_send_ns, r->last_send_ns);
	return s > 0 && r->sent > 1 ? (double)(r->sent - 1) / s : 0.0;
}

static void code_text(uint32_t code, char out[3])
{
	if (code == PSP_CODE_OTHER) {
		memcpy(out, "??", 3);
		return;
	}
	out[0] = (char)('0' + code / 10);
	out[1] = (char)('0' + code % 10);
	out[2] = '\0';
}

/* Calls fn for every (op, status, code) seen, in a fixed order. */
static void each_outcome(const psp_run_t *r, FILE *out,
			 void (*fn)(FILE *, int, int, const char *, uint64_t, bool))
{
	bool first = true;
	for (int op = 0; op < PSP_OP_COUNT; op++)
		for (int st = 0; st < PSP_STATUS_COUNT; st++)
			for (uint32_t code = 0; code <= PSP_CODE_OTHER; code++) {
				uint64_t n = r->outcome[op][st][code];
				if (n == 0)
					continue;
				char c[3];
				code_text(code, c);
				fn(out, op, st, c, n, first);
				first = false;
			}
}

/* ---- text ----------------------------------------------------------------------- */

static void text_head(FILE *out, const psp_cfg_t *cfg, const psp_run_t *r)
{
	const psp_load_cfg_t *l = &cfg->load;
	char rate[48] = "flat out", until[64] = "";
	if (l->rate > 0)
		snprintf(rate, sizeof(rate), "rate %u/s", l->rate);
	if (l->count > 0)
		snprintf(until, sizeof(until), ", count %llu", (unsigned long long)l->count);
	if (l->duration_s > 0)
		snprintf(until + strlen(until), sizeof(until) - strlen(until),
			 ", duration %u s", l->duration_s);
	fprintf(out, "pspsim load: %u connections x %u in flight, %s%s; participant %s, "
		"ids %s-N, seed %llu\n", l->connections, l->inflight, rate, until,
		cfg->participant, l->id_prefix, (unsigned long long)l->seed);
	fprintf(out, "sent %llu, answered %llu in %.3f s: %.1f answers/s (sent at %.1f/s)\n",
		(unsigned long long)r->sent, (unsigned long long)r->answered,
		seconds(r->first_send_ns, r->last_answer_ns), throughput(r), achieved_rate(r));
	const psp_hist_t *h = &r->latency;
	fprintf(out, "latency us: p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  "
		"(min %llu, mean %llu)\n",
		(unsigned long long)psp_hist_percentile(h, 50),
		(unsigned long long)psp_hist_percentile(h, 90),
		(unsigned long long)psp_hist_percentile(h, 99),
		(unsigned long long)psp_hist_percentile(h, 99.9),
		(unsigned long long)h->max_us,
		(unsigned long long)(h->count ? h->min_us : 0),
		(unsigned long long)psp_hist_mean(h));
}

static void text_outcome(FILE *out, int op, int st, const char *code, uint64_t n,
			 bool first)
{
	(void)first;
	fprintf(out, "  %-10s %-9s %-4s %10llu\n", psp_op_name(op), psp_status_name(st),
		code, (unsigned long long)n);
}

static void text_outcomes(FILE *out, const psp_run_t *r)
{
	fprintf(out, "outcomes:\n  %-10s %-9s %-4s %10s\n", "op", "status", "code", "count");
	each_outcome(r, out, text_outcome);
}

static void text_book(FILE *out, const psp_cfg_t *cfg, const psp_run_t *r)
{
	const psp_plan_stats_t *p = &r->plan;
	const char *cur = cfg->load.currency;
	fprintf(out, "pays: %llu sent, %llu approved, %lld minor units of %s\n",
		(unsigned long long)p->sent[PSP_OP_PAY], (unsigned long long)p->pays_approved,
		(long long)p->paid_amount, cur);
	fprintf(out, "refunds: %llu sent (full %llu, partial %llu), %llu approved, %lld "
		"minor units refunded\n", (unsigned long long)p->sent[PSP_OP_REFUND],
		(unsigned long long)p->refunds_full, (unsigned long long)p->refunds_partial,
		(unsigned long long)p->refunds_approved, (long long)p->refunded_amount);
	fprintf(out, "duplicates: %llu sent, %llu matched the original's answer, %llu did not\n",
		(unsigned long long)p->sent[PSP_OP_DUPLICATE],
		(unsigned long long)p->dup_matched, (unsigned long long)p->dup_mismatched);
	fprintf(out, "queries: %llu sent: done %llu, in flight %llu, unknown %llu; %llu "
		"disagreed\n", (unsigned long long)p->sent[PSP_OP_QUERY],
		(unsigned long long)p->query_done, (unsigned long long)p->query_in_flight,
		(unsigned long long)p->query_unknown, (unsigned long long)p->query_mismatched);
	if (p->sent[PSP_OP_ECHO] > 0)
		fprintf(out, "echoes: %llu sent\n", (unsigned long long)p->sent[PSP_OP_ECHO]);
	if (p->substituted > 0)
		fprintf(out, "substituted: %llu refunds, duplicates or queries drawn with "
			"nothing to refer to yet, sent as pays\n",
			(unsigned long long)p->substituted);
}

void psp_report_text(FILE *out, const psp_cfg_t *cfg, const psp_run_t *r)
{
	text_head(out, cfg, r);
	text_outcomes(out, r);
	text_book(out, cfg, r);
	fprintf(out, "check: %s (missing %llu, timed out %llu, late %llu, extra %llu, "
		"unknown %llu, unparsed %llu)\n",
		exactly_once(r) ? "every request answered exactly once"
				: "FAILED: not every request was answered exactly once",
		(unsigned long long)r->missing, (unsigned long long)r->timed_out,
		(unsigned long long)r->late, (unsigned long long)r->extra,
		(unsigned long long)r->unknown, (unsigned long long)r->unparsed);
	if (r->link_error[0] != '\0')
		fprintf(out, "link: %s (connections lost %u)\n", r->link_error,
			r->connections_lost);
	fprintf(out, "exit %d\n", psp_report_exit_code(r));
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		char esc[6];
		size_t n = ps_json_escape_byte((unsigned char)*s, esc);
		fwrite(esc, 1, n, out);
	}
	fputc('"', out);
}

static void json_outcome(FILE *out, int op, int st, const char *code, uint64_t n,
			 bool first)
{
	fprintf(out, "%s{\"op\":\"%s\",\"status\":\"%s\",\"code\":\"%s\",\"count\":%llu}",
		first ? "" : ",", psp_op_name(op), psp_status_name(st), code,
		(unsigned long long)n);
}

static void json_outcomes(FILE *out, const psp_run_t *r)
{
	fputs("\"outcomes\":[", out);
	each_outcome(r, out, json_outcome);
	fputs("],", out);
}

static void json_book(FILE *out, const psp_run_t *r)
{
	const psp_plan_stats_t *p = &r->plan;
	fprintf(out, "\"sent_by_op\":{");
	for (int op = 0; op < PSP_OP_COUNT; op++)
		fprintf(out, "%s\"%s\":%llu", op ? "," : "", psp_op_name(op),
			(unsigned long long)p->sent[op]);
	fprintf(out, "},\"substituted\":%llu,", (unsigned long long)p->substituted);
	fprintf(out, "\"pays\":{\"sent\":%llu,\"approved\":%llu,\"amount\":%lld},",
		(unsigned long long)p->sent[PSP_OP_PAY], (unsigned long long)p->pays_approved,
		(long long)p->paid_amount);
	fprintf(out, "\"refunds\":{\"sent\":%llu,\"full\":%llu,\"partial\":%llu,"
		"\"approved\":%llu,\"amount_sent\":%lld,\"amount_approved\":%lld},",
		(unsigned long long)p->sent[PSP_OP_REFUND], (unsigned long long)p->refunds_full,
		(unsigned long long)p->refunds_partial, (unsigned long long)p->refunds_approved,
		(long long)p->refund_amount_sent, (long long)p->refunded_amount);
	fprintf(out, "\"duplicates\":{\"sent\":%llu,\"matched\":%llu,\"mismatched\":%llu},",
		(unsigned long long)p->sent[PSP_OP_DUPLICATE], (unsigned long long)p->dup_matched,
		(unsigned long long)p->dup_mismatched);
	fprintf(out, "\"queries\":{\"sent\":%llu,\"done\":%llu,\"in_flight\":%llu,"
		"\"unknown\":%llu,\"other\":%llu,\"mismatched\":%llu},",
		(unsigned long long)p->sent[PSP_OP_QUERY], (unsigned long long)p->query_done,
		(unsigned long long)p->query_in_flight, (unsigned long long)p->query_unknown,
		(unsigned long long)p->query_other, (unsigned long long)p->query_mismatched);
}

void psp_report_json(FILE *out, const psp_cfg_t *cfg, const psp_run_t *r)
{
	const psp_load_cfg_t *l = &cfg->load;
	const psp_hist_t *h = &r->latency;
	fprintf(out, "{\"mode\":\"load\",\"participant\":\"%s\",\"id_prefix\":\"%s\","
		"\"seed\":%llu,\"connections\":%u,\"inflight\":%u,\"rate_target\":%u,"
		"\"count\":%llu,\"duration_s\":%u,", cfg->participant, l->id_prefix,
		(unsigned long long)l->seed, l->connections, l->inflight, l->rate,
		(unsigned long long)l->count, l->duration_s);
	fprintf(out, "\"sent\":%llu,\"answered\":%llu,\"elapsed_s\":%.3f,"
		"\"throughput\":%.1f,\"achieved_rate\":%.1f,",
		(unsigned long long)r->sent, (unsigned long long)r->answered,
		seconds(r->first_send_ns, r->last_answer_ns), throughput(r), achieved_rate(r));
	fprintf(out, "\"latency_us\":{\"count\":%llu,\"min\":%llu,\"mean\":%llu,\"p50\":%llu,"
		"\"p90\":%llu,\"p99\":%llu,\"p99_9\":%llu,\"max\":%llu},",
		(unsigned long long)h->count, (unsigned long long)(h->count ? h->min_us : 0),
		(unsigned long long)psp_hist_mean(h),
		(unsigned long long)psp_hist_percentile(h, 50),
		(unsigned long long)psp_hist_percentile(h, 90),
		(unsigned long long)psp_hist_percentile(h, 99),
		(unsigned long long)psp_hist_percentile(h, 99.9),
		(unsigned long long)h->max_us);
	json_outcomes(out, r);
	json_book(out, r);
	fprintf(out, "\"check\":{\"ok\":%s,\"missing\":%llu,\"timed_out\":%llu,\"late\":%llu,"
		"\"extra\":%llu,\"unknown\":%llu,\"unparsed\":%llu},",
		exactly_once(r) ? "true" : "false", (unsigned long long)r->missing,
		(unsigned long long)r->timed_out, (unsigned long long)r->late,
		(unsigned long long)r->extra, (unsigned long long)r->unknown,
		(unsigned long long)r->unparsed);
	fprintf(out, "\"link\":{\"connect_failed\":%s,\"hello_refused\":%s,"
		"\"connections_lost\":%u,\"error\":", r->connect_failed ? "true" : "false",
		r->hello_refused ? "true" : "false", r->connections_lost);
	json_string(out, r->link_error);
	fprintf(out, "},\"exit_code\":%d}\n", psp_report_exit_code(r));
}
