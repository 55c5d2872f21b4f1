/*
 * txn.c: the canonical transaction's names, response code texts and
 * currency codes: the vocabulary both wire mappings share.
 */
#include "adapters.h"

#include <string.h>
#include <time.h>

#include "core.h"

void txn_init(txn_t *txn, int kind)
{
	memset(txn, 0, sizeof(*txn));
	txn->format = TXN_FORMAT;
	txn->kind = (uint8_t)kind;
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
	[TXN_KIND_ECHO] = "echo",
	[TXN_KIND_HELLO] = "hello",
	[TXN_KIND_PURCHASE] = "purchase",
	[TXN_KIND_REFUND_CREDIT] = "refund_credit",
	[TXN_KIND_CREDIT] = "credit",
	[TXN_KIND_BALANCE] = "balance",
	[TXN_KIND_REVERSAL] = "reversal",
	[TXN_KIND_REVERSAL_ADVICE] = "reversal_advice",
	[TXN_KIND_COMPLETION] = "completion",
	[TXN_KIND_NETWORK] = "network",
	[TXN_KIND_RECON] = "recon",
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

static const char *const network_names[] = {"direct", "unionpay", "netclear"};

const char *txn_network_name(int network)
{
	if (network < 0 || network >= (int)PS_ARRAY_LEN(network_names))
		return "unknown";
	return network_names[network];
}

int txn_network_parse(const char *name)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(network_names); i++)
		if (strcmp(name, network_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ISO 8583:1987 response codes the system uses (DESIGN.md, Messages). */
static const struct {
	char code[3];
	const char *text;
} response_texts[] = {
	{"00", "approved"},
	{"05", "do not honour"},
	{"09", "request in progress"},
	{"12", "invalid transaction"},
	{"13", "invalid amount"},
	{"14", "invalid card or account number"},
	{"15", "no such issuer"},
	{"25", "unable to locate record"},
	{"30", "format error"},
	{"51", "insufficient funds"},
	{"54", "expired card"},
	{"55", "incorrect PIN"},
	{"57", "transaction not permitted"},
	{"61", "exceeds amount limit"},
	{"63", "security violation"},
	{"68", "response received too late"},
	{"91", "issuer or switch inoperative"},
	{"94", "duplicate transmission"},
	{"96", "system malfunction"},
};

const char *txn_response_text(const char *code)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(response_texts); i++)
		if (strcmp(code, response_texts[i].code) == 0)
			return response_texts[i].text;
	return "unknown response code";
}

const char *txn_response_status(const char *code)
{
	if (strcmp(code, "00") == 0)
		return "approved";
	if (strcmp(code, "30") == 0 || strcmp(code, "96") == 0)
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
