/*
 * reserves.c: the reserve accounts (pboc.h): ids, the idempotent set-up
 * at start (PBOC's accounts, a reserve per member, opening balances),
 * balances and funding.
 */
#include "pboc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "sim.h"

/* ---- ids ---------------------------------------------------------------------- */

ledger_id_t pboc_reserve_id(const char *member)
{
	size_t len = strlen(member);
	PS_ASSERT(pboc_member_id_valid(member, len));
	uint8_t bytes[16] = {0};
	memcpy(bytes, member, len);
	ledger_id_t id = {ps_be64_get(bytes), ps_be64_get(bytes + 8)};
	return id;
}

bool pboc_reserve_member(ledger_id_t id, char out[PBOC_MEMBER_ID_MAX + 1])
{
	uint8_t bytes[16];
	ps_be64_put(bytes, id.hi);
	ps_be64_put(bytes + 8, id.lo);
	size_t len = 0;
	while (len < sizeof(bytes) && bytes[len] != 0)
		len++;
	/* Zero padding only, and nothing after it. */
	for (size_t i = len; i < sizeof(bytes); i++)
		if (bytes[i] != 0)
			return false;
	if (!pboc_member_id_valid((const char *)bytes, len))
		return false;
	memcpy(out, bytes, len);
	out[len] = '\0';
	return true;
}

ledger_id_t pboc_leg_id(const char *batch, const char *member)
{
	char text[PBOC_BATCH_ID_MAX + PBOC_MEMBER_ID_MAX + 16];
	int n = snprintf(text, sizeof(text), "settle:%s:%s", batch, member);
	PS_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return ledger_id_from_text(text, (size_t)n);
}

static ledger_id_t fund_id(const char *member, const char *request_id)
{
	char text[PBOC_MEMBER_ID_MAX + PBOC_REQUEST_ID_MAX + 16];
	int n = snprintf(text, sizeof(text), "fund:%s:%s", member, request_id);
	PS_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return ledger_id_from_text(text, (size_t)n);
}

/* ---- set-up ------------------------------------------------------------------- */

static ledger_account_t account(ledger_id_t id, uint16_t code, uint16_t flags)
{
	ledger_account_t a = {.id = id, .ledger = PBOC_CURRENCY, .code = code,
			      .flags = flags};
	return a;
}

/* Creates one account, new or already there; the flags may differ
 * (a member whose credit limit changed to or from 0), nothing else. */
static int ensure_account(pboc_t *p, const ledger_account_t *a,
			  const char *what, char *err, size_t cap)
{
	ledger_result_t r;
	int rc = ledger_create_accounts(p->ledger, a, 1, &r);
	if (rc != 0)
		return sim_fail(err, cap, rc, "creating the account of %s: %s",
				what, ledger_strerror(rc));
	if (r.result == LEDGER_ACCOUNT_OK || r.result == LEDGER_ACCOUNT_EXISTS ||
	    r.result == LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS)
		return 0;
	return sim_fail(err, cap, PS_EEXIST, "the account of %s: %s (was this "
			"ledger directory made for another kind of member, or "
			"by another program?)", what,
			ledger_account_result_name(r.result));
}

static void log_limit_unusable(const pboc_member_t *m)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "credit_limit_unusable");
	ps_log_str(l, "member", m->id);
	ps_log_int(l, "file_credit_limit", m->credit_limit);
	ps_log_str(l, "detail", "the reserve was opened without credit (the "
				"ledger refuses any overdraft of it); its "
				"credit limit stays 0");
	ps_log_end(l);
}

/* A member's reserve, and the credit limit it can have: a reserve opened
 * flagged keeps its flag (ledger accounts never change flags). */
static int setup_reserve(pboc_t *p, pboc_member_t *m, char *err, size_t cap)
{
	ledger_id_t id = pboc_reserve_id(m->id);
	uint16_t flags = m->credit_limit == 0
				 ? LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
				 : 0;
	ledger_account_t a = account(id, m->kind, flags), got;
	char what[PBOC_MEMBER_ID_MAX + 16];
	snprintf(what, sizeof(what), "member %s", m->id);
	int rc = ensure_account(p, &a, what, err, cap);
	if (rc != 0)
		return rc;
	if ((rc = ledger_account_get(p->ledger, id, &got)) != 0)
		return sim_fail(err, cap, rc, "reading the account of %s: %s",
				what, ledger_strerror(rc));
	if ((got.flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
	    m->credit_limit > 0) {
		log_limit_unusable(m);
		m->credit_limit = 0;
	}
	return 0;
}

static void log_opening_kept(const pboc_member_t *m)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "opening_balance_kept");
	ps_log_str(l, "member", m->id);
	ps_log_int(l, "file_balance", m->balance);
	ps_log_str(l, "detail", "the ledger already holds another opening "
				"balance for this member; it is kept");
	ps_log_end(l);
}

static int setup_opening(pboc_t *p, const pboc_member_t *m, char *err,
			 size_t cap)
{
	if (m->balance == 0)
		return 0;
	char text[PBOC_MEMBER_ID_MAX + 8];
	int n = snprintf(text, sizeof(text), "open:%s", m->id);
	ledger_transfer_t t = {
		.id = ledger_id_from_text(text, (size_t)n),
		.debit_account_id = ledger_id_from_u64(PBOC_ID_ISSUE),
		.credit_account_id = pboc_reserve_id(m->id),
		.amount = (uint64_t)m->balance,
		.ledger = PBOC_CURRENCY,
		.code = PBOC_XCODE_OPENING,
	};
	ledger_result_t r;
	int rc = ledger_create_transfers(p->ledger, &t, 1, &r);
	if (rc != 0)
		return sim_fail(err, cap, rc, "opening balance of %s: %s", m->id,
				ledger_strerror(rc));
	if (r.result == LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT)
		log_opening_kept(m);
	else if (!ledger_transfer_result_is_success(r.result))
		return sim_fail(err, cap, PS_EEXIST, "opening balance of %s: %s",
				m->id, ledger_transfer_result_name(r.result));
	return 0;
}

static int setup_book(pboc_t *p, char *err, size_t cap)
{
	ledger_account_t issue = account(ledger_id_from_u64(PBOC_ID_ISSUE),
					 PBOC_ACODE_ISSUE, 0);
	ledger_account_t suspense = account(
		ledger_id_from_u64(PBOC_ID_SUSPENSE), PBOC_ACODE_SUSPENSE,
		LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
	int rc = ensure_account(p, &issue, "PBOC's issue account", err, cap);
	if (rc == 0)
		rc = ensure_account(p, &suspense, "the settlement suspense "
				    "account", err, cap);
	for (uint32_t i = 0; rc == 0 && i < p->members.count; i++)
		rc = setup_reserve(p, &p->members.list[i], err, cap);
	for (uint32_t i = 0; rc == 0 && i < p->members.count; i++)
		rc = setup_opening(p, &p->members.list[i], err, cap);
	return rc;
}

int pboc_open(pboc_t **out, const pboc_options_t *opts,
	      pboc_members_t *members, char *err, size_t err_cap)
{
	err[0] = '\0';
	pboc_t *p = calloc(1, sizeof(*p));
	*out = p;
	if (p == NULL) {
		pboc_members_free(members);
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	}
	p->members = *members;
	memset(members, 0, sizeof(*members));
	p->opts = *opts;
	p->opts.ledger_dir = NULL; /* the caller's string: not kept */
	PS_ASSERT(opts->queue_max >= 1 && opts->queue_max <= PBOC_QUEUE_MAX_LIMIT);
	ledger_options_t lo;
	ledger_options_init(&lo);
	lo.durability = opts->durability;
	lo.batch_max = PBOC_POSITIONS_MAX;
	int rc = ledger_open(&p->ledger, opts->ledger_dir, &lo);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "ledger %s: %s",
				opts->ledger_dir, ledger_strerror(rc));
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/%s", opts->ledger_dir, PBOC_STORE_DIR);
	rc = pboc_store_open(&p->store, dir, opts->durability, false);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "batch store %s: %s", dir,
				ps_strerror(rc));
	if ((rc = setup_book(p, err, err_cap)) != 0)
		return rc;
	uint32_t released = 0;
	rc = pboc_retry(p, &released);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "retrying the queue: %s",
				ps_strerror(rc));
	return 0;
}

void pboc_close(pboc_t *p)
{
	if (p == NULL)
		return;
	if (p->ledger != NULL && ledger_sync(p->ledger) != 0)
		ps_logf(PS_LOG_WARN, "ledger_sync_failed",
			"the last commits may not be on disk yet");
	ledger_close(p->ledger);
	pboc_store_close(p->store);
	pboc_members_free(&p->members);
	free(p);
}

/* ---- balances and funds --------------------------------------------------------- */

/* The reserve's posted balance; the ledger bounds every balance by
 * LEDGER_AMOUNT_MAX, so the difference fits. */
static int reserve_balance(pboc_t *p, const char *member, int64_t *balance)
{
	ledger_account_t a;
	int rc = ledger_account_get(p->ledger, pboc_reserve_id(member), &a);
	if (rc == 0)
		*balance = (int64_t)a.credits_posted - (int64_t)a.debits_posted;
	return rc == PS_ENOTFOUND ? PS_EIO : rc; /* set up at start */
}

int pboc_balance(pboc_t *p, const char *member, int64_t *balance,
		 int64_t *credit_limit)
{
	const pboc_member_t *m = pboc_members_find(&p->members, member);
	if (m == NULL)
		return PS_ENOTFOUND;
	*credit_limit = m->credit_limit;
	return reserve_balance(p, m->id, balance);
}

static void fund_refused(pboc_fund_result_t *out, uint32_t result,
			 const char *member, const char *request_id)
{
	out->done = false;
	if (result == LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT)
		snprintf(out->reason, sizeof(out->reason), "id: %s funded %s "
			 "with another amount before", request_id, member);
	else if (result == LEDGER_TRANSFER_OVERFLOWS_CREDITS_POSTED ||
		 result == LEDGER_TRANSFER_OVERFLOWS_CREDITS ||
		 result == LEDGER_TRANSFER_OVERFLOWS_DEBITS_POSTED ||
		 result == LEDGER_TRANSFER_OVERFLOWS_DEBITS)
		snprintf(out->reason, sizeof(out->reason), "amount: the "
			 "reserve of %s cannot hold that much", member);
	else
		snprintf(out->reason, sizeof(out->reason), "amount: the ledger "
			 "refused it (%s)", ledger_transfer_result_name(result));
}

static void log_funded(const char *member, int64_t amount, int64_t balance)
{
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "funded");
	ps_log_str(l, "member", member);
	ps_log_int(l, "amount", amount);
	ps_log_int(l, "balance", balance);
	ps_log_end(l);
}

int pboc_fund(pboc_t *p, const char *member, const char *request_id,
	      int64_t amount, pboc_fund_result_t *out)
{
	memset(out, 0, sizeof(*out));
	PS_ASSERT(amount >= 1 && amount <= PBOC_AMOUNT_MAX);
	const pboc_member_t *m = pboc_members_find(&p->members, member);
	if (m == NULL) {
		snprintf(out->reason, sizeof(out->reason), "member: %s is no "
			 "member of PBOC", member);
		return 0;
	}
	ledger_transfer_t t = {
		.id = fund_id(m->id, request_id),
		.debit_account_id = ledger_id_from_u64(PBOC_ID_ISSUE),
		.credit_account_id = pboc_reserve_id(m->id),
		.amount = (uint64_t)amount,
		.ledger = PBOC_CURRENCY,
		.code = PBOC_XCODE_FUND,
	};
	ledger_result_t r;
	int rc = ledger_create_transfers(p->ledger, &t, 1, &r);
	if (rc != 0) {
		snprintf(out->reason, sizeof(out->reason), "storage: %s",
			 ledger_strerror(rc));
		return rc;
	}
	if (!ledger_transfer_result_is_success(r.result)) {
		fund_refused(out, r.result, m->id, request_id);
		return 0;
	}
	out->done = true;
	if (r.result == LEDGER_TRANSFER_OK) {
		p->stats.funds++;
		rc = pboc_retry(p, &out->released);
	}
	if (rc == 0)
		rc = reserve_balance(p, m->id, &out->balance);
	if (r.result == LEDGER_TRANSFER_OK)
		log_funded(m->id, amount, out->balance);
	if (rc != 0)
		snprintf(out->reason, sizeof(out->reason), "storage: %s",
			 ps_strerror(rc));
	return rc;
}
