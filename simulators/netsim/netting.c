/*
 * netting.c: fees, clearing types, positions, the settle request and the
 * calendar of periods (netting.h).
 */
#include "netting.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters.h"
#include "core.h"
#include "routing.h"

void ns_fees_of(const ns_fees_t *fees, int kind, int64_t amount,
		int64_t *fee_issuer, int64_t *fee_network)
{
	*fee_issuer = *fee_network = 0;
	if (kind != TXN_KIND_PURCHASE)
		return;
	*fee_issuer = route_fee(amount, fees->issuer_ppm, fees->issuer_cap);
	*fee_network = route_fee(amount, fees->network_ppm, fees->network_cap);
}

static int type_of_kind(int kind)
{
	switch (kind) {
	case TXN_KIND_PURCHASE: return CLF_DEBIT;
	case TXN_KIND_CREDIT: return CLF_CREDIT;
	case TXN_KIND_REFUND_CREDIT: return CLF_REFUND;
	default: return -1;
	}
}

int ns_clear_type(int kind, int original_kind)
{
	if (kind != TXN_KIND_REVERSAL)
		return type_of_kind(kind);
	int t = type_of_kind(original_kind);
	return t < 0 ? -1 : clf_type_reversed(t);
}

/* ---- positions ----------------------------------------------------------------- */

void ns_positions_init(ns_positions_t *p)
{
	p->count = 0;
}

int ns_positions_add(ns_positions_t *p, const char *member, int64_t amount)
{
	for (uint32_t i = 0; i < p->count; i++) {
		if (strcmp(p->pos[i].member, member) == 0) {
			p->pos[i].amount += amount;
			return 0;
		}
	}
	if (p->count == NS_POSITIONS_MAX)
		return PS_ELIMIT;
	ns_position_t *pos = &p->pos[p->count++];
	ps_strlcpy(pos->member, member, sizeof(pos->member));
	pos->amount = amount;
	return 0;
}

int ns_positions_book(ns_positions_t *p, const char *bank, const char *origin,
		      const char *network, int type, int64_t amount,
		      int64_t fee_issuer, int64_t fee_network)
{
	int rc;
	if ((rc = ns_positions_add(p, bank, clf_net(type, 'I', amount, fee_issuer,
						    fee_network))) ||
	    (rc = ns_positions_add(p, origin, clf_net(type, 'A', amount, fee_issuer,
						      fee_network))))
		return rc;
	int64_t n = clf_network_net(type, fee_network);
	return n != 0 ? ns_positions_add(p, network, n) : 0;
}

int64_t ns_positions_sum(const ns_positions_t *p)
{
	int64_t sum = 0;
	for (uint32_t i = 0; i < p->count; i++)
		sum += p->pos[i].amount;
	return sum;
}

static int position_cmp(const void *a, const void *b)
{
	return strcmp(((const ns_position_t *)a)->member,
		      ((const ns_position_t *)b)->member);
}

void ns_positions_sort(ns_positions_t *p)
{
	qsort(p->pos, p->count, sizeof(p->pos[0]), position_cmp);
}

int ns_settle_line(const char *batch, const char *submitter,
		   const ns_positions_t *p, char *out, size_t cap, size_t *len)
{
	ps_buf_t b;
	ps_buf_init(&b, out, cap);
	int rc = ps_buf_printf(&b, "{\"op\":\"settle\",\"id\":\"%s\",\"batch\":\"%s\","
			       "\"submitter\":\"%s\",\"currency\":\"CNY\","
			       "\"positions\":[", batch, batch, submitter);
	bool first = true;
	for (uint32_t i = 0; i < p->count && rc == 0; i++) {
		if (p->pos[i].amount == 0)
			continue;
		rc = ps_buf_printf(&b, "%s{\"member\":\"%s\",\"amount\":%" PRId64 "}",
				   first ? "" : ",", p->pos[i].member,
				   p->pos[i].amount);
		first = false;
	}
	if (rc == 0)
		rc = ps_buf_append_str(&b, "]}\n");
	if (rc != 0)
		return PS_ENOSPC;
	*len = b.len;
	return 0;
}

/* ---- the calendar ------------------------------------------------------------------ */

static bool date_tm(const char *d, struct tm *tm)
{
	if (strlen(d) != 8 || !ps_is_digits(d, 8))
		return false;
	uint64_t v = 0;
	ps_parse_u64(d, 8, &v);
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(v / 10000) - 1900;
	tm->tm_mon = (int)(v / 100 % 100) - 1;
	tm->tm_mday = (int)(v % 100);
	tm->tm_hour = 12;
	struct tm check = *tm;
	time_t t = timegm(&check);
	struct tm back;
	/* timegm normalises 20260231 to March: a date that moved is none. */
	return t != (time_t)-1 && gmtime_r(&t, &back) != NULL &&
	       back.tm_year == tm->tm_year && back.tm_mon == tm->tm_mon &&
	       back.tm_mday == tm->tm_mday && v / 10000 >= 1970;
}

bool ns_date_valid(const char *d)
{
	struct tm tm;
	return date_tm(d, &tm);
}

static void format_date(time_t t, char out[9])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char text[16];
	snprintf(text, sizeof(text), "%04u%02u%02u",
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
	memcpy(out, text, 9);
}

int ns_date_next(const char *d, char out[9])
{
	struct tm tm;
	if (!date_tm(d, &tm))
		return PS_EINVAL;
	format_date(timegm(&tm) + 86400, out);
	return 0;
}

void ns_date_of_ms(uint64_t wall_ms, char out[9])
{
	format_date((time_t)(wall_ms / 1000), out);
}

uint64_t ns_next_cutover_ms(uint64_t now_ms, uint32_t minute_of_day)
{
	PS_ASSERT(minute_of_day < 1440);
	const uint64_t day = 86400000;
	uint64_t at = now_ms / day * day + (uint64_t)minute_of_day * 60000;
	return at > now_ms ? at : at + day;
}

void ns_session_name(const char *date, uint32_t seq, char out[NS_PERIOD_MAX])
{
	PS_ASSERT(seq >= 1 && seq <= 99);
	snprintf(out, NS_PERIOD_MAX, "B%.8s%02u", date, (unsigned)seq);
}

void ns_session_next(const char *date, uint32_t seq, const char *today,
		     char next_date[9], uint32_t *next_seq)
{
	if (strcmp(today, date) > 0) {
		memcpy(next_date, today, 9);
		*next_seq = 1;
	} else if (seq < 99) {
		memcpy(next_date, date, 9);
		*next_seq = seq + 1;
	} else {
		if (ns_date_next(date, next_date) != 0)
			memcpy(next_date, today, 9);
		*next_seq = 1;
	}
}
