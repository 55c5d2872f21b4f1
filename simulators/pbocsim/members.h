/*
 * members.h: PBOC's members (docs/clearing.md, Members): every
 * institution that can owe or be owed has a member id and a reserve
 * account at the central bank. This module is the table of them, sorted
 * by id, and the strict parser of the members file (docs/pbocsim.md):
 *
 *   [{"member":"01020000","kind":"bank","balance":100000000,"credit_limit":0}, ...]
 *
 * or {"members": [...]}. Every error names the JSON path of what is
 * wrong, because a members file is a test's fixture and a typo silently
 * ignored would make a test pass for the wrong reason.
 *
 * Pure: never includes uv.h; allocates only while loading.
 */
#ifndef PAYSWITCH_PBOCSIM_MEMBERS_H
#define PAYSWITCH_PBOCSIM_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PBOC_MEMBER_ID_MAX 16       /* characters of A-Z 0-9 */
#define PBOC_MEMBERS_MAX 4096
#define PBOC_MEMBERS_FILE_BYTES_MAX (4u << 20)
/* The largest amount anywhere (a balance, a position, a fund): 10^15 fen,
 * ten trillion yuan, so that the sum of a batch of positions can never
 * overflow int64_t. */
#define PBOC_AMOUNT_MAX 1000000000000000ll

/* Kinds of member; the numbers are the ledger account codes of their
 * reserves (docs/pbocsim.md, The money model). */
enum pboc_kind {
	PBOC_KIND_BANK = 1,
	PBOC_KIND_ACQUIRER = 2,
	PBOC_KIND_PSP = 3,
	PBOC_KIND_NETWORK = 4,
	PBOC_KIND_SWITCH = 5,
};

typedef struct pboc_member {
	char id[PBOC_MEMBER_ID_MAX + 1];
	uint8_t kind;          /* enum pboc_kind */
	int64_t balance;       /* the opening balance, fen, 0..PBOC_AMOUNT_MAX */
	int64_t credit_limit;  /* intraday credit, fen: the reserve may go
				  down to -credit_limit */
} pboc_member_t;

/* Sorted by id; owned by whoever loaded it. */
typedef struct pboc_members {
	pboc_member_t *list;
	uint32_t count;
} pboc_members_t;

/* "bank", "acquirer", "psp", "network", "switch"; "unknown" else. */
const char *pboc_kind_name(int kind);

/* Is s (len bytes) a member id: 1 to 16 characters of A-Z 0-9? */
bool pboc_member_id_valid(const char *s, size_t len);

/*
 * Parses a members file's text. On success *out holds the members sorted
 * by id (free with pboc_members_free). PS_EFORMAT with err naming the
 * JSON path ("[2].kind: must be one of bank, acquirer, psp, network,
 * switch"), PS_ELIMIT over PBOC_MEMBERS_MAX, PS_ENOMEM. *out is empty on
 * failure.
 */
int pboc_members_parse(const char *text, size_t len, pboc_members_t *out,
		       char *err, size_t err_cap);
/* Reads and parses path; err begins with the path. PS_EIO unreadable,
 * PS_ELIMIT larger than PBOC_MEMBERS_FILE_BYTES_MAX, or the parser's. */
int pboc_members_load(const char *path, pboc_members_t *out, char *err,
		      size_t err_cap);
void pboc_members_free(pboc_members_t *m);

/* The member with id (NUL-terminated), or NULL. */
const pboc_member_t *pboc_members_find(const pboc_members_t *m,
				       const char *id);

#endif /* PAYSWITCH_PBOCSIM_MEMBERS_H */
