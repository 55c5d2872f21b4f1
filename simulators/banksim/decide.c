/*
 * decide.c: the bank's decisions and the per-turn ledger batch.
 *
 * Every decision that depends on the past reads the committed book (a
 * marker's or a transfer's existence, a pending's state); every effect is
 * a transfer in the turn's batch with an id derived from the request key,
 * so that a retry, a repeat or a restart lands on the same id and the
 * ledger itself refuses to do anything twice. What is counted for
 * reconciliation is counted by transfers chained to the money (totals.h).
 */
#include "decide.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "totals.h"

/* ---- the batch ------------------------------------------------------------ */

int bank_batch_init(bank_batch_t *b, uint32_t cap)
{
	memset(b, 0, sizeof(*b));
	if (cap < BANK_PLAN_TRANSFERS_MAX || cap > LEDGER_BATCH_MAX)
		return PS_ELIMIT;
	uint32_t slots = 2;
	while (slots < 2 * cap)
		slots *= 2;
	b->transfers = calloc(cap, sizeof(*b->transfers));
	b->results = calloc(cap, sizeof(*b->results));
	b->keys = calloc(slots, sizeof(*b->keys));
	b->key_used = calloc(cap, sizeof(*b->key_used));
	b->fresh_accounts = calloc(2 * BANK_BATCH_FRESH_MAX,
				   sizeof(*b->fresh_accounts));
	b->fresh_results = calloc(2 * BANK_BATCH_FRESH_MAX,
				  sizeof(*b->fresh_results));
	if (!b->transfers || !b->results || !b->keys || !b->key_used ||
	    !b->fresh_accounts || !b->fresh_results) {
		bank_batch_free(b);
		return PS_ENOMEM;
	}
	b->cap = cap;
	b->key_mask = slots - 1;
	return 0;
}

void bank_batch_free(bank_batch_t *b)
{
	free(b->transfers);
	free(b->results);
	free(b->keys);
	free(b->key_used);
	free(b->fresh_accounts);
	free(b->fresh_results);
	memset(b, 0, sizeof(*b));
}

void bank_batch_reset(bank_batch_t *b)
{
	for (uint32_t i = 0; i < b->key_used_count; i++)
		b->keys[b->key_used[i]] = (ledger_id_t){0, 0};
	b->key_used_count = 0;
	b->count = 0;
	b->fresh_count = 0;
	b->committed = false;
}

/*
 * Reserves key for this batch. BANK_EDEFER when another request of the
 * batch has it, or when the batch could not take this request's
 * transfers (or the totals accounts they may need). Keys are at most
 * cap, so the set stays at most half full.
 */
static int claim(bank_batch_t *b, const char *key)
{
	if (b->cap - b->count < BANK_PLAN_TRANSFERS_MAX ||
	    b->key_used_count == b->cap ||
	    b->fresh_count == BANK_BATCH_FRESH_MAX)
		return BANK_EDEFER;
	/* Never the zero id, which marks an empty slot. */
	ledger_id_t id = ledger_id_from_text(key, strlen(key));
	uint32_t i = (uint32_t)(id.lo ^ id.hi) & b->key_mask;
	while (!ledger_id_is_zero(b->keys[i])) {
		if (ledger_id_equal(b->keys[i], id))
			return BANK_EDEFER;
		i = (i + 1) & b->key_mask;
	}
	b->keys[i] = id;
	b->key_used[b->key_used_count++] = i;
	return 0;
}

static ledger_transfer_t *add(bank_batch_t *b, bank_work_t *w)
{
	PS_ASSERT(b->count < b->cap && w->count < BANK_PLAN_TRANSFERS_MAX);
	ledger_transfer_t *x = &b->transfers[b->count];
	memset(x, 0, sizeof(*x));
	w->decisive = b->count;
	b->count++;
	w->count++;
	return x;
}

/* The ledger fault on purpose: true when this commit must fail. */
static bool fault_strikes(bank_t *bank)
{
	if (bank->fault_commit_count == 0)
		return false;
	if (bank->fault_commit_after > 0) {
		bank->fault_commit_after--;
		return false;
	}
	bank->fault_commit_count--;
	return true;
}

int bank_batch_commit(bank_t *bank, bank_batch_t *b)
{
	b->committed = false;
	if (b->count > 0) {
		if (fault_strikes(bank))
			return PS_EIO; /* as a failed write: nothing is kept */
		/* Accounts first, in a commit of their own: an account that
		 * stays empty (the batch then fails) is harmless. */
		int rc = bank_totals_ensure(bank, b->fresh, b->fresh_count,
					    b->fresh_accounts, b->fresh_results);
		if (rc != 0)
			return rc;
		rc = ledger_create_transfers(bank->ledger, b->transfers,
					     b->count, b->results);
		if (rc != 0)
			return rc;
	}
	b->committed = true;
	return 0;
}

/* ---- planning ---------------------------------------------------------------- */

static int fixed(bank_work_t *w, const char *code, const char *reason)
{
	w->op = BANK_OP_FIXED;
	ps_strlcpy(w->code, code, sizeof(w->code));
	w->reason = reason;
	return 0;
}

/* Does transfer id exist? A read failure is answered 96 by the caller. */
static int lookup(bank_t *bank, ledger_id_t id, bool *found)
{
	ledger_transfer_t x;
	int rc = ledger_transfer_get(bank->ledger, id, &x);
	*found = rc == 0;
	return rc == PS_ENOTFOUND ? 0 : rc;
}

/* A 1-unit memo transfer whose id is the fact it records. */
static void add_marker(bank_batch_t *b, bank_work_t *w, int step,
		       uint16_t code)
{
	ledger_transfer_t *x = add(b, w);
	x->id = bank_transfer_id(step, w->key);
	x->debit_account_id = ledger_id_from_u64(BANK_ID_MEMO_ISSUED);
	x->credit_account_id = ledger_id_from_u64(BANK_ID_MEMO_HELD);
	x->amount = 1;
	x->ledger = BANK_LEDGER_MEMO;
	x->code = code;
	x->user_data_128 = bank_transfer_id(BANK_STEP_MONEY, w->key);
}

/* The batch creates the accounts of (slot, date, total) if the book may
 * not have them yet; claim() kept a place for one pair per request. */
static void need_totals(const bank_t *bank, bank_batch_t *b, uint32_t slot,
			uint16_t date, int total)
{
	if (bank_totals_ready(bank, slot, date, total))
		return;
	uint32_t pair = bank_totals_pair(slot, date, total);
	for (uint32_t i = 0; i < b->fresh_count; i++)
		if (b->fresh[i] == pair)
			return;
	PS_ASSERT(b->fresh_count < BANK_BATCH_FRESH_MAX);
	b->fresh[b->fresh_count++] = pair;
}

/*
 * Counts the transfer just added (the decisive one, named by step and
 * w->key) in the total of (w->date, w->forwarder), or of "other" for a
 * forwarder beyond the bound: it is chained (LINKED) with 1 into the
 * count and amount into the amount, so the three commit or fail
 * together. The counted transfer stays decisive: its result is the
 * answer.
 */
static void add_totals(bank_t *bank, bank_batch_t *b, bank_work_t *w,
		       int step, int total, uint64_t amount)
{
	uint32_t slot = bank_totals_slot(bank, w->forwarder);
	uint64_t bucket = bank_totals_slot_forwarder(bank, slot);
	uint32_t counted = w->decisive;
	ledger_transfer_t *c = &b->transfers[counted];
	c->flags |= LEDGER_TRANSFER_LINKED;
	ledger_id_t group = c->user_data_128;
	for (int m = 0; m < 2; m++) {
		bool is_amount = m == 1;
		ledger_transfer_t *x = add(b, w);
		x->id = bank_totals_transfer_id(is_amount, step, w->key);
		x->debit_account_id = ledger_id_from_u64(
			is_amount ? BANK_ID_TOTALS_AMOUNTS : BANK_ID_TOTALS_COUNTS);
		x->credit_account_id = bank_totals_account_id(
			w->date, bucket, total, is_amount);
		x->amount = is_amount ? amount : 1;
		x->ledger = BANK_LEDGER_MEMO;
		x->code = is_amount ? BANK_XCODE_TOTAL_AMOUNT
				    : BANK_XCODE_TOTAL_COUNT;
		x->flags = is_amount ? 0 : LEDGER_TRANSFER_LINKED;
		x->user_data_128 = group;
		x->user_data_64 = bank_totals_tag(w->date, w->forwarder);
	}
	w->decisive = counted;
	need_totals(bank, b, slot, w->date, total);
}

static void add_money(bank_t *bank, bank_batch_t *b, const txn_t *t,
		      bank_work_t *w)
{
	ledger_transfer_t *x = add(b, w);
	ledger_id_t customer = bank_account_id(w->account->number,
					       w->account->len);
	ledger_id_t clearing = ledger_id_from_u64(BANK_ID_CLEARING);
	x->id = bank_transfer_id(BANK_STEP_MONEY, w->key);
	x->user_data_128 = x->id;
	/* The date and forwarder it counts under; for an authorisation,
	 * those its completion will count it under. */
	x->user_data_64 = bank_totals_tag(w->date, w->forwarder);
	x->amount = (uint64_t)t->amount;
	x->ledger = bank->currency;
	w->op = BANK_OP_MONEY;
	if (t->kind == TXN_KIND_PURCHASE) {
		x->debit_account_id = customer;
		x->credit_account_id = clearing;
		x->code = BANK_XCODE_DEBIT;
		if (bank->two_phase) {
			/* A reservation is not a debit yet: it is counted
			 * when its completion posts it. */
			x->flags = LEDGER_TRANSFER_PENDING;
			x->timeout_seconds = bank->pending_timeout_s;
			x->code = BANK_XCODE_AUTHORISATION;
			return;
		}
		add_totals(bank, b, w, BANK_STEP_MONEY, BANK_TOTAL_DEBITS,
			   x->amount);
		return;
	}
	x->debit_account_id = clearing;
	x->credit_account_id = customer;
	x->code = t->kind == TXN_KIND_CREDIT ? BANK_XCODE_CREDIT
					     : BANK_XCODE_REFUND;
	/* A refund credit is a credit, in the totals as on the wire. */
	add_totals(bank, b, w, BANK_STEP_MONEY, BANK_TOTAL_CREDITS, x->amount);
}

/* The account's own rules, in the order a teller would apply them. */
static int plan_account(bank_t *bank, bank_batch_t *b, const txn_t *t,
			bank_work_t *w)
{
	w->account = bank_accounts_find(&bank->accounts, t->payer,
					strlen(t->payer));
	if (w->account == NULL)
		return fixed(w, "14", "no such account");
	switch (w->account->status) {
	case BANK_STATUS_BLOCKED:
		return fixed(w, "05", "account blocked");
	case BANK_STATUS_CLOSED:
		return fixed(w, "57", "account closed");
	case BANK_STATUS_EXPIRED:
		return fixed(w, "54", "card expired");
	}
	if (t->kind == TXN_KIND_BALANCE) {
		w->op = BANK_OP_BALANCE;
		return 0;
	}
	if (t->amount <= 0 || t->amount > TXN_AMOUNT_MAX)
		return fixed(w, "13", "amount must be 1 to 999999999999");
	if (t->kind == TXN_KIND_PURCHASE && w->account->limit > 0 &&
	    t->amount > w->account->limit)
		return fixed(w, "61", "over the account's limit");
	/* The draw belongs to the request, not to the order of arrival. */
	sim_rng_t rng;
	sim_rng_seed_text(&rng, bank->seed, "decline", w->key);
	if (sim_rng_chance(&rng, bank->decline_rate))
		return fixed(w, "05", "random decline (--decline-rate)");
	add_money(bank, b, t, w);
	return 0;
}

static int plan_financial(bank_t *bank, bank_batch_t *b, const txn_t *t,
			  bank_work_t *w)
{
	bank_request_key(t->acquirer, t->wire.stan, t->wire.transmit, w->key);
	int rc = claim(b, w->key);
	if (rc != 0)
		return rc;
	bool seen, barred;
	if (lookup(bank, bank_transfer_id(BANK_STEP_SEEN, w->key), &seen) ||
	    lookup(bank, bank_transfer_id(BANK_STEP_TOMBSTONE, w->key), &barred))
		return fixed(w, "96", "ledger read failed");
	if (seen)
		return fixed(w, "94", "duplicate: request key seen before");
	/* From here on the request is remembered, whatever the answer, so a
	 * repeat of it is a duplicate even when it was declined. */
	add_marker(b, w, BANK_STEP_SEEN, BANK_XCODE_SEEN);
	if (barred)
		return fixed(w, "05", "reversed before it arrived: declined "
				      "so that money never moves");
	if (t->currency != bank->currency)
		return fixed(w, "13", "not in the bank's currency");
	return plan_account(bank, b, t, w);
}

/* The compensating transfer: the original's accounts swapped; counted
 * under the reversal's own date and forwarder. */
static int add_reverse(bank_t *bank, bank_batch_t *b, bank_work_t *w,
		       const ledger_transfer_t *orig, uint64_t amount)
{
	bool credit = ledger_id_equal(orig->debit_account_id,
				      ledger_id_from_u64(BANK_ID_CLEARING));
	ledger_transfer_t *x = add(b, w);
	x->id = bank_transfer_id(BANK_STEP_REVERSE, w->key);
	x->debit_account_id = orig->credit_account_id;
	x->credit_account_id = orig->debit_account_id;
	x->amount = amount;
	x->ledger = orig->ledger;
	x->code = credit ? BANK_XCODE_REVERSE_CREDIT : BANK_XCODE_REVERSE_DEBIT;
	x->user_data_128 = orig->id;
	x->user_data_64 = bank_totals_tag(w->date, w->forwarder);
	w->op = BANK_OP_REVERSE;
	w->reason = "reversed by a compensating transfer";
	add_totals(bank, b, w, BANK_STEP_REVERSE,
		   credit ? BANK_TOTAL_CREDIT_REVERSALS
			  : BANK_TOTAL_DEBIT_REVERSALS,
		   amount);
	return 0;
}

static int plan_reverse_pending(bank_t *bank, bank_batch_t *b, bank_work_t *w,
				const ledger_transfer_t *orig)
{
	uint32_t state = 0;
	if (ledger_pending_get(bank->ledger, orig->id, &state, NULL) != 0)
		return fixed(w, "96", "ledger read failed");
	switch (state) {
	/* Released, not reversed: nothing had been posted, so 25, as for
	 * an original never seen (docs/clearing.md: 00 means the bank had
	 * posted it), and nothing is counted. */
	case LEDGER_PENDING_PENDING: {
		ledger_transfer_t *x = add(b, w);
		x->id = bank_transfer_id(BANK_STEP_VOID, w->key);
		x->pending_id = orig->id;
		x->flags = LEDGER_TRANSFER_VOID_PENDING;
		x->user_data_128 = orig->id;
		w->op = BANK_OP_VOID;
		return 0;
	}
	case LEDGER_PENDING_VOIDED:
		return fixed(w, "25", "authorisation already voided: nothing "
				      "was posted");
	case LEDGER_PENDING_EXPIRED:
		return fixed(w, "25", "authorisation expired: nothing was "
				      "posted");
	case LEDGER_PENDING_POSTED: {
		ledger_transfer_t post;
		if (ledger_transfer_get(bank->ledger,
					bank_transfer_id(BANK_STEP_POST, w->key),
					&post) != 0)
			return fixed(w, "96", "posted, but its post is missing");
		return add_reverse(bank, b, w, orig, post.amount);
	}
	}
	return fixed(w, "96", "unknown pending state");
}

static int plan_reversal(bank_t *bank, bank_batch_t *b, const txn_t *t,
			 bank_work_t *w)
{
	bank_request_key(t->original_acquirer[0] ? t->original_acquirer
						 : t->acquirer,
			 t->original_stan, t->original_transmit, w->key);
	int rc = claim(b, w->key);
	if (rc != 0)
		return rc;
	/* An advice is acknowledged whatever it finds (bank_settle). */
	w->advice = (t->flags & TXN_F_ADVICE) != 0;
	/* Done before: 00 again, and nothing planned, so a repeat dated
	 * otherwise (field 15) cannot trip over the counted transfers. */
	bool done;
	if (lookup(bank, bank_transfer_id(BANK_STEP_REVERSE, w->key), &done) != 0)
		return fixed(w, "96", "ledger read failed");
	if (done)
		return fixed(w, "00", "already reversed");
	ledger_transfer_t orig;
	rc = ledger_transfer_get(bank->ledger,
				 bank_transfer_id(BANK_STEP_MONEY, w->key), &orig);
	if (rc == 0 && (orig.flags & LEDGER_TRANSFER_PENDING))
		return plan_reverse_pending(bank, b, w, &orig);
	if (rc == 0)
		return add_reverse(bank, b, w, &orig, orig.amount);
	if (rc != PS_ENOTFOUND)
		return fixed(w, "96", "ledger read failed");
	bool seen;
	if (lookup(bank, bank_transfer_id(BANK_STEP_SEEN, w->key), &seen) != 0)
		return fixed(w, "96", "ledger read failed");
	if (seen)
		return fixed(w, "25", "original was declined: nothing to reverse");
	/* Reversal before original: remember it, so that the original is
	 * declined when (if) it comes. */
	add_marker(b, w, BANK_STEP_TOMBSTONE, BANK_XCODE_TOMBSTONE);
	w->op = BANK_OP_TOMBSTONE;
	return 0;
}

/*
 * The post of an authorisation, counted as a debit under the date and
 * forwarder of the 0200 that made it (kept in its user_data_64: the debit
 * is that leg, whose period the switch stamped in its field 15, sent over
 * the link its field 33 names; the completion only makes it final). What
 * a reservation from an older banksim does not say comes from the
 * completion itself: its forwarder (made before forwarders were kept),
 * and its date too (made before totals were kept).
 * Whatever the ledger refuses (no such pending, expired, too much) it
 * refuses for the chain: nothing is counted.
 */
static int plan_completion(bank_t *bank, bank_batch_t *b, const txn_t *t,
			   bank_work_t *w)
{
	bank_request_key(t->original_acquirer[0] ? t->original_acquirer
						 : t->acquirer,
			 t->original_stan, t->original_transmit, w->key);
	int rc = claim(b, w->key);
	if (rc != 0)
		return rc;
	bool posted;
	if (lookup(bank, bank_transfer_id(BANK_STEP_POST, w->key), &posted) != 0)
		return fixed(w, "96", "ledger read failed");
	if (posted)
		return fixed(w, "94", "already posted");
	ledger_transfer_t orig;
	rc = ledger_transfer_get(bank->ledger,
				 bank_transfer_id(BANK_STEP_MONEY, w->key), &orig);
	if (rc != 0 && rc != PS_ENOTFOUND)
		return fixed(w, "96", "ledger read failed");
	bool pending = rc == 0 && (orig.flags & LEDGER_TRANSFER_PENDING);
	if (pending) {
		uint16_t date = w->date;
		uint64_t forwarder = w->forwarder;
		bool has_date;
		if (bank_totals_tag_parse(orig.user_data_64, &date, &forwarder,
					  &has_date) ||
		    has_date) {
			w->date = date;
			w->forwarder = forwarder;
		}
	}
	ledger_transfer_t *x = add(b, w);
	x->id = bank_transfer_id(BANK_STEP_POST, w->key);
	x->pending_id = bank_transfer_id(BANK_STEP_MONEY, w->key);
	x->flags = LEDGER_TRANSFER_POST_PENDING;
	/* 0: the whole authorisation; less: a partial completion. */
	x->amount = (uint64_t)(t->amount > 0 ? t->amount : 0);
	x->user_data_128 = x->pending_id;
	x->user_data_64 = bank_totals_tag(w->date, w->forwarder);
	w->op = BANK_OP_COMPLETE;
	if (pending)
		add_totals(bank, b, w, BANK_STEP_POST, BANK_TOTAL_DEBITS,
			   x->amount > 0 ? x->amount : orig.amount);
	return 0;
}

static int plan_recon(const bank_t *bank, bank_work_t *w)
{
	if (bank->recon_refused)
		return fixed(w, "12", "reconciliation totals are not carried "
				      "on JSON lines");
	w->op = BANK_OP_RECON;
	return 0;
}

/* Does a message of this kind count under a date, or ask for one? */
static bool is_dated(int kind)
{
	switch (kind) {
	case TXN_KIND_PURCHASE:
	case TXN_KIND_CREDIT:
	case TXN_KIND_REFUND_CREDIT:
	case TXN_KIND_REVERSAL:
	case TXN_KIND_COMPLETION:
	case TXN_KIND_RECON:
		return true;
	}
	return false;
}

/* The date a request counts under: its field 15 (or JSON period), or
 * today's date in UTC when it has none. False when it is no date. */
static bool request_date(const bank_t *bank, const txn_t *t, uint16_t *date)
{
	if (t->wire.settle_date[0] != '\0')
		return bank_date_parse(t->wire.settle_date, date);
	*date = bank_date_of_wall(bank->wall_ms ? bank->wall_ms() : ps_wall_ms());
	return true;
}

int bank_plan(bank_t *bank, bank_batch_t *b, const txn_t *t, bank_work_t *w)
{
	memset(w, 0, sizeof(*w));
	w->first = b->count;
	if (t->rc != TXN_RC_NONE) {
		char code[3];
		txn_rc_text(t->rc, code);
		return fixed(w, code, "refused at intake");
	}
	if (t->kind == TXN_KIND_NETWORK)
		return fixed(w, "00", "network management");
	if (bank->institution[0] != '\0' && t->wire.receiver[0] != '\0' &&
	    strcmp(bank->institution, t->wire.receiver) != 0)
		return fixed(w, "15", "field 100 names another institution");
	if (t->kind == TXN_KIND_RECON && bank->recon_refused)
		return plan_recon(bank, w);
	if (is_dated(t->kind) && !request_date(bank, t, &w->date))
		return fixed(w, "30", "field 15 is not a settlement date (MMDD)");
	/* The link it came by: field 33 (a JSON leg's "forwarder"). */
	w->forwarder = bank_forwarder_of(t->forwarder);
	w->all_forwarders = t->forwarder[0] == '\0';
	switch (t->kind) {
	case TXN_KIND_PURCHASE:
	case TXN_KIND_CREDIT:
	case TXN_KIND_REFUND_CREDIT:
	case TXN_KIND_BALANCE:
		return plan_financial(bank, b, t, w);
	case TXN_KIND_REVERSAL:
		return plan_reversal(bank, b, t, w);
	case TXN_KIND_COMPLETION:
		return plan_completion(bank, b, t, w);
	case TXN_KIND_RECON:
		return plan_recon(bank, w);
	default:
		return fixed(w, "12", "not a message this bank takes");
	}
}

/* ---- settling ------------------------------------------------------------------ */

void bank_auth_code(ledger_id_t money_id, char out[7])
{
	ps_format_u64(out, 6, money_id.lo % 1000000u);
	out[6] = '\0';
}

static void set(bank_work_t *w, const char *code, const char *reason)
{
	ps_strlcpy(w->code, code, sizeof(w->code));
	w->reason = reason;
}

static void settle_money(uint32_t r, bool pending, bank_work_t *w)
{
	switch (r) {
	case LEDGER_TRANSFER_OK:
		set(w, "00", pending ? "approved: held until its completion"
				     : "approved");
		return;
	case LEDGER_TRANSFER_EXCEEDS_CREDITS:
		set(w, "51", "insufficient funds");
		return;
	case LEDGER_TRANSFER_EXISTS:
		set(w, "94", "duplicate: already posted");
		return;
	}
	set(w, "96", ledger_transfer_result_name(r));
}

static void settle_balance(bank_t *bank, bank_work_t *w, txn_t *t)
{
	int64_t available, posted;
	ledger_id_t id = bank_account_id(w->account->number, w->account->len);
	if (bank_book_balance(bank, id, &available, &posted) != 0) {
		set(w, "96", "ledger read failed");
		return;
	}
	t->balance = available;
	t->flags |= TXN_F_BALANCE;
	set(w, "00", "available balance in field 54");
}

static void settle_void(uint32_t r, bank_work_t *w)
{
	switch (r) {
	case LEDGER_TRANSFER_OK:
		set(w, "25", "authorisation voided: nothing was posted");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED:
		set(w, "25", "authorisation already voided: nothing was posted");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED:
		set(w, "25", "authorisation expired: nothing was posted");
		return;
	}
	set(w, "96", ledger_transfer_result_name(r));
}

/*
 * A 0500 is answered the totals of its own forwarder (field 33) for its
 * date, or without field 33 their sum over every forwarder. A forwarder
 * beyond the bound has no totals of its own (they are in "other", shared
 * with others): 12, rather than totals that are not its.
 */
static void settle_recon(bank_t *bank, bank_work_t *w, txn_t *t)
{
	if (!w->all_forwarders && !bank_totals_known(bank, w->forwarder) &&
	    bank_totals_full(bank)) {
		set(w, "12", "the totals of this forwarder are not kept apart "
			     "(more than 64 forwarders): a 0500 without field "
			     "33 gets the sum");
		return;
	}
	int rc = w->all_forwarders
			 ? bank_totals_read_all(bank, w->date, &t->wire.totals)
			 : bank_totals_read(bank, w->date, w->forwarder,
					    &t->wire.totals);
	if (rc != 0) {
		set(w, "96", "ledger read failed");
		return;
	}
	t->wire.has_totals = true;
	/* The answer says which date it counted. */
	if (t->wire.settle_date[0] == '\0')
		bank_date_format(w->date, t->wire.settle_date);
	set(w, "00", w->all_forwarders
			     ? "totals of the settlement date, every forwarder"
			     : "totals of the settlement date and forwarder");
}

/*
 * A reversal advice is acknowledged whatever it found, or its sender
 * would repeat it for ever; what the bank did stays in the book and in
 * the log's reason. Only 96 stays: nothing was committed, and the repeat
 * is what will do it.
 */
static void acknowledge_advice(bank_work_t *w)
{
	if (strcmp(w->code, "00") == 0 || strcmp(w->code, "96") == 0)
		return;
	if (strcmp(w->code, "51") == 0) {
		w->warn = true;
		w->reason = "advice acknowledged, but the credit was already "
			    "spent: not taken back (for an operator)";
	}
	ps_strlcpy(w->code, "00", sizeof(w->code));
}

static void settle_reverse(uint32_t r, bank_work_t *w)
{
	switch (r) {
	case LEDGER_TRANSFER_OK:
		set(w, "00", w->reason);
		return;
	case LEDGER_TRANSFER_EXISTS:
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED:
		set(w, "00", "already reversed");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED:
		set(w, "00", "authorisation expired: nothing held");
		return;
	case LEDGER_TRANSFER_EXCEEDS_CREDITS:
		set(w, "51", "credit already spent: cannot take it back");
		return;
	}
	set(w, "96", ledger_transfer_result_name(r));
}

static void settle_complete(uint32_t r, bank_work_t *w)
{
	switch (r) {
	case LEDGER_TRANSFER_OK:
		set(w, "00", "authorisation posted");
		return;
	case LEDGER_TRANSFER_EXISTS:
	case LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT:
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED:
	case LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING:
		set(w, "94", "already posted");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND:
		set(w, "25", "no such authorisation");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED:
		set(w, "25", "authorisation expired");
		return;
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED:
		set(w, "25", "authorisation reversed");
		return;
	case LEDGER_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT:
		set(w, "13", "more than was authorised");
		return;
	}
	set(w, "96", ledger_transfer_result_name(r));
}

void bank_settle(bank_t *bank, const bank_batch_t *b, bank_work_t *w,
		 txn_t *t)
{
	uint32_t r = w->count > 0 ? b->results[w->decisive].result : 0;
	if (w->count > 0 && !b->committed) {
		set(w, "96", "ledger batch failed: nothing committed");
	} else {
		switch (w->op) {
		case BANK_OP_FIXED:
			break;
		case BANK_OP_MONEY:
			settle_money(r, b->transfers[w->decisive].flags &
						LEDGER_TRANSFER_PENDING,
				     w);
			break;
		case BANK_OP_BALANCE:
			settle_balance(bank, w, t);
			break;
		case BANK_OP_TOMBSTONE:
			if (ledger_transfer_result_is_success(r))
				set(w, "25", "original unknown: reversal "
					     "remembered, the original will be "
					     "declined");
			else
				set(w, "96", ledger_transfer_result_name(r));
			break;
		case BANK_OP_REVERSE:
			settle_reverse(r, w);
			break;
		case BANK_OP_VOID:
			settle_void(r, w);
			break;
		case BANK_OP_COMPLETE:
			settle_complete(r, w);
			break;
		case BANK_OP_RECON:
			settle_recon(bank, w, t);
			break;
		}
	}
	if (w->advice)
		acknowledge_advice(w);
	if (txn_rc_parse(w->code, &t->rc) != 0)
		t->rc = TXN_RC_SYSTEM_MALFUNCTION;
	t->auth_code[0] = '\0';
	if (w->op == BANK_OP_MONEY && strcmp(w->code, "00") == 0)
		bank_auth_code(b->transfers[w->decisive].id, t->auth_code);
}
