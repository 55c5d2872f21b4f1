/*
 * members.h: netsim's members file (docs/netsim.md): the member banks it
 * forwards to (their member id, station, account prefixes and the host
 * that answers for them) and the other members allowed to send (the
 * switch, an acquirer), each with the station its UnionPay header names:
 *
 *   {"members": [{"member": "99990000", "station": "99990000", "name": "switch"}],
 *    "banks": [{"name": "bank_b", "member": "01030000", "station": "01030000",
 *               "prefixes": ["621700"], "address": "127.0.0.1:7302",
 *               "dialect": "ascii", "framing": "binary2"}]}
 *
 * member: 1-11 digits, once in the file (a bank is a member too); station:
 * 1-11 printable characters without spaces, the member id when left out,
 * once in the file; prefixes: 1-19 digits, at most once among all banks;
 * dialect: a built-in ISO 8583 dialect (default ascii); framing: a length
 * header (default binary2). The parser is strict, as every fixture's is:
 * an unknown key, a duplicate, a value out of class is refused with its
 * JSON path ("banks[1].prefixes[0]: ...").
 *
 * Pure: never includes uv.h; allocates only while loading (jansson).
 */
#ifndef PAYSWITCH_NETSIM_MEMBERS_H
#define PAYSWITCH_NETSIM_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_BANKS_MAX 64
#define NS_MEMBERS_MAX 256      /* the banks and the others */
#define NS_PREFIXES_MAX 4096
#define NS_ID_MAX 11            /* a member id or a station */
#define NS_ACCOUNT_DIGITS_MAX 19
#define NS_MEMBERS_FILE_BYTES_MAX (1u << 20)

typedef struct ns_bank {
	char name[32];                 /* logs; the member id when left out */
	char member[NS_ID_MAX + 1];
	char address[128];             /* HOST:PORT of its host */
	char dialect[32];              /* iso8583_dialect_builtin */
	char framing[16];              /* iso8583_length_header_parse */
	uint8_t length_header;         /* enum iso8583_length_header */
} ns_bank_t;

typedef struct ns_member {
	char member[NS_ID_MAX + 1];
	char station[NS_ID_MAX + 1];
	char name[32];
	int16_t bank;                  /* the bank it is (index), or -1 */
} ns_member_t;

typedef struct ns_prefix {
	char digits[NS_ACCOUNT_DIGITS_MAX + 1];
	uint8_t len;
	uint16_t bank;
} ns_prefix_t;

typedef struct ns_members {
	ns_bank_t banks[NS_BANKS_MAX];
	uint32_t bank_count;
	ns_member_t members[NS_MEMBERS_MAX]; /* every member, banks too */
	uint32_t member_count;
	ns_prefix_t prefixes[NS_PREFIXES_MAX]; /* by length, then digits */
	uint32_t prefix_count;
} ns_members_t;

/* Parses a members file's text into out (zeroed first). PS_EFORMAT with
 * err naming the JSON path, PS_ELIMIT past a bound. */
int ns_members_parse(const char *text, size_t len, ns_members_t *out,
		     char *err, size_t err_cap);
/* Reads and parses path; err begins with the path. */
int ns_members_load(const char *path, ns_members_t *out, char *err,
		    size_t err_cap);

/* The bank whose prefix is the longest that begins account, or -1. */
int ns_members_route(const ns_members_t *m, const char *account);
/* The bank with member id member (NUL-terminated), or -1. */
int ns_members_bank(const ns_members_t *m, const char *member);
/* The member with this station, or this member id; NULL when none. */
const ns_member_t *ns_members_by_station(const ns_members_t *m,
					 const char *station);
const ns_member_t *ns_members_by_id(const ns_members_t *m, const char *member);

#endif /* PAYSWITCH_NETSIM_MEMBERS_H */
