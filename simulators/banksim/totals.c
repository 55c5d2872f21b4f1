/*
 * totals.c: settlement dates, forwarders and their slots, the accounts of
 * the totals per (date, forwarder), and the reads that answer a 0500
 * (totals.h).
 */
#include "totals.h"

#include <inttypes.h>
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

/* ---- forwarders ------------------------------------------------------------ */

uint64_t bank_forwarder_of(const char *text)
{
	uint64_t v = 0;
	size_t len = strlen(text);
	/* The adapters let through 1-11 digits only; anything else would
	 * be no forwarder rather than a malformed id. */
	if (len == 0 || len > 11 || ps_parse_u64(text, len, &v) != 0)
		return 0;
	return v;
}

void bank_forwarder_format(uint64_t forwarder,
			   char out[BANK_FORWARDER_TEXT_MAX])
{
	PS_ASSERT(forwarder <= BANK_FORWARDER_OTHER);
	if (forwarder == BANK_FORWARDER_OTHER)
		snprintf(out, BANK_FORWARDER_TEXT_MAX, "other");
	else
		snprintf(out, BANK_FORWARDER_TEXT_MAX, "%" PRIu64, forwarder);
}

/* The slot of a forwarder kept apart; false for one that has none. */
static bool find_slot(const bank_t *bank, uint64_t forwarder, uint32_t *slot)
{
	/* At most 64 compares, on a request that counts: no index needed. */
	for (uint32_t i = 0; i < bank->forwarder_count; i++) {
		if (bank->forwarders[i] == forwarder) {
			*slot = i + 1;
			return true;
		}
	}
	return false;
}

bool bank_totals_full(const bank_t *bank)
{
	return bank->forwarder_count == BANK_FORWARDERS_MAX;
}

bool bank_totals_known(const bank_t *bank, uint64_t forwarder)
{
	uint32_t slot;
	return forwarder == 0 || find_slot(bank, forwarder, &slot);
}

static void log_full(uint64_t forwarder)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "forwarders_full");
	ps_log_uint(l, "forwarder", forwarder);
	ps_log_uint(l, "forwarders_max", BANK_FORWARDERS_MAX);
	ps_log_str(l, "detail", "totals are kept apart for this many "
				"forwarders; this one and any further ones "
				"count in the shared bucket \"other\", and a "
				"0500 from them is answered 12");
	ps_log_end(l);
}

uint32_t bank_totals_slot(bank_t *bank, uint64_t forwarder)
{
	PS_ASSERT(forwarder <= BANK_FORWARDER_MAX);
	if (forwarder == 0)
		return BANK_TOTALS_SLOT_NONE;
	uint32_t slot;
	if (find_slot(bank, forwarder, &slot))
		return slot;
	if (!bank_totals_full(bank)) {
		bank->forwarders[bank->forwarder_count++] = forwarder;
		return bank->forwarder_count;
	}
	if (!bank->forwarders_full_logged) {
		bank->forwarders_full_logged = true;
		log_full(forwarder);
	}
	return BANK_TOTALS_SLOT_OTHER;
}

uint64_t bank_totals_slot_forwarder(const bank_t *bank, uint32_t slot)
{
	if (slot == BANK_TOTALS_SLOT_NONE)
		return 0;
	if (slot == BANK_TOTALS_SLOT_OTHER)
		return BANK_FORWARDER_OTHER;
	PS_ASSERT(slot <= bank->forwarder_count);
	return bank->forwarders[slot - 1];
}

/* ---- tags --------------------------------------------------------------------- */

/* "1" and 15 digits: the forwarder's 11, then MMDD. A tag from before
 * forwarders were kept is MMDD alone, below it. */
#define TAG_BASE UINT64_C(1000000000000000)

uint64_t bank_totals_tag(uint16_t date, uint64_t forwarder)
{
	PS_ASSERT(date <= BANK_DATE_MAX && forwarder <= BANK_FORWARDER_MAX);
	return TAG_BASE + forwarder * 10000 + date;
}

bool bank_totals_tag_parse(uint64_t tag, uint16_t *date, uint64_t *forwarder,
			   bool *has_date)
{
	*has_date = false;
	if (tag >= TAG_BASE && tag < 2 * TAG_BASE &&
	    bank_date_valid(tag % 10000)) {
		*date = (uint16_t)(tag % 10000);
		*forwarder = (tag - TAG_BASE) / 10000;
		*has_date = true;
		return true;
	}
	if (tag != 0 && bank_date_valid(tag)) {
		*date = (uint16_t)tag;
		*has_date = true;
	}
	return false;
}

/* ---- accounts --------------------------------------------------------------- */

/* No forwarder: "2" MMDD T M, 2000000 + MMDD * 100 + T * 10 + M, as
 * before forwarders were kept. A forwarder F: "3" F(11) MMDD T M,
 * FORWARDER_BASE + F * 10^6 + the same; F = 0 there is "other". */
#define TOTALS_ID_BASE 2000000u
#define FORWARDER_BASE UINT64_C(300000000000000000)
#define FORWARDER_STEP UINT64_C(1000000)

/* MMDD T M, the last six digits of every totals id. */
static uint64_t tail_of(uint16_t date, int total, bool amount)
{
	PS_ASSERT(date >= 101 && date <= BANK_DATE_MAX);
	PS_ASSERT(total >= BANK_TOTAL_CREDITS && total <= BANK_TOTAL_KINDS);
	return (uint64_t)date * 100 + (uint64_t)total * 10 + (amount ? 1 : 0);
}

ledger_id_t bank_totals_account_id(uint16_t date, uint64_t forwarder,
				   int total, bool amount)
{
	PS_ASSERT(forwarder <= BANK_FORWARDER_OTHER);
	uint64_t tail = tail_of(date, total, amount);
	if (forwarder == 0)
		return ledger_id_from_u64(TOTALS_ID_BASE + tail);
	uint64_t f = forwarder == BANK_FORWARDER_OTHER ? 0 : forwarder;
	return ledger_id_from_u64(FORWARDER_BASE + f * FORWARDER_STEP + tail);
}

/* The six digits MMDD T M, when they name a date, a total and a measure. */
static bool tail_parse(uint64_t v, uint16_t *date, int *total, bool *amount)
{
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

bool bank_totals_account_of(ledger_id_t id, uint16_t *date,
			    uint64_t *forwarder, int *total, bool *amount)
{
	if (id.hi != 0)
		return false;
	if (id.lo >= TOTALS_ID_BASE && id.lo < TOTALS_ID_BASE + 1000000u) {
		*forwarder = 0;
		return tail_parse(id.lo - TOTALS_ID_BASE, date, total, amount);
	}
	if (id.lo >= FORWARDER_BASE &&
	    id.lo < FORWARDER_BASE + (BANK_FORWARDER_MAX + 1) * FORWARDER_STEP) {
		uint64_t f = (id.lo - FORWARDER_BASE) / FORWARDER_STEP;
		*forwarder = f == 0 ? BANK_FORWARDER_OTHER : f;
		return tail_parse(id.lo % FORWARDER_STEP, date, total, amount);
	}
	return false;
}

int bank_totals_load(bank_t *bank)
{
	/* The ids of the forwarders' totals sort by forwarder: read the
	 * first account of each, then skip past it. */
	ledger_id_t after = ledger_id_from_u64(FORWARDER_BASE - 1);
	const uint64_t end = FORWARDER_BASE +
			     (BANK_FORWARDER_MAX + 1) * FORWARDER_STEP;
	for (;;) {
		ledger_account_t a;
		uint32_t n = 0;
		int rc = ledger_scan_accounts(bank->ledger, after, &a, 1, &n);
		if (rc != 0)
			return rc;
		if (n == 0 || a.id.hi != 0 || a.id.lo >= end)
			return 0;
		uint16_t date;
		uint64_t forwarder;
		int total;
		bool amount;
		if (a.code != BANK_ACODE_TOTALS ||
		    !bank_totals_account_of(a.id, &date, &forwarder, &total,
					    &amount)) {
			after = a.id; /* not ours: step over it */
			continue;
		}
		uint64_t f = forwarder == BANK_FORWARDER_OTHER ? 0 : forwarder;
		if (forwarder != BANK_FORWARDER_OTHER) {
			if (bank_totals_full(bank))
				return PS_ELIMIT;
			bank->forwarders[bank->forwarder_count++] = forwarder;
		}
		after = ledger_id_from_u64(FORWARDER_BASE +
					   (f + 1) * FORWARDER_STEP - 1);
	}
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

/* A (date, total)'s bit in its slot's bitmap. */
static uint32_t bit_of(uint16_t date, int total)
{
	return (uint32_t)date * BANK_TOTAL_KINDS + (uint32_t)(total - 1);
}

#define PAIRS_PER_SLOT ((BANK_DATE_MAX + 1) * BANK_TOTAL_KINDS)

uint32_t bank_totals_pair(uint32_t slot, uint16_t date, int total)
{
	PS_ASSERT(slot < BANK_TOTALS_SLOTS && date <= BANK_DATE_MAX);
	return slot * PAIRS_PER_SLOT + bit_of(date, total);
}

bool bank_totals_ready(const bank_t *bank, uint32_t slot, uint16_t date,
		       int total)
{
	uint32_t p = bit_of(date, total);
	return (bank->totals_ready[slot][p / 8] >> (p % 8)) & 1u;
}

/* One ledger call for count pairs: 2 * count accounts. */
static int ensure_some(bank_t *bank, const uint32_t *pairs, uint32_t count,
		       ledger_account_t *scratch, ledger_result_t *results)
{
	for (uint32_t i = 0; i < count; i++) {
		uint32_t slot = pairs[i] / PAIRS_PER_SLOT;
		uint32_t p = pairs[i] % PAIRS_PER_SLOT;
		uint16_t date = (uint16_t)(p / BANK_TOTAL_KINDS);
		int total = (int)(p % BANK_TOTAL_KINDS) + 1;
		uint64_t forwarder = bank_totals_slot_forwarder(bank, slot);
		for (int m = 0; m < 2; m++) {
			ledger_account_t *a = &scratch[2 * i + (uint32_t)m];
			memset(a, 0, sizeof(*a));
			a->id = bank_totals_account_id(date, forwarder, total,
						       m == 1);
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
	for (uint32_t i = 0; i < count; i++) {
		uint32_t slot = pairs[i] / PAIRS_PER_SLOT;
		uint32_t p = pairs[i] % PAIRS_PER_SLOT;
		bank->totals_ready[slot][p / 8] |= (uint8_t)(1u << (p % 8));
	}
	return 0;
}

int bank_totals_ensure(bank_t *bank, const uint32_t *pairs, uint32_t count,
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

/* What one account of a total holds: its credits posted (0 when the
 * account was never created). */
static int read_one(bank_t *bank, ledger_id_t id, uint64_t *out)
{
	ledger_account_t a;
	int rc = ledger_account_get(bank->ledger, id, &a);
	*out = rc == 0 ? a.credits_posted : 0;
	return rc == PS_ENOTFOUND ? 0 : rc;
}

/* The raw sums, before they are fitted to the wire's fields. */
typedef struct sums {
	uint64_t count[BANK_TOTAL_KINDS + 1];
	unsigned __int128 amount[BANK_TOTAL_KINDS + 1];
} sums_t;

static int add_forwarder(bank_t *bank, uint16_t date, uint64_t forwarder,
			 sums_t *s)
{
	for (int total = 1; total <= BANK_TOTAL_KINDS; total++) {
		uint64_t count, amount;
		int rc;
		if ((rc = read_one(bank, bank_totals_account_id(date, forwarder,
								total, false),
				   &count)) ||
		    (rc = read_one(bank, bank_totals_account_id(date, forwarder,
								total, true),
				   &amount)))
			return rc;
		/* 66 buckets of at most 2^64 each: no overflow in either. */
		s->count[total] += count < UINT64_MAX - s->count[total]
					   ? count
					   : UINT64_MAX - s->count[total];
		s->amount[total] += amount;
	}
	return 0;
}

/* A count of more than 2^32 - 1 in a day is beyond field 74's n10 anyway,
 * and an amount beyond INT64_MAX beyond 86's n16: they saturate. */
static void fit(const sums_t *s, txn_totals_t *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t *counts[BANK_TOTAL_KINDS + 1] = {
		NULL, &out->credits, &out->credit_reversals, &out->debits,
		&out->debit_reversals};
	int64_t *amounts[BANK_TOTAL_KINDS + 1] = {
		NULL, &out->credits_amount, &out->credit_reversals_amount,
		&out->debits_amount, &out->debit_reversals_amount};
	for (int total = 1; total <= BANK_TOTAL_KINDS; total++) {
		*counts[total] = s->count[total] > UINT32_MAX
					 ? UINT32_MAX
					 : (uint32_t)s->count[total];
		*amounts[total] = s->amount[total] > INT64_MAX
					  ? INT64_MAX
					  : (int64_t)s->amount[total];
	}
	/* In 128 bits: four sums of up to INT64_MAX each cannot overflow it,
	 * and the wire (x+n16) could not show more than int64_t anyway. */
	__int128 net = (__int128)out->credits_amount -
		       out->credit_reversals_amount - out->debits_amount +
		       out->debit_reversals_amount;
	out->net = net > INT64_MAX ? INT64_MAX
		   : net < -INT64_MAX ? -INT64_MAX
				      : (int64_t)net;
}

int bank_totals_read(bank_t *bank, uint16_t date, uint64_t forwarder,
		     txn_totals_t *out)
{
	sums_t s;
	memset(&s, 0, sizeof(s));
	int rc = add_forwarder(bank, date, forwarder, &s);
	if (rc != 0)
		return rc;
	fit(&s, out);
	return 0;
}

int bank_totals_read_all(bank_t *bank, uint16_t date, txn_totals_t *out)
{
	/* Every slot: the book's forwarders are all in the table (they were
	 * loaded at open, and added since as they counted). */
	sums_t s;
	memset(&s, 0, sizeof(s));
	int rc = add_forwarder(bank, date, 0, &s);
	for (uint32_t i = 0; rc == 0 && i < bank->forwarder_count; i++)
		rc = add_forwarder(bank, date, bank->forwarders[i], &s);
	if (rc == 0)
		rc = add_forwarder(bank, date, BANK_FORWARDER_OTHER, &s);
	if (rc != 0)
		return rc;
	fit(&s, out);
	return 0;
}
