/*
 * draw.c: the parts of the plan that are drawn: the mix of operations,
 * the amounts, and the accounts (generated as banksim generates them, or
 * read from files).
 */
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"

static const char *const op_names[PSP_OP_COUNT] = {
	"pay", "refund", "query", "duplicate", "echo",
};

const char *psp_op_name(int op)
{
	return op >= 0 && op < PSP_OP_COUNT ? op_names[op] : "?";
}

/* ---- the mix ---------------------------------------------------------------- */

/* Parses the digits of s[0..len) into *out, at most max. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	return ps_parse_u64(s, len, out) == 0 && *out <= max;
}

static int mix_term(const char *term, size_t len, psp_mix_t *mix, char *err,
		    size_t cap)
{
	const char *eq = memchr(term, '=', len);
	if (eq == NULL)
		return sim_fail(err, cap, PS_EINVAL, "\"%.*s\": must be OP=WEIGHT",
				(int)len, term);
	size_t name_len = (size_t)(eq - term);
	int op = -1;
	for (int i = 0; i < PSP_OP_COUNT; i++)
		if (strlen(op_names[i]) == name_len &&
		    memcmp(op_names[i], term, name_len) == 0)
			op = i;
	if (op < 0)
		return sim_fail(err, cap, PS_EINVAL, "\"%.*s\": not an operation (pay, "
				"refund, query, duplicate, echo)", (int)name_len, term);
	uint64_t w;
	if (!parse_uint(eq + 1, len - name_len - 1, PSP_MIX_WEIGHT_MAX, &w))
		return sim_fail(err, cap, PS_EINVAL, "%s: the weight must be an integer "
				"from 0 to %u", op_names[op], PSP_MIX_WEIGHT_MAX);
	mix->weight[op] = (uint32_t)w;
	return 0;
}

int psp_mix_parse(const char *text, psp_mix_t *mix, char *err, size_t cap)
{
	memset(mix, 0, sizeof(*mix));
	const char *p = text;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		int rc = mix_term(p, len, mix, err, cap);
		if (rc != 0)
			return rc;
		p += len;
		if (*p == ',')
			p++;
	}
	for (int i = 0; i < PSP_OP_COUNT; i++)
		mix->total += mix->weight[i];
	if (mix->weight[PSP_OP_PAY] == 0)
		return sim_fail(err, cap, PS_EINVAL, "pay must weigh more than 0 "
				"(refunds, duplicates and queries refer to pays)");
	return 0;
}

int psp_mix_draw(const psp_mix_t *mix, sim_rng_t *rng)
{
	PS_ASSERT(mix->total > 0);
	uint64_t r = sim_rng_next(rng) % mix->total;
	for (int i = 0; i < PSP_OP_COUNT; i++) {
		if (r < mix->weight[i])
			return i;
		r -= mix->weight[i];
	}
	PS_ASSERT(!"mix total");
	return PSP_OP_PAY;
}

/* ---- amounts ------------------------------------------------------------- */

static bool parse_amount(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	if (!parse_uint(s, len, (uint64_t)PSP_AMOUNT_MAX, &v) || v == 0)
		return false;
	*out = (int64_t)v;
	return true;
}

int psp_amount_parse(const char *text, psp_amount_t *out, char *err,
		     size_t cap)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(text);
	const char *dash = strchr(text, '-');
	bool ok;
	if (strncmp(text, "exp:", 4) == 0) {
		out->kind = PSP_AMOUNT_EXP;
		ok = parse_amount(text + 4, len - 4, &out->a);
	} else if (dash != NULL) {
		out->kind = PSP_AMOUNT_UNIFORM;
		ok = parse_amount(text, (size_t)(dash - text), &out->a) &&
		     parse_amount(dash + 1, len - (size_t)(dash - text) - 1, &out->b) &&
		     out->a <= out->b;
	} else {
		out->kind = PSP_AMOUNT_FIXED;
		ok = parse_amount(text, len, &out->a);
	}
	if (!ok)
		return sim_fail(err, cap, PS_EINVAL, "must be N, LO-HI or exp:MEAN in "
				"minor units (fen), each 1 to %lld, not \"%s\"",
				(long long)PSP_AMOUNT_MAX, text);
	return 0;
}

int64_t psp_amount_draw(const psp_amount_t *amount, sim_rng_t *rng)
{
	switch (amount->kind) {
	case PSP_AMOUNT_UNIFORM: {
		uint64_t span = (uint64_t)(amount->b - amount->a) + 1u;
		return amount->a + (int64_t)(sim_rng_next(rng) % span);
	}
	case PSP_AMOUNT_EXP: {
		/* 1 - u is in (0, 1]: the logarithm is finite. Amounts are
		 * integers whatever the draw: only the shape is floating. */
		double x = -log(1.0 - sim_rng_unit(rng)) * (double)amount->a;
		double top = PS_MIN(20.0 * (double)amount->a, (double)PSP_AMOUNT_MAX);
		int64_t v = x >= top ? (int64_t)top : (int64_t)x;
		return v < 1 ? 1 : v;
	}
	default:
		return amount->a;
	}
}

/* ---- accounts ------------------------------------------------------------ */

int psp_accounts_generate(psp_accounts_t *acc, const char *prefixes,
			  uint32_t per_bank, uint32_t merchants,
			  uint32_t digits, char *err, size_t cap)
{
	memset(acc, 0, sizeof(*acc));
	if (digits < 2 || digits > PSP_ACCOUNT_DIGITS_MAX)
		return sim_fail(err, cap, PS_EINVAL, "account digits must be 2 to %d",
				PSP_ACCOUNT_DIGITS_MAX);
	const char *p = prefixes;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (acc->banks == PSP_BANKS_MAX)
			return sim_fail(err, cap, PS_EINVAL, "at most %d bank prefixes",
					PSP_BANKS_MAX);
		if (len == 0 || len >= digits || !ps_is_digits(p, len))
			return sim_fail(err, cap, PS_EINVAL, "bank prefix \"%.*s\": must be "
					"digits, shorter than the %u-digit account numbers",
					(int)len, p, digits);
		memcpy(acc->prefix[acc->banks], p, len);
		acc->prefix[acc->banks][len] = '\0';
		acc->banks++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (acc->banks == 0)
		return sim_fail(err, cap, PS_EINVAL, "no bank prefix");
	for (uint32_t b = 0; b < acc->banks; b++) {
		uint32_t room = digits - (uint32_t)strlen(acc->prefix[b]);
		uint64_t span = 1;
		for (uint32_t i = 0; i < room && span <= UINT32_MAX; i++)
			span *= 10;
		if (per_bank == 0 || per_bank > span)
			return sim_fail(err, cap, PS_EINVAL, "%u accounts per bank do not "
					"fit in %u digits after prefix %s", per_bank, room,
					acc->prefix[b]);
	}
	if (merchants > per_bank)
		return sim_fail(err, cap, PS_EINVAL, "merchants per bank (%u) exceed the "
				"accounts per bank (%u)", merchants, per_bank);
	if (acc->banks == 1 && per_bank < 2)
		return sim_fail(err, cap, PS_EINVAL, "one bank needs at least 2 accounts: "
				"a payer and a payee must differ");
	acc->per_bank = per_bank;
	acc->merchants = merchants;
	acc->digits = digits;
	return 0;
}

/* Adds one account number to a list being read; false when it is none. */
static bool list_add(psp_account_no_t *list, uint32_t *n, const char *s,
		     size_t len)
{
	if (len == 0 || len > PSP_ACCOUNT_DIGITS_MAX || !ps_is_digits(s, len) ||
	    *n >= PSP_ACCOUNTS_LIST_MAX)
		return false;
	memcpy(list[*n], s, len);
	list[*n][len] = '\0';
	(*n)++;
	return true;
}

static int load_json(const char *path, const char *text, size_t len,
		     psp_account_no_t *list, uint32_t *n, char *err, size_t cap)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (root == NULL)
		return sim_fail(err, cap, PS_EINVAL, "%s: line %d: %s", path, jerr.line,
				jerr.text);
	json_t *arr = json_is_object(root) ? json_object_get(root, "accounts") : root;
	int rc = json_is_array(arr) ? 0 : PS_EINVAL;
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		const char *s = json_string_value(json_object_get(item, "account"));
		if (rc != 0 || s == NULL || !list_add(list, n, s, strlen(s))) {
			rc = PS_EINVAL;
			break;
		}
	}
	json_decref(root);
	if (rc != 0)
		return sim_fail(err, cap, PS_EINVAL, "%s: must be a JSON array of "
				"{\"account\": \"DIGITS\"} (or {\"accounts\": [...]})", path);
	return 0;
}

static int load_lines(const char *path, const char *text, psp_account_no_t *list,
		      uint32_t *n, char *err, size_t cap)
{
	uint32_t line_no = 0;
	for (const char *p = text; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		line_no++;
		size_t l = len;
		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l > 0 && p[0] != '#' && !list_add(list, n, p, l))
			return sim_fail(err, cap, PS_EINVAL, "%s: line %u: must be an "
					"account number (1 to %d digits)", path, line_no,
					PSP_ACCOUNT_DIGITS_MAX);
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static int load_list(const char *path, psp_account_no_t **out, uint32_t *count,
		     char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	int rc = sim_file_read(path, PSP_ACCOUNTS_FILE_BYTES_MAX, &text, &len);
	if (rc != 0)
		return sim_fail(err, cap, PS_EINVAL, "%s: %s", path,
				rc == PS_ELIMIT ? "larger than 256 MiB" : "cannot read the file");
	/* Every account takes two bytes of the file at least ("1\n"). */
	size_t most = PS_MIN(len / 2 + 1, (size_t)PSP_ACCOUNTS_LIST_MAX);
	psp_account_no_t *list = calloc(most, sizeof(*list));
	if (list == NULL) {
		free(text);
		return sim_fail(err, cap, PS_ENOMEM, "%s: no memory for its accounts", path);
	}
	uint32_t n = 0;
	size_t skip = strspn(text, " \t\r\n");
	if (text[skip] == '[' || text[skip] == '{')
		rc = load_json(path, text, len, list, &n, err, cap);
	else
		rc = load_lines(path, text, list, &n, err, cap);
	free(text);
	if (rc == 0 && n == 0)
		rc = sim_fail(err, cap, PS_EINVAL, "%s: holds no account", path);
	if (rc != 0) {
		free(list);
		return rc;
	}
	*out = list;
	*count = n;
	return 0;
}

int psp_accounts_load(psp_accounts_t *acc, const char *payers_path,
		      const char *payees_path, char *err, size_t cap)
{
	memset(acc, 0, sizeof(*acc));
	int rc = load_list(payers_path, &acc->payer, &acc->payers, err, cap);
	if (rc != 0)
		return rc;
	if (payees_path == NULL || payees_path[0] == '\0') {
		acc->payee = acc->payer;
		acc->payees = acc->payers;
		acc->payee_is_payer = true;
		if (acc->payers < 2) {
			psp_accounts_free(acc);
			return sim_fail(err, cap, PS_EINVAL, "%s: one account cannot pay "
					"itself: give two or more, or --payees", payers_path);
		}
		return 0;
	}
	rc = load_list(payees_path, &acc->payee, &acc->payees, err, cap);
	if (rc != 0)
		psp_accounts_free(acc);
	return rc;
}

void psp_accounts_free(psp_accounts_t *acc)
{
	if (acc->payee != acc->payer)
		free(acc->payee);
	free(acc->payer);
	acc->payer = acc->payee = NULL;
}

static uint32_t below(sim_rng_t *rng, uint32_t n)
{
	return (uint32_t)(sim_rng_next(rng) % n);
}

void psp_accounts_draw(const psp_accounts_t *acc, sim_rng_t *rng,
		       uint32_t *payer, uint32_t *payee)
{
	if (acc->banks == 0) {
		*payer = below(rng, acc->payers);
		*payee = below(rng, acc->payees);
		/* The same account on both sides is refused by the switch
		 * (30); the next one of the list is never it. Lists with one
		 * account repeated could still give it: that answer shows. */
		if (strcmp(acc->payer[*payer], acc->payee[*payee]) == 0)
			*payee = (*payee + 1) % acc->payees;
		return;
	}
	uint32_t bank = below(rng, acc->banks);
	uint32_t other = bank;
	if (acc->banks > 1)
		other = (bank + 1 + below(rng, acc->banks - 1)) % acc->banks;
	uint32_t i = below(rng, acc->per_bank);
	uint32_t j = below(rng, acc->merchants > 0 ? acc->merchants : acc->per_bank);
	if (other == bank && i == j)
		j = (j + 1) % acc->per_bank;
	*payer = bank * acc->per_bank + i;
	*payee = other * acc->per_bank + j;
}

void psp_account_format(const psp_accounts_t *acc, bool is_payee,
			uint32_t index, psp_account_no_t out)
{
	if (acc->banks == 0) {
		const psp_account_no_t *list = is_payee ? acc->payee : acc->payer;
		memcpy(out, list[index], sizeof(psp_account_no_t));
		return;
	}
	uint32_t bank = index / acc->per_bank;
	PS_ASSERT(bank < acc->banks);
	size_t plen = strlen(acc->prefix[bank]);
	memcpy(out, acc->prefix[bank], plen);
	int rc = ps_format_u64(out + plen, acc->digits - plen, index % acc->per_bank);
	PS_ASSERT(rc == 0); /* checked to fit by psp_accounts_generate */
	out[acc->digits] = '\0';
}
