/*
 * two_phase.c: pending transfers and their resolution: post (in full or
 * in part), void, expiry by timeout (ledger_expire_pending), the pending
 * state store and its expiry index.
 *
 * A pending transfer is immutable like every transfer; its state (pending,
 * posted, voided, expired) lives in ledger.pending under the pending's
 * timestamp. A pending with a timeout also has a key in ledger.expiry,
 * ordered by expiry time, removed when it is resolved.
 */
#include <string.h>

#include "ledger_int.h"

#define NS_PER_SECOND 1000000000ull

/* The pending slot for the pending transfer p, loading its state from the
 * store on first use in this batch. */
static int pending_slot_load(ledger_t *l, const struct transfer_record *p,
			     struct pending_slot **out)
{
	struct batch *b = &l->batch;
	struct pending_slot *s = ledger_pending_find(b, p->transfer.timestamp);
	if (s != NULL) {
		*out = s;
		return 0;
	}
	struct pending_record rec;
	uint8_t key[8];
	ps_be64_put(key, p->transfer.timestamp);
	int rc = ledger_get_record(b->txn, l->db_pending, key, sizeof(key),
				   &rec, sizeof(rec));
	/* Every stored pending transfer has its state. */
	if (rc == PS_ENOTFOUND)
		return LEDGER_ECORRUPT;
	if (rc != 0)
		return rc;
	s = ledger_pending_add(b, p->transfer.timestamp);
	s->rec = rec;
	s->orig_state = rec.state;
	s->pending = *p;
	*out = s;
	return 0;
}

void ledger_pending_created(ledger_t *l, const struct transfer_record *r)
{
	struct batch *b = &l->batch;
	struct pending_slot *s = ledger_pending_add(b, r->transfer.timestamp);
	s->flags |= SLOT_NEW;
	s->orig_state = LEDGER_PENDING_NONE;
	s->pending = *r;
	ledger_pending_touch(b, s);
	s->rec.state = LEDGER_PENDING_PENDING;
	if (r->transfer.timeout_seconds != 0)
		s->rec.expires_at =
			r->transfer.timestamp +
			(uint64_t)r->transfer.timeout_seconds * NS_PER_SECOND;
}

/* The checks of a post or void against its pending transfer p. */
static uint32_t check_resolve(const ledger_t *l, const ledger_transfer_t *t,
			      const struct transfer_record *pr,
			      const struct pending_slot *s)
{
	const ledger_transfer_t *p = &pr->transfer;
	if (!(p->flags & LEDGER_TRANSFER_PENDING))
		return LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING;
	if (!ledger_id_is_zero(t->debit_account_id) &&
	    !ledger_id_equal(t->debit_account_id, p->debit_account_id))
		return LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID;
	if (!ledger_id_is_zero(t->credit_account_id) &&
	    !ledger_id_equal(t->credit_account_id, p->credit_account_id))
		return LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID;
	if (t->ledger != 0 && t->ledger != p->ledger)
		return LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER;
	if (t->code != 0 && t->code != p->code)
		return LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE;
	if (t->flags & LEDGER_TRANSFER_POST_PENDING) {
		if (t->amount > p->amount)
			return LEDGER_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT;
	} else if (t->amount != 0 && t->amount != p->amount) {
		return LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT;
	}
	switch (s->rec.state) {
	case LEDGER_PENDING_POSTED:
		return LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED;
	case LEDGER_PENDING_VOIDED:
		return LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED;
	case LEDGER_PENDING_EXPIRED:
		return LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED;
	case LEDGER_PENDING_PENDING:
		break;
	default:
		PS_ASSERT(!"pending state");
	}
	/* Expired but not yet swept by ledger_expire_pending(): the timeout
	 * holds all the same. */
	if (s->rec.expires_at != 0 && l->batch.now_ns >= s->rec.expires_at)
		return LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED;
	return LEDGER_TRANSFER_OK;
}

/* Releases a pending's reservation from its two accounts. */
static void release(struct batch *b, struct account_slot *dr,
		    struct account_slot *cr, uint64_t amount)
{
	ledger_account_touch(b, dr);
	ledger_account_touch(b, cr);
	PS_ASSERT(dr->rec.account.debits_pending >= amount);
	PS_ASSERT(cr->rec.account.credits_pending >= amount);
	dr->rec.account.debits_pending -= amount;
	cr->rec.account.credits_pending -= amount;
}

static int load_pair(ledger_t *l, const ledger_transfer_t *p,
		     struct account_slot **dr, struct account_slot **cr)
{
	int rc = ledger_account_load(l, p->debit_account_id, dr);
	if (rc == 0)
		rc = ledger_account_load(l, p->credit_account_id, cr);
	if (rc != 0)
		return rc;
	/* Accounts are never deleted: a pending's accounts must exist. */
	if (!((*dr)->flags & SLOT_FOUND) || !((*cr)->flags & SLOT_FOUND))
		return LEDGER_ECORRUPT;
	return 0;
}

int ledger_two_phase_apply(ledger_t *l, const ledger_transfer_t *t,
			   uint32_t *result)
{
	struct batch *b = &l->batch;
	struct transfer_record pr;
	int rc = ledger_transfer_find(l, t->pending_id, &pr);
	if (rc == PS_ENOTFOUND) {
		*result = LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (!(pr.transfer.flags & LEDGER_TRANSFER_PENDING)) {
		*result = LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING;
		return 0;
	}
	struct pending_slot *s;
	rc = pending_slot_load(l, &pr, &s);
	if (rc != 0)
		return rc;
	*result = check_resolve(l, t, &pr, s);
	if (*result != LEDGER_TRANSFER_OK)
		return 0;
	const ledger_transfer_t *p = &pr.transfer;
	struct account_slot *dr, *cr;
	rc = load_pair(l, p, &dr, &cr);
	if (rc != 0)
		return rc;
	bool post = (t->flags & LEDGER_TRANSFER_POST_PENDING) != 0;
	/* A void releases whatever an account's state; a post moves money
	 * and so needs both accounts open. */
	if (post && (dr->rec.account.flags & LEDGER_ACCOUNT_CLOSED)) {
		*result = LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED;
		return 0;
	}
	if (post && (cr->rec.account.flags & LEDGER_ACCOUNT_CLOSED)) {
		*result = LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED;
		return 0;
	}
	uint64_t amount = post ? (t->amount ? t->amount : p->amount) : p->amount;
	release(b, dr, cr, p->amount);
	if (post) {
		/* No overflow or limit check: the posted amount was part of
		 * each side's pending + posted total, which only shrinks. */
		dr->rec.account.debits_posted += amount;
		cr->rec.account.credits_posted += amount;
	}
	struct transfer_record r = {.transfer = *t};
	r.transfer.debit_account_id = p->debit_account_id;
	r.transfer.credit_account_id = p->credit_account_id;
	r.transfer.ledger = p->ledger;
	r.transfer.code = p->code;
	r.transfer.amount = amount;
	ledger_transfer_record(l, &r, dr, cr);
	ledger_pending_touch(b, s);
	s->rec.state = post ? LEDGER_PENDING_POSTED : LEDGER_PENDING_VOIDED;
	s->rec.resolved_ts = r.transfer.timestamp;
	s->rec.posted_amount = post ? amount : 0;
	return 0;
}

static void expiry_key(uint8_t key[16], uint64_t expires_at, uint64_t ts)
{
	ps_be64_put(key, expires_at);
	ps_be64_put(key + 8, ts);
}

int ledger_pending_write(ledger_t *l)
{
	struct batch *b = &l->batch;
	for (uint32_t i = 0; i < b->pending_dirty_count; i++) {
		struct pending_slot *s = &b->pendings[b->pending_dirty[i]];
		uint8_t key[8], ekey[16];
		ps_be64_put(key, s->ts);
		MDB_val k = {sizeof(key), key}, v = {sizeof(s->rec), &s->rec};
		int rc = mdb_put(b->txn, l->db_pending, &k, &v, 0);
		if (rc != 0)
			return ledger_map_mdb(rc);
		if (s->rec.expires_at == 0)
			continue;
		expiry_key(ekey, s->rec.expires_at, s->ts);
		MDB_val ek = {sizeof(ekey), ekey}, ev = {0, NULL};
		bool was = s->orig_state == LEDGER_PENDING_PENDING;
		bool is = s->rec.state == LEDGER_PENDING_PENDING;
		if (is && !was)
			rc = mdb_put(b->txn, l->db_expiry, &ek, &ev, 0);
		else if (was && !is)
			rc = mdb_del(b->txn, l->db_expiry, &ek, NULL);
		if (rc != 0)
			return ledger_map_mdb(rc);
	}
	return 0;
}

struct expire_call {
	uint32_t limit;
	uint32_t expired;
};

/* Releases one expired pending, named by its expiry key's timestamp. */
static int expire_one(ledger_t *l, uint64_t ts)
{
	struct batch *b = &l->batch;
	struct transfer_record pr;
	uint8_t key[8];
	ps_be64_put(key, ts);
	int rc = ledger_get_record(b->txn, l->db_transfers, key, sizeof(key),
				   &pr, sizeof(pr));
	if (rc == PS_ENOTFOUND)
		return LEDGER_ECORRUPT;
	if (rc != 0)
		return rc;
	struct pending_slot *s;
	rc = pending_slot_load(l, &pr, &s);
	if (rc != 0)
		return rc;
	if (s->rec.state != LEDGER_PENDING_PENDING)
		return LEDGER_ECORRUPT; /* the index keeps only pendings */
	struct account_slot *dr, *cr;
	rc = load_pair(l, &pr.transfer, &dr, &cr);
	if (rc != 0)
		return rc;
	release(b, dr, cr, pr.transfer.amount);
	ledger_pending_touch(b, s);
	s->rec.state = LEDGER_PENDING_EXPIRED;
	s->rec.resolved_ts = 0;
	return 0;
}

static int expire_batch(ledger_t *l, void *arg)
{
	struct expire_call *call = arg;
	struct batch *b = &l->batch;
	call->expired = 0;
	int rc = ledger_batch_begin(l, b->txn);
	if (rc != 0)
		return rc;
	/* Collect first, then change: the expiry index must not move under
	 * the cursor that walks it. */
	uint64_t found[64];
	MDB_cursor *cur;
	rc = mdb_cursor_open(b->txn, l->db_expiry, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_val k, v;
	int op = MDB_FIRST;
	while (call->expired < call->limit) {
		uint32_t n = 0;
		while (n < PS_ARRAY_LEN(found) && call->expired + n < call->limit &&
		       (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
			op = MDB_NEXT;
			if (k.mv_size != 16) {
				rc = MDB_CORRUPTED;
				break;
			}
			if (ps_be64_get(k.mv_data) > b->now_ns) {
				rc = MDB_NOTFOUND;
				break;
			}
			found[n++] = ps_be64_get((uint8_t *)k.mv_data + 8);
		}
		for (uint32_t i = 0; i < n; i++) {
			int erc = expire_one(l, found[i]);
			if (erc != 0) {
				mdb_cursor_close(cur);
				return erc;
			}
		}
		call->expired += n;
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ledger_map_mdb(rc);
	rc = ledger_accounts_write(l, false);
	if (rc != 0)
		return rc;
	return ledger_pending_write(l);
}

int ledger_expire_pending(ledger_t *l, uint32_t limit, uint32_t *expired_count)
{
	if (l == NULL || expired_count == NULL)
		return PS_EINVAL;
	*expired_count = 0;
	if (limit == 0 || limit > l->options.batch_max)
		return PS_ELIMIT;
	struct expire_call call = {limit, 0};
	int rc = ledger_write(l, expire_batch, &call);
	if (rc == 0)
		*expired_count = call.expired;
	return rc;
}

int ledger_pending_get(ledger_t *l, ledger_id_t id, uint32_t *state,
		       uint64_t *expires_at_ns)
{
	if (l == NULL || state == NULL)
		return PS_EINVAL;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	uint8_t key[16];
	key_put_id(key, id);
	uint64_t ts;
	struct pending_record rec = {0};
	rc = ledger_get_record(txn, l->db_ids, key, sizeof(key), &ts,
			       sizeof(ts));
	if (rc == 0) {
		uint8_t tkey[8];
		ps_be64_put(tkey, ts);
		rc = ledger_get_record(txn, l->db_pending, tkey, sizeof(tkey),
				       &rec, sizeof(rec));
		if (rc == PS_ENOTFOUND) {
			rc = 0; /* a transfer, but not a pending one */
			rec.state = LEDGER_PENDING_NONE;
		}
	}
	ledger_read_end(l);
	if (rc != 0)
		return rc;
	*state = rec.state;
	if (expires_at_ns != NULL)
		*expires_at_ns = rec.expires_at;
	return 0;
}
