/*
 * check.c: ledger_check(), the audit of a whole book from one consistent
 * snapshot. It trusts nothing it can recompute: balances are replayed from
 * the transfers, pending states are matched with their posts and voids,
 * the indexes are counted against the records, and each account's history
 * chain is walked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

typedef __int128 i128;
typedef unsigned __int128 u128;

struct replay {
	struct account_record rec; /* as stored */
	i128 debits_pending, debits_posted, credits_pending, credits_posted;
	uint64_t transfers;        /* transfers that touch it */
};

struct ledger_sum {
	uint32_t ledger;
	u128 debits_pending, debits_posted, credits_pending, credits_posted;
};

struct audit {
	ledger_t *l;
	MDB_txn *txn;
	ledger_check_report_t *report;
	struct replay *accounts;   /* sorted by id, as LMDB returns them */
	size_t account_count;
	uint64_t expiry_expected;
	uint64_t pending_transfers;
};

__attribute__((format(printf, 2, 3)))
static void problem(struct audit *a, const char *fmt, ...)
{
	ledger_check_report_t *r = a->report;
	if (r->problems++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->first_problem, sizeof(r->first_problem), fmt, ap);
		va_end(ap);
	}
	r->ok = false;
}

static struct replay *find_account(struct audit *a, ledger_id_t id)
{
	size_t lo = 0, hi = a->account_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ledger_id_compare(a->accounts[mid].rec.account.id, id);
		if (c == 0)
			return &a->accounts[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint64_t db_entries(struct audit *a, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(a->txn, dbi, &st) != 0)
		return 0;
	return st.ms_entries;
}

static int load_accounts(struct audit *a)
{
	size_t n = db_entries(a, a->l->db_accounts);
	a->accounts = calloc(n ? n : 1, sizeof(*a->accounts));
	if (a->accounts == NULL)
		return PS_ENOMEM;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(a->txn, a->l->db_accounts, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_val k, v;
	int op = MDB_FIRST;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0 &&
	       a->account_count < n) {
		op = MDB_NEXT;
		if (k.mv_size != 16 || v.mv_size != sizeof(struct account_hot)) {
			problem(a, "account record of %zu bytes", v.mv_size);
			continue;
		}
		struct replay *r = &a->accounts[a->account_count++];
		ledger_id_t id = key_get_id(k.mv_data);
		int arc = ledger_account_read(a->l, a->txn, id, true, &r->rec);
		if (arc == LEDGER_ECORRUPT) {
			char text[LEDGER_ID_TEXT_MAX];
			problem(a, "account %s has no info record",
				ledger_id_format(id, text));
		} else if (arc != 0) {
			mdb_cursor_close(cur);
			return arc;
		}
	}
	if (db_entries(a, a->l->db_account_info) != n)
		problem(a, "account info holds %llu records for %zu accounts",
			(unsigned long long)db_entries(a, a->l->db_account_info),
			n);
	mdb_cursor_close(cur);
	a->report->accounts = a->account_count;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : ledger_map_mdb(rc);
}

static int lookup_transfer(struct audit *a, ledger_id_t id,
			   struct transfer_record *out, uint64_t *ts)
{
	uint8_t key[16], tkey[8];
	key_put_id(key, id);
	int rc = ledger_get_record(a->txn, a->l->db_ids, key, sizeof(key), ts,
				   sizeof(*ts));
	if (rc != 0)
		return rc;
	ps_be64_put(tkey, *ts);
	return ledger_get_record(a->txn, a->l->db_transfers, tkey,
				 sizeof(tkey), out, sizeof(*out));
}

static int pending_state(struct audit *a, uint64_t ts,
			 struct pending_record *out)
{
	uint8_t key[8];
	ps_be64_put(key, ts);
	return ledger_get_record(a->txn, a->l->db_pending, key, sizeof(key),
				 out, sizeof(*out));
}

/* A pending transfer: reserve, and release again if it expired. */
static void replay_pending(struct audit *a, const struct transfer_record *r,
			   struct replay *dr, struct replay *cr)
{
	const ledger_transfer_t *t = &r->transfer;
	struct pending_record p;
	a->pending_transfers++;
	dr->debits_pending += t->amount;
	cr->credits_pending += t->amount;
	if (pending_state(a, t->timestamp, &p) != 0) {
		problem(a, "pending transfer at %llu has no state",
			(unsigned long long)t->timestamp);
		return;
	}
	if (p.state == LEDGER_PENDING_EXPIRED) {
		dr->debits_pending -= t->amount;
		cr->credits_pending -= t->amount;
	} else if (p.state == LEDGER_PENDING_PENDING) {
		a->report->pending_open++;
		if (p.expires_at != 0)
			a->expiry_expected++;
	} else if (p.state != LEDGER_PENDING_POSTED &&
		   p.state != LEDGER_PENDING_VOIDED) {
		problem(a, "pending at %llu in state %u",
			(unsigned long long)t->timestamp, p.state);
	}
	uint64_t want = t->timeout_seconds
				? t->timestamp + t->timeout_seconds * 1000000000ull
				: 0;
	if (p.expires_at != want)
		problem(a, "pending at %llu expires at the wrong time",
			(unsigned long long)t->timestamp);
}

/* A post or void: release the pending's amount, post what it says. */
static void replay_resolve(struct audit *a, const struct transfer_record *r,
			   struct replay *dr, struct replay *cr)
{
	const ledger_transfer_t *t = &r->transfer;
	bool post = (t->flags & LEDGER_TRANSFER_POST_PENDING) != 0;
	struct transfer_record p;
	uint64_t pts;
	struct pending_record st;
	if (lookup_transfer(a, t->pending_id, &p, &pts) != 0 ||
	    pts >= t->timestamp || !(p.transfer.flags & LEDGER_TRANSFER_PENDING)) {
		problem(a, "transfer at %llu resolves no earlier pending",
			(unsigned long long)t->timestamp);
		return;
	}
	if (pending_state(a, pts, &st) != 0 ||
	    st.state != (post ? LEDGER_PENDING_POSTED : LEDGER_PENDING_VOIDED) ||
	    st.resolved_ts != t->timestamp ||
	    (post && st.posted_amount != t->amount)) {
		problem(a, "pending at %llu disagrees with its %s at %llu",
			(unsigned long long)pts, post ? "post" : "void",
			(unsigned long long)t->timestamp);
	}
	if (!ledger_id_equal(p.transfer.debit_account_id, t->debit_account_id) ||
	    !ledger_id_equal(p.transfer.credit_account_id, t->credit_account_id) ||
	    t->amount > p.transfer.amount ||
	    (!post && t->amount != p.transfer.amount))
		problem(a, "transfer at %llu does not match its pending",
			(unsigned long long)t->timestamp);
	dr->debits_pending -= p.transfer.amount;
	cr->credits_pending -= p.transfer.amount;
	if (post) {
		dr->debits_posted += t->amount;
		cr->credits_posted += t->amount;
	}
}

static void replay_transfer(struct audit *a, uint64_t key_ts,
			    const struct transfer_record *r)
{
	const ledger_transfer_t *t = &r->transfer;
	if (t->timestamp != key_ts)
		problem(a, "transfer key %llu holds timestamp %llu",
			(unsigned long long)key_ts,
			(unsigned long long)t->timestamp);
	struct transfer_record again;
	uint64_t ts;
	if (lookup_transfer(a, t->id, &again, &ts) != 0 || ts != key_ts)
		problem(a, "transfer at %llu missing from the id index",
			(unsigned long long)key_ts);
	struct replay *dr = find_account(a, t->debit_account_id);
	struct replay *cr = find_account(a, t->credit_account_id);
	if (dr == NULL || cr == NULL || dr == cr) {
		problem(a, "transfer at %llu names a missing account",
			(unsigned long long)key_ts);
		return;
	}
	if (dr->rec.account.ledger != t->ledger ||
	    cr->rec.account.ledger != t->ledger)
		problem(a, "transfer at %llu crosses ledgers",
			(unsigned long long)key_ts);
	if (t->amount > LEDGER_AMOUNT_MAX)
		problem(a, "transfer at %llu amount too large",
			(unsigned long long)key_ts);
	dr->transfers++;
	cr->transfers++;
	if (t->flags & LEDGER_TRANSFER_PENDING)
		replay_pending(a, r, dr, cr);
	else if (t->flags & (LEDGER_TRANSFER_POST_PENDING |
			     LEDGER_TRANSFER_VOID_PENDING))
		replay_resolve(a, r, dr, cr);
	else {
		dr->debits_posted += t->amount;
		cr->credits_posted += t->amount;
	}
}

static int replay_transfers(struct audit *a, uint64_t last_ts)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(a->txn, a->l->db_transfers, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_val k, v;
	int op = MDB_FIRST;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8 || v.mv_size != sizeof(struct transfer_record)) {
			problem(a, "transfer record of %zu bytes", v.mv_size);
			continue;
		}
		struct transfer_record r;
		memcpy(&r, v.mv_data, sizeof(r));
		uint64_t ts = ps_be64_get(k.mv_data);
		if (ts > last_ts)
			problem(a, "transfer at %llu after the last timestamp",
				(unsigned long long)ts);
		replay_transfer(a, ts, &r);
		a->report->transfers++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : ledger_map_mdb(rc);
}

/* Walks an account's history chain and counts it. */
static uint64_t chain_length(struct audit *a, const struct replay *r)
{
	uint64_t n = 0, ts = r->rec.last_transfer_ts;
	ledger_id_t id = r->rec.account.id;
	while (ts != 0 && n <= r->transfers) {
		struct transfer_record t;
		uint8_t key[8];
		ps_be64_put(key, ts);
		if (ledger_get_record(a->txn, a->l->db_transfers, key,
				      sizeof(key), &t, sizeof(t)) != 0)
			return UINT64_MAX;
		uint64_t prev;
		if (ledger_id_equal(t.transfer.debit_account_id, id))
			prev = t.debit_prev_ts;
		else if (ledger_id_equal(t.transfer.credit_account_id, id))
			prev = t.credit_prev_ts;
		else
			return UINT64_MAX;
		if (prev >= ts)
			return UINT64_MAX;
		ts = prev;
		n++;
	}
	return ts == 0 ? n : UINT64_MAX;
}

static void check_account(struct audit *a, const struct replay *r)
{
	const ledger_account_t *s = &r->rec.account;
	char id[LEDGER_ID_TEXT_MAX];
	if (r->debits_pending != (i128)s->debits_pending ||
	    r->debits_posted != (i128)s->debits_posted ||
	    r->credits_pending != (i128)s->credits_pending ||
	    r->credits_posted != (i128)s->credits_posted)
		problem(a, "account %s balances differ from the replay",
			ledger_id_format(s->id, id));
	if (s->debits_pending + (u128)s->debits_posted > LEDGER_AMOUNT_MAX ||
	    s->credits_pending + (u128)s->credits_posted > LEDGER_AMOUNT_MAX)
		problem(a, "account %s balance over the maximum",
			ledger_id_format(s->id, id));
	if ((s->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
	    (u128)s->debits_pending + s->debits_posted > s->credits_posted)
		problem(a, "account %s debits exceed credits",
			ledger_id_format(s->id, id));
	if ((s->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
	    (u128)s->credits_pending + s->credits_posted > s->debits_posted)
		problem(a, "account %s credits exceed debits",
			ledger_id_format(s->id, id));
	if (chain_length(a, r) != r->transfers)
		problem(a, "account %s history chain broken",
			ledger_id_format(s->id, id));
}

static int check_sums(struct audit *a)
{
	struct ledger_sum *sums = NULL;
	size_t count = 0, cap = 0;
	for (size_t i = 0; i < a->account_count; i++) {
		const ledger_account_t *s = &a->accounts[i].rec.account;
		size_t j = 0;
		while (j < count && sums[j].ledger != s->ledger)
			j++;
		if (j == count) {
			if (count == cap) {
				cap = cap ? cap * 2 : 16;
				void *p = realloc(sums, cap * sizeof(*sums));
				if (p == NULL) {
					free(sums);
					return PS_ENOMEM;
				}
				sums = p;
			}
			memset(&sums[count], 0, sizeof(sums[count]));
			sums[count++].ledger = s->ledger;
		}
		sums[j].debits_pending += s->debits_pending;
		sums[j].debits_posted += s->debits_posted;
		sums[j].credits_pending += s->credits_pending;
		sums[j].credits_posted += s->credits_posted;
	}
	for (size_t j = 0; j < count; j++) {
		if (sums[j].debits_pending != sums[j].credits_pending)
			problem(a, "ledger %u: pending debits != credits",
				sums[j].ledger);
		if (sums[j].debits_posted != sums[j].credits_posted)
			problem(a, "ledger %u: posted debits != credits",
				sums[j].ledger);
	}
	a->report->ledgers = (uint32_t)count;
	free(sums);
	return 0;
}

static int audit(struct audit *a)
{
	uint64_t last_ts = 0;
	int rc = ledger_get_record(a->txn, a->l->db_meta, "last_timestamp",
				   14, &last_ts, sizeof(last_ts));
	if (rc != 0 && rc != PS_ENOTFOUND)
		return rc;
	rc = load_accounts(a);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < a->account_count; i++)
		if (a->accounts[i].rec.account.timestamp > last_ts)
			problem(a, "account created after the last timestamp");
	rc = replay_transfers(a, last_ts);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < a->account_count; i++)
		check_account(a, &a->accounts[i]);
	if (db_entries(a, a->l->db_ids) != a->report->transfers)
		problem(a, "id index holds %llu entries for %llu transfers",
			(unsigned long long)db_entries(a, a->l->db_ids),
			(unsigned long long)a->report->transfers);
	if (db_entries(a, a->l->db_pending) != a->pending_transfers)
		problem(a, "pending states do not match pending transfers");
	if (db_entries(a, a->l->db_expiry) != a->expiry_expected)
		problem(a, "expiry index holds %llu entries, expected %llu",
			(unsigned long long)db_entries(a, a->l->db_expiry),
			(unsigned long long)a->expiry_expected);
	return check_sums(a);
}

int ledger_check(ledger_t *l, ledger_check_report_t *report)
{
	if (l == NULL || report == NULL)
		return PS_EINVAL;
	memset(report, 0, sizeof(*report));
	report->ok = true;
	struct audit a = {.l = l, .report = report};
	int rc = ledger_read_begin(l, &a.txn);
	if (rc != 0)
		return rc;
	rc = audit(&a);
	ledger_read_end(l);
	free(a.accounts);
	return rc;
}
