/*
 * report.c: the read-only reports (pboc.h): every ledger account as a
 * JSON line (--dump-balances), and the check of the book and the batch
 * records against each other (--check-ledger). Both read snapshots, so
 * they run beside a pbocsim that is writing.
 */
#include "pboc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const char *account_kind(const ledger_account_t *a)
{
	if (a->code == PBOC_ACODE_ISSUE)
		return "issue";
	if (a->code == PBOC_ACODE_SUSPENSE)
		return "suspense";
	return pboc_kind_name(a->code);
}

static void dump_account(const ledger_account_t *a, FILE *out)
{
	char id[LEDGER_ID_TEXT_MAX], member[PBOC_MEMBER_ID_MAX + 1];
	ledger_id_format(a->id, id);
	fprintf(out, "{\"id\":\"%s\",\"kind\":\"%s\"", id, account_kind(a));
	if (pboc_reserve_member(a->id, member))
		fprintf(out, ",\"member\":\"%s\"", member);
	int64_t balance = (int64_t)a->credits_posted - (int64_t)a->debits_posted;
	fprintf(out, ",\"ledger\":%" PRIu32 ",\"flags\":%u,\"debits_posted\":%"
		PRIu64 ",\"credits_posted\":%" PRIu64 ",\"balance\":%" PRId64
		"}\n", a->ledger, (unsigned)a->flags, a->debits_posted,
		a->credits_posted, balance);
}

int pboc_dump(ledger_t *ledger, FILE *out)
{
	ledger_account_t page[128];
	ledger_id_t after = {0, 0};
	uint32_t n = 0;
	do {
		int rc = ledger_scan_accounts(ledger, after, page,
					      PS_ARRAY_LEN(page), &n);
		if (rc != 0)
			return rc;
		for (uint32_t i = 0; i < n; i++)
			dump_account(&page[i], out);
		if (n > 0)
			after = page[n - 1].id;
	} while (n > 0);
	return 0;
}

/* ---- the check ------------------------------------------------------------------- */

typedef struct check {
	ledger_t *ledger;
	uint64_t batches, posted, queued, rejected, unrecorded;
	uint32_t problems;
	char first[LEDGER_CHECK_DETAIL_MAX];
} check_t;

static void problem(check_t *c, const pboc_batch_t *b, const char *what)
{
	if (c->problems++ == 0)
		snprintf(c->first, sizeof(c->first), "batch %s (%s): %s", b->id,
			 pboc_batch_status_name(b->status), what);
}

/* How many of b's legs are in the ledger, and whether those there are
 * what b says. */
static int legs_of(check_t *c, const pboc_batch_t *b, uint32_t *present,
		   uint32_t *expected, bool *as_recorded)
{
	*present = *expected = 0;
	*as_recorded = true;
	for (uint32_t i = 0; i < b->count; i++) {
		const pboc_position_t *pos = &b->positions[i];
		if (pos->amount == 0)
			continue;
		(*expected)++;
		ledger_transfer_t t;
		int rc = ledger_transfer_get(c->ledger,
					     pboc_leg_id(b->id, pos->member), &t);
		if (rc == PS_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		(*present)++;
		ledger_id_t reserve = pboc_reserve_id(pos->member);
		bool debtor = pos->amount < 0;
		uint64_t amount = (uint64_t)(debtor ? -pos->amount : pos->amount);
		if (t.amount != amount ||
		    !ledger_id_equal(debtor ? t.debit_account_id
					    : t.credit_account_id, reserve))
			*as_recorded = false;
	}
	return 0;
}

static int check_batch(check_t *c, const pboc_batch_t *b)
{
	uint32_t present = 0, expected = 0;
	bool as_recorded = true;
	int rc = legs_of(c, b, &present, &expected, &as_recorded);
	if (rc != 0)
		return rc;
	c->batches++;
	if (!as_recorded)
		problem(c, b, "a leg in the ledger differs from the record");
	if (present != 0 && present != expected)
		problem(c, b, "only some of its legs are in the ledger");
	switch (b->status) {
	case PBOC_BATCH_POSTED:
		c->posted++;
		if (present != expected)
			problem(c, b, "recorded posted, its legs are not in "
				      "the ledger");
		break;
	case PBOC_BATCH_QUEUED:
		c->queued++;
		c->unrecorded += expected > 0 && present == expected;
		break;
	case PBOC_BATCH_REJECTED:
		c->rejected++;
		if (present > 0)
			problem(c, b, "recorded rejected, its legs are in the "
				      "ledger");
		break;
	default:
		problem(c, b, "no such status");
	}
	return 0;
}

static int check_batches(check_t *c, pboc_store_t *store)
{
	pboc_batch_t *b = malloc(sizeof(*b)); /* a report, not a hot path */
	if (b == NULL)
		return PS_ENOMEM;
	char after[PBOC_BATCH_ID_MAX + 1] = "";
	int rc;
	while ((rc = pboc_store_scan(store, after, b)) == 0) {
		if ((rc = check_batch(c, b)) != 0)
			break;
		memcpy(after, b->id, sizeof(after));
	}
	free(b);
	return rc == PS_ENOTFOUND ? 0 : rc;
}

static void check_suspense(check_t *c)
{
	ledger_account_t a;
	if (ledger_account_get(c->ledger, ledger_id_from_u64(PBOC_ID_SUSPENSE),
			       &a) != 0 || a.credits_posted == a.debits_posted)
		return;
	if (c->problems++ == 0)
		snprintf(c->first, sizeof(c->first), "the suspense account "
			 "holds %" PRId64 " fen between batches",
			 (int64_t)a.credits_posted - (int64_t)a.debits_posted);
}

/* A ledger problem's text, escaped for a JSON string. */
static void print_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		char esc[6];
		fwrite(esc, 1, ps_json_escape_byte((unsigned char)*s, esc), out);
	}
}

int pboc_check(ledger_t *ledger, pboc_store_t *store, FILE *out, bool *ok)
{
	ledger_check_report_t r;
	int rc = ledger_check(ledger, &r);
	if (rc != 0)
		return rc;
	check_t c = {.ledger = ledger};
	if (store != NULL && (rc = check_batches(&c, store)) != 0)
		return rc;
	check_suspense(&c);
	*ok = r.ok && c.problems == 0;
	fprintf(out, "{\"ok\":%s,\"accounts\":%" PRIu64 ",\"transfers\":%" PRIu64
		",\"batches\":%" PRIu64 ",\"posted\":%" PRIu64 ",\"queued\":%"
		PRIu64 ",\"unrecorded\":%" PRIu64 ",\"rejected\":%" PRIu64
		",\"problems\":%" PRIu32 ",\"first_problem\":\"",
		*ok ? "true" : "false", r.accounts, r.transfers, c.batches,
		c.posted, c.queued, c.unrecorded, c.rejected,
		r.problems + c.problems);
	print_text(out, r.ok ? c.first : r.first_problem);
	fprintf(out, "\"}\n");
	return 0;
}
