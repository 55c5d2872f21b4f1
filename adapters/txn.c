/*
 * txn.c: the canonical transaction's names, response codes, currency
 * codes and message numbers: the vocabulary every wire mapping shares.
 */
#include "adapters.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

void txn_init(txn_t *txn, int kind)
{
	memset(txn, 0, sizeof(*txn));
	txn->kind = (uint8_t)kind;
	txn->rc = TXN_RC_NONE;
	for (unsigned i = 0; i < TXN_LEGS_MAX; i++)
		txn->leg[i].rc = TXN_RC_NONE;
}

void txn_set_leg(txn_t *t, unsigned i, int kind, const char *account)
{
	PS_ASSERT(i < TXN_LEGS_MAX);
	txn_leg_t *l = &t->leg[i];
	memset(l, 0, sizeof(*l));
	l->kind = (uint8_t)kind;
	l->rc = TXN_RC_NONE;
	ps_strlcpy(l->account, account, sizeof(l->account));
	if (i + 1 > t->leg_count)
		t->leg_count = (uint8_t)(i + 1);
}

void txn_iso_request_id(const char *acquirer, uint32_t stan,
			const char *transmit, char out[65])
{
	snprintf(out, 65, "%s:%06u:%s", acquirer, (unsigned)(stan % 1000000),
		 transmit);
}

/* Writes v as exactly two digits. */
static void two_digits(char *out, int v)
{
	out[0] = (char)('0' + (v / 10) % 10);
	out[1] = (char)('0' + v % 10);
}

void txn_format_transmit(uint64_t wall_ms, char out[11])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	two_digits(out, tm.tm_mon + 1);
	two_digits(out + 2, tm.tm_mday);
	two_digits(out + 4, tm.tm_hour);
	two_digits(out + 6, tm.tm_min);
	two_digits(out + 8, tm.tm_sec);
	out[10] = '\0';
}

void txn_format_local(uint64_t wall_ms, char time_out[7], char date_out[5])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	localtime_r(&secs, &tm);
	two_digits(time_out, tm.tm_hour);
	two_digits(time_out + 2, tm.tm_min);
	two_digits(time_out + 4, tm.tm_sec);
	time_out[6] = '\0';
	two_digits(date_out, tm.tm_mon + 1);
	two_digits(date_out + 2, tm.tm_mday);
	date_out[4] = '\0';
}

void txn_format_rrn(uint64_t wall_ms, uint64_t seq, char out[13])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	out[0] = (char)('0' + (tm.tm_year + 1900) % 10);
	int yday = tm.tm_yday + 1;
	out[1] = (char)('0' + yday / 100 % 10);
	two_digits(out + 2, yday % 100);
	ps_format_u64(out + 4, 8, seq % 100000000u);
	out[12] = '\0';
}

static const char *const kind_names[TXN_KIND_COUNT] = {
	[TXN_KIND_NONE] = "none",
	[TXN_KIND_PAY] = "pay",
	[TXN_KIND_REFUND] = "refund",
	[TXN_KIND_QUERY] = "query",
	[TXN_KIND_PURCHASE] = "purchase",
	[TXN_KIND_REFUND_CREDIT] = "refund_credit",
	[TXN_KIND_CREDIT] = "credit",
	[TXN_KIND_BALANCE] = "balance",
	[TXN_KIND_REVERSAL] = "reversal",
	[TXN_KIND_COMPLETION] = "completion",
	[TXN_KIND_NETWORK] = "network",
	[TXN_KIND_RECON] = "recon",
	[TXN_KIND_PAYOUT] = "payout",
};

const char *txn_kind_name(int kind)
{
	if (kind < 0 || kind >= TXN_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

const char *txn_leg_state_name(int state)
{
	switch (state) {
	case TXN_LEG_NONE: return "none";
	case TXN_LEG_SENT: return "sent";
	case TXN_LEG_APPROVED: return "approved";
	case TXN_LEG_DECLINED: return "declined";
	case TXN_LEG_TIMEOUT: return "timeout";
	case TXN_LEG_REVERSED: return "reversed";
	case TXN_LEG_UNSENT: return "unsent";
	case TXN_LEG_COMPLETED: return "completed";
	}
	return "unknown";
}

/* ---- response codes ------------------------------------------------------ */

/* ISO 8583:1987 response codes the system uses (DESIGN.md, Messages). */
static const struct {
	uint8_t rc;
	const char *text;
} rc_meanings[] = {
	{TXN_RC_APPROVED, "approved"},
	{TXN_RC_DO_NOT_HONOUR, "do not honour"},
	{TXN_RC_IN_PROGRESS, "request in progress"},
	{TXN_RC_INVALID_TRANSACTION, "invalid transaction"},
	{TXN_RC_INVALID_AMOUNT, "invalid amount"},
	{TXN_RC_INVALID_ACCOUNT, "invalid card or account number"},
	{TXN_RC_NO_SUCH_ISSUER, "no such issuer"},
	{TXN_RC_NO_RECORD, "unable to locate record"},
	{TXN_RC_FORMAT_ERROR, "format error"},
	{TXN_RC_INSUFFICIENT_FUNDS, "insufficient funds"},
	{TXN_RC_EXPIRED_CARD, "expired card"},
	{TXN_RC_INCORRECT_PIN, "incorrect PIN"},
	{TXN_RC_NOT_PERMITTED, "transaction not permitted"},
	{TXN_RC_NOT_PERMITTED_HERE, "transaction not permitted to terminal"},
	{TXN_RC_OVER_LIMIT, "exceeds amount limit"},
	{TXN_RC_SECURITY_VIOLATION, "security violation"},
	{TXN_RC_TOO_LATE, "response received too late"},
	{TXN_RC_INOPERATIVE, "issuer or switch inoperative"},
	{TXN_RC_DUPLICATE, "duplicate transmission"},
	{TXN_RC_SYSTEM_MALFUNCTION, "system malfunction"},
};

void txn_rc_text(uint8_t rc, char out[3])
{
	if (rc > 99)
		rc = TXN_RC_SYSTEM_MALFUNCTION;
	out[0] = (char)('0' + rc / 10);
	out[1] = (char)('0' + rc % 10);
	out[2] = '\0';
}

int txn_rc_parse(const char *text, uint8_t *out)
{
	unsigned char a = (unsigned char)text[0];
	unsigned char b = a != 0 ? (unsigned char)text[1] : 0;
	if (a < 0x21 || a > 0x7e || b < 0x21 || b > 0x7e || text[2] != '\0')
		return PS_EFORMAT;
	if (a >= '0' && a <= '9' && b >= '0' && b <= '9')
		*out = (uint8_t)((a - '0') * 10 + (b - '0'));
	else
		*out = TXN_RC_DO_NOT_HONOUR;
	return 0;
}

const char *txn_rc_meaning(uint8_t rc)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(rc_meanings); i++)
		if (rc_meanings[i].rc == rc)
			return rc_meanings[i].text;
	return "unknown response code";
}

const char *txn_rc_status(uint8_t rc)
{
	if (rc == TXN_RC_APPROVED)
		return "approved";
	if (rc == TXN_RC_FORMAT_ERROR || rc == TXN_RC_SYSTEM_MALFUNCTION)
		return "error";
	return "declined";
}

/* The currencies a Chinese switch meets; extend as networks need. */
static const struct {
	char alpha[4];
	uint16_t numeric;
} currencies[] = {
	{"CNY", 156}, {"HKD", 344}, {"MOP", 446}, {"TWD", 901},
	{"USD", 840}, {"EUR", 978}, {"JPY", 392}, {"GBP", 826},
	{"KRW", 410}, {"SGD", 702},
};

uint16_t txn_currency_parse(const char *alpha)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(currencies); i++)
		if (strcmp(alpha, currencies[i].alpha) == 0)
			return currencies[i].numeric;
	return 0;
}

const char *txn_currency_alpha(uint16_t numeric)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(currencies); i++)
		if (currencies[i].numeric == numeric)
			return currencies[i].alpha;
	return NULL;
}
