/*
 * recon.c: reconciliation of a window (recon.h).
 */
#include "recon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearing_file.h"
#include "routing.h"

#define RECON_MEMBERS_MAX 512
#define RECON_BANKS_MAX 64
#define RECON_BATCHES_MAX 32
#define RECON_FILE_BYTES_MAX ((size_t)256 << 20)

typedef struct member_totals {
	uint8_t channel;
	uint16_t currency;
	char period[TXN_PERIOD_MAX];
	char member[12];
	clf_totals_t t;            /* as a bank (I) or an origin (A) */
	int64_t income;            /* network fees earned (clf_network_net) */
} member_totals_t;

typedef struct bank_totals {
	char member[12];
	char endpoint[SW_NAME_MAX];
	txn_totals_t t;
	uint64_t txns[8];          /* some of its transactions, to name */
	uint32_t txn_count;
	bool asked, answered;
} bank_totals_t;

typedef struct leg_key {
	uint8_t channel;
	uint8_t type;              /* enum clf_type */
	char period[TXN_PERIOD_MAX];
	char bank[12];
	uint32_t stan;
	char transmit[11];
	int64_t amount;
	uint64_t txn;
	bool matched;
} leg_key_t;

typedef struct batch_check {
	char batch[64];
	char channel[16];
	char period[TXN_PERIOD_MAX];
	int currency;
} batch_check_t;

typedef struct pboc_ctx {
	struct sw_recon *r;
	uint32_t index;
} pboc_ctx_t;

typedef struct sw_recon {
	sw_clearing_t *c;
	uint64_t window;
	char date[9];
	json_t *w;                 /* the window's record when it began */
	member_totals_t members[RECON_MEMBERS_MAX];
	uint32_t member_count;
	bank_totals_t banks[RECON_BANKS_MAX];
	uint32_t bank_count;
	leg_key_t *legs;
	uint32_t leg_count;
	bool legs_overflow;
	bool members_overflow;
	batch_check_t batches[RECON_BATCHES_MAX];
	pboc_ctx_t pboc_ctx[RECON_BATCHES_MAX];
	uint32_t batch_count;
	uint32_t pboc_pending;     /* callbacks still to come */
	uint32_t banks_pending;
	uint64_t deadline_ms;
	bool finished;             /* the verdict is written */
	json_t *diffs;
	uint32_t diff_count;
	uint32_t compared;
} sw_recon_t;

/* ---- differences ------------------------------------------------------- */

static void differ(sw_recon_t *r, json_t *d)
{
	r->diff_count++;
	if (json_array_size(r->diffs) < SW_RECON_DIFFERENCES_MAX)
		json_array_append_new(r->diffs, d);
	else
		json_decref(d);
}

static void differ_value(sw_recon_t *r, const char *source, const char *where,
			 const char *member, const char *period, const char *what,
			 int64_t ours, int64_t theirs, json_t *txns)
{
	r->compared++;
	if (ours == theirs) {
		json_decref(txns);
		return;
	}
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "source", source,
			      "from", where, "member", member, "period", period,
			      "what", what, "switch", (json_int_t)ours, "other",
			      (json_int_t)theirs);
	if (txns != NULL)
		json_object_set_new(d, "txns", txns);
	differ(r, d);
}

/* ---- the switch's side ---------------------------------------------------- */

static int clf_type_of(const sw_obligation_t *o)
{
	int t = o->kind == TXN_KIND_PURCHASE ? CLF_DEBIT
		: o->kind == TXN_KIND_CREDIT ? CLF_CREDIT
					     : CLF_REFUND;
	return o->event == 1 ? clf_type_reversed(t) : t;
}

static member_totals_t *member_at(sw_recon_t *r, int channel, uint16_t currency,
				  const char *period, const char *member)
{
	for (uint32_t i = 0; i < r->member_count; i++) {
		member_totals_t *m = &r->members[i];
		if (m->channel == channel && m->currency == currency &&
		    strcmp(m->period, period) == 0 && strcmp(m->member, member) == 0)
			return m;
	}
	if (r->member_count == RECON_MEMBERS_MAX) {
		r->members_overflow = true;
		return NULL;
	}
	member_totals_t *m = &r->members[r->member_count++];
	memset(m, 0, sizeof(*m));
	m->channel = (uint8_t)channel;
	m->currency = currency;
	ps_strlcpy(m->period, period, sizeof(m->period));
	ps_strlcpy(m->member, member, sizeof(m->member));
	return m;
}

static bank_totals_t *bank_at(sw_recon_t *r, const char *member)
{
	for (uint32_t i = 0; i < r->bank_count; i++)
		if (strcmp(r->banks[i].member, member) == 0)
			return &r->banks[i];
	if (r->bank_count == RECON_BANKS_MAX)
		return NULL;
	bank_totals_t *b = &r->banks[r->bank_count++];
	memset(b, 0, sizeof(*b));
	ps_strlcpy(b->member, member, sizeof(b->member));
	return b;
}

/* A direct bank's view of an obligation: gross, by kind. */
static void bank_add(bank_totals_t *b, const sw_obligation_t *o)
{
	bool debit = o->kind == TXN_KIND_PURCHASE, rev = o->event == 1;
	if (debit && !rev) {
		b->t.debits++;
		b->t.debits_amount += o->amount;
	} else if (debit) {
		b->t.debit_reversals++;
		b->t.debit_reversals_amount += o->amount;
	} else if (!rev) {
		b->t.credits++;
		b->t.credits_amount += o->amount;
	} else {
		b->t.credit_reversals++;
		b->t.credit_reversals_amount += o->amount;
	}
	b->t.net = b->t.credits_amount - b->t.credit_reversals_amount -
		   b->t.debits_amount + b->t.debit_reversals_amount;
	if (b->txn_count < PS_ARRAY_LEN(b->txns))
		b->txns[b->txn_count++] = o->txn_id;
}

static void take_obligation(sw_recon_t *r, const sw_obligation_t *o)
{
	int type = clf_type_of(o);
	member_totals_t *bank = member_at(r, o->channel, o->currency, o->period, o->bank);
	if (bank != NULL)
		clf_totals_add(&bank->t, type, 'I', o->amount, o->fee_issuer,
			       o->fee_network);
	member_totals_t *origin = member_at(r, o->channel, o->currency, o->period,
					    o->origin);
	if (origin != NULL)
		clf_totals_add(&origin->t, type, 'A', o->amount, o->fee_issuer,
			       o->fee_network);
	int64_t income = clf_network_net(type, o->fee_network);
	member_totals_t *network = income != 0 ? member_at(r, o->channel, o->currency,
							   o->period, o->network)
					       : NULL;
	if (network != NULL)
		network->income += income;
	if (o->channel == ROUTE_NETWORK_DIRECT) {
		bank_totals_t *b = bank_at(r, o->bank);
		if (b != NULL)
			bank_add(b, o);
	} else if (r->leg_count < SW_RECON_LEGS_MAX) {
		leg_key_t *k = &r->legs[r->leg_count++];
		k->channel = o->channel;
		k->type = (uint8_t)type;
		ps_strlcpy(k->period, o->period, sizeof(k->period));
		ps_strlcpy(k->bank, o->bank, sizeof(k->bank));
		k->stan = o->stan;
		ps_strlcpy(k->transmit, o->transmit, sizeof(k->transmit));
		k->amount = o->amount;
		k->txn = o->txn_id;
		k->matched = false;
	} else {
		r->legs_overflow = true;
	}
}

/* The window's obligations, from the store, per member. */
static int collect(sw_recon_t *r)
{
	MDB_txn *txn = sw_store_read(r->c->store);
	if (txn == NULL)
		return PS_EIO;
	MDB_cursor *cur;
	if (mdb_cursor_open(txn, r->c->store->obligations, &cur) != 0) {
		sw_store_read_done(r->c->store);
		return PS_EIO;
	}
	json_t *periods = json_object_get(r->w, "periods");
	for (int channel = 0; channel < ROUTE_NETWORK_COUNT; channel++) {
		json_t *list = channel == ROUTE_NETWORK_DIRECT
				       ? json_pack("[s]", r->date)
				       : json_incref(json_object_get(
					       periods, route_network_name(
								(route_network_t)channel)));
		size_t i;
		json_t *p;
		json_array_foreach(list, i, p) {
			uint8_t prefix[1 + TXN_PERIOD_MAX] = {(uint8_t)channel};
			memcpy(prefix + 1, json_string_value(p),
			       strnlen(json_string_value(p), TXN_PERIOD_MAX - 1));
			MDB_val k = {sizeof(prefix), prefix}, v;
			int m = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			while (m == 0 && k.mv_size == SW_OBLIGATION_KEY_BYTES &&
			       memcmp(k.mv_data, prefix, sizeof(prefix)) == 0) {
				sw_obligation_t o;
				if (sw_obligation_decode(v.mv_data, v.mv_size, &o) == 0)
					take_obligation(r, &o);
				m = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			}
		}
		json_decref(list);
	}
	mdb_cursor_close(cur);
	sw_store_read_done(r->c->store);
	return 0;
}

/* The switch's own books: each member's position the window booked in
 * the ledger against its obligations now (one put in after the booking
 * began would show here, never silently). */
static void check_booked(sw_recon_t *r)
{
	for (uint32_t i = 0; i < r->member_count; i++) {
		const member_totals_t *m = &r->members[i];
		const char *channel = route_network_name((route_network_t)m->channel);
		int64_t booked = 0;
		size_t j;
		json_t *p;
		json_array_foreach(json_object_get(r->w, "positions"), j, p) {
			if (strcmp(json_string_value(json_object_get(p, "channel")), channel) ||
			    strcmp(json_string_value(json_object_get(p, "period")), m->period) ||
			    strcmp(json_string_value(json_object_get(p, "member")), m->member) ||
			    json_integer_value(json_object_get(p, "currency")) != m->currency)
				continue;
			booked += json_integer_value(json_object_get(p, "amount"));
		}
		differ_value(r, "switch", "ledger", m->member, m->period,
			     "booked position", m->t.net + m->income, booked, NULL);
	}
}

/* ---- the networks' files --------------------------------------------------- */

static const sw_endpoint_t *network_endpoint(sw_recon_t *r, int channel)
{
	sw_net_t *net = r->c->net;
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		const sw_endpoint_t *ep = net->endpoint[i];
		if (!ep->retired && ep->cfg.network == channel && ep->cfg.clearing_dir[0])
			return ep;
	}
	return NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 65536 > cap) {
			if (cap >= RECON_FILE_BYTES_MAX)
				break;
			cap = cap ? cap * 2 : 65536;
			char *grown = realloc(buf, cap + 1);
			if (grown == NULL)
				break;
			buf = grown;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	*len = n;
	return buf;
}

typedef struct line_ctx {
	sw_recon_t *r;
	const member_totals_t *m;
	const char *from;
} line_ctx_t;

/* A D line of a bank's UnionPay file: the leg the switch sent, found by
 * the key it sent it with. */
static int on_cup_line(void *data, const clf_cup_line_t *l)
{
	line_ctx_t *x = data;
	sw_recon_t *r = x->r;
	if (l->role != 'I' ||
	    strcmp(l->sender, r->c->ctx->cfg->institution) != 0)
		return 0;
	for (uint32_t i = 0; i < r->leg_count; i++) {
		leg_key_t *k = &r->legs[i];
		if (k->matched || k->channel != x->m->channel || k->stan != l->stan ||
		    strcmp(k->transmit, l->transmit) != 0 || k->type != l->type ||
		    strcmp(k->period, x->m->period) != 0)
			continue;
		k->matched = true;
		if (k->amount != l->amount)
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:[I]}",
					    "source", "network", "from", x->from,
					    "member", l->member, "period", l->date,
					    "what", "leg amount", "switch",
					    (json_int_t)k->amount, "other",
					    (json_int_t)l->amount, "txns",
					    (json_int_t)k->txn));
		return 0;
	}
	char key[24];
	snprintf(key, sizeof(key), "%.10s%06u", l->transmit, l->stan % 1000000u);
	differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "source",
			    "network", "from", x->from, "member", l->member,
			    "period", l->date, "what",
			    "a leg the network cleared and the switch did not",
			    "key", key, "rrn", l->rrn, "amount",
			    (json_int_t)l->amount));
	return 0;
}

static void compare_totals(sw_recon_t *r, const char *from, const member_totals_t *m,
			   const clf_totals_t *theirs)
{
	static const char *const groups[CLF_GROUP_COUNT] = {"debits", "credits",
							    "refunds", "reversals"};
	const clf_totals_t *ours = &m->t;
	char what[48];
	for (int g = 0; g < CLF_GROUP_COUNT; g++) {
		snprintf(what, sizeof(what), "%s count", groups[g]);
		differ_value(r, "network", from, m->member, m->period, what,
			     ours->count[g], theirs->count[g], NULL);
		snprintf(what, sizeof(what), "%s amount", groups[g]);
		differ_value(r, "network", from, m->member, m->period, what,
			     ours->amount[g], theirs->amount[g], NULL);
	}
	differ_value(r, "network", from, m->member, m->period,
		     "issuer fees receivable", ours->issuer_fee_receivable,
		     theirs->issuer_fee_receivable, NULL);
	differ_value(r, "network", from, m->member, m->period, "issuer fees payable",
		     ours->issuer_fee_payable, theirs->issuer_fee_payable, NULL);
	differ_value(r, "network", from, m->member, m->period,
		     "network fees receivable", ours->network_fee_receivable,
		     theirs->network_fee_receivable, NULL);
	differ_value(r, "network", from, m->member, m->period, "network fees payable",
		     ours->network_fee_payable, theirs->network_fee_payable, NULL);
	differ_value(r, "network", from, m->member, m->period, "net", ours->net,
		     theirs->net, NULL);
}

/* Each member's file of each network period, against the switch's. */
static void check_networks(sw_recon_t *r)
{
	for (uint32_t i = 0; i < r->member_count; i++) {
		const member_totals_t *m = &r->members[i];
		if (m->channel == ROUTE_NETWORK_DIRECT)
			continue;
		const sw_endpoint_t *ep = network_endpoint(r, m->channel);
		const char *net = route_network_name((route_network_t)m->channel);
		if (ep == NULL) {
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "source",
					    "network", "from", net, "member", m->member,
					    "period", m->period, "what",
					    "no endpoint of this network names a "
					    "clearing_dir: its files cannot be read"));
			continue;
		}
		/* The network's own fee income is in no member file. */
		if (strcmp(m->member, ep->cfg.institution) == 0)
			continue;
		char path[SW_PATH_MAX + 64];
		if (m->channel == ROUTE_NETWORK_UNIONPAY)
			snprintf(path, sizeof(path), "%s/%s/CUP-%s.txt",
				 ep->cfg.clearing_dir, m->member, m->period);
		else
			snprintf(path, sizeof(path), "%s/%s/%s.json",
				 ep->cfg.clearing_dir, m->member, m->period);
		size_t len = 0;
		char *text = read_file(path, &len);
		if (text == NULL) {
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "source",
					    "network", "from", ep->cfg.name, "member",
					    m->member, "period", m->period, "what",
					    "no clearing file from the network", "file",
					    path));
			continue;
		}
		clf_error_t err = {0};
		int rc;
		clf_totals_t theirs = {0};
		if (m->channel == ROUTE_NETWORK_UNIONPAY) {
			line_ctx_t x = {r, m, ep->cfg.name};
			clf_cup_trailer_t trailer;
			rc = clf_cup_read(text, len, on_cup_line, &x, NULL, &trailer,
					  &err);
			theirs = trailer.totals;
		} else {
			clf_nc_summary_t sum;
			rc = clf_nc_parse(text, len, &sum, &err);
			theirs = sum.totals;
		}
		free(text);
		if (rc != 0) {
			char why[200];
			snprintf(why, sizeof(why), "line %u: %s: %s", err.line, err.field,
				 err.reason);
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "source",
					    "network", "from", ep->cfg.name, "member",
					    m->member, "period", m->period, "what",
					    "an unreadable clearing file", "why", why));
			continue;
		}
		compare_totals(r, ep->cfg.name, m, &theirs);
	}
	/* A bank's legs the network never cleared. */
	for (uint32_t i = 0; i < r->leg_count; i++) {
		const leg_key_t *k = &r->legs[i];
		const sw_endpoint_t *ep = network_endpoint(r, k->channel);
		if (k->matched || k->channel != ROUTE_NETWORK_UNIONPAY || ep == NULL)
			continue;
		char key[24];
		snprintf(key, sizeof(key), "%.10s%06u", k->transmit, k->stan % 1000000u);
		differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:[I]}",
				    "source", "network", "from", ep->cfg.name,
				    "member", k->bank, "period", k->period, "what",
				    "a leg the switch cleared and the network did not",
				    "key", key, "amount", (json_int_t)k->amount,
				    "txns", (json_int_t)k->txn));
	}
}

/* ---- PBOC ------------------------------------------------------------------- */

static void finish(sw_recon_t *r);
static void release(sw_recon_t *r);

/* The positions the switch holds for a batch's channel and period. */
static int64_t expected_position(sw_recon_t *r, const batch_check_t *b,
				 const char *member, bool *found)
{
	size_t i;
	json_t *p;
	*found = false;
	int64_t sum = 0;
	json_array_foreach(json_object_get(r->w, "positions"), i, p) {
		if (strcmp(json_string_value(json_object_get(p, "channel")), b->channel) ||
		    strcmp(json_string_value(json_object_get(p, "period")), b->period) ||
		    strcmp(json_string_value(json_object_get(p, "member")), member) ||
		    json_integer_value(json_object_get(p, "currency")) != b->currency)
			continue;
		*found = true;
		sum += json_integer_value(json_object_get(p, "amount"));
	}
	return sum;
}

static void on_pboc_batch(void *data, json_t *answer, const char *why)
{
	pboc_ctx_t *x = data;
	sw_recon_t *r = x->r;
	const batch_check_t *b = &r->batches[x->index];
	r->pboc_pending--;
	const char *status = answer ? json_string_value(json_object_get(answer, "status"))
				    : NULL;
	if (!r->finished) {
		if (status == NULL || strcmp(status, "posted") != 0) {
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", "pboc",
					    "batch", b->batch, "period", b->period,
					    "what", "the batch is not posted", "status",
					    status ? status : why ? why : "no answer"));
		} else {
			/* Each member PBOC posted, and each the switch expects. */
			size_t i;
			json_t *p;
			json_t *posted = json_object_get(answer, "positions");
			json_array_foreach(posted, i, p) {
				const char *member = json_string_value(json_object_get(p, "member"));
				bool found;
				int64_t ours = expected_position(r, b, member ? member : "", &found);
				differ_value(r, "pboc", b->batch, member ? member : "?",
					     b->period, "posted position", ours,
					     json_integer_value(json_object_get(p, "amount")),
					     NULL);
			}
			json_array_foreach(json_object_get(r->w, "positions"), i, p) {
				if (strcmp(json_string_value(json_object_get(p, "channel")), b->channel) ||
				    strcmp(json_string_value(json_object_get(p, "period")), b->period) ||
				    json_integer_value(json_object_get(p, "amount")) == 0)
					continue;
				const char *member = json_string_value(json_object_get(p, "member"));
				bool there = false;
				size_t j;
				json_t *q;
				json_array_foreach(posted, j, q)
					if (strcmp(json_string_value(json_object_get(q, "member")), member) == 0)
						there = true;
				if (!there)
					differ_value(r, "pboc", b->batch, member, b->period,
						     "posted position",
						     json_integer_value(json_object_get(p, "amount")),
						     0, NULL);
			}
		}
	}
	if (!r->finished && r->pboc_pending == 0 && r->banks_pending == 0)
		finish(r);
	else
		release(r);
}

static void ask_pboc(sw_recon_t *r)
{
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(r->w, "batches"), i, b) {
		if (r->batch_count == RECON_BATCHES_MAX)
			break;
		batch_check_t *x = &r->batches[r->batch_count];
		ps_strlcpy(x->batch, json_string_value(json_object_get(b, "batch")),
			   sizeof(x->batch));
		ps_strlcpy(x->channel, json_string_value(json_object_get(b, "channel")),
			   sizeof(x->channel));
		ps_strlcpy(x->period, json_string_value(json_object_get(b, "period")),
			   sizeof(x->period));
		x->currency = (int)json_integer_value(json_object_get(b, "currency"));
		pboc_ctx_t *ctx = &r->pboc_ctx[r->batch_count];
		ctx->r = r;
		ctx->index = r->batch_count;
		json_t *req = json_pack("{s:s, s:s}", "op", "batch", "batch", x->batch);
		if (sw_pboc_request(&r->c->pboc, req, on_pboc_batch, ctx) == 0) {
			r->batch_count++;
			r->pboc_pending++;
		} else {
			differ(r, json_pack("{s:s, s:s, s:s}", "source", "pboc", "batch",
					    x->batch, "what", "PBOC could not be asked"));
		}
		json_decref(req);
	}
}

/* ---- banks ------------------------------------------------------------------- */

static void ask_banks(sw_recon_t *r)
{
	sw_net_t *net = r->c->net;
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		sw_endpoint_t *ep = net->endpoint[i];
		if (ep->retired || ep->cfg.network != ROUTE_NETWORK_DIRECT ||
		    ep->cfg.institution[0] == '\0')
			continue;
		bank_totals_t *b = bank_at(r, ep->cfg.institution);
		if (b == NULL || b->asked)
			continue;
		ps_strlcpy(b->endpoint, ep->cfg.name, sizeof(b->endpoint));
		b->asked = true;
		int rc = sw_endpoint_recon(ep, r->date + 4);
		if (rc == 0) {
			r->banks_pending++;
		} else {
			b->answered = true;
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", "bank",
					    "from", ep->cfg.name, "member", b->member,
					    "period", r->date, "what",
					    rc == TXN_EINVALID
						    ? "its channel carries no totals (0500)"
						    : "no link up to ask it for its totals"));
		}
	}
}

static json_t *bank_txns(const bank_totals_t *b)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < b->txn_count; i++)
		json_array_append_new(a, json_integer((json_int_t)b->txns[i]));
	return a;
}

void sw_recon_bank_answer(sw_clearing_t *c, sw_endpoint_t *ep,
			  const txn_response_t *resp)
{
	sw_recon_t *r = c->recon;
	if (r == NULL || r->finished)
		return;
	bank_totals_t *b = NULL;
	for (uint32_t i = 0; i < r->bank_count; i++)
		if (strcmp(r->banks[i].endpoint, ep->cfg.name) == 0)
			b = &r->banks[i];
	if (b == NULL || b->answered)
		return;
	b->answered = true;
	r->banks_pending--;
	if (!resp->has_totals) {
		differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "source", "bank",
				    "from", ep->cfg.name, "member", b->member,
				    "period", r->date, "what",
				    "refused to give its totals", "code", resp->rc));
	} else {
		const txn_totals_t *o = &b->t, *t = &resp->totals;
		const struct {
			const char *what;
			int64_t ours, theirs;
		} rows[] = {
			{"debits count", o->debits, t->debits},
			{"debits amount", o->debits_amount, t->debits_amount},
			{"credits count", o->credits, t->credits},
			{"credits amount", o->credits_amount, t->credits_amount},
			{"debit reversals count", o->debit_reversals, t->debit_reversals},
			{"debit reversals amount", o->debit_reversals_amount,
			 t->debit_reversals_amount},
			{"credit reversals count", o->credit_reversals, t->credit_reversals},
			{"credit reversals amount", o->credit_reversals_amount,
			 t->credit_reversals_amount},
			{"net", o->net, t->net},
		};
		for (size_t i = 0; i < PS_ARRAY_LEN(rows); i++)
			differ_value(r, "bank", ep->cfg.name, b->member, r->date,
				     rows[i].what, rows[i].ours, rows[i].theirs,
				     rows[i].ours != rows[i].theirs ? bank_txns(b) : NULL);
	}
	if (r->pboc_pending == 0 && r->banks_pending == 0)
		finish(r);
}

/* ---- the verdict ---------------------------------------------------------------- */

static void write_verdict(json_t *w, void *arg)
{
	sw_recon_t *r = arg;
	bool agree = r->diff_count == 0;
	json_t *v = json_pack("{s:s, s:I, s:i, s:i, s:O}", "state",
			      agree ? "reconciled" : "differences", "checked_ms",
			      (json_int_t)ps_wall_ms(), "compared", (int)r->compared,
			      "difference_count", (int)r->diff_count, "differences",
			      r->diffs);
	if (r->legs_overflow)
		json_object_set_new(v, "note", json_string(
			"more legs than are matched one by one: totals compared"));
	json_object_set_new(w, "recon", v);
	json_object_set_new(w, "reconciled", json_boolean(agree));
}

static void finish(sw_recon_t *r)
{
	if (r->finished)
		return;
	r->finished = true;
	if (r->members_overflow)
		differ(r, json_pack("{s:s, s:s, s:s}", "source", "switch", "from",
				    "recon", "what", "more members than one "
				    "reconciliation compares: some not compared"));
	/* What was never answered is itself a difference. */
	for (uint32_t i = 0; i < r->bank_count; i++) {
		bank_totals_t *b = &r->banks[i];
		if (b->asked && !b->answered)
			differ(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", "bank",
					    "from", b->endpoint, "member", b->member,
					    "period", r->date, "what",
					    "no answer to the 0500 in time"));
	}
	if (sw_clearing_window_update(r->c, r->window, write_verdict, r) != 0)
		ps_logf(PS_LOG_ERROR, "recon_unrecorded", "window %" PRIu64, r->window);
	ps_log_t *l = ps_log_begin(r->diff_count ? PS_LOG_WARN : PS_LOG_INFO, "recon");
	ps_log_uint(l, "window", r->window);
	ps_log_uint(l, "compared", r->compared);
	ps_log_uint(l, "differences", r->diff_count);
	ps_log_end(l);
	release(r);
}

void sw_recon_tick(sw_clearing_t *c)
{
	sw_recon_t *r = c->recon;
	if (r != NULL && !r->finished && ps_mono_ms() >= r->deadline_ms)
		finish(r);
}

/* A finished reconciliation is freed once PBOC has answered all it was
 * asked (the client calls back exactly once per question). */
static void release(sw_recon_t *r)
{
	if (!r->finished || r->pboc_pending > 0)
		return;
	if (r->c->recon == r)
		r->c->recon = NULL;
	json_decref(r->w);
	json_decref(r->diffs);
	free(r->legs);
	free(r);
}

void sw_recon_free(sw_clearing_t *c)
{
	sw_recon_t *r = c->recon;
	if (r == NULL)
		return;
	c->recon = NULL;     /* abandoned: no verdict; "running" stays */
	r->finished = true;
	release(r);
}

static void mark_running(json_t *w, void *arg)
{
	(void)arg;
	json_object_set_new(w, "recon", json_pack("{s:s, s:I}", "state", "running",
						  "started_ms",
						  (json_int_t)ps_wall_ms()));
}

int sw_recon_start(sw_clearing_t *c, uint64_t window, char *err, size_t err_cap)
{
	if (c->recon != NULL) {
		snprintf(err, err_cap, "window %" PRIu64 " is being reconciled",
			 c->recon->window);
		return PS_ELIMIT;
	}
	json_t *w = sw_clearing_window_json(c, window);
	if (w == NULL) {
		snprintf(err, err_cap, "no window %" PRIu64, window);
		return PS_ENOTFOUND;
	}
	const char *state = json_string_value(json_object_get(w, "state"));
	if (strcmp(state, "settling") && strcmp(state, "settled") &&
	    strcmp(state, "failed")) {
		snprintf(err, err_cap, "window %" PRIu64 " is %s: it is reconciled "
			 "once booked (settling, settled)", window, state);
		json_decref(w);
		return PS_EINVAL;
	}
	sw_recon_t *r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->legs = calloc(SW_RECON_LEGS_MAX, sizeof(*r->legs));
	if (r == NULL || r->legs == NULL) {
		free(r);
		json_decref(w);
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	r->c = c;
	r->window = window;
	r->w = w;
	ps_strlcpy(r->date, json_string_value(json_object_get(w, "date")),
		   sizeof(r->date));
	r->diffs = json_array();
	r->deadline_ms = ps_mono_ms() + SW_RECON_WAIT_MS;
	c->recon = r;
	if (sw_clearing_window_update(c, window, mark_running, NULL) != 0 ||
	    collect(r) != 0) {
		sw_recon_free(c);
		snprintf(err, err_cap, "lmdb: the window's records cannot be read");
		return PS_EIO;
	}
	check_booked(r);
	check_networks(r);
	ask_pboc(r);
	ask_banks(r);
	if (r->pboc_pending == 0 && r->banks_pending == 0)
		finish(r);
	return 0;
}
