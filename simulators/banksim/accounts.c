/*
 * accounts.c: the account table (an open-addressing hash over the account
 * numbers), the accounts-file parser and the generator.
 *
 * The parser is strict on purpose: a test's accounts file is its fixture,
 * and a typo ("stauts") silently ignored would make a test pass for the
 * wrong reason. Every error names the JSON path of what is wrong.
 */
#include "accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"
#include "sim.h"

static const char *const status_names[] = {"active", "blocked", "closed",
					   "expired"};
static const char *const fault_names[] = {"none", "drop", "delay", "close"};

const char *bank_status_name(int status)
{
	if (status < 0 || (size_t)status >= PS_ARRAY_LEN(status_names))
		return "unknown";
	return status_names[status];
}

/* ---- the table ------------------------------------------------------------ */

int bank_accounts_init(bank_accounts_t *a, uint32_t cap)
{
	memset(a, 0, sizeof(*a));
	if (cap == 0 || cap > BANK_ACCOUNTS_MAX)
		return PS_ELIMIT;
	uint32_t slots = 2;
	while (slots < 2 * cap)
		slots *= 2;
	a->list = calloc(cap, sizeof(*a->list));
	a->slots = calloc(slots, sizeof(*a->slots));
	if (a->list == NULL || a->slots == NULL) {
		bank_accounts_free(a);
		return PS_ENOMEM;
	}
	a->cap = cap;
	a->slot_mask = slots - 1;
	return 0;
}

void bank_accounts_free(bank_accounts_t *a)
{
	free(a->list);
	free(a->slots);
	memset(a, 0, sizeof(*a));
}

/* FNV-1a: account numbers are short and already well spread. */
static uint32_t number_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The slot holding number, or the empty slot where it would go. The table
 * is at most half full, so the probe always ends. */
static uint32_t probe(const bank_accounts_t *a, const char *number, size_t len)
{
	uint32_t i = number_hash(number, len) & a->slot_mask;
	for (;;) {
		uint32_t s = a->slots[i];
		if (s == 0)
			return i;
		const bank_account_t *acc = &a->list[s - 1];
		if (acc->len == len && memcmp(acc->number, number, len) == 0)
			return i;
		i = (i + 1) & a->slot_mask;
	}
}

int bank_accounts_add(bank_accounts_t *a, const bank_account_t *acc)
{
	PS_ASSERT(bank_account_number_valid(acc->number, acc->len));
	uint32_t slot = probe(a, acc->number, acc->len);
	if (a->slots[slot] != 0)
		return PS_EEXIST;
	if (a->count == a->cap)
		return PS_ELIMIT;
	a->list[a->count] = *acc;
	a->slots[slot] = ++a->count;
	return 0;
}

const bank_account_t *bank_accounts_find(const bank_accounts_t *a,
					 const char *number, size_t len)
{
	if (a->count == 0 || !bank_account_number_valid(number, len))
		return NULL;
	uint32_t s = a->slots[probe(a, number, len)];
	return s == 0 ? NULL : &a->list[s - 1];
}

bool bank_account_number_valid(const char *number, size_t len)
{
	return len >= 1 && len <= BANK_ACCOUNT_DIGITS_MAX &&
	       ps_is_digits(number, len);
}

/* ---- the file --------------------------------------------------------------- */

static int name_index(const char *const *names, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static int take_amount(const json_t *v, const char *path, const char *key,
		       int64_t min, int64_t *out, char *err, size_t cap)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > BANK_AMOUNT_MAX)
		return sim_fail(err, cap, PS_EFORMAT,
			    "%s.%s: must be an integer from %lld to %lld "
			    "(minor units)", path, key, (long long)min,
			    (long long)BANK_AMOUNT_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int take_name(const json_t *v, const char *path, const char *key,
		     const char *const *names, size_t count, uint8_t *out,
		     char *err, size_t cap)
{
	int i = json_is_string(v) ? name_index(names, count, json_string_value(v))
				  : -1;
	if (i < 0)
		return sim_fail(err, cap, PS_EFORMAT,
			    "%s.%s: must be one of %s, %s, %s%s%s", path, key,
			    names[0], names[1], names[2], count > 3 ? ", " : "",
			    count > 3 ? names[3] : "");
	*out = (uint8_t)i;
	return 0;
}

/* "none" is the absence of the key, not a value a file may write. */
static int take_fault(const json_t *v, const char *path, bank_account_t *acc,
		      char *err, size_t cap)
{
	int rc = take_name(v, path, "fault", fault_names + 1,
			   PS_ARRAY_LEN(fault_names) - 1, &acc->fault, err, cap);
	acc->fault++;
	return rc;
}

static int take_number(const json_t *v, const char *path, bank_account_t *acc,
		       char *err, size_t cap)
{
	if (v == NULL)
		return sim_fail(err, cap, PS_EFORMAT, "%s.account: is required", path);
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	if (!bank_account_number_valid(s, len))
		return sim_fail(err, cap, PS_EFORMAT,
			    "%s.account: must be a string of 1 to %d digits",
			    path, BANK_ACCOUNT_DIGITS_MAX);
	memcpy(acc->number, s, len);
	acc->number[len] = '\0';
	acc->len = (uint8_t)len;
	return 0;
}

static int parse_one(const json_t *obj, const char *path, bank_account_t *acc,
		     char *err, size_t cap)
{
	memset(acc, 0, sizeof(*acc));
	if (!json_is_object(obj))
		return sim_fail(err, cap, PS_EFORMAT, "%s: must be an object", path);
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "account") == 0)
			rc = take_number(v, path, acc, err, cap);
		else if (strcmp(key, "balance") == 0)
			rc = take_amount(v, path, key, 0, &acc->balance, err, cap);
		else if (strcmp(key, "limit") == 0)
			rc = take_amount(v, path, key, 1, &acc->limit, err, cap);
		else if (strcmp(key, "status") == 0)
			rc = take_name(v, path, key, status_names,
				       PS_ARRAY_LEN(status_names), &acc->status,
				       err, cap);
		else if (strcmp(key, "fault") == 0)
			rc = take_fault(v, path, acc, err, cap);
		else
			rc = sim_fail(err, cap, PS_EFORMAT,
				  "%s.%s: unknown key (account, balance, "
				  "status, limit, fault)", path, key);
		if (rc != 0)
			return rc;
	}
	if (acc->len == 0)
		return take_number(NULL, path, acc, err, cap);
	return 0;
}

static int parse_list(const json_t *list, const char *base,
		      bank_accounts_t *out, char *err, size_t cap)
{
	size_t n = json_array_size(list);
	if (n > BANK_ACCOUNTS_MAX)
		return sim_fail(err, cap, PS_ELIMIT, "%s: more than %u accounts",
			    base, BANK_ACCOUNTS_MAX);
	int rc = bank_accounts_init(out, n == 0 ? 1 : (uint32_t)n);
	if (rc != 0)
		return sim_fail(err, cap, rc, "%s: no memory for %zu accounts",
			    base, n);
	for (size_t i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof(path), "%s[%zu]", base, i);
		bank_account_t acc;
		rc = parse_one(json_array_get(list, i), path, &acc, err, cap);
		if (rc == 0 && bank_accounts_add(out, &acc) != 0) {
			/* Errors reach logs: account numbers go masked. */
			char masked[BANK_ACCOUNT_DIGITS_MAX + 1];
			ps_mask_pan(acc.number, acc.len, masked);
			rc = sim_fail(err, cap, PS_EFORMAT,
				  "%s.account: %s appears twice", path, masked);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int bank_accounts_parse(const char *text, size_t len, bank_accounts_t *out,
			char *err, size_t err_cap)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return sim_fail(err, err_cap, PS_EFORMAT, "line %d column %d: %s",
			    jerr.line, jerr.column, jerr.text);
	int rc;
	if (json_is_array(root)) {
		rc = parse_list(root, "", out, err, err_cap);
	} else if (json_is_object(root) && json_object_size(root) == 1 &&
		   json_is_array(json_object_get(root, "accounts"))) {
		rc = parse_list(json_object_get(root, "accounts"), "accounts",
				out, err, err_cap);
	} else {
		rc = sim_fail(err, err_cap, PS_EFORMAT,
			  "must be an array of accounts or {\"accounts\": [...]}");
	}
	json_decref(root);
	return rc;
}

int bank_accounts_load(const char *path, bank_accounts_t *out, char *err,
		       size_t err_cap)
{
	memset(out, 0, sizeof(*out));
	char *text = NULL;
	size_t len = 0;
	int rc = sim_file_read(path, BANK_ACCOUNTS_FILE_BYTES_MAX, &text, &len);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "%s: %s", path,
			    rc == PS_ELIMIT ? "larger than 64 MiB (use --generate)"
					    : "cannot read the file");
	char why[BANK_ACCOUNTS_ERR_MAX];
	rc = bank_accounts_parse(text, len, out, why, sizeof(why));
	free(text);
	if (rc != 0)
		sim_fail(err, err_cap, rc, "%s: %s", path, why);
	return rc;
}

/* ---- generated accounts ------------------------------------------------------ */

int bank_accounts_generate(bank_accounts_t *out, uint32_t count,
			   const char *prefix, uint32_t digits,
			   int64_t balance, char *err, size_t err_cap)
{
	memset(out, 0, sizeof(*out));
	size_t plen = strlen(prefix);
	if ((plen > 0 && !ps_is_digits(prefix, plen)) ||
	    digits > BANK_ACCOUNT_DIGITS_MAX || plen >= digits)
		return sim_fail(err, err_cap, PS_EINVAL,
			    "prefix must be digits, shorter than the %u-digit "
			    "account numbers (at most %d)", digits,
			    BANK_ACCOUNT_DIGITS_MAX);
	uint32_t room = digits - (uint32_t)plen;
	uint64_t span = 1;
	for (uint32_t i = 0; i < room && span <= UINT32_MAX; i++)
		span *= 10;
	if (count == 0 || count > span)
		return sim_fail(err, err_cap, PS_EINVAL,
			    "%u accounts do not fit in %u digits after prefix %s",
			    count, room, prefix);
	if (balance < 0 || balance > BANK_AMOUNT_MAX)
		return sim_fail(err, err_cap, PS_EINVAL,
			    "balance must be 0 to %lld minor units",
			    (long long)BANK_AMOUNT_MAX);
	int rc = bank_accounts_init(out, count);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "no memory for %u accounts", count);
	for (uint32_t i = 0; i < count; i++) {
		bank_account_t acc = {.len = (uint8_t)digits, .balance = balance};
		memcpy(acc.number, prefix, plen);
		ps_format_u64(acc.number + plen, room, i);
		acc.number[digits] = '\0';
		rc = bank_accounts_add(out, &acc);
		PS_ASSERT(rc == 0); /* distinct by construction, and fits */
	}
	return 0;
}
