/*
 * wire.c: what netsim does on the members' wire that the channel does not:
 * the UnionPay header's stations checked (the channel checks its length,
 * version and total), the members' connections remembered by the station
 * they send from, the 0820 cutover announcements (the one message netsim
 * originates towards members; no adapter encodes an 0820, so it is packed
 * here, with the header of the member it goes to), and the period an
 * answer carries.
 */
#include <string.h>

#include "core.h"
#include "netsim.h"

/* ---- stations and connections -------------------------------------------------- */

const char *ns_screen(void *ctx, uint32_t conn_id, const chan_frame_t *frame)
{
	netsim_t *ns = ctx;
	iso8583_cups_header_t h;
	iso8583_error_t ierr;
	if (frame->header_len != ISO8583_CUPS_HEADER_BYTES ||
	    iso8583_cups_header_parse(frame->header, frame->header_len + frame->len,
				      &h, &ierr) != 0)
		return NULL; /* the channel sends it back with its own code */
	if (strcmp(h.destination, ns->cfg->station) != 0)
		return "00045";
	if (ns_members_by_station(ns->members, h.source) == NULL)
		return "00055";
	ns_conn_learn(ns, conn_id, h.source);
	return NULL;
}

static ns_conn_t *conn_find(netsim_t *ns, uint32_t conn_id)
{
	for (uint32_t i = 0; i < ns->conn_count; i++)
		if (ns->conns[i].conn_id == conn_id)
			return &ns->conns[i];
	return NULL;
}

void ns_conn_learn(netsim_t *ns, uint32_t conn_id, const char *station)
{
	ns_conn_t *c = conn_find(ns, conn_id);
	if (c == NULL) {
		/* Full: the oldest goes (a connection gone unnoticed, most
		 * likely: announcements find out which). */
		if (ns->conn_count == ns->cfg->connections_max) {
			memmove(&ns->conns[0], &ns->conns[1],
				(ns->conn_count - 1) * sizeof(ns->conns[0]));
			ns->conn_count--;
		}
		c = &ns->conns[ns->conn_count++];
		c->conn_id = conn_id;
	}
	ps_strlcpy(c->station, station, sizeof(c->station));
}

static void conn_forget(netsim_t *ns, uint32_t i)
{
	memmove(&ns->conns[i], &ns->conns[i + 1],
		(ns->conn_count - i - 1) * sizeof(ns->conns[0]));
	ns->conn_count--;
}

const char *ns_sender(netsim_t *ns, const sim_req_t *req)
{
	const ns_member_t *m;
	if (ns->cfg->mode_kind == NETSIM_NETCLEAR) {
		m = ns_members_by_id(ns->members, req->t.participant);
		if (m != NULL)
			ns_conn_learn(ns, req->conn_id, m->station);
		return m != NULL ? m->member : NULL;
	}
	const ns_conn_t *c = conn_find(ns, req->conn_id);
	m = c != NULL ? ns_members_by_station(ns->members, c->station) : NULL;
	return m != NULL ? m->member : NULL;
}

/* ---- periods as the wire says them ------------------------------------------------- */

void ns_period_text(const netsim_t *ns, const char *period,
		    char out[TXN_PERIOD_MAX])
{
	if (ns->cfg->mode_kind == NETSIM_UNIONPAY)
		ps_strlcpy(out, strlen(period) == 8 ? period + 4 : "", 5);
	else
		ps_strlcpy(out, period, TXN_PERIOD_MAX);
}

void ns_period_date(const char *period, char out[9])
{
	ps_strlcpy(out, period[0] == 'B' ? period + 1 : period, 9);
}

void ns_batch_id(const netsim_t *ns, const char *period, char out[24])
{
	if (ns->cfg->mode_kind == NETSIM_UNIONPAY)
		snprintf(out, 24, "CUP-%s", period);
	else
		ps_strlcpy(out, period, 24);
}

/* ---- announcements ---------------------------------------------------------------------- */

/* 0820 with field 70 code and field 15 the date's MMDD, under a header
 * from our station to dest, into ns->frame. */
static int encode_0820(netsim_t *ns, const char *dest, const char *code,
		       const char *date, size_t *len)
{
	char transmit[11], stan[7];
	txn_format_transmit(ps_wall_ms(), transmit);
	ns->own_stan = ns->own_stan >= 999999 ? 1 : ns->own_stan + 1;
	snprintf(stan, sizeof(stan), "%06u", ns->own_stan);
	iso8583_msg_t msg;
	iso8583_msg_init(&msg, ns->chan.dialect);
	int rc;
	if ((rc = iso8583_set_mti(&msg, "0820")) ||
	    (rc = iso8583_set_str(&msg, 7, transmit)) ||
	    (rc = iso8583_set_str(&msg, 11, stan)) ||
	    (rc = iso8583_set(&msg, 15, date + 4, 4)) ||
	    (rc = iso8583_set_str(&msg, 33, ns->cfg->member)) ||
	    (rc = iso8583_set_str(&msg, 70, code)))
		return rc;
	iso8583_framing_t framing = ns->chan.framing;
	framing.frame_bytes_max = ns->chan.frame_bytes_max;
	size_t prefix = iso8583_frame_length_bytes(&framing);
	size_t head = ISO8583_CUPS_HEADER_BYTES, body = 0;
	iso8583_error_t ierr;
	if ((rc = iso8583_pack(&msg, ns->frame + prefix + head,
			       sizeof(ns->frame) - prefix - head, &body, &ierr)) ||
	    (rc = iso8583_frame_write_length(&framing, head + body, ns->frame)))
		return rc;
	iso8583_cups_header_t h;
	iso8583_cups_header_init(&h, dest, ns->cfg->station);
	iso8583_cups_header_write(&h, head + body, ns->frame + prefix);
	*len = prefix + head + body;
	return 0;
}

/* Sends one announcement to every connection; those gone are forgotten. */
static uint32_t announce_one(netsim_t *ns, const char *code, const char *date)
{
	uint32_t sent = 0;
	for (uint32_t i = 0; i < ns->conn_count;) {
		size_t len = 0;
		int rc = encode_0820(ns, ns->conns[i].station, code, date, &len);
		if (rc == 0)
			rc = sim_server_send(ns->srv, ns->conns[i].conn_id, ns->frame,
					     len);
		if (rc == PS_ECLOSED) {
			conn_forget(ns, i);
			continue;
		}
		if (rc != 0)
			ps_logf(PS_LOG_WARN, "announce_failed", "0820 %s to %s: %d",
				code, ns->conns[i].station, rc);
		else
			sent++;
		i++;
	}
	return sent;
}

void ns_announce(netsim_t *ns, const char *closed, const char *opened)
{
	if (ns->cfg->mode_kind != NETSIM_UNIONPAY)
		return; /* NetClear members learn the session from every answer */
	uint32_t a = announce_one(ns, "201", closed);
	uint32_t b = announce_one(ns, "202", opened);
	ns->stats.announced += a + b;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "announced");
	ps_log_str(l, "closed", closed);
	ps_log_str(l, "opened", opened);
	ps_log_uint(l, "members", PS_MIN(a, b));
	ps_log_end(l);
}
