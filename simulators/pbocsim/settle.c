/*
 * settle.c: settlement batches (pboc.h): judging a batch, the shortfall
 * check against credit limits, the linked chain that posts it, the queue
 * of batches waiting for funds, and idempotency by batch id.
 *
 * The order of a posting, and why it survives a crash anywhere:
 *   1. the record, queued ("posting");   a crash here: the queue has it,
 *                                         and the next start posts it
 *   2. the chain, in one ledger commit;  a crash here: the queue has it,
 *                                         its legs are in the ledger, and
 *                                         posting it again finds EXISTS
 *   3. the record, posted.
 * A batch whose first leg is in the ledger is therefore posted, whatever
 * its record says, and is never checked for funds again (its own posting
 * has already taken them).
 */
#include "pboc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---- the shape of a batch ----------------------------------------------------- */

static int by_member(const void *a, const void *b)
{
	return strcmp(((const pboc_position_t *)a)->member,
		      ((const pboc_position_t *)b)->member);
}

/* Member order: equal batches compare equal, a member named twice sits
 * next to itself. */
static void canonical(pboc_batch_t *b)
{
	qsort(b->positions, b->count, sizeof(b->positions[0]), by_member);
}

static bool same_positions(const pboc_batch_t *a, const pboc_batch_t *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++)
		if (a->positions[i].amount != b->positions[i].amount ||
		    strcmp(a->positions[i].member, b->positions[i].member) != 0)
			return false;
	return true;
}

static void set_reason(pboc_batch_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(pboc_batch_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
	va_end(ap);
}

/* What makes a batch unacceptable whatever the reserves hold: false with
 * the reason set. */
static bool acceptable(const pboc_t *p, pboc_batch_t *b)
{
	int64_t sum = 0;
	for (uint32_t i = 0; i < b->count; i++)
		sum += b->positions[i].amount; /* bounded: no overflow */
	if (sum != 0) {
		set_reason(b, "positions sum to %" PRId64 ", not 0", sum);
		return false;
	}
	for (uint32_t i = 0; i < b->count; i++) {
		const char *m = b->positions[i].member;
		if (i > 0 && strcmp(b->positions[i - 1].member, m) == 0) {
			set_reason(b, "positions: member %s appears twice", m);
			return false;
		}
		if (pboc_members_find(&p->members, m) == NULL) {
			set_reason(b, "positions: %s is no member of PBOC", m);
			return false;
		}
	}
	if (pboc_members_find(&p->members, b->submitter) == NULL) {
		set_reason(b, "submitter: %s is no member of PBOC", b->submitter);
		return false;
	}
	return true;
}

/* ---- funds --------------------------------------------------------------------- */

/*
 * Is every debtor's reserve enough, down to minus its credit limit? When
 * not, *short_out is true and the reason names the first one short (in
 * member order) and how many others are.
 */
static int check_funds(pboc_t *p, pboc_batch_t *b, bool *short_out)
{
	uint32_t shorts = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		const pboc_position_t *pos = &b->positions[i];
		if (pos->amount >= 0)
			continue;
		int64_t balance = 0, limit = 0;
		/* Every member of b is known (acceptable): no PS_ENOTFOUND. */
		int rc = pboc_balance(p, pos->member, &balance, &limit);
		if (rc != 0)
			return rc;
		int64_t after = balance + pos->amount;
		if (after >= -limit)
			continue;
		if (shorts++ == 0)
			set_reason(b, "reserve of %s short by %" PRId64 " fen "
				   "(balance %" PRId64 ", credit limit %" PRId64
				   ")", pos->member, -limit - after, balance,
				   limit);
	}
	if (shorts > 1) {
		size_t len = strlen(b->reason);
		snprintf(b->reason + len, sizeof(b->reason) - len,
			 "; %" PRIu32 " more reserves short", shorts - 1);
	}
	*short_out = shorts > 0;
	return 0;
}

/* ---- the chain ------------------------------------------------------------------ */

/* Was the batch posted already (its first leg is in the ledger)? The
 * chain is one commit: one leg there means all of them. */
static int posted_before(pboc_t *p, const pboc_batch_t *b, bool *yes)
{
	*yes = false;
	for (uint32_t i = 0; i < b->count; i++) {
		if (b->positions[i].amount == 0)
			continue;
		ledger_transfer_t t;
		int rc = ledger_transfer_get(p->ledger,
					     pboc_leg_id(b->id,
							 b->positions[i].member),
					     &t);
		if (rc == 0)
			*yes = true;
		return rc == PS_ENOTFOUND ? 0 : rc;
	}
	return 0;
}

/* Debtors' legs into suspense first, then creditors' out of it, so the
 * flagged suspense account never goes below zero on the way. */
static uint32_t build_chain(pboc_t *p, const pboc_batch_t *b)
{
	uint32_t n = 0;
	ledger_id_t tag = ledger_id_from_text(b->id, strlen(b->id));
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < b->count; i++) {
			const pboc_position_t *pos = &b->positions[i];
			bool debtor = pos->amount < 0;
			if (pos->amount == 0 || debtor != (pass == 0))
				continue;
			ledger_id_t reserve = pboc_reserve_id(pos->member),
				    suspense = ledger_id_from_u64(PBOC_ID_SUSPENSE);
			ledger_transfer_t *t = &p->xfers[n++];
			memset(t, 0, sizeof(*t));
			t->id = pboc_leg_id(b->id, pos->member);
			t->debit_account_id = debtor ? reserve : suspense;
			t->credit_account_id = debtor ? suspense : reserve;
			t->amount = (uint64_t)(debtor ? -pos->amount : pos->amount);
			t->user_data_128 = tag;
			t->user_data_64 = b->seq;
			t->ledger = PBOC_CURRENCY;
			t->code = debtor ? PBOC_XCODE_SETTLE_DEBIT
					 : PBOC_XCODE_SETTLE_CREDIT;
			t->flags = LEDGER_TRANSFER_LINKED;
		}
	}
	if (n > 0)
		p->xfers[n - 1].flags = 0; /* the chain ends here */
	return n;
}

enum chain_outcome { CHAIN_POSTED, CHAIN_SHORT, CHAIN_REFUSED };

/* Posts b's chain: CHAIN_POSTED with posted_ms the ledger's time (the
 * first posting's, when it was there already), or why not. */
static int post_chain(pboc_t *p, pboc_batch_t *b, int *outcome)
{
	uint32_t n = build_chain(p, b);
	*outcome = CHAIN_POSTED;
	if (n == 0) { /* every position 0: nothing moves */
		b->posted_ms = ps_wall_ms();
		return 0;
	}
	int rc = ledger_create_transfers(p->ledger, p->xfers, n, p->results);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r = p->results[i].result;
		if (ledger_transfer_result_is_success(r) ||
		    r == LEDGER_TRANSFER_LINKED_EVENT_FAILED)
			continue;
		char member[PBOC_MEMBER_ID_MAX + 1] = "?";
		ledger_id_t acct = p->xfers[i].code == PBOC_XCODE_SETTLE_DEBIT
					   ? p->xfers[i].debit_account_id
					   : p->xfers[i].credit_account_id;
		(void)pboc_reserve_member(acct, member);
		*outcome = r == LEDGER_TRANSFER_EXCEEDS_CREDITS ? CHAIN_SHORT
								: CHAIN_REFUSED;
		set_reason(b, "reserve of %s: the ledger refused its leg (%s)",
			   member, ledger_transfer_result_name(r));
		return 0;
	}
	b->posted_ms = p->results[0].timestamp / 1000000u;
	return 0;
}

/* ---- logs --------------------------------------------------------------------------- */

static void log_batch(const pboc_batch_t *b, const char *event)
{
	bool posted = b->status == PBOC_BATCH_POSTED;
	ps_log_t *l = ps_log_begin(posted ? PS_LOG_INFO : PS_LOG_WARN, event);
	ps_log_str(l, "batch", b->id);
	ps_log_str(l, "submitter", b->submitter);
	ps_log_uint(l, "positions", b->count);
	int64_t moved = 0;
	for (uint32_t i = 0; i < b->count; i++)
		moved += b->positions[i].amount > 0 ? b->positions[i].amount : 0;
	ps_log_int(l, "amount", moved);
	if (posted)
		ps_log_uint(l, "posted_ms", b->posted_ms);
	else
		ps_log_str(l, "reason", b->reason);
	ps_log_end(l);
}

/* ---- judging --------------------------------------------------------------------------- */

/* Records b with its new status; logs and counts it when it changed. */
static int record(pboc_t *p, pboc_batch_t *b, int status, uint8_t was)
{
	b->status = (uint8_t)status;
	if (status == PBOC_BATCH_POSTED)
		b->reason[0] = '\0';
	int rc = pboc_store_put(p->store, b);
	if (rc != 0) {
		set_reason(b, "storage: the batch record could not be written "
			   "(%s)", ps_strerror(rc));
		return rc;
	}
	if (status == was)
		return 0;
	if (status == PBOC_BATCH_POSTED) {
		p->stats.posted++;
		log_batch(b, "batch_posted");
	} else if (status == PBOC_BATCH_QUEUED) {
		p->stats.queued++;
		log_batch(b, "batch_queued");
	} else {
		p->stats.rejected++;
		log_batch(b, "batch_rejected");
	}
	return 0;
}

/* Where a batch short of funds goes: the queue (its place kept when it
 * has one), or rejected. A queued batch still short for the same reason
 * is left as it is stored. */
static int shortfall(pboc_t *p, pboc_batch_t *b, uint8_t was,
		     const char *old_reason)
{
	if (p->opts.shortfall_reject)
		return record(p, b, PBOC_BATCH_REJECTED, was);
	if (was == PBOC_BATCH_QUEUED && strcmp(old_reason, b->reason) == 0)
		return 0;
	if (was != PBOC_BATCH_QUEUED) {
		uint32_t queued = 0;
		int rc = pboc_store_queued(p->store, &queued);
		if (rc != 0)
			return rc;
		if (queued >= p->opts.queue_max) {
			set_reason(b, "queue full: %" PRIu32 " batches already "
				   "wait for funds (--queue-max)", queued);
			return record(p, b, PBOC_BATCH_REJECTED, was);
		}
	}
	return record(p, b, PBOC_BATCH_QUEUED, was);
}

/* Step 1 of a posting: in the queue before the chain goes in, so that a
 * crash after the chain leaves something the next start looks at. */
static int intend(pboc_t *p, pboc_batch_t *b)
{
	b->status = PBOC_BATCH_QUEUED;
	set_reason(b, "posting");
	int rc = pboc_store_put(p->store, b);
	if (rc != 0)
		set_reason(b, "storage: the batch record could not be written "
			   "(%s)", ps_strerror(rc));
	return rc;
}

/*
 * Posts b if it can, else queues or rejects it; was is its stored status
 * (0: new, or judged afresh). *posted says whether it posted now. A
 * batch already in the ledger posts whatever else holds: its legs took
 * their funds when they went in.
 */
static int post_or_queue(pboc_t *p, pboc_batch_t *b, uint8_t was,
			 bool *posted)
{
	*posted = false;
	char old_reason[PBOC_REASON_MAX];
	memcpy(old_reason, b->reason, sizeof(old_reason));
	bool before = false, is_short = false;
	int rc = posted_before(p, b, &before);
	if (rc == 0 && !before) {
		if (!acceptable(p, b))
			return record(p, b, PBOC_BATCH_REJECTED, was);
		rc = check_funds(p, b, &is_short);
	}
	if (rc != 0) {
		set_reason(b, "storage: %s", ledger_strerror(rc));
		return rc;
	}
	if (is_short)
		return shortfall(p, b, was, old_reason);
	if (was != PBOC_BATCH_QUEUED && (rc = intend(p, b)) != 0)
		return rc;
	int outcome = CHAIN_POSTED;
	if ((rc = post_chain(p, b, &outcome)) != 0) {
		set_reason(b, "storage: %s (the batch stays queued)",
			   ledger_strerror(rc));
		return rc;
	}
	if (outcome == CHAIN_SHORT)
		return shortfall(p, b, was, old_reason);
	if (outcome == CHAIN_REFUSED)
		return record(p, b, PBOC_BATCH_REJECTED, was);
	if (p->fault_unrecorded) {
		set_reason(b, "fault injection: posted, not recorded");
		return PS_EIO;
	}
	if (before) {
		p->stats.recovered++;
		ps_log_t *l = ps_log_begin(PS_LOG_INFO, "batch_recovered");
		ps_log_str(l, "batch", b->id);
		ps_log_str(l, "detail", "its legs were in the ledger, its "
					"record still queued: recorded posted");
		ps_log_end(l);
	}
	*posted = true;
	return record(p, b, PBOC_BATCH_POSTED, was);
}

static void reject_reuse(pboc_t *p, pboc_batch_t *b, const pboc_batch_t *old)
{
	b->status = PBOC_BATCH_REJECTED;
	if (strcmp(old->submitter, b->submitter) != 0)
		set_reason(b, "batch id reused by another submitter (%s "
			   "submitted it)", old->submitter);
	else
		set_reason(b, "batch id reused with other positions");
	p->stats.rejected++;
	log_batch(b, "batch_id_reused");
}

int pboc_settle(pboc_t *p, pboc_batch_t *b, uint32_t *released)
{
	*released = 0;
	PS_ASSERT(b->count <= PBOC_POSITIONS_MAX);
	canonical(b);
	int rc = pboc_store_get(p->store, b->id, &p->stored);
	if (rc != 0 && rc != PS_ENOTFOUND) {
		set_reason(b, "storage: %s", ps_strerror(rc));
		return rc;
	}
	if (rc == 0 && p->stored.status != PBOC_BATCH_REJECTED) {
		if (strcmp(p->stored.submitter, b->submitter) != 0 ||
		    !same_positions(&p->stored, b)) {
			reject_reuse(p, b, &p->stored);
			return 0;
		}
		/* Answered as it stands; a queued one is offered funds first
		 * (and one a dead run posted is recorded so). */
		if (p->stored.status == PBOC_BATCH_QUEUED &&
		    (rc = pboc_retry(p, released)) == 0)
			rc = pboc_store_get(p->store, b->id, &p->stored);
		if (rc != 0) {
			set_reason(b, "storage: %s", ps_strerror(rc));
			return rc;
		}
		*b = p->stored;
		return 0;
	}
	/* New, or rejected before: judged afresh, at the back of the queue. */
	b->seq = 0;
	b->submitted_ms = ps_wall_ms();
	b->posted_ms = 0;
	b->reason[0] = '\0';
	bool posted = false;
	rc = post_or_queue(p, b, 0, &posted);
	if (rc == 0 && posted)
		rc = pboc_retry(p, released);
	return rc;
}

int pboc_batch_get(pboc_t *p, const char *id, pboc_batch_t *out)
{
	return pboc_store_get(p->store, id, out);
}

/* ---- the queue ---------------------------------------------------------------------------- */

int pboc_retry(pboc_t *p, uint32_t *released)
{
	*released = 0;
	uint32_t queued = 0;
	int rc = pboc_store_queued(p->store, &queued);
	/* Every pass but the last posts at least one batch: at most
	 * queued + 1 passes. */
	for (uint32_t pass = 0; rc == 0 && pass <= queued; pass++) {
		bool progress = false;
		uint64_t after = 0;
		while ((rc = pboc_store_queue_next(p->store, after,
						   &p->queued)) == 0) {
			after = p->queued.seq;
			bool posted = false;
			rc = post_or_queue(p, &p->queued, PBOC_BATCH_QUEUED,
					   &posted);
			if (rc != 0)
				return rc;
			*released += posted;
			progress |= posted;
		}
		if (rc == PS_ENOTFOUND)
			rc = 0;
		if (!progress)
			break;
	}
	return rc;
}
