/*
 * channel.h: one interface for every link: a listener's connection (PSPs,
 * acquirers), an endpoint's link (banks, networks), and a simulator's
 * connections, whichever side of the link they are on.
 *
 * A channel is a way of speaking: the framing that cuts a byte stream
 * into messages, the decoding of a message into the canonical transaction
 * (a request) or into the answer to one of our legs (a response), the
 * encoding of answers, legs and network management out of it, and the key
 * that matches an answer to its request. Two implementations, each usable
 * in both directions:
 *
 *   CHAN_ISO8583  ISO 8583:1987 in any dialect (iso8583.h) and framing
 *                 (length header, fixed header such as a TPDU or a
 *                 network's 46-byte header, answered back swapped)
 *   CHAN_JSON     JSON lines (adapters.h, docs/protocol.md)
 *   CHAN_NETCLEAR JSON lines with a NetClear message header
 *                 (docs/clearing.md): the same legs and answers
 *
 * The key: a leg is numbered with a STAN and a transmission time; its
 * answer carries them back (ISO 8583 fields 11 and 7; JSON's "id", the
 * time then the STAN), and txn_response_t gives them to the caller on
 * every channel alike. Link health uses the same messages everywhere:
 * sign-on (ISO 0800/001, JSON hello) and echo (0800/301, JSON echo).
 *
 * Where security plugs in (../shared/DESIGN.md): TLS wraps the byte
 * stream below chan_space()/chan_commit() and the encoders' output, a MAC
 * is checked in chan_decode() and added by every chan_encode_*(), and a
 * PIN block is translated between decode and encode. All of it belongs to
 * chan_cfg_t, once, never to a protocol.
 *
 * Pure: never includes uv.h; the caller owns the socket and the storage.
 */
#ifndef PAYSWITCH_CHANNEL_H
#define PAYSWITCH_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters.h"
#include "iso8583.h"

enum chan_kind { CHAN_ISO8583 = 0, CHAN_JSON, CHAN_NETCLEAR };

/* How one side of a link speaks. Plain data; the dialect is borrowed and
 * must outlive every channel made from the configuration. */
typedef struct chan_cfg {
	uint8_t kind;                     /* enum chan_kind */
	const iso8583_dialect_t *dialect; /* CHAN_ISO8583 */
	iso8583_framing_t framing;        /* CHAN_ISO8583: length header,
					     header_bytes, frame_bytes_max */
	uint8_t header[TXN_HEADER_MAX];   /* the fixed header of what this
					     side originates */
	uint32_t frame_bytes_max;         /* the largest frame or line */
	char member[17];                  /* CHAN_NETCLEAR: who this side is
					     (the header's issuer) */
} chan_cfg_t;

/* "iso8583", "json" or "netclear". */
const char *chan_kind_name(int kind);
/* Is cfg's way of speaking the same as other's (a reload that changes
 * it reconnects)? */
bool chan_cfg_same(const chan_cfg_t *a, const chan_cfg_t *b);

/* ---- framing: one per connection ------------------------------------------ */

typedef struct chan {
	const chan_cfg_t *cfg;
	iso8583_framer_t framer; /* CHAN_ISO8583 */
	txn_lines_t lines;       /* CHAN_JSON */
} chan_t;

/* A whole message, valid until the next chan_space(). */
typedef struct chan_frame {
	const uint8_t *data;    /* the message (ISO: after the fixed header) */
	size_t len;
	const uint8_t *header;  /* the fixed header (ISO), header_len bytes */
	size_t header_len;
} chan_frame_t;

/* Storage a connection needs for cfg: one whole frame or line. */
size_t chan_storage_bytes(const chan_cfg_t *cfg);
void chan_init(chan_t *ch, const chan_cfg_t *cfg, uint8_t *storage,
	       size_t cap);
/* Where the next read goes; never empty while a frame can still grow. */
void chan_space(chan_t *ch, uint8_t **data, size_t *len);
void chan_commit(chan_t *ch, size_t n);
/*
 * The next whole message: 1 with *frame set, 0 when more bytes are
 * needed, or a negative code when the stream is broken (a frame over the
 * bound, a bad length header): why says what, and the peer must be
 * closed, since the stream cannot be resynchronised.
 */
int chan_next(chan_t *ch, chan_frame_t *frame, char *why, size_t why_cap);
/* Bytes received but not yet taken as whole messages (a frame begun). */
bool chan_partial(const chan_t *ch);

/* ---- decoding -------------------------------------------------------------- */

enum chan_msg { CHAN_MSG_REQUEST = 1, CHAN_MSG_RESPONSE };

/*
 * Decodes a frame: a request into *req (its fixed header kept in
 * req->wire for the answer) or the answer to one of our legs into *resp;
 * *what says which. A request that cannot be taken returns TXN_EFORMAT or
 * TXN_EINVALID with err (answer it with chan_encode_error: req holds its
 * keys), or TXN_EKEYS when not even its keys could be read (close the
 * peer: no answer could be matched). A response that cannot be read
 * returns TXN_EFORMAT with err (log it; the leg will time out). A frame
 * whose CUPS header (a 46-byte fixed header) is wrong returns TXN_EHEADER
 * before its message is read, err->reason starting with the reject code
 * (chan_encode_reject sends it back).
 */
int chan_decode(const chan_cfg_t *cfg, const chan_frame_t *frame, txn_t *req,
		txn_response_t *resp, int *what, txn_error_t *err);

/* ---- encoding: whole frames (length header, fixed header, message) --------
 * Each writes into out (cap bytes) and sets *len; TXN_ENOSPC when it does
 * not fit, TXN_EINVALID when the channel cannot carry it, or the codec's
 * error. */

/* The answer to t (target: what a query asks about, may be NULL), with
 * the request's fixed header back (a TPDU's addresses swapped). */
int chan_encode_answer(const chan_cfg_t *cfg, const txn_t *t,
		       const txn_t *target, uint8_t *out, size_t cap,
		       size_t *len);
/* The answer to a request that could not be taken: err's code and
 * reason, with whatever keys req holds. */
int chan_encode_error(const chan_cfg_t *cfg, const txn_t *req,
		      const txn_error_t *err, uint8_t *out, size_t cap,
		      size_t *len);
/* A frame sent back as it came, its CUPS header's stations swapped and
 * its reject code set (5 digits; chan_decode's TXN_EHEADER gives it):
 * what a network does with a message whose header is wrong.
 * TXN_EINVALID when the channel has no CUPS header. */
int chan_encode_reject(const chan_cfg_t *cfg, const chan_frame_t *frame,
		       const char *reject, uint8_t *out, size_t cap,
		       size_t *len);
/* Leg i of t as the request this side sends. */
int chan_encode_leg(const chan_cfg_t *cfg, const txn_t *t, unsigned leg,
		    uint8_t *out, size_t cap, size_t *len);
/* Network management this side originates (TXN_NET_SIGN_ON,
 * TXN_NET_ECHO), keyed (stan, transmit); institution is who we are. */
int chan_encode_network(const chan_cfg_t *cfg, int op, uint32_t stan,
			const char *transmit, const char *institution,
			uint8_t *out, size_t cap, size_t *len);

/* A reconciliation request (0500) for one settlement date (MMDD), keyed
 * (stan, transmit) like network management; its 0510 decodes as a
 * response with has_totals. TXN_EINVALID on a JSON channel. */
int chan_encode_recon(const chan_cfg_t *cfg, uint32_t stan, const char *transmit,
		      const char *institution, const char *settle_date,
		      uint8_t *out, size_t cap, size_t *len);

#endif /* PAYSWITCH_CHANNEL_H */
