/*
 * totals.c: settlement dates, the accounts of the totals per date, and
 * the read that answers a 0500 (totals.h).
 */
#include "totals.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

/* ---- settlement dates ----------------------------------------------------- */

static bool is_date(uint32_t month, uint32_t day)
{
	/* Any year's: February has its 29th. */
	static const uint8_t days[13] = {0, 31, 29, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	return month >= 1 && month <= 12 && day >= 1 && day <= days[month];
}

bool bank_date_parse(const char *text, uint16_t *date)
{
	size_t len = strlen(text);
	if ((len != 4 && len != 8) || !ps_is_digits(text, len))
		return false;
	const char *mmdd = text + len - 4;
	uint32_t month = (uint32_t)(mmdd[0] - '0') * 10 + (uint32_t)(mmdd[1] - '0');
	uint32_t day = (uint32_t)(mmdd[2] - '0') * 10 + (uint32_t)(mmdd[3] - '0');
	if (!is_date(month, day))
		return false;
	*date = (uint16_t)(month * 100 + day);
	return true;
}

bool bank_date_valid(uint64_t date)
{
	return date <= BANK_DATE_MAX &&
	       is_date((uint32_t)(date / 100), (uint32_t)(date % 100));
}

uint16_t bank_date_of_wall(uint64_t wall_ms)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	return (uint16_t)((tm.tm_mon + 1) * 100 + tm.tm_mday);
}

void bank_date_format(uint16_t date, char out[5])
{
	PS_ASSERT(date <= BANK_DATE_MAX);
	ps_format_u64(out, 4, date);
	out[4] = '\0';
}

/* ---- accounts --------------------------------------------------------------- */

/* "2" MMDD T M as a number: 2000000 + MMDD * 100 + T * 10 + M. */
#define TOTALS_ID_BASE 2000000u

ledger_id_t bank_totals_account_id(uint16_t date, int total, bool amount)
{
	PS_ASSERT(date >= 101 && date <= BANK_DATE_MAX);
	PS_ASSERT(total >= BANK_TOTAL_CREDITS && total <= BANK_TOTAL_KINDS);
	return ledger_id_from_u64(TOTALS_ID_BASE + (uint64_t)date * 100 +
				  (uint64_t)total * 10 + (amount ? 1 : 0));
}

bool bank_totals_account_of(ledger_id_t id, uint16_t *date, int *total,
			    bool *amount)
{
	if (id.hi != 0 || id.lo < TOTALS_ID_BASE ||
	    id.lo >= TOTALS_ID_BASE + 1000000u)
		return false;
	uint64_t v = id.lo - TOTALS_ID_BASE;
	uint64_t m = v % 10, t = v / 10 % 10, d = v / 100;
	char text[5];
	if (m > 1 || t < BANK_TOTAL_CREDITS || t > BANK_TOTAL_KINDS)
		return false;
	ps_format_u64(text, 4, d);
	text[4] = '\0';
	uint16_t parsed;
	if (!bank_date_parse(text, &parsed))
		return false;
	*date = parsed;
	*total = (int)t;
	*amount = m == 1;
	return true;
}

const char *bank_total_name(int total)
{
	switch (total) {
	case BANK_TOTAL_CREDITS: return "credits";
	case BANK_TOTAL_CREDIT_REVERSALS: return "credit_reversals";
	case BANK_TOTAL_DEBITS: return "debits";
	case BANK_TOTAL_DEBIT_REVERSALS: return "debit_reversals";
	}
	return "unknown";
}

static uint32_t pair_of(uint16_t date, int total)
{
	return (uint32_t)date * BANK_TOTAL_KINDS + (uint32_t)(total - 1);
}

bool bank_totals_ready(const bank_t *bank, uint16_t date, int total)
{
	uint32_t p = pair_of(date, total);
	return (bank->totals_ready[p / 8] >> (p % 8)) & 1u;
}

/* One ledger call for count pairs: 2 * count accounts. */
static int ensure_some(bank_t *bank, const uint16_t *pairs, uint32_t count,
		       ledger_account_t *scratch, ledger_result_t *results)
{
	for (uint32_t i = 0; i < count; i++) {
		uint16_t date = (uint16_t)(pairs[i] / BANK_TOTAL_KINDS);
		int total = (int)(pairs[i] % BANK_TOTAL_KINDS) + 1;
		for (int m = 0; m < 2; m++) {
			ledger_account_t *a = &scratch[2 * i + (uint32_t)m];
			memset(a, 0, sizeof(*a));
			a->id = bank_totals_account_id(date, total, m == 1);
			a->ledger = BANK_LEDGER_MEMO;
			a->code = BANK_ACODE_TOTALS;
		}
	}
	int rc = ledger_create_accounts(bank->ledger, scratch, 2 * count,
					results);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < 2 * count; i++) {
		uint32_t r = results[i].result;
		if (r != LEDGER_ACCOUNT_OK && r != LEDGER_ACCOUNT_EXISTS)
			return PS_EEXIST;
	}
	for (uint32_t i = 0; i < count; i++)
		bank->totals_ready[pairs[i] / 8] |= (uint8_t)(1u << (pairs[i] % 8));
	return 0;
}

int bank_totals_ensure(bank_t *bank, const uint16_t *pairs, uint32_t count,
		       ledger_account_t *scratch, ledger_result_t *results)
{
	/* As many pairs per call as the handle's batch takes (--batch-max
	 * is at least 4: two pairs). */
	uint32_t step = ledger_batch_max(bank->ledger) / 2;
	PS_ASSERT(step >= 1);
	for (uint32_t done = 0; done < count; done += step) {
		int rc = ensure_some(bank, pairs + done,
				     PS_MIN(step, count - done), scratch,
				     results);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- counting and reading ----------------------------------------------------- */

ledger_id_t bank_totals_transfer_id(bool amount, int step, const char *key)
{
	char counted[BANK_TRANSFER_TEXT_MAX];
	bank_transfer_text(step, key, counted);
	char text[BANK_TRANSFER_TEXT_MAX + 8];
	int n = snprintf(text, sizeof(text), "%s:%s",
			 amount ? "amount" : "count", counted);
	PS_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return ledger_id_from_text(text, (size_t)n);
}

/* What one account of a date's total holds: its credits posted (0 when
 * the account was never created). */
static int read_one(bank_t *bank, uint16_t date, int total, bool amount,
		    uint64_t *out)
{
	ledger_account_t a;
	int rc = ledger_account_get(bank->ledger,
				    bank_totals_account_id(date, total, amount),
				    &a);
	*out = rc == 0 ? a.credits_posted : 0;
	return rc == PS_ENOTFOUND ? 0 : rc;
}

int bank_totals_read(bank_t *bank, uint16_t date, txn_totals_t *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t *counts[BANK_TOTAL_KINDS + 1] = {
		NULL, &out->credits, &out->credit_reversals, &out->debits,
		&out->debit_reversals};
	int64_t *amounts[BANK_TOTAL_KINDS + 1] = {
		NULL, &out->credits_amount, &out->credit_reversals_amount,
		&out->debits_amount, &out->debit_reversals_amount};
	for (int total = 1; total <= BANK_TOTAL_KINDS; total++) {
		uint64_t count, amount;
		int rc;
		if ((rc = read_one(bank, date, total, false, &count)) ||
		    (rc = read_one(bank, date, total, true, &amount)))
			return rc;
		/* A balance never passes LEDGER_AMOUNT_MAX (INT64_MAX); a
		 * count of more than 2^32 - 1 in a day is beyond field 74's
		 * n10 anyway: it saturates. */
		*counts[total] = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
		*amounts[total] = (int64_t)amount;
	}
	/* In 128 bits: four sums of up to INT64_MAX each cannot overflow it,
	 * and the wire (x+n16) could not show more than int64_t anyway. */
	__int128 net = (__int128)out->credits_amount -
		       out->credit_reversals_amount - out->debits_amount +
		       out->debit_reversals_amount;
	out->net = net > INT64_MAX ? INT64_MAX
		   : net < -INT64_MAX ? -INT64_MAX
				      : (int64_t)net;
	return 0;
}
