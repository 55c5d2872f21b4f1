/*
 * route_store.c: reading the route table: the meta record (version and
 * counts per prefix length), the longest-prefix lookup on the switch's hot
 * path, exact gets, and iteration in prefix order.
 *
 * The lookup does one get of the meta record, then one get per prefix
 * length that has any route, longest first. Tables use few distinct
 * lengths (BINs of 6 and 8, account ranges of 9 to 12), so a lookup is a
 * handful of B-tree descents whatever the table's size, and it never
 * allocates: keys are built on the stack and values are copied out.
 */
#include "routing_int.h"

#include <string.h>

static MDB_val meta_key(void)
{
	MDB_val key = {sizeof(ROUTE_META_KEY) - 1, (void *)ROUTE_META_KEY};
	return key;
}

/* Reads the meta record without an error struct: the hot path's form. */
static int meta_read(const route_table_t *table, MDB_txn *txn,
		     route_table_info_t *out)
{
	MDB_val key = meta_key();
	MDB_val value;
	int mrc = mdb_get(txn, table->meta, &key, &value);
	if (mrc == MDB_NOTFOUND) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (mrc != 0)
		return mrc == MDB_CORRUPTED ? PS_EFORMAT : PS_EIO;
	return route_meta_decode(value.mv_data, value.mv_size, out);
}

int route_meta_load(const route_table_t *table, MDB_txn *txn,
		    route_table_info_t *out, route_error_t *err)
{
	int rc = meta_read(table, txn, out);
	if (rc == PS_EFORMAT)
		return route_fail(err, rc, "", "the route meta record is corrupt");
	if (rc < 0)
		return route_fail(err, rc, "", "cannot read the route meta record");
	return 0;
}

int route_meta_store(const route_table_t *table, MDB_txn *txn,
		     const route_table_info_t *info, route_error_t *err)
{
	uint8_t buf[ROUTE_META_BYTES];
	route_meta_encode(info, buf);
	MDB_val key = meta_key();
	MDB_val value = {sizeof(buf), buf};
	int mrc = mdb_put(txn, table->meta, &key, &value, 0);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "writing the route meta record");
	return 0;
}

int route_table_info(const route_table_t *table, MDB_txn *txn,
		     route_table_info_t *out)
{
	return meta_read(table, txn, out);
}

/* One exact get; the key is the digits themselves, borrowed. */
static int get_exact(const route_table_t *table, MDB_txn *txn,
		     const char *prefix, size_t len, route_t *out)
{
	MDB_val key = {len, (void *)prefix};
	MDB_val value;
	int mrc = mdb_get(txn, table->routes, &key, &value);
	if (mrc == MDB_NOTFOUND)
		return PS_ENOTFOUND;
	if (mrc != 0)
		return mrc == MDB_CORRUPTED ? PS_EFORMAT : PS_EIO;
	return route_record_decode(key.mv_data, key.mv_size, value.mv_data,
				   value.mv_size, out);
}

static bool is_lookup_input(const char *digits, size_t len)
{
	return digits != NULL && len > 0 && len <= ROUTE_PREFIX_DIGITS_MAX &&
	       ps_is_digits(digits, len);
}

int route_get(const route_table_t *table, MDB_txn *txn, const char *prefix,
	      size_t len, route_t *out)
{
	if (!is_lookup_input(prefix, len))
		return PS_EINVAL;
	return get_exact(table, txn, prefix, len, out);
}

int route_lookup(const route_table_t *table, MDB_txn *txn, const char *digits,
		 size_t len, route_t *out)
{
	if (!is_lookup_input(digits, len))
		return PS_EINVAL;
	route_table_info_t info;
	int rc = meta_read(table, txn, &info);
	if (rc < 0)
		return rc;
	for (size_t l = len; l > 0; l--) {
		if (info.count_by_length[l] == 0)
			continue;
		rc = get_exact(table, txn, digits, l, out);
		if (rc == PS_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		/* The longest match decides, enabled or not (routing.h). */
		return out->enabled ? 0 : ROUTE_EDISABLED;
	}
	return PS_ENOTFOUND;
}

int route_lookup_all(const route_table_t *table, MDB_txn *txn,
		     const char *digits, size_t len, route_t *out, size_t cap,
		     size_t *count)
{
	*count = 0;
	if (!is_lookup_input(digits, len))
		return PS_EINVAL;
	route_table_info_t info;
	int rc = meta_read(table, txn, &info);
	if (rc < 0)
		return rc;
	for (size_t l = len; l > 0 && *count < cap; l--) {
		if (info.count_by_length[l] == 0)
			continue;
		rc = get_exact(table, txn, digits, l, &out[*count]);
		if (rc == PS_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		(*count)++;
	}
	return 0;
}

/* ---- iteration -------------------------------------------------------- */

int route_iter_open(const route_table_t *table, MDB_txn *txn,
		    const char *under, size_t under_len, route_iter_t *it)
{
	memset(it, 0, sizeof(*it));
	if (under_len > ROUTE_PREFIX_DIGITS_MAX ||
	    (under_len > 0 && !ps_is_digits(under, under_len)))
		return PS_EINVAL;
	memcpy(it->under, under, under_len);
	it->under_len = under_len;
	int mrc = mdb_cursor_open(txn, table->routes, &it->cursor);
	if (mrc != 0) {
		it->cursor = NULL;
		return PS_EIO;
	}
	return 0;
}

int route_iter_next(route_iter_t *it, route_t *out, bool *has)
{
	*has = false;
	if (it->done)
		return 0;
	MDB_val key, value;
	int mrc;
	if (!it->started) {
		it->started = true;
		if (it->under_len > 0) {
			/* Keys sort bytewise, so every key that starts with
			 * "under" follows it directly. */
			key.mv_size = it->under_len;
			key.mv_data = it->under;
			mrc = mdb_cursor_get(it->cursor, &key, &value,
					     MDB_SET_RANGE);
		} else {
			mrc = mdb_cursor_get(it->cursor, &key, &value,
					     MDB_FIRST);
		}
	} else {
		mrc = mdb_cursor_get(it->cursor, &key, &value, MDB_NEXT);
	}
	if (mrc == MDB_NOTFOUND) {
		it->done = true;
		return 0;
	}
	if (mrc != 0)
		return PS_EIO;
	if (key.mv_size < it->under_len ||
	    memcmp(key.mv_data, it->under, it->under_len) != 0) {
		it->done = true;
		return 0;
	}
	int rc = route_record_decode(key.mv_data, key.mv_size, value.mv_data,
				     value.mv_size, out);
	if (rc < 0)
		return rc;
	*has = true;
	return 0;
}

void route_iter_close(route_iter_t *it)
{
	if (it->cursor != NULL)
		mdb_cursor_close(it->cursor);
	it->cursor = NULL;
	it->done = true;
}
