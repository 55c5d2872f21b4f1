/*
 * clearing.c: windows, obligations, booking and settlement (clearing.h).
 */
#include "clearing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recon.h"
#include "routing.h"

/* Transfer codes in the switch's ledger: what each transfer is. */
enum {
	XCODE_AMOUNT = 1,        /* bank owes origin, or origin owes bank */
	XCODE_ISSUER_FEE = 2,    /* origin pays the issuer */
	XCODE_NETWORK_FEE = 3,   /* a side pays the network */
	XCODE_REVERSED = 10,     /* + the code of what a reversal undoes */
};
#define ACODE_POSITION 1
#define BOOK_OBLIGATIONS_PER_CHUNK 2000 /* 4 transfers each, at most */

static const char *const state_names[] = {"open", "closed", "settling",
					  "settled", "failed"};

const char *sw_window_state_name(int state)
{
	return state >= 0 && state < (int)PS_ARRAY_LEN(state_names)
		       ? state_names[state]
		       : "?";
}

static int state_of(const char *name)
{
	for (size_t i = 0; name != NULL && i < PS_ARRAY_LEN(state_names); i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- dates ------------------------------------------------------------- */

static void date_of_ms(uint64_t wall_ms, char out[9])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u;
	unsigned m = (unsigned)(tm.tm_mon + 1) % 100u, d = (unsigned)tm.tm_mday % 100u;
	char buf[16];
	snprintf(buf, sizeof(buf), "%04u%02u%02u", y, m, d);
	memcpy(out, buf, 9);
}

void sw_date_next(const char *date, char out[9])
{
	struct tm tm = {0};
	tm.tm_year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 +
		     (date[2] - '0') * 10 + (date[3] - '0') - 1900;
	tm.tm_mon = (date[4] - '0') * 10 + (date[5] - '0') - 1;
	tm.tm_mday = (date[6] - '0') * 10 + (date[7] - '0') + 1;
	tm.tm_hour = 12;
	time_t t = timegm(&tm); /* normalises the day after the last */
	date_of_ms((uint64_t)t * 1000, out);
}

void sw_date_from_mmdd(const char *mmdd, const char *near, char out[9])
{
	int year = (near[0] - '0') * 1000 + (near[1] - '0') * 100 +
		   (near[2] - '0') * 10 + (near[3] - '0');
	int near_month = (near[4] - '0') * 10 + (near[5] - '0');
	int month = (mmdd[0] - '0') * 10 + (mmdd[1] - '0');
	/* December's answer in January is last year's; January's in
	 * December is next year's. */
	if (month - near_month > 6)
		year--;
	else if (near_month - month > 6)
		year++;
	char buf[16];
	snprintf(buf, sizeof(buf), "%04d%.4s", (year % 10000 + 10000) % 10000, mmdd);
	memcpy(out, buf, 9);
}

/* ---- obligations ------------------------------------------------------- */

static void put_text(uint8_t *out, const char *s, size_t width)
{
	memset(out, 0, width);
	memcpy(out, s, strnlen(s, width - 1));
}

static void get_text(char *out, const uint8_t *in, size_t width)
{
	memcpy(out, in, width);
	out[width - 1] = '\0';
}

void sw_obligation_key(const sw_obligation_t *o, uint8_t out[SW_OBLIGATION_KEY_BYTES])
{
	out[0] = o->channel;
	put_text(out + 1, o->period, TXN_PERIOD_MAX);
	ps_be64_put(out + 13, o->txn_id);
	out[21] = o->leg;
	out[22] = o->event;
}

/* The value: version 1, then fixed fields. */
size_t sw_obligation_encode(const sw_obligation_t *o, uint8_t out[SW_OBLIGATION_BYTES])
{
	memset(out, 0, SW_OBLIGATION_BYTES);
	out[0] = 1;
	out[1] = o->kind;
	out[2] = o->channel;
	out[3] = o->leg;
	out[4] = o->event;
	ps_be16_put(out + 5, o->currency);
	ps_be64_put(out + 7, o->txn_id);
	ps_be32_put(out + 15, o->window);
	ps_be64_put(out + 19, (uint64_t)o->amount);
	ps_be64_put(out + 27, (uint64_t)o->fee_issuer);
	ps_be64_put(out + 35, (uint64_t)o->fee_network);
	ps_be32_put(out + 43, o->stan);
	put_text(out + 47, o->period, TXN_PERIOD_MAX);
	put_text(out + 59, o->bank, 12);
	put_text(out + 71, o->origin, 12);
	put_text(out + 83, o->network, 12);
	put_text(out + 95, o->transmit, 11);
	put_text(out + 106, o->rrn, 13);
	return 119;
}

int sw_obligation_decode(const uint8_t *in, size_t len, sw_obligation_t *o)
{
	if (len != 119 || in[0] != 1)
		return PS_EFORMAT;
	memset(o, 0, sizeof(*o));
	o->kind = in[1];
	o->channel = in[2];
	o->leg = in[3];
	o->event = in[4];
	o->currency = ps_be16_get(in + 5);
	o->txn_id = ps_be64_get(in + 7);
	o->window = ps_be32_get(in + 15);
	o->amount = (int64_t)ps_be64_get(in + 19);
	o->fee_issuer = (int64_t)ps_be64_get(in + 27);
	o->fee_network = (int64_t)ps_be64_get(in + 35);
	o->stan = ps_be32_get(in + 43);
	get_text(o->period, in + 47, TXN_PERIOD_MAX);
	get_text(o->bank, in + 59, 12);
	get_text(o->origin, in + 71, 12);
	get_text(o->network, in + 83, 12);
	get_text(o->transmit, in + 95, 11);
	get_text(o->rrn, in + 106, 13);
	if (o->channel >= ROUTE_NETWORK_COUNT || o->event > 1 || o->amount < 0 ||
	    o->fee_issuer < 0 || o->fee_network < 0)
		return PS_EFORMAT;
	return 0;
}

/* ---- window records ------------------------------------------------------ */

static void window_key(uint64_t id, uint8_t key[8])
{
	sw_id_key(id, key);
}

/* The record of window id in txn, or NULL (PS_ENOTFOUND in *rc). */
static json_t *window_load(MDB_txn *txn, MDB_dbi dbi, uint64_t id, int *rc)
{
	uint8_t key[8];
	window_key(id, key);
	MDB_val k = {8, key}, v;
	int m = mdb_get(txn, dbi, &k, &v);
	if (m != 0) {
		*rc = m == MDB_NOTFOUND ? PS_ENOTFOUND : PS_EIO;
		return NULL;
	}
	json_error_t jerr;
	json_t *w = json_loadb(v.mv_data, v.mv_size, 0, &jerr);
	*rc = w != NULL ? 0 : PS_EFORMAT;
	return w;
}

static int window_save(MDB_txn *txn, MDB_dbi dbi, uint64_t id, json_t *w)
{
	char *text = json_dumps(w, JSON_COMPACT);
	if (text == NULL)
		return PS_ENOMEM;
	size_t len = strlen(text);
	int rc = 0;
	if (len > SW_WINDOW_JSON_BYTES_MAX) {
		rc = PS_ELIMIT;
	} else {
		uint8_t key[8];
		window_key(id, key);
		MDB_val k = {8, key}, v = {len, text};
		rc = mdb_put(txn, dbi, &k, &v, 0) == 0 ? 0 : PS_EIO;
	}
	free(text);
	return rc;
}

static json_t *window_new(uint64_t id, const char *date, uint64_t now_ms)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:{s:[], s:[]}, s:[], s:[], s:[], s:[]}",
			 "window", (json_int_t)id, "state", "open", "date", date,
			 "opened_ms", (json_int_t)now_ms, "periods", "unionpay",
			 "netclear", "waiting", "members", "positions", "batches");
}

static int set_open_window(MDB_txn *txn, MDB_dbi dbi, uint64_t id)
{
	uint8_t v8[8];
	sw_id_key(id, v8);
	MDB_val k = {4, "open"}, v = {8, v8};
	return mdb_put(txn, dbi, &k, &v, 0) == 0 ? 0 : PS_EIO;
}

/* ---- life ------------------------------------------------------------------ */

/* The newest window before open whose booking began (the chunk cursor is
 * in its record, or it is past closed). */
static uint64_t booked_through(MDB_txn *txn, MDB_dbi dbi, uint64_t open)
{
	for (uint64_t id = open - 1; id >= SW_WINDOW_FIRST; id--) {
		int rc;
		json_t *w = window_load(txn, dbi, id, &rc);
		if (w == NULL)
			return 0;
		bool began = state_of(json_string_value(json_object_get(w, "state"))) !=
				     SW_WINDOW_CLOSED ||
			     json_object_get(w, "book_pair") != NULL;
		json_decref(w);
		if (began)
			return id;
	}
	return 0;
}

int sw_clearing_init(sw_clearing_t *c, sw_ctx_t *ctx, sw_store_t *store,
		     sw_net_t *net, char *err, size_t err_cap)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->store = store;
	c->net = net;
	int rc = ledger_open_env(&c->ledger, store->env, NULL);
	if (rc != 0) {
		snprintf(err, err_cap, "lmdb: the switch's ledger: %s",
			 ledger_strerror(rc));
		return PS_EIO;
	}
	MDB_txn *txn;
	if (mdb_txn_begin(store->env, NULL, 0, &txn) != 0) {
		snprintf(err, err_cap, "lmdb: cannot open the windows");
		return PS_EIO;
	}
	MDB_val k = {4, "open"}, v;
	int m = mdb_get(txn, store->windows, &k, &v);
	json_t *w = NULL;
	rc = 0;
	if (m == 0 && v.mv_size == 8) {
		c->open_window = sw_id_from_key(v.mv_data);
		w = window_load(txn, store->windows, c->open_window, &rc);
	} else if (m == MDB_NOTFOUND) {
		/* A store's first start: window 1, today or the configured
		 * first settlement date. */
		const char *first = ctx->cfg->clearing.first_date;
		char date[9];
		if (first[0])
			ps_strlcpy(date, first, sizeof(date));
		else
			date_of_ms(ps_wall_ms(), date);
		c->open_window = SW_WINDOW_FIRST;
		w = window_new(SW_WINDOW_FIRST, date, ps_wall_ms());
		rc = w == NULL ? PS_ENOMEM
			       : window_save(txn, store->windows, SW_WINDOW_FIRST, w);
		if (rc == 0)
			rc = set_open_window(txn, store->windows, SW_WINDOW_FIRST);
	} else {
		rc = PS_EIO;
	}
	const char *date = json_string_value(json_object_get(w, "date"));
	if (rc == 0 && (date == NULL || strlen(date) != 8))
		rc = PS_EFORMAT;
	if (rc == 0)
		ps_strlcpy(c->open_date, date, sizeof(c->open_date));
	json_decref(w);
	if (rc == 0)
		c->booked_through = booked_through(txn, store->windows,
						   c->open_window);
	if (rc == 0 && mdb_txn_commit(txn) != 0)
		rc = PS_EIO;
	else if (rc != 0)
		mdb_txn_abort(txn);
	if (rc != 0)
		snprintf(err, err_cap, "lmdb: the open window cannot be read "
			 "(%d)", rc);
	return rc;
}

static void on_tick(uv_timer_t *timer);

void sw_clearing_start(sw_clearing_t *c)
{
	const sw_clearing_cfg_t *k = &c->ctx->cfg->clearing;
	sw_pboc_init(&c->pboc, c->ctx->loop, k->pboc_host, k->pboc_port);
	uv_timer_init(c->ctx->loop, &c->timer);
	c->timer.data = c;
	c->timer_open = true;
	c->last_daily_ms = ps_wall_ms();
	uv_timer_start(&c->timer, on_tick, k->poll_ms, k->poll_ms);
}

void sw_clearing_close(sw_clearing_t *c)
{
	if (!c->timer_open)
		return;
	c->timer_open = false;
	uv_close((uv_handle_t *)&c->timer, NULL);
	sw_recon_free(c);
	sw_pboc_close(&c->pboc);
}

void sw_clearing_free(sw_clearing_t *c)
{
	ledger_close(c->ledger);
	c->ledger = NULL;
}

uint64_t sw_clearing_window(const sw_clearing_t *c)
{
	return c->open_window;
}

const char *sw_clearing_date(const sw_clearing_t *c)
{
	return c->open_date;
}

/* ---- the payment path ----------------------------------------------------- */

void sw_clearing_stamp_leg(const sw_clearing_t *c, const sw_endpoint_t *ep,
			   txn_leg_t *l)
{
	l->window = (uint32_t)c->open_window;
	/* A direct leg is settled by the switch, in the window's date; a
	 * network's leg in the network's period, which its answer says. */
	if (ep == NULL || ep->cfg.network == ROUTE_NETWORK_DIRECT)
		ps_strlcpy(l->period, c->open_date, sizeof(l->period));
	else
		l->period[0] = '\0';
}

void sw_clearing_take_period(const sw_clearing_t *c, const sw_endpoint_t *ep,
			     txn_leg_t *l, const txn_response_t *resp)
{
	if (ep == NULL || ep->cfg.network == ROUTE_NETWORK_DIRECT ||
	    resp->period[0] == '\0')
		return;
	if (strlen(resp->period) == 4 && ps_is_digits(resp->period, 4))
		sw_date_from_mmdd(resp->period, c->open_date, l->period);
	else
		ps_strlcpy(l->period, resp->period, sizeof(l->period));
}

/* Who the leg's obligation is between, and who earns its network fee. */
static void fill_obligation(sw_clearing_t *c, const txn_t *t, unsigned i,
			    sw_obligation_t *o)
{
	const txn_leg_t *l = &t->leg[i];
	memset(o, 0, sizeof(*o));
	sw_endpoint_t *ep = sw_net_endpoint(c->net, l->endpoint);
	o->txn_id = t->id;
	o->leg = (uint8_t)i;
	o->kind = l->kind;
	o->channel = ep != NULL ? ep->cfg.network : l->network;
	o->currency = t->currency;
	ps_strlcpy(o->period, l->period[0] ? l->period : c->open_date,
		   sizeof(o->period));
	ps_strlcpy(o->bank, l->institution[0] ? l->institution
			    : ep != NULL ? ep->cfg.institution
					 : "",
		   sizeof(o->bank));
	ps_strlcpy(o->origin, t->acquirer, sizeof(o->origin));
	const char *net = c->ctx->cfg->institution;
	if (ep != NULL && ep->cfg.network != ROUTE_NETWORK_DIRECT &&
	    ep->cfg.institution[0])
		net = ep->cfg.institution;
	ps_strlcpy(o->network, net, sizeof(o->network));
	o->amount = t->amount;
	o->fee_issuer = l->fee_issuer;
	o->fee_network = l->fee_network;
	o->stan = l->stan;
	ps_strlcpy(o->transmit, l->transmit, sizeof(o->transmit));
	ps_strlcpy(o->rrn, l->rrn, sizeof(o->rrn));
	o->window = l->window;
}

static bool moves_money(int kind)
{
	return kind == TXN_KIND_PURCHASE || kind == TXN_KIND_CREDIT ||
	       kind == TXN_KIND_REFUND_CREDIT;
}

bool sw_clearing_leg_held(const sw_clearing_t *c, const txn_leg_t *l)
{
	if (l->kind != TXN_KIND_PURCHASE || l->state != TXN_LEG_APPROVED)
		return false;
	const sw_endpoint_t *ep = sw_net_endpoint(c->net, l->endpoint);
	return ep != NULL && ep->cfg.two_phase;
}

static void put_obligation(sw_clearing_t *c, sw_obligation_t *o)
{
	if (o->channel == ROUTE_NETWORK_DIRECT && o->window != 0 &&
	    o->window <= c->booked_through && o->window != c->open_window) {
		/* Its window's booking has begun (or is done): it would be
		 * missed. It settles with the open window. */
		ps_log_t *l = ps_log_begin(PS_LOG_WARN, "late_obligation");
		ps_log_uint(l, "txn", o->txn_id);
		ps_log_uint(l, "leg", o->leg);
		ps_log_uint(l, "event", o->event);
		ps_log_uint(l, "window", o->window);
		ps_log_str(l, "period", o->period);
		ps_log_uint(l, "into_window", c->open_window);
		ps_log_end(l);
		o->window = (uint32_t)c->open_window;
		ps_strlcpy(o->period, c->open_date, sizeof(o->period));
	}
	uint8_t key[SW_OBLIGATION_KEY_BYTES], val[SW_OBLIGATION_BYTES];
	sw_obligation_key(o, key);
	size_t len = sw_obligation_encode(o, val);
	sw_store_put(c->store, c->store->obligations, key, sizeof(key), val, len);
}

void sw_clearing_book_leg(sw_clearing_t *c, const txn_t *t, unsigned i)
{
	if (!moves_money(t->leg[i].kind) || t->amount <= 0)
		return;
	sw_obligation_t o;
	fill_obligation(c, t, i, &o);
	put_obligation(c, &o);
}

void sw_clearing_book_reversal(sw_clearing_t *c, const txn_t *parent,
			       unsigned i, const txn_t *rev)
{
	const txn_leg_t *l = &parent->leg[i];
	if (!moves_money(l->kind) || parent->amount <= 0)
		return;
	sw_obligation_t o;
	fill_obligation(c, parent, i, &o);
	/* A two-phase authorisation released: nothing was posted. */
	if (sw_clearing_leg_held(c, l))
		return;
	/* A leg that timed out was never booked: the bank's 00 to its
	 * reversal says it had been posted. Unknown period: the reversal's. */
	const txn_leg_t *rl = &rev->leg[0];
	if (l->state == TXN_LEG_TIMEOUT || l->state == TXN_LEG_SENT) {
		if (o.period[0] == '\0' || (l->period[0] == '\0' && rl->period[0]))
			ps_strlcpy(o.period, rl->period[0] ? rl->period
							   : c->open_date,
				   sizeof(o.period));
		put_obligation(c, &o);
		fill_obligation(c, parent, i, &o);
	}
	/* The reversal keeps the keys of the leg it reverses (a network's
	 * clearing line of a reversal carries them, to pair it). */
	o.event = 1;
	if (rl->period[0])
		ps_strlcpy(o.period, rl->period, sizeof(o.period));
	o.window = rl->window;
	put_obligation(c, &o);
}

/* ---- cutover --------------------------------------------------------------- */

static void ask_networks(sw_clearing_t *c, uint64_t window, json_t *w);

int sw_clearing_cutover(sw_clearing_t *c, uint64_t *closed, char *err,
			size_t err_cap)
{
	MDB_dbi dbi = c->store->windows;
	MDB_txn *txn;
	if (mdb_txn_begin(c->store->env, NULL, 0, &txn) != 0) {
		snprintf(err, err_cap, "lmdb: cannot begin");
		return PS_EIO;
	}
	int rc;
	uint64_t id = c->open_window, now = ps_wall_ms();
	json_t *w = window_load(txn, dbi, id, &rc);
	char next_date[9];
	sw_date_next(c->open_date, next_date);
	json_t *next = window_new(id + 1, next_date, now);
	if (w != NULL && next != NULL) {
		json_object_set_new(w, "state", json_string("closed"));
		json_object_set_new(w, "closed_ms", json_integer((json_int_t)now));
		json_t *waiting = json_array();
		for (uint32_t i = 0; i < c->net->endpoint_count; i++) {
			const sw_endpoint_t *ep = c->net->endpoint[i];
			if (!ep->retired && ep->cfg.network != ROUTE_NETWORK_DIRECT)
				json_array_append_new(waiting, json_string(ep->cfg.name));
		}
		json_object_set_new(w, "waiting", waiting);
		rc = window_save(txn, dbi, id, w);
		if (rc == 0)
			rc = window_save(txn, dbi, id + 1, next);
		if (rc == 0)
			rc = set_open_window(txn, dbi, id + 1);
	} else if (rc == 0) {
		rc = PS_ENOMEM;
	}
	if (rc == 0 && mdb_txn_commit(txn) != 0)
		rc = PS_EIO;
	else if (rc != 0)
		mdb_txn_abort(txn);
	json_decref(next);
	if (rc != 0) {
		json_decref(w);
		snprintf(err, err_cap, "lmdb: the cutover cannot be recorded (%d)",
			 rc);
		return rc;
	}
	c->open_window = id + 1;
	ps_strlcpy(c->open_date, next_date, sizeof(c->open_date));
	*closed = id;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "cutover");
	ps_log_uint(l, "closed", id);
	ps_log_uint(l, "opened", id + 1);
	ps_log_str(l, "date", next_date);
	ps_log_end(l);
	ask_networks(c, id, w);
	json_decref(w);
	return 0;
}

/* Each network is asked to close its period; its answer comes to
 * sw_clearing_network_closed through the link (link.c). */
static void ask_networks(sw_clearing_t *c, uint64_t window, json_t *w)
{
	size_t i;
	json_t *name;
	json_array_foreach(json_object_get(w, "waiting"), i, name) {
		sw_endpoint_t *ep = sw_net_endpoint(c->net, json_string_value(name));
		if (ep == NULL || sw_endpoint_cutover(ep, window) != 0)
			ps_logf(PS_LOG_WARN, "network_cutover_unsent",
				"endpoint %s: no link up to ask it to cut over; "
				"its periods join window %" PRIu64 " when it "
				"announces them", json_string_value(name), window);
	}
}

void sw_clearing_network_closed(sw_clearing_t *c, const sw_endpoint_t *ep,
				const char *period, uint64_t window)
{
	char full[TXN_PERIOD_MAX];
	if (strlen(period) == 4 && ps_is_digits(period, 4))
		sw_date_from_mmdd(period, c->open_date, full);
	else
		ps_strlcpy(full, period, sizeof(full));
	if (full[0] == '\0')
		return;
	if (window == 0)
		window = c->open_window; /* announced on its own: the open one */
	MDB_txn *txn;
	if (mdb_txn_begin(c->store->env, NULL, 0, &txn) != 0)
		return;
	int rc;
	json_t *w = window_load(txn, c->store->windows, window, &rc);
	const char *net = route_network_name((route_network_t)ep->cfg.network);
	json_t *list = json_object_get(json_object_get(w, "periods"), net);
	bool have = false;
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
		if (strcmp(json_string_value(p), full) == 0)
			have = true;
	if (list != NULL && !have && json_array_size(list) < SW_WINDOW_PERIODS_MAX)
		json_array_append_new(list, json_string(full));
	json_t *waiting = json_object_get(w, "waiting");
	json_array_foreach(waiting, i, p) {
		if (strcmp(json_string_value(p), ep->cfg.name) == 0) {
			json_array_remove(waiting, i);
			break;
		}
	}
	if (w != NULL && window_save(txn, c->store->windows, window, w) == 0 &&
	    mdb_txn_commit(txn) == 0) {
		ps_log_t *l = ps_log_begin(PS_LOG_INFO, "network_period_closed");
		ps_log_str(l, "endpoint", ep->cfg.name);
		ps_log_str(l, "period", full);
		ps_log_uint(l, "window", window);
		ps_log_end(l);
	} else {
		mdb_txn_abort(txn);
	}
	json_decref(w);
}

/* ---- booking ----------------------------------------------------------------- */

/* The ledger account of a member's position in a channel's period. */
static ledger_id_t position_id(int channel, const char *period,
			       const char *member, uint16_t currency)
{
	char text[96];
	int n = snprintf(text, sizeof(text), "P:%d:%s:%s:%u", channel, period,
			 member, currency);
	return ledger_id_from_text(text, (size_t)n);
}

static ledger_id_t transfer_id(const sw_obligation_t *o, int part)
{
	char text[96];
	int n = snprintf(text, sizeof(text), "O:%" PRIu64 ":%u:%u:%d", o->txn_id,
			 o->leg, o->event, part);
	return ledger_id_from_text(text, (size_t)n);
}

/* The (channel, period, member, currency) positions a window touches,
 * kept in its record so that booking can resume. */
static bool note_member(json_t *members, int channel, const char *period,
			const char *member, uint16_t currency)
{
	size_t i;
	json_t *m;
	json_array_foreach(members, i, m) {
		if (json_integer_value(json_array_get(m, 0)) == channel &&
		    strcmp(json_string_value(json_array_get(m, 1)), period) == 0 &&
		    strcmp(json_string_value(json_array_get(m, 2)), member) == 0 &&
		    json_integer_value(json_array_get(m, 3)) == currency)
			return true;
	}
	if (json_array_size(members) >= SW_WINDOW_MEMBERS_MAX)
		return false;
	json_array_append_new(members, json_pack("[i, s, s, i]", channel, period,
						 member, (int)currency));
	return true;
}

typedef struct book {
	ledger_transfer_t *transfers;
	uint32_t count;
	ledger_account_t *accounts;
	uint32_t account_count;
	json_t *members;
	bool overflow;
} book_t;

static void add_account(book_t *b, int channel, const char *period,
			const char *member, uint16_t currency)
{
	if (!note_member(b->members, channel, period, member, currency)) {
		b->overflow = true;
		return;
	}
	ledger_account_t *a = &b->accounts[b->account_count++];
	memset(a, 0, sizeof(*a));
	a->id = position_id(channel, period, member, currency);
	a->ledger = currency;
	a->code = ACODE_POSITION;
}

static void add_transfer(book_t *b, const sw_obligation_t *o, int part,
			 const char *debtor, const char *creditor, int64_t amount,
			 int code)
{
	if (amount <= 0)
		return;
	bool rev = o->event == 1;
	ledger_transfer_t *x = &b->transfers[b->count++];
	memset(x, 0, sizeof(*x));
	x->id = transfer_id(o, part);
	/* A reversal moves the same amounts back. */
	const char *from = rev ? creditor : debtor, *to = rev ? debtor : creditor;
	x->debit_account_id = position_id(o->channel, o->period, from, o->currency);
	x->credit_account_id = position_id(o->channel, o->period, to, o->currency);
	x->amount = (uint64_t)amount;
	x->ledger = o->currency;
	x->code = (uint16_t)(rev ? XCODE_REVERSED + code : code);
	x->user_data_64 = o->txn_id;
	add_account(b, o->channel, o->period, from, o->currency);
	add_account(b, o->channel, o->period, to, o->currency);
}

/* The transfers of one obligation (docs/clearing.md, Obligations). */
static void obligation_transfers(book_t *b, const sw_obligation_t *o)
{
	if (o->kind == TXN_KIND_PURCHASE) {
		add_transfer(b, o, 1, o->bank, o->origin, o->amount, XCODE_AMOUNT);
		add_transfer(b, o, 2, o->origin, o->bank, o->fee_issuer,
			     XCODE_ISSUER_FEE);
		add_transfer(b, o, 3, o->bank, o->network, o->fee_network,
			     XCODE_NETWORK_FEE);
		add_transfer(b, o, 4, o->origin, o->network, o->fee_network,
			     XCODE_NETWORK_FEE);
	} else {
		add_transfer(b, o, 1, o->origin, o->bank, o->amount, XCODE_AMOUNT);
	}
}

/* The (channel, period) pairs of a window: its direct date and the
 * networks' periods it holds. */
static size_t window_periods(json_t *w, int channels[], const char *periods[],
			     size_t cap)
{
	size_t n = 0;
	channels[n] = ROUTE_NETWORK_DIRECT;
	periods[n++] = json_string_value(json_object_get(w, "date"));
	for (int net = ROUTE_NETWORK_UNIONPAY; net < ROUTE_NETWORK_COUNT; net++) {
		json_t *list = json_object_get(json_object_get(w, "periods"),
					       route_network_name((route_network_t)net));
		size_t i;
		json_t *p;
		json_array_foreach(list, i, p) {
			if (n < cap) {
				channels[n] = net;
				periods[n++] = json_string_value(p);
			}
		}
	}
	return n;
}

/*
 * Books up to one chunk of window w's obligations, after its cursor (the
 * index of the (channel, period) pair and the last key booked), in one
 * write transaction with the window's record. *done when every pair is
 * booked. PS_* when the chunk could not be booked (nothing was).
 */
static int book_chunk(sw_clearing_t *c, uint64_t id, bool *done, char *why,
		      size_t why_cap)
{
	*done = false;
	MDB_txn *txn;
	if (mdb_txn_begin(c->store->env, NULL, 0, &txn) != 0)
		return PS_EIO;
	int rc;
	json_t *w = window_load(txn, c->store->windows, id, &rc);
	if (w == NULL) {
		mdb_txn_abort(txn);
		return rc;
	}
	static ledger_transfer_t transfers[BOOK_OBLIGATIONS_PER_CHUNK * 4];
	static ledger_account_t accounts[BOOK_OBLIGATIONS_PER_CHUNK * 8];
	static ledger_result_t results[BOOK_OBLIGATIONS_PER_CHUNK * 8];
	book_t b = {.transfers = transfers, .accounts = accounts,
		    .members = json_object_get(w, "members")};
	int channels[1 + 2 * SW_WINDOW_PERIODS_MAX];
	const char *periods[1 + 2 * SW_WINDOW_PERIODS_MAX];
	size_t pairs = window_periods(w, channels, periods, PS_ARRAY_LEN(channels));
	size_t pair = (size_t)json_integer_value(json_object_get(w, "book_pair"));
	const char *after = json_string_value(json_object_get(w, "book_after"));
	uint8_t last[SW_OBLIGATION_KEY_BYTES];
	bool have_last = after != NULL &&
			 ps_hex_decode(after, strlen(after), last, sizeof(last)) == 0;
	MDB_cursor *cur = NULL;
	rc = mdb_cursor_open(txn, c->store->obligations, &cur) == 0 ? 0 : PS_EIO;
	uint32_t taken = 0;
	uint8_t next_last[SW_OBLIGATION_KEY_BYTES];
	bool moved = false;
	while (rc == 0 && pair < pairs && taken < BOOK_OBLIGATIONS_PER_CHUNK) {
		uint8_t prefix[13];
		prefix[0] = (uint8_t)channels[pair];
		put_text(prefix + 1, periods[pair], TXN_PERIOD_MAX);
		MDB_val k, v;
		if (have_last) {
			k.mv_size = sizeof(last);
			k.mv_data = last;
		} else {
			k.mv_size = sizeof(prefix);
			k.mv_data = prefix;
		}
		int m = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (m == 0 && have_last && k.mv_size == sizeof(last) &&
		    memcmp(k.mv_data, last, sizeof(last)) == 0)
			m = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		while (m == 0 && taken < BOOK_OBLIGATIONS_PER_CHUNK &&
		       k.mv_size == SW_OBLIGATION_KEY_BYTES &&
		       memcmp(k.mv_data, prefix, sizeof(prefix)) == 0) {
			sw_obligation_t o;
			if (sw_obligation_decode(v.mv_data, v.mv_size, &o) == 0)
				obligation_transfers(&b, &o);
			else
				ps_logf(PS_LOG_ERROR, "obligation_corrupt",
					"an obligation record of window %" PRIu64
					" cannot be read; skipped", id);
			memcpy(next_last, k.mv_data, sizeof(next_last));
			moved = true;
			have_last = true;
			memcpy(last, next_last, sizeof(last));
			taken++;
			m = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (taken < BOOK_OBLIGATIONS_PER_CHUNK) {
			/* This pair is done: the next one from its start. */
			pair++;
			have_last = false;
			moved = false;
		}
		if (m != 0 && m != MDB_NOTFOUND)
			rc = PS_EIO;
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (b.overflow) {
		snprintf(why, why_cap, "more than %d positions in one window",
			 SW_WINDOW_MEMBERS_MAX);
		rc = PS_ELIMIT;
	}
	uint32_t batch = ledger_batch_max(c->ledger);
	for (uint32_t off = 0; rc == 0 && off < b.account_count; off += batch) {
		uint32_t n = PS_MIN(batch, b.account_count - off);
		rc = ledger_create_accounts_txn(c->ledger, txn, accounts + off, n,
						results);
		for (uint32_t i = 0; rc == 0 && i < n; i++)
			if (results[i].result != LEDGER_ACCOUNT_OK &&
			    results[i].result != LEDGER_ACCOUNT_EXISTS)
				rc = PS_EIO;
	}
	for (uint32_t off = 0; rc == 0 && off < b.count; off += batch) {
		uint32_t n = PS_MIN(batch, b.count - off);
		rc = ledger_create_transfers_txn(c->ledger, txn, transfers + off, n,
						 results);
		for (uint32_t i = 0; rc == 0 && i < n; i++)
			if (results[i].result != LEDGER_TRANSFER_OK &&
			    results[i].result != LEDGER_TRANSFER_EXISTS) {
				snprintf(why, why_cap, "the ledger refused an "
					 "obligation (result %u)", results[i].result);
				rc = PS_EIO;
			}
	}
	if (rc == 0) {
		json_object_set_new(w, "book_pair", json_integer((json_int_t)pair));
		char hex[2 * SW_OBLIGATION_KEY_BYTES + 1] = "";
		if (moved)
			ps_hex_encode(next_last, sizeof(next_last), hex);
		json_object_set_new(w, "book_after", json_string(hex));
		*done = pair >= pairs;
		rc = window_save(txn, c->store->windows, id, w);
	}
	if (rc == 0 && mdb_txn_commit(txn) != 0)
		rc = PS_EIO;
	else if (rc != 0)
		mdb_txn_abort(txn);
	json_decref(w);
	return rc;
}

static bool has_position(json_t *positions, const char *channel, const char *period)
{
	size_t i;
	json_t *p;
	json_array_foreach(positions, i, p)
		if (json_integer_value(json_object_get(p, "amount")) != 0 &&
		    strcmp(json_string_value(json_object_get(p, "channel")), channel) == 0 &&
		    strcmp(json_string_value(json_object_get(p, "period")), period) == 0)
			return true;
	return false;
}

/* Reads the positions the window's members hold into its record and
 * names its batches: the switch's for direct positions, and each
 * network's for its periods. */
static int settle_plan(sw_clearing_t *c, uint64_t id)
{
	MDB_txn *txn;
	if (mdb_txn_begin(c->store->env, NULL, 0, &txn) != 0)
		return PS_EIO;
	int rc;
	json_t *w = window_load(txn, c->store->windows, id, &rc);
	if (w == NULL) {
		mdb_txn_abort(txn);
		return rc;
	}
	json_t *positions = json_array(), *batches = json_array();
	size_t i;
	json_t *m;
	bool direct[1000] = {false}; /* currencies with direct positions */
	json_array_foreach(json_object_get(w, "members"), i, m) {
		int channel = (int)json_integer_value(json_array_get(m, 0));
		const char *period = json_string_value(json_array_get(m, 1));
		const char *member = json_string_value(json_array_get(m, 2));
		uint16_t ccy = (uint16_t)json_integer_value(json_array_get(m, 3));
		ledger_account_t a;
		if (ledger_account_get(c->ledger, position_id(channel, period,
							      member, ccy), &a) != 0)
			continue;
		int64_t pos = (int64_t)a.credits_posted - (int64_t)a.debits_posted;
		json_array_append_new(positions, json_pack(
			"{s:s, s:s, s:s, s:i, s:I}", "channel",
			route_network_name((route_network_t)channel), "period", period,
			"member", member, "currency", (int)ccy, "amount",
			(json_int_t)pos));
		if (channel == ROUTE_NETWORK_DIRECT && ccy < 1000)
			direct[ccy] = true;
	}
	const char *date = json_string_value(json_object_get(w, "date"));
	for (int ccy = 1; ccy < 1000; ccy++) {
		if (!direct[ccy])
			continue;
		char batch[64];
		const char *alpha = txn_currency_alpha((uint16_t)ccy);
		if (ccy == TXN_CURRENCY_CNY)
			snprintf(batch, sizeof(batch), "SW%s-%s",
				 c->ctx->cfg->institution, date);
		else
			snprintf(batch, sizeof(batch), "SW%s-%s-%s",
				 c->ctx->cfg->institution, date, alpha ? alpha : "XXX");
		json_array_append_new(batches, json_pack(
			"{s:s, s:s, s:s, s:i, s:s, s:s}", "batch", batch, "channel",
			"direct", "period", date, "currency", ccy, "submitter",
			"switch", "status", "pending"));
	}
	for (int net = ROUTE_NETWORK_UNIONPAY; net < ROUTE_NETWORK_COUNT; net++) {
		const char *name = route_network_name((route_network_t)net);
		json_t *p;
		json_array_foreach(json_object_get(json_object_get(w, "periods"), name),
				   i, p) {
			/* A network submits no batch for a period where every
			 * position is zero: none is awaited then. */
			if (!has_position(positions, name, json_string_value(p)))
				continue;
			char batch[64];
			if (net == ROUTE_NETWORK_UNIONPAY)
				snprintf(batch, sizeof(batch), "CUP-%s",
					 json_string_value(p));
			else
				snprintf(batch, sizeof(batch), "%s", json_string_value(p));
			json_array_append_new(batches, json_pack(
				"{s:s, s:s, s:s, s:i, s:s, s:s}", "batch", batch,
				"channel", name, "period", json_string_value(p),
				"currency", TXN_CURRENCY_CNY, "submitter", name,
				"status", "pending"));
		}
	}
	json_object_set_new(w, "positions", positions);
	json_object_set_new(w, "batches", batches);
	json_object_set_new(w, "state", json_string(
		json_array_size(batches) > 0 ? "settling" : "settled"));
	if (json_array_size(batches) == 0)
		json_object_set_new(w, "reason", json_string("nothing to settle"));
	rc = window_save(txn, c->store->windows, id, w);
	if (rc == 0 && mdb_txn_commit(txn) != 0)
		rc = PS_EIO;
	else if (rc != 0)
		mdb_txn_abort(txn);
	if (rc == 0) {
		ps_log_t *l = ps_log_begin(PS_LOG_INFO, "window_booked");
		ps_log_uint(l, "window", id);
		ps_log_uint(l, "positions", json_array_size(positions));
		ps_log_uint(l, "batches", json_array_size(batches));
		ps_log_end(l);
	}
	json_decref(w);
	return rc;
}

/* ---- settlement --------------------------------------------------------------- */

int sw_clearing_window_update(sw_clearing_t *c, uint64_t id,
			      void (*fn)(json_t *w, void *arg), void *arg)
{
	MDB_txn *txn;
	if (mdb_txn_begin(c->store->env, NULL, 0, &txn) != 0)
		return PS_EIO;
	int rc;
	json_t *w = window_load(txn, c->store->windows, id, &rc);
	if (w != NULL) {
		fn(w, arg);
		rc = window_save(txn, c->store->windows, id, w);
	}
	if (rc == 0 && mdb_txn_commit(txn) != 0)
		rc = PS_EIO;
	else if (rc != 0)
		mdb_txn_abort(txn);
	json_decref(w);
	return rc;
}

typedef struct pboc_answer {
	sw_clearing_t *c;
	uint64_t window;
	char batch[64];
	json_t *answer;
	const char *why;
} pboc_answer_t;

static pboc_answer_t answer_slot;

/* Takes PBOC's answer about one batch into the window's record. */
static void apply_answer(json_t *w, void *arg)
{
	pboc_answer_t *a = arg;
	size_t i;
	json_t *b;
	bool all_posted = true, rejected = false;
	const char *reason = NULL;
	json_array_foreach(json_object_get(w, "batches"), i, b) {
		const char *id = json_string_value(json_object_get(b, "batch"));
		if (strcmp(id, a->batch) == 0) {
			const char *status = a->answer != NULL
				? json_string_value(json_object_get(a->answer, "status"))
				: NULL;
			const char *why = a->answer != NULL
				? json_string_value(json_object_get(a->answer, "reason"))
				: a->why;
			bool network = strcmp(json_string_value(json_object_get(b, "submitter")),
					      "switch") != 0;
			if (status == NULL || strcmp(status, "error") == 0) {
				/* Unreachable, or a question it could not answer:
				 * asked again on the next tick. */
			} else if (strcmp(status, "unknown") == 0 && network) {
				json_object_set_new(b, "reason", json_string(
					"not yet submitted by the network"));
			} else if (strcmp(status, "unknown") == 0) {
				json_object_set_new(b, "status", json_string("pending"));
			} else {
				json_object_set_new(b, "status", json_string(status));
			}
			if (why != NULL)
				json_object_set_new(b, "reason", json_string(why));
			else if (status != NULL && strcmp(status, "posted") == 0)
				json_object_del(b, "reason");
		}
		const char *st = json_string_value(json_object_get(b, "status"));
		if (strcmp(st, "posted") != 0)
			all_posted = false;
		if (strcmp(st, "rejected") == 0) {
			rejected = true;
			reason = json_string_value(json_object_get(b, "reason"));
		}
	}
	if (all_posted) {
		json_object_set_new(w, "state", json_string("settled"));
		json_object_set_new(w, "settled_ms", json_integer((json_int_t)ps_wall_ms()));
		json_object_del(w, "reason");
	} else if (rejected) {
		json_object_set_new(w, "state", json_string("failed"));
		json_object_set_new(w, "reason", json_string(reason ? reason : "rejected"));
	}
}

static void on_pboc_answer(void *data, json_t *answer, const char *why)
{
	pboc_answer_t *a = data;
	sw_clearing_t *c = a->c;
	c->pboc_busy = 0;
	a->answer = answer;
	a->why = why;
	if (sw_clearing_window_update(c, a->window, apply_answer, a) != 0)
		ps_logf(PS_LOG_ERROR, "window_update_failed", "window %" PRIu64,
			a->window);
	ps_log_t *l = ps_log_begin(answer != NULL ? PS_LOG_INFO : PS_LOG_WARN,
				   "pboc_answer");
	ps_log_uint(l, "window", a->window);
	ps_log_str(l, "batch", a->batch);
	ps_log_str(l, "status", answer != NULL
			     ? json_string_value(json_object_get(answer, "status"))
			     : "no answer");
	if (why != NULL || json_object_get(answer, "reason") != NULL)
		ps_log_str(l, "reason", why != NULL ? why
				: json_string_value(json_object_get(answer, "reason")));
	ps_log_end(l);
}

/* The next question for PBOC about a settling window: submit the
 * switch's pending batch, or ask about one that is not posted. */
static void settle_step(sw_clearing_t *c, uint64_t id, json_t *w)
{
	if (c->pboc_busy != 0)
		return;
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(w, "batches"), i, b) {
		const char *status = json_string_value(json_object_get(b, "status"));
		if (strcmp(status, "posted") == 0 || strcmp(status, "rejected") == 0)
			continue;
		const char *batch = json_string_value(json_object_get(b, "batch"));
		bool ours = strcmp(json_string_value(json_object_get(b, "submitter")),
				   "switch") == 0;
		json_t *req;
		if (ours && strcmp(status, "pending") == 0) {
			json_t *positions = json_array();
			size_t j;
			json_t *p;
			int ccy = (int)json_integer_value(json_object_get(b, "currency"));
			json_array_foreach(json_object_get(w, "positions"), j, p) {
				if (strcmp(json_string_value(json_object_get(p, "channel")),
					   "direct") != 0 ||
				    json_integer_value(json_object_get(p, "currency")) != ccy ||
				    json_integer_value(json_object_get(p, "amount")) == 0)
					continue;
				json_array_append_new(positions, json_pack(
					"{s:O, s:O}", "member", json_object_get(p, "member"),
					"amount", json_object_get(p, "amount")));
			}
			const char *alpha = txn_currency_alpha((uint16_t)ccy);
			req = json_pack("{s:s, s:s, s:s, s:s, s:o}", "op", "settle",
					"batch", batch, "submitter",
					c->ctx->cfg->institution, "currency",
					alpha ? alpha : "CNY", "positions", positions);
		} else {
			req = json_pack("{s:s, s:s}", "op", "batch", "batch", batch);
		}
		answer_slot.c = c;
		answer_slot.window = id;
		ps_strlcpy(answer_slot.batch, batch, sizeof(answer_slot.batch));
		if (req != NULL && sw_pboc_request(&c->pboc, req, on_pboc_answer,
						   &answer_slot) == 0)
			c->pboc_busy = id;
		json_decref(req);
		return;
	}
}

/* ---- the clearing timer ---------------------------------------------------- */

bool sw_clearing_daily_due(const char *t, uint64_t last_ms, uint64_t now_ms)
{
	if (t[0] == '\0')
		return false;
	uint64_t day = now_ms / 86400000ull * 86400000ull;
	uint64_t at = day + (uint64_t)((t[0] - '0') * 10 + t[1] - '0') * 3600000ull +
		      (uint64_t)((t[3] - '0') * 10 + t[4] - '0') * 60000ull;
	return now_ms >= at && last_ms < at;
}

static bool daily_due(sw_clearing_t *c, uint64_t now_ms)
{
	return sw_clearing_daily_due(c->ctx->cfg->clearing.cutover_time,
				     c->last_daily_ms, now_ms);
}

static void step_window(sw_clearing_t *c, uint64_t id, json_t *w, uint64_t now)
{
	int state = state_of(json_string_value(json_object_get(w, "state")));
	char why[160] = "";
	if (state == SW_WINDOW_CLOSED) {
		uint64_t closed = (uint64_t)json_integer_value(json_object_get(w, "closed_ms"));
		bool waited = now >= closed + c->ctx->cfg->clearing.settle_delay_ms;
		bool networks = json_array_size(json_object_get(w, "waiting")) == 0 ||
				now >= closed + SW_NETWORK_WAIT_MS;
		if (!waited || !networks)
			return;
		if (id > c->booked_through)
			c->booked_through = id;
		bool done = false;
		int rc = book_chunk(c, id, &done, why, sizeof(why));
		if (rc == 0 && done)
			rc = settle_plan(c, id);
		if (rc != 0) {
			ps_logf(PS_LOG_ERROR, "window_booking_failed",
				"window %" PRIu64 ": %s (%d); retried", id,
				why[0] ? why : "storage", rc);
		}
	} else if (state == SW_WINDOW_SETTLING) {
		settle_step(c, id, w);
	}
}

static void on_tick(uv_timer_t *timer)
{
	sw_clearing_t *c = timer->data;
	uint64_t now = ps_wall_ms();
	if (daily_due(c, now)) {
		c->last_daily_ms = now;
		uint64_t closed;
		char err[160];
		if (sw_clearing_cutover(c, &closed, err, sizeof(err)) != 0)
			ps_logf(PS_LOG_ERROR, "cutover_failed", "%s", err);
	}
	sw_recon_tick(c);
	/* The windows not yet settled, oldest first, a few per tick. */
	MDB_txn *txn = sw_store_read(c->store);
	if (txn == NULL)
		return;
	uint64_t ids[8];
	json_t *ws[8];
	size_t n = 0;
	MDB_cursor *cur;
	if (mdb_cursor_open(txn, c->store->windows, &cur) == 0) {
		MDB_val k, v;
		int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (m == 0 && n < PS_ARRAY_LEN(ids)) {
			if (k.mv_size == 8) {
				json_t *w = json_loadb(v.mv_data, v.mv_size, 0, NULL);
				int st = state_of(json_string_value(json_object_get(w, "state")));
				if (st == SW_WINDOW_CLOSED || st == SW_WINDOW_SETTLING) {
					ids[n] = sw_id_from_key(k.mv_data);
					ws[n++] = w;
				} else {
					json_decref(w);
				}
			}
			m = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(c->store);
	for (size_t i = 0; i < n; i++) {
		step_window(c, ids[i], ws[i], now);
		json_decref(ws[i]);
	}
}

/* ---- the operator ---------------------------------------------------------- */

static void retry_rejected(json_t *w, void *arg)
{
	(void)arg;
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(w, "batches"), i, b) {
		if (strcmp(json_string_value(json_object_get(b, "status")), "rejected") == 0)
			json_object_set_new(b, "status", json_string("pending"));
	}
	json_object_set_new(w, "state", json_string("settling"));
}

int sw_clearing_settle(sw_clearing_t *c, uint64_t window, char *err,
		       size_t err_cap)
{
	json_t *w = sw_clearing_window_json(c, window);
	if (w == NULL) {
		snprintf(err, err_cap, "no window %" PRIu64, window);
		return PS_ENOTFOUND;
	}
	int state = state_of(json_string_value(json_object_get(w, "state")));
	json_decref(w);
	if (state != SW_WINDOW_FAILED) {
		snprintf(err, err_cap, "window %" PRIu64 " is %s, not failed",
			 window, sw_window_state_name(state));
		return PS_EINVAL;
	}
	int rc = sw_clearing_window_update(c, window, retry_rejected, NULL);
	if (rc != 0)
		snprintf(err, err_cap, "lmdb: the window cannot be changed");
	else
		ps_logf(PS_LOG_INFO, "settle_retry", "window %" PRIu64
			": its rejected batches are submitted again", window);
	return rc;
}

json_t *sw_clearing_window_json(sw_clearing_t *c, uint64_t window)
{
	MDB_txn *txn = sw_store_read(c->store);
	if (txn == NULL)
		return NULL;
	int rc;
	json_t *w = window_load(txn, c->store->windows, window, &rc);
	sw_store_read_done(c->store);
	return w;
}
