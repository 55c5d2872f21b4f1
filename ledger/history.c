/*
 * history.c: reading transfers back: by id, an account's history (a chain
 * through its transfers, newest first), and every transfer in timestamp
 * order for export.
 */
#include <string.h>

#include "ledger_int.h"

static int transfer_at(MDB_txn *txn, ledger_t *l, uint64_t ts,
		       struct transfer_record *out)
{
	uint8_t key[8];
	ps_be64_put(key, ts);
	return ledger_get_record(txn, l->db_transfers, key, sizeof(key), out,
				 sizeof(*out));
}

int ledger_transfer_get(ledger_t *l, ledger_id_t id, ledger_transfer_t *out)
{
	if (l == NULL || out == NULL)
		return PS_EINVAL;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	uint8_t key[16];
	key_put_id(key, id);
	uint64_t ts;
	struct transfer_record r;
	rc = ledger_get_record(txn, l->db_ids, key, sizeof(key), &ts,
			       sizeof(ts));
	if (rc == 0) {
		rc = transfer_at(txn, l, ts, &r);
		if (rc == PS_ENOTFOUND)
			rc = LEDGER_ECORRUPT;
	}
	ledger_read_end(l);
	if (rc == 0)
		*out = r.transfer;
	return rc;
}

/* The previous transfer of account in the chain, after r. */
static uint64_t prev_for(const struct transfer_record *r, ledger_id_t account)
{
	if (ledger_id_equal(r->transfer.debit_account_id, account))
		return r->debit_prev_ts;
	return r->credit_prev_ts;
}

static bool involves(const struct transfer_record *r, ledger_id_t account)
{
	return ledger_id_equal(r->transfer.debit_account_id, account) ||
	       ledger_id_equal(r->transfer.credit_account_id, account);
}

static int walk_history(MDB_txn *txn, ledger_t *l, ledger_id_t account_id,
			uint64_t before, ledger_transfer_t *out, uint32_t cap,
			uint32_t *count)
{
	struct account_record acct;
	int rc = ledger_account_read(l, txn, account_id, false, &acct);
	if (rc != 0)
		return rc;
	uint64_t ts = acct.last_transfer_ts;
	struct transfer_record r;
	if (before != 0) {
		/* Continue a page: the previous page's last transfer links
		 * to the one before it. */
		rc = transfer_at(txn, l, before, &r);
		if (rc == PS_ENOTFOUND || (rc == 0 && !involves(&r, account_id)))
			return PS_EINVAL;
		if (rc != 0)
			return rc;
		ts = prev_for(&r, account_id);
	}
	while (ts != 0 && *count < cap) {
		rc = transfer_at(txn, l, ts, &r);
		if (rc == PS_ENOTFOUND)
			return LEDGER_ECORRUPT;
		if (rc != 0)
			return rc;
		if (!involves(&r, account_id))
			return LEDGER_ECORRUPT;
		out[(*count)++] = r.transfer;
		uint64_t prev = prev_for(&r, account_id);
		if (prev >= ts)
			return LEDGER_ECORRUPT; /* a chain only goes back */
		ts = prev;
	}
	return 0;
}

int ledger_account_transfers(ledger_t *l, ledger_id_t account_id,
			     uint64_t before_timestamp, ledger_transfer_t *out,
			     uint32_t cap, uint32_t *count)
{
	if (l == NULL || out == NULL || count == NULL || cap == 0)
		return PS_EINVAL;
	*count = 0;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	rc = walk_history(txn, l, account_id, before_timestamp, out, cap,
			  count);
	ledger_read_end(l);
	return rc;
}

int ledger_scan_transfers(ledger_t *l, uint64_t after_timestamp,
			  ledger_transfer_t *out, uint32_t cap, uint32_t *count)
{
	if (l == NULL || out == NULL || count == NULL || cap == 0)
		return PS_EINVAL;
	*count = 0;
	MDB_txn *txn;
	int rc = ledger_read_begin(l, &txn);
	if (rc != 0)
		return rc;
	MDB_cursor *cur;
	rc = mdb_cursor_open(txn, l->db_transfers, &cur);
	if (rc != 0) {
		ledger_read_end(l);
		return ledger_map_mdb(rc);
	}
	uint8_t key[8];
	ps_be64_put(key, after_timestamp);
	MDB_val k = {sizeof(key), key}, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && *count < cap) {
		if (k.mv_size != 8 || v.mv_size != sizeof(struct transfer_record)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (ps_be64_get(k.mv_data) != after_timestamp) {
			struct transfer_record r;
			memcpy(&r, v.mv_data, sizeof(r));
			out[(*count)++] = r.transfer;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	ledger_read_end(l);
	return rc == MDB_NOTFOUND ? 0 : ledger_map_mdb(rc);
}
