/*
 * transfers.c: ledger_create_transfers(): validation of each transfer,
 * idempotency, single-phase and pending transfers, and the write-back of a
 * batch (accounts once, transfers appended in timestamp order, ids
 * indexed) in one LMDB write transaction. Linked chains: batch.c.
 */
#include <string.h>

#include "ledger_int.h"

#define TWO_PHASE_FLAGS                                                        \
	(LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_POST_PENDING |              \
	 LEDGER_TRANSFER_VOID_PENDING)
#define RESOLVE_FLAGS                                                          \
	(LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING)

/* Checks that need nothing but the transfer itself, in a fixed order so
 * that a transfer always earns the same result. */
static uint32_t validate_fields(const ledger_transfer_t *t)
{
	if (t->timestamp != 0)
		return LEDGER_TRANSFER_TIMESTAMP_MUST_BE_ZERO;
	if (t->flags & ~LEDGER_TRANSFER_FLAGS_ALL)
		return LEDGER_TRANSFER_RESERVED_FLAG;
	if (t->reserved != 0)
		return LEDGER_TRANSFER_RESERVED_FIELD;
	if (ledger_id_is_zero(t->id))
		return LEDGER_TRANSFER_ID_MUST_NOT_BE_ZERO;
	if (id_is_max(t->id))
		return LEDGER_TRANSFER_ID_MUST_NOT_BE_INT_MAX;
	uint32_t phase = t->flags & TWO_PHASE_FLAGS;
	if (phase & (phase - 1))
		return LEDGER_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
	bool resolve = (phase & RESOLVE_FLAGS) != 0;
	/* Post and void may leave the accounts 0 (taken from the pending). */
	if (!resolve && ledger_id_is_zero(t->debit_account_id))
		return LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
	if (id_is_max(t->debit_account_id))
		return LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
	if (!resolve && ledger_id_is_zero(t->credit_account_id))
		return LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
	if (id_is_max(t->credit_account_id))
		return LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
	if (!ledger_id_is_zero(t->debit_account_id) &&
	    ledger_id_equal(t->debit_account_id, t->credit_account_id))
		return LEDGER_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT;
	if (resolve) {
		if (ledger_id_is_zero(t->pending_id))
			return LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO;
		if (id_is_max(t->pending_id))
			return LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX;
		if (ledger_id_equal(t->pending_id, t->id))
			return LEDGER_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT;
	} else if (!ledger_id_is_zero(t->pending_id)) {
		return LEDGER_TRANSFER_PENDING_ID_MUST_BE_ZERO;
	}
	if (t->timeout_seconds != 0 && !(t->flags & LEDGER_TRANSFER_PENDING))
		return LEDGER_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
	if (!resolve && t->amount == 0)
		return LEDGER_TRANSFER_AMOUNT_MUST_NOT_BE_ZERO;
	if (t->amount > LEDGER_AMOUNT_MAX)
		return LEDGER_TRANSFER_AMOUNT_EXCEEDS_MAX;
	if (!resolve && t->ledger == 0)
		return LEDGER_TRANSFER_LEDGER_MUST_NOT_BE_ZERO;
	if (!resolve && t->code == 0)
		return LEDGER_TRANSFER_CODE_MUST_NOT_BE_ZERO;
	return LEDGER_TRANSFER_OK;
}

/* A retry matches the stored transfer field by field, in the order the
 * header lists the EXISTS_WITH_DIFFERENT_* results. A post or void that
 * left a field 0 matches whatever the ledger filled in. */
static uint32_t compare_existing(const ledger_transfer_t *t,
				 const ledger_transfer_t *s)
{
	bool resolve = (t->flags & RESOLVE_FLAGS) != 0;
	if (t->flags != s->flags)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS;
	if ((!resolve || !ledger_id_is_zero(t->debit_account_id)) &&
	    !ledger_id_equal(t->debit_account_id, s->debit_account_id))
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
	if ((!resolve || !ledger_id_is_zero(t->credit_account_id)) &&
	    !ledger_id_equal(t->credit_account_id, s->credit_account_id))
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
	if ((!resolve || t->amount != 0) && t->amount != s->amount)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT;
	if (!ledger_id_equal(t->pending_id, s->pending_id))
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID;
	if (!ledger_id_equal(t->user_data_128, s->user_data_128))
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128;
	if (t->user_data_64 != s->user_data_64)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64;
	if (t->timeout_seconds != s->timeout_seconds)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT;
	if ((!resolve || t->ledger != 0) && t->ledger != s->ledger)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER;
	if ((!resolve || t->code != 0) && t->code != s->code)
		return LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CODE;
	return LEDGER_TRANSFER_EXISTS;
}

int ledger_transfer_find(ledger_t *l, ledger_id_t id,
			 struct transfer_record *out)
{
	struct batch *b = &l->batch;
	/* Above every id stored or added by this batch: new for certain.
	 * This is what makes growing ids cost no lookup at all. */
	if (ledger_id_compare(id, b->id_max) > 0)
		return PS_ENOTFOUND;
	int64_t index = ledger_new_transfer_find(b, id);
	if (index >= 0) {
		*out = b->new_transfers[index];
		return 0;
	}
	/* Above the largest stored id: it cannot be stored. */
	if (ledger_id_compare(id, b->transfer_id_max) > 0)
		return PS_ENOTFOUND;
	uint8_t key[16];
	key_put_id(key, id);
	uint64_t ts;
	int rc = ledger_get_record(b->txn, l->db_ids, key, sizeof(key), &ts,
				   sizeof(ts));
	if (rc != 0)
		return rc;
	uint8_t ts_key[8];
	ps_be64_put(ts_key, ts);
	rc = ledger_get_record(b->txn, l->db_transfers, ts_key, sizeof(ts_key),
			       out, sizeof(*out));
	/* An index entry without its transfer is a broken book. */
	return rc == PS_ENOTFOUND ? LEDGER_ECORRUPT : rc;
}

uint32_t ledger_balance_check_post(const struct account_slot *dr,
				   const struct account_slot *cr,
				   uint64_t amount, bool pending)
{
	const ledger_account_t *d = &dr->rec.account;
	const ledger_account_t *c = &cr->rec.account;
	/* Every balance, and each side's pending + posted, stays within
	 * LEDGER_AMOUNT_MAX, so none of these sums can wrap a uint64_t. */
	if (pending) {
		if (d->debits_pending + amount > LEDGER_AMOUNT_MAX)
			return LEDGER_TRANSFER_OVERFLOWS_DEBITS_PENDING;
		if (c->credits_pending + amount > LEDGER_AMOUNT_MAX)
			return LEDGER_TRANSFER_OVERFLOWS_CREDITS_PENDING;
	} else {
		if (d->debits_posted + amount > LEDGER_AMOUNT_MAX)
			return LEDGER_TRANSFER_OVERFLOWS_DEBITS_POSTED;
		if (c->credits_posted + amount > LEDGER_AMOUNT_MAX)
			return LEDGER_TRANSFER_OVERFLOWS_CREDITS_POSTED;
	}
	uint64_t debits = d->debits_pending + d->debits_posted;
	uint64_t credits = c->credits_pending + c->credits_posted;
	if (debits + amount > LEDGER_AMOUNT_MAX)
		return LEDGER_TRANSFER_OVERFLOWS_DEBITS;
	if (credits + amount > LEDGER_AMOUNT_MAX)
		return LEDGER_TRANSFER_OVERFLOWS_CREDITS;
	if ((d->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
	    debits + amount > d->credits_posted)
		return LEDGER_TRANSFER_EXCEEDS_CREDITS;
	if ((c->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
	    credits + amount > c->debits_posted)
		return LEDGER_TRANSFER_EXCEEDS_DEBITS;
	return LEDGER_TRANSFER_OK;
}

void ledger_transfer_record(ledger_t *l, struct transfer_record *r,
			    struct account_slot *dr, struct account_slot *cr)
{
	struct batch *b = &l->batch;
	r->transfer.timestamp = b->next_ts++;
	r->debit_prev_ts = dr->rec.last_transfer_ts;
	r->credit_prev_ts = cr->rec.last_transfer_ts;
	dr->rec.last_transfer_ts = r->transfer.timestamp;
	cr->rec.last_transfer_ts = r->transfer.timestamp;
	ledger_new_transfer_add(b, r);
}

/* A single-phase or pending transfer, after its fields passed. */
static int apply_transfer(ledger_t *l, const ledger_transfer_t *t,
			  uint32_t *result)
{
	struct account_slot *dr, *cr;
	int rc = ledger_account_load(l, t->debit_account_id, &dr);
	if (rc != 0)
		return rc;
	rc = ledger_account_load(l, t->credit_account_id, &cr);
	if (rc != 0)
		return rc;
	const ledger_account_t *d = &dr->rec.account, *c = &cr->rec.account;
	if (!(dr->flags & SLOT_FOUND))
		*result = LEDGER_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND;
	else if (!(cr->flags & SLOT_FOUND))
		*result = LEDGER_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND;
	else if (d->ledger != c->ledger)
		*result = LEDGER_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER;
	else if (t->ledger != d->ledger)
		*result =
		LEDGER_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS;
	else if (d->flags & LEDGER_ACCOUNT_CLOSED)
		*result = LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED;
	else if (c->flags & LEDGER_ACCOUNT_CLOSED)
		*result = LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED;
	else
		*result = ledger_balance_check_post(
			dr, cr, t->amount, t->flags & LEDGER_TRANSFER_PENDING);
	if (*result != LEDGER_TRANSFER_OK)
		return 0;

	struct batch *b = &l->batch;
	ledger_account_touch(b, dr);
	ledger_account_touch(b, cr);
	if (t->flags & LEDGER_TRANSFER_PENDING) {
		dr->rec.account.debits_pending += t->amount;
		cr->rec.account.credits_pending += t->amount;
	} else {
		dr->rec.account.debits_posted += t->amount;
		cr->rec.account.credits_posted += t->amount;
	}
	struct transfer_record r = {.transfer = *t};
	ledger_transfer_record(l, &r, dr, cr);
	if (t->flags & LEDGER_TRANSFER_PENDING)
		ledger_pending_created(l, &r);
	return 0;
}

/* One transfer: its result, or an error that aborts the batch. */
static int process_one(ledger_t *l, const void *events, uint32_t i,
		       ledger_result_t *out)
{
	const ledger_transfer_t *t = (const ledger_transfer_t *)events + i;
	uint32_t result = validate_fields(t);
	out->timestamp = 0;
	if (result != LEDGER_TRANSFER_OK) {
		out->result = result;
		return 0;
	}
	struct transfer_record existing;
	int rc = ledger_transfer_find(l, t->id, &existing);
	if (rc == 0) {
		out->result = compare_existing(t, &existing.transfer);
		if (out->result == LEDGER_TRANSFER_EXISTS)
			out->timestamp = existing.transfer.timestamp;
		return 0;
	}
	if (rc != PS_ENOTFOUND)
		return rc;
	if (t->flags & RESOLVE_FLAGS)
		rc = ledger_two_phase_apply(l, t, &result);
	else
		rc = apply_transfer(l, t, &result);
	if (rc != 0)
		return rc;
	out->result = result;
	if (result == LEDGER_TRANSFER_OK)
		out->timestamp = l->batch.next_ts - 1;
	return 0;
}

/* Writes the batch's effects: accounts, transfers, ids, pending states. */
static int write_back(ledger_t *l)
{
	struct batch *b = &l->batch;
	int rc = ledger_accounts_write(l, false);
	if (rc != 0 || b->new_count == 0)
		return rc;

	MDB_cursor *transfers = NULL, *ids = NULL;
	rc = mdb_cursor_open(b->txn, l->db_transfers, &transfers);
	if (rc == 0)
		rc = mdb_cursor_open(b->txn, l->db_ids, &ids);
	ledger_id_t id_max = b->transfer_id_max;
	for (uint32_t i = 0; i < b->new_count && rc == 0; i++) {
		struct transfer_record *r = &b->new_transfers[i];
		uint8_t ts_key[8], id_key[16];
		ps_be64_put(ts_key, r->transfer.timestamp);
		MDB_val k = {sizeof(ts_key), ts_key}, v = {sizeof(*r), r};
		/* Timestamps only grow: every transfer goes at the end. */
		rc = mdb_cursor_put(transfers, &k, &v, MDB_APPEND);
		if (rc != 0)
			break;
		key_put_id(id_key, r->transfer.id);
		MDB_val ik = {sizeof(id_key), id_key};
		MDB_val iv = {sizeof(r->transfer.timestamp),
			      &r->transfer.timestamp};
		if (ledger_id_compare(r->transfer.id, id_max) > 0) {
			rc = mdb_cursor_put(ids, &ik, &iv, MDB_APPEND);
			id_max = r->transfer.id;
		} else {
			rc = mdb_cursor_put(ids, &ik, &iv, MDB_NOOVERWRITE);
		}
		/* The batch found the id absent: finding it now is a bug. */
		PS_ASSERT(rc != MDB_KEYEXIST);
	}
	if (ids != NULL)
		mdb_cursor_close(ids);
	if (transfers != NULL)
		mdb_cursor_close(transfers);
	if (rc != 0)
		return ledger_map_mdb(rc);
	rc = ledger_pending_write(l);
	if (rc != 0)
		return rc;
	return ledger_batch_store_clock(l);
}

struct transfers_call {
	const ledger_transfer_t *transfers;
	uint32_t count;
	ledger_result_t *results;
};

static bool transfer_linked(const void *events, uint32_t i)
{
	return ((const ledger_transfer_t *)events)[i].flags &
	       LEDGER_TRANSFER_LINKED;
}

static int transfers_batch(ledger_t *l, void *arg)
{
	struct transfers_call *call = arg;
	int rc = ledger_batch_begin(l, l->batch.txn);
	if (rc == 0)
		rc = ledger_accounts_prefetch(l, call->transfers, call->count);
	if (rc != 0)
		return rc;
	const struct batch_events events = {
		.events = call->transfers,
		.process = process_one,
		.linked = transfer_linked,
		.ok = LEDGER_TRANSFER_OK,
		.exists = LEDGER_TRANSFER_EXISTS,
		.linked_event_failed = LEDGER_TRANSFER_LINKED_EVENT_FAILED,
		.linked_event_chain_open = LEDGER_TRANSFER_LINKED_EVENT_CHAIN_OPEN,
	};
	rc = ledger_batch_run(l, &events, call->count, call->results);
	return rc != 0 ? rc : write_back(l);
}

int ledger_create_transfers(ledger_t *l, const ledger_transfer_t *transfers,
			    uint32_t count, ledger_result_t *results)
{
	if (l == NULL || transfers == NULL || results == NULL)
		return PS_EINVAL;
	if (count == 0 || count > l->options.batch_max)
		return PS_ELIMIT;
	struct transfers_call call = {transfers, count, results};
	return ledger_write(l, transfers_batch, &call);
}

int ledger_create_transfers_txn(ledger_t *l, MDB_txn *txn,
				const ledger_transfer_t *transfers,
				uint32_t count, ledger_result_t *results)
{
	if (l == NULL || txn == NULL || transfers == NULL || results == NULL)
		return PS_EINVAL;
	if (count == 0 || count > l->options.batch_max)
		return PS_ELIMIT;
	struct transfers_call call = {transfers, count, results};
	return ledger_write_in(l, txn, transfers_batch, &call);
}
