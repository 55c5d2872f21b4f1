/*
 * accounts.c: creating accounts (validation, idempotency; linked chains
 * through batch.c), closing and reopening them, reading and paging them.
 */
#include <string.h>

#include "ledger_int.h"

#define LIMIT_FLAGS                                                            \
	(LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |                       \
	 LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)

static uint32_t validate_account(const ledger_account_t *a)
{
	if (a->timestamp != 0)
		return LEDGER_ACCOUNT_TIMESTAMP_MUST_BE_ZERO;
	if (a->flags & ~LEDGER_ACCOUNT_FLAGS_ALL)
		return LEDGER_ACCOUNT_RESERVED_FLAG;
	if (a->flags & LEDGER_ACCOUNT_CLOSED)
		return LEDGER_ACCOUNT_CLOSED_FLAG_AT_CREATE;
	if (ledger_id_is_zero(a->id))
		return LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO;
	if (id_is_max(a->id))
		return LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
	if ((a->flags & LIMIT_FLAGS) == LIMIT_FLAGS)
		return LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
	if (a->debits_pending || a->debits_posted || a->credits_pending ||
	    a->credits_posted)
		return LEDGER_ACCOUNT_BALANCES_MUST_BE_ZERO;
	if (a->ledger == 0)
		return LEDGER_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO;
	if (a->code == 0)
		return LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO;
	return LEDGER_ACCOUNT_OK;
}

/* The closed flag is the account's state, not part of what was created:
 * a retry matches whether or not the account was closed since. */
static uint32_t compare_account(const ledger_account_t *a,
				const ledger_account_t *s)
{
	if (a->flags != (s->flags & ~LEDGER_ACCOUNT_CLOSED))
		return LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS;
	if (!ledger_id_equal(a->user_data_128, s->user_data_128))
		return LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128;
	if (a->user_data_64 != s->user_data_64)
		return LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64;
	if (a->ledger != s->ledger)
		return LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER;
	if (a->code != s->code)
		return LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE;
	return LEDGER_ACCOUNT_EXISTS;
}

static int process_account(ledger_t *l, const void *events, uint32_t i,
			   ledger_result_t *out)
{
	const ledger_account_t *a = (const ledger_account_t *)events + i;
	struct batch *b = &l->batch;
	out->timestamp = 0;
	out->result = validate_account(a);
	if (out->result != LEDGER_ACCOUNT_OK)
		return 0;
	struct account_slot *s = ledger_account_cached(b, a->id);
	struct account_record stored;
	int rc = 0;
	if (s != NULL) {
		stored = s->rec;
	} else {
		rc = ledger_account_read(l, b->txn, a->id, true, &stored);
		if (rc != 0 && rc != PS_ENOTFOUND)
			return rc;
	}
	if (rc == 0) {
		out->result = compare_account(a, &stored.account);
		if (out->result == LEDGER_ACCOUNT_EXISTS)
			out->timestamp = stored.account.timestamp;
		return 0;
	}
	s = ledger_account_add(b, a->id);
	s->rec.account = *a;
	s->rec.account.timestamp = b->next_ts++;
	out->timestamp = s->rec.account.timestamp;
	return 0;
}

struct accounts_call {
	const ledger_account_t *accounts;
	uint32_t count;
	ledger_result_t *results;
};

static bool account_linked(const void *events, uint32_t i)
{
	return ((const ledger_account_t *)events)[i].flags &
	       LEDGER_ACCOUNT_LINKED;
}

static int accounts_batch(ledger_t *l, void *arg)
{
	struct accounts_call *call = arg;
	int rc = ledger_batch_begin(l, l->batch.txn);
	if (rc != 0)
		return rc;
	const struct batch_events events = {
		.events = call->accounts,
		.process = process_account,
		.linked = account_linked,
		.ok = LEDGER_ACCOUNT_OK,
		.exists = LEDGER_ACCOUNT_EXISTS,
		.linked_event_failed = LEDGER_ACCOUNT_LINKED_EVENT_FAILED,
		.linked_event_chain_open = LEDGER_ACCOUNT_LINKED_EVENT_CHAIN_OPEN,
	};
	rc = ledger_batch_run(l, &events, call->count, call->results);
	if (rc == 0)
		rc = ledger_accounts_write(l, true);
	return rc != 0 ? rc : ledger_batch_store_clock(l);
}

int ledger_create_accounts(ledger_t *l, const ledger_account_t *accounts,
			   uint32_t count, ledger_result_t *results)
{
	if (l == NULL || accounts == NULL || results == NULL)
		return PS_EINVAL;
	if (count == 0 || count > l->options.batch_max)
		return PS_ELIMIT;
	struct accounts_call call = {accounts, count, results};
	return ledger_write(l, accounts_batch, &call);
}

int ledger_create_accounts_txn(ledger_t *l, MDB_txn *txn,
			       const ledger_account_t *accounts,
			       uint32_t count, ledger_result_t *results)
{
	if (l == NULL || txn == NULL || accounts == NULL || results == NULL)
		return PS_EINVAL;
	if (count == 0 || count > l->options.batch_max)
		return PS_ELIMIT;
	struct accounts_call call = {accounts, count, results};
	return ledger_write_in(l, txn, accounts_batch, &call);
}

struct closed_call {
	ledger_id_t id;
	bool closed;
	uint32_t result;
};

static int closed_batch(ledger_t *l, void *arg)
{
	struct closed_call *call = arg;
	struct batch *b = &l->batch;
	struct account_record rec;
	int rc = ledger_account_read(l, b->txn, call->id, false, &rec);
	if (rc == PS_ENOTFOUND) {
		call->result = LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	call->result = LEDGER_ACCOUNT_OK;
	if (call->closed)
		rec.account.flags |= LEDGER_ACCOUNT_CLOSED;
	else
		rec.account.flags &= (uint16_t)~LEDGER_ACCOUNT_CLOSED;
	MDB_cursor *cur;
	rc = mdb_cursor_open(b->txn, l->db_accounts, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	rc = ledger_account_put(l, cur, &rec, false, 0);
	mdb_cursor_close(cur);
	return rc;
}

int ledger_account_set_closed(ledger_t *l, ledger_id_t id, bool closed,
			      uint32_t *result)
{
	if (l == NULL || result == NULL)
		return PS_EINVAL;
	struct closed_call call = {id, closed, LEDGER_ACCOUNT_NOT_FOUND};
	int rc = ledger_write(l, closed_batch, &call);
	*result = call.result;
	return rc;
}

int ledger_account_get(ledger_t *l, ledger_id_t id, ledger_account_t *out)
{
	if (l == NULL || out == NULL)
		return PS_EINVAL;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	struct account_record rec;
	rc = ledger_account_read(l, txn, id, true, &rec);
	ledger_read_end(l);
	if (rc == 0)
		*out = rec.account;
	return rc;
}

int ledger_scan_accounts(ledger_t *l, ledger_id_t after_id,
			 ledger_account_t *out, uint32_t cap, uint32_t *count)
{
	if (l == NULL || out == NULL || count == NULL || cap == 0)
		return PS_EINVAL;
	*count = 0;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	MDB_cursor *cur;
	rc = mdb_cursor_open(txn, l->db_accounts, &cur);
	if (rc != 0) {
		ledger_read_end(l);
		return ledger_map_mdb(rc);
	}
	uint8_t key[16];
	key_put_id(key, after_id);
	MDB_val k = {sizeof(key), key}, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && *count < cap) {
		if (k.mv_size != 16) {
			rc = MDB_CORRUPTED;
			break;
		}
		ledger_id_t id = key_get_id(k.mv_data);
		if (!ledger_id_equal(id, after_id)) {
			struct account_record rec;
			int arc = ledger_account_read(l, txn, id, true, &rec);
			if (arc != 0) {
				mdb_cursor_close(cur);
				ledger_read_end(l);
				return arc;
			}
			out[(*count)++] = rec.account;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	ledger_read_end(l);
	return rc == MDB_NOTFOUND ? 0 : ledger_map_mdb(rc);
}
