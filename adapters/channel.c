/*
 * channel.c: the channel interface over the ISO 8583 and JSON mappings
 * (channel.h): framing, decoding into the canonical transaction, and whole
 * frames out of it.
 */
#include "channel.h"

#include <stdio.h>
#include <string.h>

#include "core.h"

const char *chan_kind_name(int kind)
{
	return kind == CHAN_JSON ? "json" : kind == CHAN_NETCLEAR ? "netclear"
								  : "iso8583";
}

/* JSON and NetClear are newline-framed text; ISO 8583 has its framer. */
static bool is_lines(int kind)
{
	return kind == CHAN_JSON || kind == CHAN_NETCLEAR;
}

bool chan_cfg_same(const chan_cfg_t *a, const chan_cfg_t *b)
{
	if (a->kind != b->kind || a->frame_bytes_max != b->frame_bytes_max)
		return false;
	if (a->kind == CHAN_NETCLEAR)
		return strcmp(a->member, b->member) == 0;
	if (a->kind == CHAN_JSON)
		return true;
	return a->framing.length_header == b->framing.length_header &&
	       a->framing.header_bytes == b->framing.header_bytes &&
	       memcmp(a->header, b->header, sizeof(a->header)) == 0 &&
	       memcmp(a->dialect, b->dialect, sizeof(*a->dialect)) == 0;
}

/* ---- framing ------------------------------------------------------------- */

size_t chan_storage_bytes(const chan_cfg_t *cfg)
{
	return is_lines(cfg->kind) ? TXN_JSON_LINE_MAX
				   : (size_t)cfg->frame_bytes_max + 4;
}

void chan_init(chan_t *ch, const chan_cfg_t *cfg, uint8_t *storage, size_t cap)
{
	memset(ch, 0, sizeof(*ch));
	ch->cfg = cfg;
	if (is_lines(cfg->kind)) {
		txn_lines_init(&ch->lines, (char *)storage, cap);
	} else {
		iso8583_framing_t framing = cfg->framing;
		framing.dialect = cfg->dialect;
		framing.frame_bytes_max = cfg->frame_bytes_max;
		iso8583_framer_init(&ch->framer, &framing, storage, cap);
	}
}

void chan_space(chan_t *ch, uint8_t **data, size_t *len)
{
	if (is_lines(ch->cfg->kind)) {
		char *p;
		txn_lines_space(&ch->lines, &p, len);
		*data = (uint8_t *)p;
	} else {
		iso8583_framer_space(&ch->framer, data, len);
	}
}

void chan_commit(chan_t *ch, size_t n)
{
	if (is_lines(ch->cfg->kind))
		txn_lines_commit(&ch->lines, n);
	else
		iso8583_framer_commit(&ch->framer, n);
}

int chan_next(chan_t *ch, chan_frame_t *frame, char *why, size_t why_cap)
{
	memset(frame, 0, sizeof(*frame));
	if (is_lines(ch->cfg->kind)) {
		const char *line;
		size_t len;
		int rc = txn_lines_next(&ch->lines, &line, &len);
		if (rc == 1) {
			frame->data = (const uint8_t *)line;
			frame->len = len;
		} else if (rc < 0) {
			snprintf(why, why_cap, "line longer than %u bytes",
				 (unsigned)(ch->lines.cap - 1));
		}
		return rc;
	}
	iso8583_frame_t f;
	iso8583_error_t err;
	int rc = iso8583_framer_next(&ch->framer, &f, &err);
	if (rc == 1) {
		frame->data = f.message;
		frame->len = f.message_len;
		frame->header = f.header;
		frame->header_len = f.header_len;
	} else if (rc < 0) {
		iso8583_error_format(&err, why, why_cap);
	}
	return rc;
}

bool chan_partial(const chan_t *ch)
{
	if (is_lines(ch->cfg->kind))
		return ch->lines.len > ch->lines.start;
	return iso8583_framer_pending(&ch->framer) > 0;
}

/* ---- decoding -------------------------------------------------------------- */

/* The request's fixed header goes into the record, to come back on its
 * answer. */
static void keep_header(txn_t *req, const chan_frame_t *frame)
{
	PS_ASSERT(frame->header_len <= sizeof(req->wire.header));
	req->wire.header_len = (uint8_t)frame->header_len;
	if (frame->header_len > 0)
		memcpy(req->wire.header, frame->header, frame->header_len);
}

/*
 * What an ISO 8583 message that could not be unpacked still says: unpack
 * keeps the fields before the fault, so the keys the sender matches its
 * answer by (MTI, 7, 11, 32) and the amount it sent are often there.
 */
static int recover_keys(const iso8583_msg_t *msg, txn_t *req,
			const iso8583_error_t *ierr, txn_error_t *err)
{
	char text[200];
	err->rc = TXN_RC_FORMAT_ERROR;
	err->field[0] = '\0';
	snprintf(err->reason, sizeof(err->reason), "%s",
		 iso8583_error_format(ierr, text, sizeof(text)));
	if (msg->mti[0] == '\0' || txn_mti_is_response(msg->mti) ||
	    !iso8583_has(msg, 11))
		return TXN_EKEYS;
	txn_wire_t *w = &req->wire;
	memcpy(w->mti, msg->mti, 4);
	uint64_t stan = 0;
	if (iso8583_get_u64(msg, 11, &stan) != 0)
		return TXN_EKEYS;
	w->stan = (uint32_t)(stan % 1000000);
	if (iso8583_has(msg, 7))
		iso8583_get_text(msg, 7, w->transmit, sizeof(w->transmit), NULL);
	if (iso8583_has(msg, 32))
		iso8583_get_text(msg, 32, req->acquirer, sizeof(req->acquirer),
				 NULL);
	txn_iso_take_echo(msg, req);
	txn_iso_request_id(req->acquirer, w->stan, w->transmit, req->request_id);
	return TXN_EFORMAT;
}

/* A CUPS header is checked before its message: a wrong one is sent back
 * with its reject code, whatever the message says. */
static int check_cups(const chan_frame_t *frame, txn_error_t *err)
{
	iso8583_cups_header_t h;
	iso8583_error_t ierr;
	if (iso8583_cups_header_parse(frame->header, frame->header_len + frame->len,
				      &h, &ierr) == 0)
		return 0;
	memset(err, 0, sizeof(*err));
	err->rc = TXN_RC_FORMAT_ERROR;
	ps_strlcpy(err->field, "header", sizeof(err->field));
	snprintf(err->reason, sizeof(err->reason), "%s: %.100s", h.reject, ierr.reason);
	return TXN_EHEADER;
}

static int decode_iso(const chan_cfg_t *cfg, const chan_frame_t *frame,
		      txn_t *req, txn_response_t *resp, int *what,
		      txn_error_t *err)
{
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	*what = CHAN_MSG_REQUEST;
	if (frame->header_len == ISO8583_CUPS_HEADER_BYTES) {
		int rc = check_cups(frame, err);
		if (rc != 0) {
			txn_init(req, TXN_KIND_NONE);
			keep_header(req, frame);
			return rc;
		}
	}
	if (iso8583_unpack(&msg, cfg->dialect, frame->data, frame->len,
			   &ierr) != 0) {
		txn_init(req, TXN_KIND_NONE);
		keep_header(req, frame);
		int rc = recover_keys(&msg, req, &ierr, err);
		if (msg.mti[0] != '\0' && txn_mti_is_response(msg.mti)) {
			/* An answer nobody can read: logged, its leg times
			 * out. */
			*what = CHAN_MSG_RESPONSE;
			return TXN_EFORMAT;
		}
		return rc;
	}
	if (txn_mti_is_response(msg.mti)) {
		*what = CHAN_MSG_RESPONSE;
		return txn_response_from_iso(&msg, resp, err);
	}
	int rc = txn_from_iso(&msg, req, err);
	keep_header(req, frame);
	return rc;
}

int chan_decode(const chan_cfg_t *cfg, const chan_frame_t *frame, txn_t *req,
		txn_response_t *resp, int *what, txn_error_t *err)
{
	if (cfg->kind == CHAN_ISO8583)
		return decode_iso(cfg, frame, req, resp, what, err);
	bool is_response = false;
	int rc = cfg->kind == CHAN_NETCLEAR
			 ? txn_netclear_decode((const char *)frame->data,
					       frame->len, req, resp,
					       &is_response, err)
			 : txn_json_decode((const char *)frame->data, frame->len,
					   req, resp, &is_response, err);
	*what = is_response ? CHAN_MSG_RESPONSE : CHAN_MSG_REQUEST;
	return rc;
}

/* ---- encoding -------------------------------------------------------------- */

/* Frames msg with the length header and a fixed header into out. */
static int frame_iso(const chan_cfg_t *cfg, const uint8_t *header,
		     const iso8583_msg_t *msg, uint8_t *out, size_t cap,
		     size_t *len)
{
	iso8583_framing_t framing = cfg->framing;
	framing.frame_bytes_max = cfg->frame_bytes_max;
	size_t prefix = iso8583_frame_length_bytes(&framing);
	size_t head = framing.header_bytes;
	if (cap < prefix + head)
		return TXN_ENOSPC;
	size_t body = 0;
	iso8583_error_t ierr;
	int rc = iso8583_pack(msg, out + prefix + head, cap - prefix - head,
			      &body, &ierr);
	if (rc != 0)
		return rc == ISO8583_ENOSPC ? TXN_ENOSPC : rc;
	memcpy(out + prefix, header, head);
	rc = iso8583_frame_write_length(&framing, head + body, out);
	if (rc != 0)
		return rc;
	/* A CUPS header says the length of its own frame. */
	if (head == ISO8583_CUPS_HEADER_BYTES && head + body <= 9999)
		iso8583_cups_header_set_total(out + prefix, head + body);
	*len = prefix + head + body;
	return 0;
}

int chan_encode_answer(const chan_cfg_t *cfg, const txn_t *t,
		       const txn_t *target, uint8_t *out, size_t cap,
		       size_t *len)
{
	if (cfg->kind == CHAN_JSON)
		return txn_answer_to_json(t, target, (char *)out, cap, len);
	if (cfg->kind == CHAN_NETCLEAR)
		return txn_answer_to_netclear(t, cfg->member, (char *)out, cap, len);
	iso8583_msg_t msg;
	int rc = txn_answer_to_iso(t, cfg->dialect, &msg);
	if (rc != 0)
		return rc;
	/* The request's header comes back (a TPDU swapped); one of another
	 * size is not ours to echo. */
	uint8_t header[TXN_HEADER_MAX];
	const uint8_t *head = cfg->header;
	if (t->wire.header_len == cfg->framing.header_bytes &&
	    t->wire.header_len > 0) {
		iso8583_header_reply(t->wire.header, t->wire.header_len, header);
		head = header;
	}
	return frame_iso(cfg, head, &msg, out, cap, len);
}

int chan_encode_error(const chan_cfg_t *cfg, const txn_t *req,
		      const txn_error_t *err, uint8_t *out, size_t cap,
		      size_t *len)
{
	if (cfg->kind == CHAN_JSON)
		return txn_error_to_json(req->request_id, err, (char *)out, cap,
					 len);
	if (cfg->kind == CHAN_NETCLEAR)
		return txn_error_to_netclear(req, err, cfg->member, (char *)out,
					     cap, len);
	txn_t t = *req;
	t.rc = err->rc == TXN_RC_APPROVED || err->rc == TXN_RC_NONE
		       ? TXN_RC_FORMAT_ERROR
		       : err->rc;
	return chan_encode_answer(cfg, &t, NULL, out, cap, len);
}

int chan_encode_reject(const chan_cfg_t *cfg, const chan_frame_t *frame,
		       const char *reject, uint8_t *out, size_t cap, size_t *len)
{
	if (cfg->kind != CHAN_ISO8583 ||
	    frame->header_len != ISO8583_CUPS_HEADER_BYTES)
		return TXN_EINVALID;
	iso8583_framing_t framing = cfg->framing;
	framing.frame_bytes_max = cfg->frame_bytes_max;
	size_t prefix = iso8583_frame_length_bytes(&framing);
	size_t body = ISO8583_CUPS_HEADER_BYTES + frame->len;
	if (cap < prefix + body)
		return TXN_ENOSPC;
	iso8583_cups_header_t h, back;
	iso8583_cups_header_parse(frame->header, body, &h, NULL);
	iso8583_cups_header_reply(&h, reject, &back);
	int rc = iso8583_frame_write_length(&framing, body, out);
	if (rc != 0)
		return rc;
	iso8583_cups_header_write(&back, body <= 9999 ? body : 9999, out + prefix);
	memcpy(out + prefix + ISO8583_CUPS_HEADER_BYTES, frame->data, frame->len);
	*len = prefix + body;
	return 0;
}

int chan_encode_leg(const chan_cfg_t *cfg, const txn_t *t, unsigned leg,
		    uint8_t *out, size_t cap, size_t *len)
{
	if (cfg->kind == CHAN_JSON)
		return txn_leg_to_json(t, leg, (char *)out, cap, len);
	if (cfg->kind == CHAN_NETCLEAR)
		return txn_leg_to_netclear(t, leg, cfg->member, (char *)out, cap,
					   len);
	iso8583_msg_t msg;
	int rc = txn_leg_to_iso(t, leg, cfg->dialect, &msg);
	if (rc != 0)
		return rc;
	return frame_iso(cfg, cfg->header, &msg, out, cap, len);
}

int chan_encode_network(const chan_cfg_t *cfg, int op, uint32_t stan,
			const char *transmit, const char *institution,
			uint8_t *out, size_t cap, size_t *len)
{
	if (cfg->kind == CHAN_JSON)
		return txn_network_to_json(op, stan, transmit, institution,
					   (char *)out, cap, len);
	if (cfg->kind == CHAN_NETCLEAR)
		return txn_network_to_netclear(op, stan, transmit,
					       cfg->member[0] ? cfg->member
							      : institution,
					       (char *)out, cap, len);
	iso8583_msg_t msg;
	int rc = txn_network_to_iso(op, stan, transmit, institution,
				    cfg->dialect, &msg);
	if (rc != 0)
		return rc;
	return frame_iso(cfg, cfg->header, &msg, out, cap, len);
}

int chan_encode_recon(const chan_cfg_t *cfg, uint32_t stan, const char *transmit,
		      const char *institution, const char *settle_date,
		      uint8_t *out, size_t cap, size_t *len)
{
	if (cfg->kind != CHAN_ISO8583)
		return TXN_EINVALID; /* JSON lines carry no totals (yet) */
	iso8583_msg_t msg;
	int rc = txn_recon_to_iso(stan, transmit, institution, settle_date,
				  cfg->dialect, &msg);
	if (rc != 0)
		return rc;
	return frame_iso(cfg, cfg->header, &msg, out, cap, len);
}
