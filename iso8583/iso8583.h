/*
 * iso8583.h: the ISO 8583 (1987) message codec and TCP framing.
 *
 * A message's layout is data, not code: a dialect says, for each data
 * element, its class, whether it is fixed or LL/LLL/LLLL variable, how the
 * length prefix and the content are encoded, and its maximum length, in the
 * spirit of jPOS's GenericPackager. Three dialects are built in (see
 * iso8583_dialect_builtin); more load from JSON files (docs/dialects.md).
 *
 * Unpack is zero-copy: a field is an offset and a length into the caller's
 * buffer, validated against its class, and nothing is allocated. Pack writes
 * into a caller's buffer and reports the size it needs when that is too
 * small. Unpack then pack of a valid message gives back the same bytes.
 *
 * Every failure fills an iso8583_error_t naming the field number (0 for the
 * MTI, 1 for the bitmap, -1 when no field applies), the byte offset in the
 * input and the reason. No input can make a call crash, read out of bounds
 * or loop without end: that is what the fuzz targets in tests/fuzz check.
 *
 * Framing (iso8583_framer_*) is separate from the codec: it cuts a TCP byte
 * stream into frames (length header, optional fixed header, message) and
 * knows nothing of fields, except that a stream without a length header is
 * cut by measuring each message with its dialect.
 *
 * This module never includes uv.h and never allocates after a dialect is
 * loaded; it is safe to use from several threads on separate messages.
 */
#ifndef PAYSWITCH_ISO8583_H
#define PAYSWITCH_ISO8583_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ----------------------------------------------------------- */

#define ISO8583_FIELDS_MAX 192        /* 128, or 192 with a tertiary bitmap */
#define ISO8583_FIELD_LENGTH_MAX 9999 /* the most an LLLL prefix can say */
#define ISO8583_SCRATCH_BYTES 512     /* per message, for iso8583_set_num */
#define ISO8583_NAME_MAX 48
#define ISO8583_REASON_MAX 160

/* ---- errors ----------------------------------------------------------- */

enum iso8583_errc {
	ISO8583_OK = 0,
	ISO8583_EMTI = -101,       /* MTI short or not 4 digits */
	ISO8583_EBITMAP = -102,    /* bitmap short or not hex */
	ISO8583_EUNDEFINED = -103, /* bit set for a field the dialect lacks */
	ISO8583_EPREFIX = -104,    /* length prefix not numeric, or over max */
	ISO8583_ECONTENT = -105,   /* content outside the field's class */
	ISO8583_ETRUNCATED = -106, /* data shorter than declared */
	ISO8583_ETRAILING = -107,  /* bytes left after the last field */
	ISO8583_ELENGTH = -108,    /* pack: fixed field of the wrong length,
				      or a value over the field's maximum */
	ISO8583_ENOSPC = -109,     /* pack: output buffer too small */
	ISO8583_ENOMTI = -110,     /* pack: the message has no MTI */
	ISO8583_EFRAME = -111,     /* frame: bad length header, or over max */
	ISO8583_EDIALECT = -112,   /* a dialect definition is invalid */
	ISO8583_EINVAL = -113,     /* bad argument, e.g. field out of range */
};

typedef struct iso8583_error {
	int code;       /* an ISO8583_E* value */
	int field;      /* 0 MTI, 1 bitmap, 2..192 a data element, -1 none */
	size_t offset;  /* byte offset in the input where it went wrong */
	char reason[ISO8583_REASON_MAX]; /* human-readable, names the rule */
} iso8583_error_t;

/* The short name of an ISO8583_E* code ("content outside class"). */
const char *iso8583_strerror(int code);

/*
 * Formats an error as one line: "field 4 at offset 22: content outside
 * class n: byte 0x41". Returns out.
 */
const char *iso8583_error_format(const iso8583_error_t *err, char *out,
				 size_t cap);

/* ---- dialects --------------------------------------------------------- */

enum iso8583_class {
	ISO8583_CLASS_N = 0, /* numeric digits */
	ISO8583_CLASS_AN,    /* letters, digits and space */
	ISO8583_CLASS_ANS,   /* any byte >= 0x20 except 0x7F: printable
				ASCII plus multi-byte text (GBK, UTF-8) */
	ISO8583_CLASS_B,     /* binary; length counts bytes */
	ISO8583_CLASS_Z,     /* track data: digits and '=' (BCD nibble D) */
	ISO8583_CLASS_XN,    /* sign 'C' or 'D' then digits (x+n amounts);
				jPOS accepts any first character, so do we
				when it is printable. The length counts the
				sign too: x+n 8 is length 9, as in jPOS */
};

enum iso8583_encoding {
	ISO8583_ENC_ASCII = 0, /* one byte per character */
	ISO8583_ENC_BCD,       /* two digits a byte; odd counts padded on
				  the left (a leading pad nibble). Class z
				  writes '=' as nibble D; class xn writes
				  the sign as one ASCII byte, then BCD */
	ISO8583_ENC_BCD_RIGHT, /* two digits a byte; odd counts padded on
				  the right (a trailing pad nibble) */
	ISO8583_ENC_BINARY,    /* raw bytes (class b only) */
	ISO8583_ENC_HEX,       /* bytes as upper-case hex text, two
				  characters a byte (class b only) */
};

/* How the length of a variable field, or of a frame, is written. */
enum iso8583_prefix_encoding {
	ISO8583_PREFIX_ASCII = 0, /* decimal digits: LL 2, LLL 3, LLLL 4 */
	ISO8583_PREFIX_BCD,       /* BCD: LL 1 byte, LLL and LLLL 2 bytes */
	ISO8583_PREFIX_BINARY,    /* big-endian: LL 1 byte, LLL/LLLL 2 */
};

typedef struct iso8583_field_spec {
	bool defined;
	uint8_t cls;             /* enum iso8583_class */
	uint8_t encoding;        /* enum iso8583_encoding */
	uint8_t prefix_digits;   /* 0 fixed, 2 LL, 3 LLL, 4 LLLL */
	uint8_t prefix_encoding; /* enum iso8583_prefix_encoding */
	uint8_t pad_nibble;      /* BCD pad nibble, 0x0 (default) or 0xF;
				    unpack requires exactly this nibble */
	uint16_t length;         /* the fixed length, or the maximum; digits
				    for n/z, sign plus digits for xn,
				    characters (bytes) for an/ans, bytes
				    for b */
	/* Derived by iso8583_dialect_finish() so that the codec's hot path
	 * need not re-derive them per field; never set by hand. */
	uint8_t codec;           /* internal: how content is checked */
	uint8_t prefix_bytes;    /* bytes the length prefix takes: 0..4 */
	uint8_t class_mask;      /* internal: class lookup table mask */
	char name[ISO8583_NAME_MAX];
} iso8583_field_spec_t;

enum iso8583_mti_encoding { ISO8583_MTI_ASCII = 0, ISO8583_MTI_BCD };
enum iso8583_bitmap_encoding { ISO8583_BITMAP_BINARY = 0, ISO8583_BITMAP_HEX };

typedef struct iso8583_dialect {
	char name[32];
	char description[128];
	uint8_t mti_encoding;    /* enum iso8583_mti_encoding */
	uint8_t bitmap_encoding; /* enum iso8583_bitmap_encoding */
	bool tertiary;           /* bit 65 announces a third bitmap (fields
				    129-192) right after the secondary one;
				    field 65 is then not a data element */
	/* Derived by iso8583_dialect_finish(): */
	bool finished;           /* the codec refuses (asserts) otherwise */
	uint64_t allowed[3];     /* bitmap words (wire bit order) of the
				    bits a message may set: defined fields
				    plus the bitmap-extension bits */
	iso8583_field_spec_t field[ISO8583_FIELDS_MAX + 1]; /* 2..192 used */
} iso8583_dialect_t;

/*
 * The built-in dialects, loaded from the JSON texts compiled in from
 * iso8583/dialects/ on first use:
 *   "ascii"            jPOS ISO87APackager: ASCII MTI and numerics, hex
 *                      bitmap, ASCII length prefixes.
 *   "binary"           jPOS ISO87BPackager: BCD MTI, numerics and
 *                      prefixes, binary bitmap.
 *   "ascii-binbitmap"  ASCII fields with a binary bitmap (Postilion-style).
 * Returns NULL for an unknown name. The returned dialect lives for the
 * life of the process.
 */
const iso8583_dialect_t *iso8583_dialect_builtin(const char *name);
size_t iso8583_dialect_builtin_count(void);
const iso8583_dialect_t *iso8583_dialect_builtin_at(size_t index);

/*
 * Loads a dialect from JSON text (format: docs/dialects.md) into *out.
 * On failure returns ISO8583_EDIALECT and err->reason names the JSON path
 * and the rule ("fields.35.encoding: unknown encoding \"ebcdic\"").
 */
int iso8583_dialect_load_json(const char *text, size_t len,
			      iso8583_dialect_t *out, iso8583_error_t *err);
int iso8583_dialect_load_file(const char *path, iso8583_dialect_t *out,
			      iso8583_error_t *err);

/*
 * Checks a dialect built or edited in code (name, MTI and bitmap
 * encodings, every defined field's class, encodings, prefix and length)
 * and derives the lookup data the codec uses. The loaders call it; call it
 * yourself after changing any field[] entry of a copy. ISO8583_EDIALECT
 * with err->reason naming the JSON path of the offending key.
 */
int iso8583_dialect_finish(iso8583_dialect_t *dialect, iso8583_error_t *err);

/* Names for the enums, as used in dialect files: "n", "bcd", ...; "?" for
 * a value out of range. */
const char *iso8583_class_name(int cls);
const char *iso8583_encoding_name(int encoding);

/* ---- messages --------------------------------------------------------- */

/*
 * A field value. Either a span of wire bytes (after unpack: the content in
 * the dialect's encoding, without its length prefix) or a plain value set
 * by the caller (text for n/an/ans/z/xn, raw bytes for b). Both are
 * borrowed: the bytes must outlive every use of the message.
 */
typedef struct iso8583_field {
	const uint8_t *data;
	uint16_t size;   /* bytes at data */
	uint16_t length; /* logical length: what a length prefix counts */
	bool wire;       /* true: data is wire-encoded (from unpack) */
} iso8583_field_t;

typedef struct iso8583_msg {
	const iso8583_dialect_t *dialect;
	char mti[4];      /* four ASCII digits; mti[0] == 0 when unset */
	/* Field n is bit 0x80 >> ((n - 1) % 8) of byte (n - 1) / 8, the wire
	 * bitmap's order. Bit 1 (and bit 65 in a tertiary dialect) records a
	 * bitmap extension that an unpacked message carried even when empty,
	 * so that pack gives back the same bytes. Use iso8583_has(). */
	uint8_t present[(ISO8583_FIELDS_MAX + 8) / 8];
	iso8583_field_t field[ISO8583_FIELDS_MAX + 1];  /* valid if present */
	uint16_t scratch_used;
	char scratch[ISO8583_SCRATCH_BYTES];
} iso8583_msg_t;

/* Clears a message (cheaply: only the presence bits) for dialect, which
 * must be finished (loaded, or iso8583_dialect_finish()ed). */
void iso8583_msg_init(iso8583_msg_t *msg, const iso8583_dialect_t *dialect);

/*
 * Unpacks len bytes at data into msg (which it initialises). The message
 * borrows data: fields point into it. Errors: ISO8583_EMTI, _EBITMAP,
 * _EUNDEFINED, _EPREFIX, _ECONTENT, _ETRUNCATED, _ETRAILING.
 * A hex bitmap is accepted in either case; pack writes it upper case, so
 * for a lower-case bitmap unpack then pack differs in those characters
 * only. Every other accepted byte is given back as it came.
 * On failure msg still holds what was decoded and checked before the
 * fault: the MTI once it was read, and the fields numbered below the one
 * that failed (all of them for ISO8583_ETRAILING), so a switch can answer a
 * format error echoing fields 7 and 11. Nothing after the fault is there.
 */
int iso8583_unpack(iso8583_msg_t *msg, const iso8583_dialect_t *dialect,
		   const uint8_t *data, size_t len, iso8583_error_t *err);

/*
 * Measures the message at the start of data without validating content:
 * returns 1 and sets *msg_len when a whole message is there, 0 when more
 * bytes are needed, or a negative code when what is there cannot be a
 * message (bad MTI, bitmap, prefix, undefined field). For streams that have
 * no length header.
 */
int iso8583_measure(const iso8583_dialect_t *dialect, const uint8_t *data,
		    size_t len, size_t *msg_len, iso8583_error_t *err);

/*
 * Packs msg into out. Sets *out_len to the bytes written; on ISO8583_ENOSPC
 * sets it to the bytes needed instead and writes nothing useful. Plain
 * values are validated (class, fixed length, maximum): ISO8583_ELENGTH,
 * _ECONTENT, _ENOMTI. Wire spans from unpack are copied as they are.
 * The bitmap is computed from the fields present: a secondary bitmap when
 * any of 65-128 is present (or iso8583_has(msg, 1), see present above).
 */
int iso8583_pack(const iso8583_msg_t *msg, uint8_t *out, size_t cap,
		 size_t *out_len, iso8583_error_t *err);

/* MTI: four ASCII digits (copied). ISO8583_EMTI otherwise. */
int iso8583_set_mti(iso8583_msg_t *msg, const char *mti);

/*
 * Sets field n (2..192) to a plain value of length bytes (text for
 * n/an/ans/z/xn, raw bytes for b). Borrows value. ISO8583_EINVAL for a
 * field number out of range, ISO8583_EUNDEFINED for one the dialect does
 * not define, ISO8583_ELENGTH for a length over ISO8583_FIELD_LENGTH_MAX;
 * the value itself is checked at pack.
 */
int iso8583_set(iso8583_msg_t *msg, int n, const void *value, size_t length);
int iso8583_set_str(iso8583_msg_t *msg, int n, const char *value);

/*
 * Sets numeric field n from an integer, written into the message's scratch
 * space: zero-padded to the length of a fixed field, minimal digits for a
 * variable one. ISO8583_ELENGTH when the value needs more digits than the
 * field has, ISO8583_ENOSPC when scratch space is used up (it is reset by
 * iso8583_msg_init and unpack), ISO8583_EINVAL for a field out of range
 * or not of class n, ISO8583_EUNDEFINED for one the dialect lacks.
 */
int iso8583_set_num(iso8583_msg_t *msg, int n, uint64_t value);

void iso8583_unset(iso8583_msg_t *msg, int n);
bool iso8583_has(const iso8583_msg_t *msg, int n);

/* The field as stored (wire span or plain value); ISO8583_EINVAL if absent
 * (bits 1 and, in a tertiary dialect, 65 mark bitmaps and hold no value). */
int iso8583_get(const iso8583_msg_t *msg, int n, iso8583_field_t *out);

/*
 * Field n as text: digits for n/z/xn (BCD decoded, the D nibble as '='),
 * characters for an/ans, upper-case hex for b. Writes a NUL; *len (may be
 * NULL) gets the length without it. ISO8583_ENOSPC if cap is too small,
 * ISO8583_EINVAL if absent.
 */
int iso8583_get_text(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		     size_t *len);

/*
 * Field n as bytes: raw bytes for b (hex text decoded), else the text as
 * get_text gives it, without a NUL. *len (may be NULL) gets the count;
 * ISO8583_ENOSPC if cap is too small, ISO8583_EINVAL if absent.
 */
int iso8583_get_bytes(const iso8583_msg_t *msg, int n, uint8_t *out,
		      size_t cap, size_t *len);

/*
 * Numeric field n (class n, at most 18 digits after leading zeros) as an
 * integer. ISO8583_EINVAL if absent or not class n, ISO8583_ELENGTH past
 * 18 significant digits, ISO8583_ECONTENT for a plain value not digits.
 */
int iso8583_get_u64(const iso8583_msg_t *msg, int n, uint64_t *out);

/* ---- framing ---------------------------------------------------------- */

enum iso8583_length_header {
	ISO8583_LENGTH_NONE = 0, /* no header: messages measured by dialect */
	ISO8583_LENGTH_BINARY2,  /* 2 bytes, big-endian ("binary2") */
	ISO8583_LENGTH_ASCII4,   /* 4 ASCII digits ("ascii4") */
	ISO8583_LENGTH_BCD2,     /* 2 bytes BCD, up to 9999 ("bcd2") */
	ISO8583_LENGTH_BINARY4,  /* 4 bytes, big-endian ("binary4") */
};

/* "none", "binary2", "ascii4", "bcd2", "binary4" to the enum; -1 when
 * unknown. */
int iso8583_length_header_parse(const char *name);
const char *iso8583_length_header_name(int length_header);

typedef struct iso8583_framing {
	uint8_t length_header;     /* enum iso8583_length_header */
	uint16_t header_bytes;     /* fixed header before the MTI: 0, 5
				      (TPDU), 46 (UnionPay-style) */
	uint32_t frame_bytes_max;  /* bound on header + message */
	const iso8583_dialect_t *dialect; /* used with ISO8583_LENGTH_NONE */
} iso8583_framing_t;

/* One frame: the fixed header and the message, both borrowed. */
typedef struct iso8583_frame {
	const uint8_t *header;
	size_t header_len;
	const uint8_t *message;
	size_t message_len;
} iso8583_frame_t;

/*
 * A frame decoder over caller storage of cap bytes, which must hold at
 * least frame_bytes_max + 4. The length header counts the fixed header and
 * the message. Two ways to feed it:
 *  - zero-copy, from an event loop: iso8583_framer_space() gives where to
 *    read to; iso8583_framer_commit() says how many bytes arrived;
 *  - iso8583_framer_feed() copies from a caller's chunk.
 * Then iso8583_framer_next() until it returns 0. A frame points into the
 * framer's storage and stays valid until the next space/feed call.
 */
typedef struct iso8583_framer {
	iso8583_framing_t cfg;
	uint8_t *buf;
	size_t cap;
	size_t start; /* first byte not yet yielded */
	size_t len;   /* bytes held, from buf[0] */
	uint64_t stream_offset; /* stream offset of buf[0], so that an
				   error names its offset in the stream */
} iso8583_framer_t;

void iso8583_framer_init(iso8583_framer_t *f, const iso8583_framing_t *cfg,
			 uint8_t *storage, size_t cap);
/*
 * Where the next bytes go, after moving what is held to the front. *len is
 * 0 only when a whole frame is held unread: call iso8583_framer_next().
 */
void iso8583_framer_space(iso8583_framer_t *f, uint8_t **data, size_t *len);
/* n bytes were written at the space given (n <= its length). */
void iso8583_framer_commit(iso8583_framer_t *f, size_t n);
/* Copies up to len bytes; *consumed says how many were taken. */
void iso8583_framer_feed(iso8583_framer_t *f, const uint8_t *data, size_t len,
			 size_t *consumed);
/*
 * 1 and *frame when a whole frame is held, 0 when more bytes are needed,
 * ISO8583_EFRAME (a length header that is not digits, a frame over
 * frame_bytes_max, a zero length or one that leaves no message after the
 * fixed header; for unframed streams, no whole message within
 * frame_bytes_max) or a measure error for unframed streams. err->offset
 * is the offset in the stream. After an error the stream cannot be
 * resynchronised: close the connection.
 */
int iso8583_framer_next(iso8583_framer_t *f, iso8583_frame_t *frame,
			iso8583_error_t *err);
/* Bytes held but not yet yielded (a partial frame). */
size_t iso8583_framer_pending(const iso8583_framer_t *f);

/* Bytes the length header takes: 0, 2 or 4. */
size_t iso8583_frame_length_bytes(const iso8583_framing_t *cfg);
/*
 * Writes the length header for a body (fixed header + message) of
 * body_len bytes into out (room for 4; nothing for ISO8583_LENGTH_NONE).
 * ISO8583_EFRAME when body_len leaves no message after the fixed header
 * (so 0 always), is over frame_bytes_max, or is beyond what the header can
 * say (65535 for binary2, 9999 for ascii4 and bcd2).
 */
int iso8583_frame_write_length(const iso8583_framing_t *cfg, size_t body_len,
			       uint8_t *out);
/*
 * The fixed header of an answer, from the request's header of len bytes:
 * a copy, except that a 5-byte header is a TPDU (id, destination, source)
 * and has its destination and source swapped, as terminals and NAC
 * gateways expect (and as jPOS's NCC and BCD channels do), and a 46-byte
 * CUPS header (below) has its stations swapped and its reject code
 * cleared (its total length is the answer's: iso8583_cups_header_set_total
 * once the answer is framed). reply may not overlap request.
 */
void iso8583_header_reply(const uint8_t *request, size_t len, uint8_t *reply);

/* ---- the UnionPay (CUPS) message header ---------------------------------
 *
 * 46 bytes before the MTI, in this order: header length (1 byte, binary,
 * 46), header flag and version (1 byte: bit 7 set for a test message, the
 * rest the version, 1), total message length (4 ASCII digits: header and
 * message, not the length prefix), destination station id (11 bytes ASCII,
 * space-padded), source station id (11), reserved (3 bytes), batch number
 * (1 byte, binary), transaction information (8 bytes), user information
 * (1 byte), reject code (5 ASCII digits, "00000" when not rejected).
 *
 * A header found wrong is answered by returning the message with the
 * reject code of the field at fault ("000N5", N the field number: 00015 a
 * header length other than 46, 00025 an unknown version, 00035 a total
 * length that is not the frame's, 00045 an unknown destination, 00055 an
 * unknown source) and its stations swapped.
 */
#define ISO8583_CUPS_HEADER_BYTES 46
#define ISO8583_CUPS_STATION_BYTES 11
#define ISO8583_CUPS_VERSION 1
#define ISO8583_CUPS_TEST_FLAG 0x80

typedef struct iso8583_cups_header {
	uint8_t flags;                        /* field 2 as it is */
	uint32_t total_len;                   /* field 3 */
	char destination[ISO8583_CUPS_STATION_BYTES + 1]; /* spaces trimmed */
	char source[ISO8583_CUPS_STATION_BYTES + 1];
	uint8_t reserved[3];
	uint8_t batch;
	uint8_t txn_info[8];
	uint8_t user_info;
	char reject[6];                       /* "00000": none */
} iso8583_cups_header_t;

/* A header with version 1, the two stations (at most 11 bytes each, ASCII
 * printable) and no reject code; total_len 0 until written. */
void iso8583_cups_header_init(iso8583_cups_header_t *h, const char *destination,
			      const char *source);
/*
 * Reads 46 bytes of a frame of frame_len bytes (header and message) into
 * out. ISO8583_EFRAME with err->field the header field at fault (1, 2 or
 * 3) and out->reject set to its reject code when the header length is not
 * 46, the version is not 1, or the total length is not frame_len; what
 * could be read is in out either way.
 */
int iso8583_cups_header_parse(const uint8_t *in, size_t frame_len,
			      iso8583_cups_header_t *out, iso8583_error_t *err);
/* Writes h into 46 bytes, with total_len as the total length (9999 at
 * most: the length the 4 digits can say). */
void iso8583_cups_header_write(const iso8583_cups_header_t *h, size_t total_len,
			       uint8_t out[ISO8583_CUPS_HEADER_BYTES]);
/* Writes the total length (header and message, at most 9999) into a
 * 46-byte header already in place. */
void iso8583_cups_header_set_total(uint8_t *header, size_t total_len);
/* The header of an answer to (or a rejection of) a message with header h:
 * stations swapped, reject code set ("00000" for an answer). */
void iso8583_cups_header_reply(const iso8583_cups_header_t *h,
			       const char *reject, iso8583_cups_header_t *out);

#endif /* PAYSWITCH_ISO8583_H */
