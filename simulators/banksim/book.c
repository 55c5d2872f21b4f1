/*
 * book.c: the bank's ledger accounts, the ids of accounts and transfers,
 * the idempotent set-up at start, balances, and the read-only reports
 * (--dump-balances, --check-ledger).
 */
#include "book.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "totals.h"

typedef unsigned __int128 u128;

/* ---- ids ------------------------------------------------------------------- */

ledger_id_t bank_account_id(const char *number, size_t len)
{
	PS_ASSERT(bank_account_number_valid(number, len));
	u128 v = 1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (u128)(number[i] - '0');
	ledger_id_t id = {(uint64_t)(v >> 64), (uint64_t)v};
	return id;
}

bool bank_account_number_of(ledger_id_t id,
			    char out[BANK_ACCOUNT_DIGITS_MAX + 1])
{
	char text[LEDGER_ID_TEXT_MAX];
	ledger_id_format(id, text);
	size_t len = strlen(text);
	if (text[0] != '1' || len < 2 || len > BANK_ACCOUNT_DIGITS_MAX + 1)
		return false;
	memcpy(out, text + 1, len);
	return true;
}

void bank_request_key(const char *acquirer, uint32_t stan,
		      const char *transmit, char out[BANK_KEY_MAX])
{
	uint64_t acq = 0;
	/* An acquirer that is not digits cannot come through the adapter;
	 * if it did, 0 keeps the key well formed. */
	if (ps_parse_u64(acquirer, strlen(acquirer), &acq) != 0)
		acq = 0;
	snprintf(out, BANK_KEY_MAX, "%" PRIu64 ":%06" PRIu32 ":%.10s", acq,
		 stan % 1000000, transmit);
}

size_t bank_transfer_text(int step, const char *key,
			  char out[BANK_TRANSFER_TEXT_MAX])
{
	static const char *const prefixes[] = {
		[BANK_STEP_MONEY] = "",      [BANK_STEP_SEEN] = "seen:",
		[BANK_STEP_TOMBSTONE] = "tomb:", [BANK_STEP_POST] = "post:",
		[BANK_STEP_VOID] = "void:",  [BANK_STEP_REVERSE] = "rev:",
		[BANK_STEP_OPENING] = "open:",
	};
	PS_ASSERT(step >= 0 && (size_t)step < PS_ARRAY_LEN(prefixes));
	int n = snprintf(out, BANK_TRANSFER_TEXT_MAX, "%s%s", prefixes[step],
			 key);
	PS_ASSERT(n > 0 && n < BANK_TRANSFER_TEXT_MAX);
	return (size_t)n;
}

ledger_id_t bank_transfer_id(int step, const char *key)
{
	char text[BANK_TRANSFER_TEXT_MAX];
	size_t n = bank_transfer_text(step, key, text);
	return ledger_id_from_text(text, n);
}

/* ---- opening ---------------------------------------------------------------- */

int bank_book_open(bank_t *bank, const char *dir, uint32_t durability,
		   uint32_t batch_max, char *err, size_t err_cap)
{
	/* A fresh handle knows of no totals accounts yet (totals.h). */
	memset(bank->totals_ready, 0, sizeof(bank->totals_ready));
	memset(bank->forwarders, 0, sizeof(bank->forwarders));
	bank->forwarder_count = 0;
	bank->forwarders_full_logged = false;
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = durability;
	o.batch_max = batch_max;
	int rc = ledger_open(&bank->ledger, dir, &o);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "ledger %s: %s", dir,
			    ledger_strerror(rc));
	rc = bank_totals_load(bank);
	if (rc != 0) {
		ledger_close(bank->ledger);
		bank->ledger = NULL;
		return sim_fail(err, err_cap, rc, "ledger %s: reading the "
			    "forwarders of its totals: %s", dir,
			    rc == PS_ELIMIT ? "it holds more than "
					      "BANK_FORWARDERS_MAX (64)"
					    : ledger_strerror(rc));
	}
	return 0;
}

void bank_book_close(bank_t *bank)
{
	ledger_close(bank->ledger);
	bank->ledger = NULL;
	bank_accounts_free(&bank->accounts);
}

/* ---- set-up ------------------------------------------------------------------ */

static ledger_account_t account_record(ledger_id_t id, uint32_t ledger,
				       uint16_t code, uint16_t flags)
{
	ledger_account_t a = {.id = id, .ledger = ledger, .code = code,
			      .flags = flags};
	return a;
}

/* Creates count accounts; each must be new or already there as given. */
static int create_accounts(bank_t *bank, const ledger_account_t *list,
			   uint32_t count, ledger_result_t *results,
			   char *err, size_t cap)
{
	int rc = ledger_create_accounts(bank->ledger, list, count, results);
	if (rc != 0)
		return sim_fail(err, cap, rc, "creating accounts: %s",
			    ledger_strerror(rc));
	for (uint32_t i = 0; i < count; i++) {
		uint32_t r = results[i].result;
		if (r == LEDGER_ACCOUNT_OK || r == LEDGER_ACCOUNT_EXISTS)
			continue;
		/* A customer's id holds its number: masked, like in logs. */
		char id[LEDGER_ID_TEXT_MAX], masked[LEDGER_ID_TEXT_MAX];
		ledger_id_format(list[i].id, id);
		ps_mask_pan(id, strlen(id), masked);
		return sim_fail(err, cap, PS_EEXIST,
			    "ledger account %s: %s (was this ledger directory "
			    "made with another currency or by another "
			    "program?)", masked, ledger_account_result_name(r));
	}
	return 0;
}

static int setup_internal(bank_t *bank, ledger_result_t *results, char *err,
			  size_t cap)
{
	const ledger_account_t own[] = {
		account_record(ledger_id_from_u64(BANK_ID_CLEARING),
			       bank->currency, BANK_ACODE_CLEARING, 0),
		account_record(ledger_id_from_u64(BANK_ID_EQUITY),
			       bank->currency, BANK_ACODE_EQUITY, 0),
		account_record(ledger_id_from_u64(BANK_ID_MEMO_ISSUED),
			       BANK_LEDGER_MEMO, BANK_ACODE_MEMO, 0),
		account_record(ledger_id_from_u64(BANK_ID_MEMO_HELD),
			       BANK_LEDGER_MEMO, BANK_ACODE_MEMO, 0),
		/* The sources of the totals (totals.h); a book made before
		 * totals were kept gets them at its next start. */
		account_record(ledger_id_from_u64(BANK_ID_TOTALS_COUNTS),
			       BANK_LEDGER_MEMO, BANK_ACODE_MEMO, 0),
		account_record(ledger_id_from_u64(BANK_ID_TOTALS_AMOUNTS),
			       BANK_LEDGER_MEMO, BANK_ACODE_MEMO, 0),
	};
	return create_accounts(bank, own, PS_ARRAY_LEN(own), results, err,
			       cap);
}

static int setup_customers(bank_t *bank, ledger_account_t *scratch,
			   ledger_result_t *results, uint32_t batch,
			   char *err, size_t cap)
{
	const bank_accounts_t *a = &bank->accounts;
	for (uint32_t start = 0; start < a->count; start += batch) {
		uint32_t n = PS_MIN(batch, a->count - start);
		for (uint32_t i = 0; i < n; i++) {
			const bank_account_t *acc = &a->list[start + i];
			scratch[i] = account_record(
				bank_account_id(acc->number, acc->len),
				bank->currency, BANK_ACODE_CUSTOMER,
				LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
		}
		int rc = create_accounts(bank, scratch, n, results, err, cap);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Logs opening balances the ledger holds differently from the file. */
static void log_opening_kept(const bank_account_t *acc)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "opening_balance_kept");
	ps_log_pan(l, "account", acc->number, acc->len);
	ps_log_int(l, "file_balance", acc->balance);
	ps_log_str(l, "detail", "the ledger already holds another opening "
				"balance for this account; it is kept");
	ps_log_end(l);
}

static int open_batch(bank_t *bank, ledger_transfer_t *xfers,
		      const bank_account_t **owners, uint32_t n,
		      ledger_result_t *results, char *err, size_t cap)
{
	int rc = ledger_create_transfers(bank->ledger, xfers, n, results);
	if (rc != 0)
		return sim_fail(err, cap, rc, "opening balances: %s",
			    ledger_strerror(rc));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r = results[i].result;
		if (ledger_transfer_result_is_success(r))
			continue;
		if (r == LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT) {
			log_opening_kept(owners[i]);
			continue;
		}
		char masked[BANK_ACCOUNT_DIGITS_MAX + 1];
		ps_mask_pan(owners[i]->number, owners[i]->len, masked);
		return sim_fail(err, cap, PS_EEXIST, "opening balance of %s: %s",
			    masked, ledger_transfer_result_name(r));
	}
	return 0;
}

static int setup_openings(bank_t *bank, ledger_transfer_t *xfers,
			  const bank_account_t **owners,
			  ledger_result_t *results, uint32_t batch,
			  char *err, size_t cap)
{
	const bank_accounts_t *a = &bank->accounts;
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->count; i++) {
		const bank_account_t *acc = &a->list[i];
		if (acc->balance == 0)
			continue;
		ledger_transfer_t *t = &xfers[n];
		memset(t, 0, sizeof(*t));
		t->id = bank_transfer_id(BANK_STEP_OPENING, acc->number);
		t->debit_account_id = ledger_id_from_u64(BANK_ID_EQUITY);
		t->credit_account_id = bank_account_id(acc->number, acc->len);
		t->amount = (uint64_t)acc->balance;
		t->ledger = bank->currency;
		t->code = BANK_XCODE_OPENING;
		owners[n++] = acc;
		if (n == batch) {
			int rc = open_batch(bank, xfers, owners, n, results,
					    err, cap);
			if (rc != 0)
				return rc;
			n = 0;
		}
	}
	return n == 0 ? 0 : open_batch(bank, xfers, owners, n, results, err, cap);
}

int bank_book_setup(bank_t *bank, char *err, size_t err_cap)
{
	uint32_t batch = ledger_batch_max(bank->ledger);
	/* Start-up scratch, freed before the first request. */
	ledger_account_t *accs = calloc(batch, sizeof(*accs));
	ledger_transfer_t *xfers = calloc(batch, sizeof(*xfers));
	const bank_account_t **owners = calloc(batch, sizeof(*owners));
	ledger_result_t *results = calloc(batch, sizeof(*results));
	int rc = PS_ENOMEM;
	if (accs && xfers && owners && results) {
		rc = setup_internal(bank, results, err, err_cap);
		if (rc == 0)
			rc = setup_customers(bank, accs, results, batch, err,
					     err_cap);
		if (rc == 0)
			rc = setup_openings(bank, xfers, owners, results, batch,
					    err, err_cap);
	} else {
		sim_fail(err, err_cap, rc, "no memory for the set-up batches");
	}
	free(accs);
	free(xfers);
	free(owners);
	free(results);
	return rc;
}

/* ---- balances and reports --------------------------------------------------- */

int bank_book_balance(bank_t *bank, ledger_id_t id, int64_t *available,
		      int64_t *posted)
{
	ledger_account_t a;
	int rc = ledger_account_get(bank->ledger, id, &a);
	if (rc != 0)
		return rc;
	/* The flag keeps debits_pending + debits_posted <= credits_posted,
	 * and every balance is at most LEDGER_AMOUNT_MAX: no overflow. */
	*posted = (int64_t)a.credits_posted - (int64_t)a.debits_posted;
	*available = *posted - (int64_t)a.debits_pending;
	return 0;
}

static const char *account_kind(const ledger_account_t *a)
{
	switch (a->code) {
	case BANK_ACODE_CUSTOMER: return "customer";
	case BANK_ACODE_CLEARING: return "clearing";
	case BANK_ACODE_EQUITY: return "equity";
	case BANK_ACODE_TOTALS: return "totals";
	case BANK_ACODE_MEMO: return "memo";
	}
	return "other";
}

static void dump_one(const ledger_account_t *a, FILE *out)
{
	char id[LEDGER_ID_TEXT_MAX], number[BANK_ACCOUNT_DIGITS_MAX + 1] = "";
	ledger_id_format(a->id, id);
	bool customer = a->code == BANK_ACODE_CUSTOMER &&
			bank_account_number_of(a->id, number);
	int64_t posted = (int64_t)a->credits_posted - (int64_t)a->debits_posted;
	fprintf(out, "{\"id\":\"%s\",\"kind\":\"%s\"", id, account_kind(a));
	if (customer)
		fprintf(out, ",\"account\":\"%s\"", number);
	uint16_t date;
	uint64_t forwarder;
	int total;
	bool amount;
	if (a->code == BANK_ACODE_TOTALS &&
	    bank_totals_account_of(a->id, &date, &forwarder, &total, &amount)) {
		char mmdd[5], fwd[BANK_FORWARDER_TEXT_MAX];
		bank_date_format(date, mmdd);
		bank_forwarder_format(forwarder, fwd);
		fprintf(out, ",\"date\":\"%s\",\"forwarder\":\"%s\","
			"\"total\":\"%s_%s\"", mmdd, fwd,
			bank_total_name(total), amount ? "amount" : "count");
	}
	fprintf(out, ",\"ledger\":%" PRIu32 ",\"debits_pending\":%" PRIu64
		",\"debits_posted\":%" PRIu64 ",\"credits_pending\":%" PRIu64
		",\"credits_posted\":%" PRIu64, a->ledger, a->debits_pending,
		a->debits_posted, a->credits_pending, a->credits_posted);
	if (customer)
		fprintf(out, ",\"posted\":%" PRId64 ",\"available\":%" PRId64,
			posted, posted - (int64_t)a->debits_pending);
	fprintf(out, "}\n");
}

int bank_book_dump(ledger_t *ledger, FILE *out)
{
	ledger_account_t page[256];
	ledger_id_t after = {0, 0};
	for (;;) {
		uint32_t n = 0;
		int rc = ledger_scan_accounts(ledger, after, page,
					      PS_ARRAY_LEN(page), &n);
		if (rc != 0)
			return rc;
		if (n == 0)
			return 0;
		for (uint32_t i = 0; i < n; i++)
			dump_one(&page[i], out);
		after = page[n - 1].id;
	}
}

int bank_book_check(ledger_t *ledger, FILE *out, bool *ok)
{
	ledger_check_report_t r;
	int rc = ledger_check(ledger, &r);
	if (rc != 0)
		return rc;
	*ok = r.ok;
	/* The detail is the ledger's own text; escape it for JSON. */
	char problem[LEDGER_CHECK_DETAIL_MAX * 2];
	size_t j = 0;
	for (size_t i = 0; r.first_problem[i] && j + 2 < sizeof(problem); i++) {
		char c = r.first_problem[i];
		if (c == '"' || c == '\\')
			problem[j++] = '\\';
		problem[j++] = (c >= 0x20 && c != 0x7f) ? c : ' ';
	}
	problem[j] = '\0';
	fprintf(out, "{\"ok\":%s,\"accounts\":%" PRIu64 ",\"transfers\":%" PRIu64
		",\"pending_open\":%" PRIu64 ",\"problems\":%" PRIu32
		",\"first_problem\":\"%s\"}\n", r.ok ? "true" : "false",
		r.accounts, r.transfers, r.pending_open, r.problems, problem);
	return 0;
}
