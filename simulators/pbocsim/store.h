/*
 * store.h: PBOC's settlement batches, kept durably: every batch it has
 * judged (its positions, its status, why, when it posted) and the queue
 * of batches waiting for funds, in arrival order.
 *
 * The ledger holds the money and nothing else (its user data cannot hold
 * a batch), so the batches live in an LMDB environment of their own, in
 * the folder "batches" inside the ledger's directory. The two are
 * separate commits; what ties them is the ledger's transfer ids, which
 * derive from the batch id and the member (pboc.h): a batch recorded
 * queued whose transfers are already in the ledger was posted by a run
 * that died before recording it, and posting it again finds EXISTS.
 *
 * Databases: "batches" (batch id -> record), "queue" (arrival sequence,
 * big-endian u64 -> batch id; only queued batches), "meta" (the last
 * sequence given). Records are stored in the host's byte order, with a
 * format number, like the ledger's.
 *
 * Pure: never includes uv.h; nothing allocated after open. A store
 * handle is used by one thread at a time; readers in other processes
 * (--check-ledger beside a running pbocsim) never block it.
 */
#ifndef PAYSWITCH_PBOCSIM_STORE_H
#define PAYSWITCH_PBOCSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "members.h"

#define PBOC_BATCH_ID_MAX 64     /* characters of A-Z a-z 0-9 - _ . : */
#define PBOC_POSITIONS_MAX 256   /* positions in one batch: what a 16 KiB
				    JSON line can carry, and its answer */
#define PBOC_REASON_MAX 192      /* bytes of a reason, NUL included */
#define PBOC_STORE_DIR "batches" /* inside the ledger directory */

/* A batch's status. Every status but posted can change: a queued batch
 * posts (or is rejected: a member left); a rejected one is judged afresh
 * when its id is submitted again. Posted is final. */
enum pboc_batch_status {
	PBOC_BATCH_QUEUED = 1,
	PBOC_BATCH_POSTED = 2,
	PBOC_BATCH_REJECTED = 3,
};

/* "queued", "posted", "rejected"; "unknown" else. */
const char *pboc_batch_status_name(int status);

typedef struct pboc_position {
	char member[PBOC_MEMBER_ID_MAX + 1];
	int64_t amount; /* fen: negative, the member owes; positive, owed */
} pboc_position_t;

/* A batch as stored. Positions are kept in member order, so that two
 * submissions of the same positions compare equal however they were
 * listed. */
typedef struct pboc_batch {
	uint32_t format;        /* the store's; set by pboc_store_put */
	uint8_t status;         /* enum pboc_batch_status */
	uint64_t seq;           /* arrival order (the queue's FIFO key);
				   0 until pboc_store_put gives one */
	uint64_t submitted_ms;  /* wall clock, when first judged */
	uint64_t posted_ms;     /* the ledger's timestamp of the posting */
	char id[PBOC_BATCH_ID_MAX + 1];
	char submitter[PBOC_MEMBER_ID_MAX + 1];
	char reason[PBOC_REASON_MAX]; /* why queued or rejected; "" posted */
	uint32_t count;
	pboc_position_t positions[PBOC_POSITIONS_MAX];
} pboc_batch_t;

typedef struct pboc_store pboc_store_t;

/*
 * Opens (creating it, and dir, if missing unless read_only) the store in
 * dir. durability: enum ledger_durability. Errors: PS_EIO (with errno,
 * or LMDB's message logged as "store_error"), PS_ENOTFOUND (read_only and
 * no store there), PS_EFORMAT (another program's data), PS_ENOMEM.
 */
int pboc_store_open(pboc_store_t **out, const char *dir, uint32_t durability,
		    bool read_only);
void pboc_store_close(pboc_store_t *s);

/* The batch id into *out; PS_ENOTFOUND when never stored. */
int pboc_store_get(pboc_store_t *s, const char *id, pboc_batch_t *out);

/*
 * Writes b in one commit, replacing what id held: gives it the next
 * sequence when b->seq is 0, sets its format, and keeps the queue in
 * step (in it while queued, out of it otherwise, under b's sequence and
 * any older one the id had). 0, PS_ELIMIT (the store is full: its map is
 * PBOC_STORE_MAP_BYTES), PS_EIO.
 */
#define PBOC_STORE_MAP_BYTES (1ull << 30)
int pboc_store_put(pboc_store_t *s, pboc_batch_t *b);

/* The first queued batch with a sequence above after_seq (0: the
 * oldest); PS_ENOTFOUND when there is none. */
int pboc_store_queue_next(pboc_store_t *s, uint64_t after_seq,
			  pboc_batch_t *out);
/* How many batches are queued, into *count. */
int pboc_store_queued(pboc_store_t *s, uint32_t *count);

/* Every stored batch in id order, after the id after ("" from the
 * first): the next one into *out, PS_ENOTFOUND at the end. */
int pboc_store_scan(pboc_store_t *s, const char *after, pboc_batch_t *out);

#endif /* PAYSWITCH_PBOCSIM_STORE_H */
