/*
 * plan.c: the plan's book of pays (the ring and its two sets), the choice
 * of each next request, its request line, and what each answer does to
 * the book (plan.h).
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define NOWHERE (-1)

/* ---- sets of ring positions ------------------------------------------------- */

static void set_add(psp_set_t *s, psp_pay_t *ring, uint32_t pos, bool refundable)
{
	int32_t *at = refundable ? &ring[pos].refundable_at : &ring[pos].duplicable_at;
	if (*at != NOWHERE)
		return;
	*at = (int32_t)s->count;
	s->item[s->count++] = pos;
}

static void set_remove(psp_set_t *s, psp_pay_t *ring, uint32_t pos, bool refundable)
{
	int32_t *at = refundable ? &ring[pos].refundable_at : &ring[pos].duplicable_at;
	if (*at == NOWHERE)
		return;
	uint32_t last = s->item[--s->count];
	s->item[*at] = last;
	if (refundable)
		ring[last].refundable_at = *at;
	else
		ring[last].duplicable_at = *at;
	*at = NOWHERE;
}

/* A member of a non-empty set, at random. */
static uint32_t set_pick(const psp_set_t *s, sim_rng_t *rng)
{
	PS_ASSERT(s->count > 0);
	return s->item[sim_rng_next(rng) % s->count];
}

/* ---- life cycle ------------------------------------------------------------ */

static bool id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':';
}

int psp_plan_init(psp_plan_t *plan, const psp_plan_cfg_t *cfg,
		  const psp_accounts_t *accounts, char *err, size_t cap)
{
	memset(plan, 0, sizeof(*plan));
	size_t plen = strlen(cfg->id_prefix);
	bool ok = plen > 0 && plen <= PSP_ID_PREFIX_MAX;
	for (size_t i = 0; ok && i < plen; i++)
		ok = id_char(cfg->id_prefix[i]);
	if (!ok)
		return sim_fail(err, cap, PS_EINVAL, "id prefix: 1 to %d of A-Z a-z 0-9 "
				"- _ . :, not \"%s\"", PSP_ID_PREFIX_MAX, cfg->id_prefix);
	if (txn_currency_parse(cfg->currency) == 0)
		return sim_fail(err, cap, PS_EINVAL, "currency: not an ISO 4217 code the "
				"switch takes: \"%s\"", cfg->currency);
	if (cfg->history == 0 || cfg->history > PSP_HISTORY_MAX)
		return sim_fail(err, cap, PS_EINVAL, "history: 1 to %u pays", PSP_HISTORY_MAX);
	memcpy(plan->id_prefix, cfg->id_prefix, plen + 1);
	plan->id_prefix_len = plen;
	ps_strlcpy(plan->currency, cfg->currency, sizeof(plan->currency));
	plan->mix = cfg->mix;
	plan->amount = cfg->amount;
	plan->refund_full_rate = cfg->refund_full_rate;
	plan->accounts = accounts;
	sim_rng_seed(&plan->rng, cfg->seed);
	plan->next_seq = 1;
	plan->ring_cap = cfg->history;
	plan->ring = calloc(cfg->history, sizeof(*plan->ring));
	plan->refundable.item = calloc(cfg->history, sizeof(uint32_t));
	plan->duplicable.item = calloc(cfg->history, sizeof(uint32_t));
	if (plan->ring == NULL || plan->refundable.item == NULL ||
	    plan->duplicable.item == NULL) {
		psp_plan_free(plan);
		return sim_fail(err, cap, PS_ENOMEM, "no memory for %u pays", cfg->history);
	}
	for (uint32_t i = 0; i < cfg->history; i++)
		plan->ring[i].refundable_at = plan->ring[i].duplicable_at = NOWHERE;
	return 0;
}

void psp_plan_free(psp_plan_t *plan)
{
	free(plan->ring);
	free(plan->refundable.item);
	free(plan->duplicable.item);
	plan->ring = NULL;
	plan->refundable.item = plan->duplicable.item = NULL;
}

/* ---- choosing ---------------------------------------------------------------- */

static int64_t left_of(const psp_pay_t *p)
{
	return p->amount - p->refunded - p->pending;
}

/* req sends the pay at ring position pos: a new one, or again. */
static void send_pay(psp_req_t *req, int op, uint32_t pos, const psp_pay_t *p)
{
	req->op = (uint8_t)op;
	req->seq = req->pay_seq = p->seq;
	req->pay = pos;
	req->payer = p->payer;
	req->payee = p->payee;
	req->amount = p->amount;
}

/* A new pay, into the ring (the oldest pay there is forgotten). */
static void plan_pay(psp_plan_t *plan, psp_req_t *req)
{
	uint32_t pos = plan->ring_next;
	psp_pay_t *p = &plan->ring[pos];
	set_remove(&plan->refundable, plan->ring, pos, true);
	set_remove(&plan->duplicable, plan->ring, pos, false);
	memset(p, 0, sizeof(*p));
	p->refundable_at = p->duplicable_at = NOWHERE;
	p->seq = plan->next_seq++;
	p->state = PSP_PAY_SENT;
	p->amount = psp_amount_draw(&plan->amount, &plan->rng);
	psp_accounts_draw(plan->accounts, &plan->rng, &p->payer, &p->payee);
	plan->ring_next = (pos + 1) % plan->ring_cap;
	if (plan->ring_used < plan->ring_cap)
		plan->ring_used++;
	send_pay(req, PSP_OP_PAY, pos, p);
}

static bool plan_refund(psp_plan_t *plan, psp_req_t *req)
{
	if (plan->refundable.count == 0)
		return false;
	uint32_t pos = set_pick(&plan->refundable, &plan->rng);
	psp_pay_t *p = &plan->ring[pos];
	int64_t left = left_of(p);
	PS_ASSERT(left > 0);
	int64_t amount = left;
	bool full = left < 2 || sim_rng_chance(&plan->rng, plan->refund_full_rate);
	if (!full)
		amount = 1 + (int64_t)(sim_rng_next(&plan->rng) % (uint64_t)(left - 1));
	p->pending += amount;
	if (left_of(p) == 0)
		set_remove(&plan->refundable, plan->ring, pos, true);
	req->op = PSP_OP_REFUND;
	req->seq = plan->next_seq++;
	req->pay_seq = p->seq;
	req->pay = pos;
	req->amount = amount;
	req->full = amount == left;
	if (req->full)
		plan->stats.refunds_full++;
	else
		plan->stats.refunds_partial++;
	plan->stats.refund_amount_sent += amount;
	return true;
}

static void expect(psp_req_t *req, const psp_pay_t *p)
{
	req->expect_done = p->state == PSP_PAY_ANSWERED && p->txn[0] != '\0';
	memcpy(req->expect_code, p->code, sizeof(req->expect_code));
	memcpy(req->expect_txn, p->txn, sizeof(req->expect_txn));
}

static bool plan_duplicate(psp_plan_t *plan, psp_req_t *req)
{
	if (plan->duplicable.count == 0)
		return false;
	uint32_t pos = set_pick(&plan->duplicable, &plan->rng);
	psp_pay_t *p = &plan->ring[pos];
	set_remove(&plan->duplicable, plan->ring, pos, false);
	p->dup_inflight = true;
	send_pay(req, PSP_OP_DUPLICATE, pos, p);
	expect(req, p);
	return true;
}

static bool plan_query(psp_plan_t *plan, psp_req_t *req)
{
	if (plan->ring_used == 0)
		return false;
	uint32_t pos = (uint32_t)(sim_rng_next(&plan->rng) % plan->ring_used);
	const psp_pay_t *p = &plan->ring[pos];
	req->op = PSP_OP_QUERY;
	req->seq = plan->next_seq++;
	req->pay_seq = p->seq;
	req->pay = pos;
	expect(req, p);
	return true;
}

void psp_plan_next(psp_plan_t *plan, psp_req_t *req)
{
	memset(req, 0, sizeof(*req));
	int op = psp_mix_draw(&plan->mix, &plan->rng);
	plan->stats.drawn[op]++;
	bool done = false;
	switch (op) {
	case PSP_OP_REFUND:
		done = plan_refund(plan, req);
		break;
	case PSP_OP_DUPLICATE:
		done = plan_duplicate(plan, req);
		break;
	case PSP_OP_QUERY:
		done = plan_query(plan, req);
		break;
	case PSP_OP_ECHO:
		req->op = PSP_OP_ECHO;
		req->seq = plan->next_seq++;
		done = true;
		break;
	default:
		break;
	}
	if (!done) {
		if (op != PSP_OP_PAY)
			plan->stats.substituted++;
		plan_pay(plan, req);
	}
	plan->stats.sent[req->op]++;
}

/* ---- the request line -------------------------------------------------------- */

int psp_plan_format(const psp_plan_t *plan, const psp_req_t *req, char *out,
		    size_t cap, size_t *len)
{
	const char *pre = plan->id_prefix;
	unsigned long long seq = (unsigned long long)req->seq;
	int n = -1;
	switch (req->op) {
	case PSP_OP_PAY:
	case PSP_OP_DUPLICATE: {
		/* A duplicate is this same line again, byte for byte. */
		psp_account_no_t payer, payee;
		psp_account_format(plan->accounts, false, req->payer, payer);
		psp_account_format(plan->accounts, true, req->payee, payee);
		n = snprintf(out, cap, "{\"op\":\"pay\",\"id\":\"%s-%llu\",\"payer\":"
			     "{\"account\":\"%s\"},\"payee\":{\"account\":\"%s\"},"
			     "\"amount\":%lld,\"currency\":\"%s\"}\n", pre, seq, payer,
			     payee, (long long)req->amount, plan->currency);
		break;
	}
	case PSP_OP_REFUND:
		n = snprintf(out, cap, "{\"op\":\"refund\",\"id\":\"%s-%llu\",\"original\":"
			     "\"%s-%llu\",\"amount\":%lld,\"currency\":\"%s\"}\n", pre, seq,
			     pre, (unsigned long long)req->pay_seq, (long long)req->amount,
			     plan->currency);
		break;
	case PSP_OP_QUERY:
		n = snprintf(out, cap, "{\"op\":\"query\",\"id\":\"%s-%llu\",\"target\":"
			     "\"%s-%llu\"}\n", pre, seq, pre,
			     (unsigned long long)req->pay_seq);
		break;
	case PSP_OP_ECHO:
		n = snprintf(out, cap, "{\"op\":\"echo\",\"id\":\"%s-%llu\"}\n", pre, seq);
		break;
	default:
		PS_ASSERT(!"request op");
	}
	if (n < 0 || (size_t)n >= cap)
		return PS_ENOSPC;
	*len = (size_t)n;
	return 0;
}

/* ---- answers ------------------------------------------------------------------ */

/* The ring entry req is about, if the ring still holds that pay. */
static psp_pay_t *pay_of(psp_plan_t *plan, const psp_req_t *req)
{
	if (req->pay_seq == 0 || req->pay >= plan->ring_cap)
		return NULL;
	psp_pay_t *p = &plan->ring[req->pay];
	return p->seq == req->pay_seq ? p : NULL;
}

static void pay_answered(psp_plan_t *plan, const psp_req_t *req,
			 const txn_answer_t *a)
{
	bool approved = strcmp(a->code, "00") == 0;
	if (approved) {
		plan->stats.pays_approved++;
		plan->stats.paid_amount += req->amount;
	}
	psp_pay_t *p = pay_of(plan, req);
	if (p == NULL || p->state == PSP_PAY_ANSWERED)
		return;
	p->state = PSP_PAY_ANSWERED;
	ps_strlcpy(p->code, a->code, sizeof(p->code));
	ps_strlcpy(p->txn, a->txn, sizeof(p->txn));
	if (approved && left_of(p) > 0)
		set_add(&plan->refundable, plan->ring, req->pay, true);
	if (p->txn[0] != '\0' && !p->dup_inflight)
		set_add(&plan->duplicable, plan->ring, req->pay, false);
}

static void refund_settled(psp_plan_t *plan, const psp_req_t *req, bool approved)
{
	psp_pay_t *p = pay_of(plan, req);
	if (p == NULL)
		return;
	PS_ASSERT(p->pending >= req->amount);
	p->pending -= req->amount;
	if (approved)
		p->refunded += req->amount;
	else if (left_of(p) > 0 && strcmp(p->code, "00") == 0)
		set_add(&plan->refundable, plan->ring, req->pay, true);
}

static int duplicate_answered(psp_plan_t *plan, const psp_req_t *req,
			      const txn_answer_t *a)
{
	psp_pay_t *p = pay_of(plan, req);
	if (p != NULL) {
		p->dup_inflight = false;
		set_add(&plan->duplicable, plan->ring, req->pay, false);
	}
	if (strcmp(a->code, req->expect_code) == 0 &&
	    strcmp(a->txn, req->expect_txn) == 0) {
		plan->stats.dup_matched++;
		return PSP_VERDICT_OK;
	}
	plan->stats.dup_mismatched++;
	return PSP_VERDICT_MISMATCH;
}

static int query_answered(psp_plan_t *plan, const psp_req_t *req,
			  const txn_answer_t *a)
{
	psp_plan_stats_t *s = &plan->stats;
	if (strcmp(a->state, "done") == 0)
		s->query_done++;
	else if (strcmp(a->state, "in_flight") == 0)
		s->query_in_flight++;
	else if (strcmp(a->state, "unknown") == 0)
		s->query_unknown++;
	else
		s->query_other++;
	/* A pay answered with a txn is on record: its query must find it
	 * done, answered as it was. Otherwise the query may have overtaken
	 * the pay (another connection), and anything goes. */
	if (!req->expect_done)
		return PSP_VERDICT_OK;
	if (strcmp(a->state, "done") == 0 &&
	    strcmp(a->target_code, req->expect_code) == 0)
		return PSP_VERDICT_OK;
	s->query_mismatched++;
	return PSP_VERDICT_MISMATCH;
}

int psp_plan_answered(psp_plan_t *plan, const psp_req_t *req,
		      const txn_answer_t *answer)
{
	switch (req->op) {
	case PSP_OP_PAY:
		pay_answered(plan, req, answer);
		return PSP_VERDICT_OK;
	case PSP_OP_REFUND: {
		bool approved = strcmp(answer->code, "00") == 0;
		if (approved) {
			plan->stats.refunds_approved++;
			plan->stats.refunded_amount += req->amount;
		}
		refund_settled(plan, req, approved);
		return PSP_VERDICT_OK;
	}
	case PSP_OP_DUPLICATE:
		return duplicate_answered(plan, req, answer);
	case PSP_OP_QUERY:
		return query_answered(plan, req, answer);
	default:
		return PSP_VERDICT_OK;
	}
}

void psp_plan_lost(psp_plan_t *plan, const psp_req_t *req)
{
	psp_pay_t *p = pay_of(plan, req);
	if (p == NULL)
		return;
	/* A lost refund keeps its amount pending: it may have been made. A
	 * lost pay stays SENT, so it is never refunded or repeated. */
	if (req->op == PSP_OP_DUPLICATE) {
		p->dup_inflight = false;
		set_add(&plan->duplicable, plan->ring, req->pay, false);
	}
}

bool psp_plan_seq_of(const psp_plan_t *plan, const char *id, uint64_t *seq)
{
	size_t n = plan->id_prefix_len;
	if (strncmp(id, plan->id_prefix, n) != 0 || id[n] != '-')
		return false;
	const char *digits = id + n + 1;
	size_t len = strlen(digits);
	return len > 0 && digits[0] != '0' && ps_parse_u64(digits, len, seq) == 0 &&
	       *seq > 0 && *seq < plan->next_seq;
}

/* ---- invariants ------------------------------------------------------------------ */

static bool set_sound(const psp_plan_t *plan, const psp_set_t *s, bool refundable)
{
	for (uint32_t i = 0; i < s->count; i++) {
		const psp_pay_t *p = &plan->ring[s->item[i]];
		int32_t at = refundable ? p->refundable_at : p->duplicable_at;
		if (at != (int32_t)i || p->seq == 0)
			return false;
		if (refundable && (left_of(p) <= 0 || strcmp(p->code, "00") != 0))
			return false;
		if (!refundable && (p->dup_inflight || p->txn[0] == '\0'))
			return false;
	}
	return true;
}

bool psp_plan_sound(const psp_plan_t *plan)
{
	for (uint32_t i = 0; i < plan->ring_used; i++) {
		const psp_pay_t *p = &plan->ring[i];
		if (p->refunded < 0 || p->pending < 0 || p->refunded + p->pending > p->amount)
			return false;
		if (p->refunded + p->pending > 0 && strcmp(p->code, "00") != 0)
			return false;
	}
	return set_sound(plan, &plan->refundable, true) &&
	       set_sound(plan, &plan->duplicable, false);
}
