/*
 * ledger.h: the double-entry accounting core of payswitch, on LMDB.
 *
 * Every simulated bank, the switch and the central-bank simulator keep
 * their money in a ledger. The model follows TigerBeetle's: accounts hold
 * four balances (debits and credits, each pending and posted) in minor
 * units; transfers move an amount from a debit account to a credit account
 * on one ledger (currency). A transfer is immutable once accepted, its id
 * (chosen by the caller) is its idempotency key, and the ledger assigns it
 * a strictly increasing timestamp.
 *
 * Two-phase transfers: a PENDING transfer reserves its amount (moves it to
 * the pending balances); a POST_PENDING transfer completes it, in full or
 * in part; a VOID_PENDING transfer releases it. A pending transfer may
 * carry a timeout; ledger_expire_pending() releases the expired ones, and a
 * post or void after expiry is rejected with PENDING_TRANSFER_EXPIRED.
 *
 * Linked events: an event with the LINKED flag is chained to the next one
 * in the same batch; a chain succeeds or fails as a whole, in order. When
 * a chain fails, its failing event keeps its result and every other event
 * of it gets LINKED_EVENT_FAILED; a batch that ends inside a chain gives
 * its last event LINKED_EVENT_CHAIN_OPEN. Inside a chain EXISTS counts as
 * success, so retrying a committed chain answers EXISTS for each event.
 *
 * Batches: ledger_create_accounts() and ledger_create_transfers() take up
 * to the handle's batch_max events (LEDGER_BATCH_MAX at most), apply them
 * in order in one LMDB write transaction, and report a result per event.
 * A rejected event is not an error: the call returns 0 and the event's
 * result says why. The call returns an error only when nothing was
 * committed (bad arguments, storage failure); then no event took effect.
 *
 * Results (LEDGER_*_OK and the rest of enum ledger_account_result and
 * enum ledger_transfer_result) are per event; errors (enum ledger_err and
 * PS_E* from core.h) are per call.
 *
 * Caveats
 *  - A ledger_t is not thread-safe: use one handle from one thread at a
 *    time. Several handles, threads or processes may open the same
 *    directory; LMDB serialises writers and readers never block. Never
 *    use a handle across fork(): open it in the child.
 *  - Records are stored in the host's byte order; a ledger directory moves
 *    only between machines of the same endianness (LMDB's own rule too).
 *  - Durability is chosen at open (enum ledger_durability). With anything
 *    but LEDGER_DURABILITY_SYNC a machine crash or power loss can lose the
 *    last commits that the call already reported; a process crash never
 *    does, in any mode.
 *  - The ledger grows its LMDB map on demand up to map_bytes_max; a batch
 *    that would pass it fails with LEDGER_EMAPFULL and commits nothing.
 *  - Ids 0 and all-ones (2^128 - 1) are reserved.
 *  - Ids that grow with time (a counter, or a time-ordered id such as a
 *    ULID) make inserts and the idempotency check cheapest: an id above
 *    every stored id needs no lookup. Random ids (ledger_id_from_text)
 *    work, at the cost of a B-tree search and insert per transfer.
 *  - An account's history is a chain through its transfers, newest first;
 *    reading it costs a lookup per transfer returned.
 *  - Ownership: every record a call returns is copied into the caller's
 *    storage (nothing points into LMDB); input arrays are only read during
 *    the call; result arrays are the caller's, count entries long.
 *  - A write call waits while another handle or process holds the
 *    environment's one write transaction. Each handle keeps one LMDB
 *    reader slot (126 per environment by default); stale slots of killed
 *    processes are cleared at open.
 *  - A batch rewrites every B-tree page it touches: with many more
 *    accounts than a batch touches (millions), commits grow to one page
 *    per account touched. docs/ledger.md has the numbers.
 *
 * This module never includes uv.h and never allocates on the hot path:
 * the scratch space for a batch of batch_max events is allocated at open.
 */
#ifndef PAYSWITCH_LEDGER_H
#define PAYSWITCH_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h" /* PS_E* error codes */

/* ---- limits ----------------------------------------------------------- */

/* The most events one batch may carry (TigerBeetle's figure: a batch fits
 * one 1 MiB message). */
#define LEDGER_BATCH_MAX 8190
/* The largest amount and the largest balance, so that every amount and
 * balance also fits int64_t minor units. */
#define LEDGER_AMOUNT_MAX ((uint64_t)INT64_MAX)
/* Default and largest LMDB map sizes. */
#define LEDGER_MAP_BYTES_DEFAULT (1ull << 30)
#define LEDGER_MAP_BYTES_MAX_DEFAULT (64ull << 30)
/* Longest ledger_id_format() output, with its NUL: 39 digits. */
#define LEDGER_ID_TEXT_MAX 40

/* ---- errors (per call) ------------------------------------------------ */

/*
 * A call returns 0, a PS_E* code from core.h (PS_EINVAL bad argument,
 * PS_ENOMEM allocation at open, PS_ELIMIT over a bound, PS_ENOTFOUND no
 * such record, PS_EIO storage failure) or one of these.
 */
enum ledger_err {
	LEDGER_EMAPFULL = -301,  /* the map reached map_bytes_max */
	LEDGER_EVERSION = -302,  /* the directory holds another format */
	LEDGER_ECORRUPT = -303,  /* a stored record is malformed, or an index
				    names a record that is not there */
	LEDGER_EREADERS = -304,  /* too many LMDB readers */
};

/* Message for a LEDGER_E* or PS_E* code; never NULL. */
const char *ledger_strerror(int code);

/* ---- ids -------------------------------------------------------------- */

/* A 128-bit id: accounts and transfers are named by their caller. */
typedef struct ledger_id {
	uint64_t hi;
	uint64_t lo;
} ledger_id_t;

static inline ledger_id_t ledger_id_from_u64(uint64_t value)
{
	ledger_id_t id = {0, value};
	return id;
}
static inline bool ledger_id_is_zero(ledger_id_t id)
{
	return id.hi == 0 && id.lo == 0;
}
static inline bool ledger_id_equal(ledger_id_t a, ledger_id_t b)
{
	return a.hi == b.hi && a.lo == b.lo;
}
/* -1, 0 or 1 as a is below, equal to or above b. */
static inline int ledger_id_compare(ledger_id_t a, ledger_id_t b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/*
 * Parses an id written in decimal (up to 2^128 - 1) or in hex with a 0x
 * prefix. Returns PS_EINVAL on anything else, PS_ELIMIT past 128 bits.
 */
int ledger_id_parse(const char *text, size_t len, ledger_id_t *out);
/* Writes id in decimal into out (LEDGER_ID_TEXT_MAX bytes); returns out. */
const char *ledger_id_format(ledger_id_t id, char *out);
/*
 * Derives an id from any text (a PSP request id, an RRN with its date):
 * the first 128 bits of its SHA-256, so distinct keys collide only with
 * negligible probability, even when chosen by an adversary. Never returns
 * a reserved id.
 */
ledger_id_t ledger_id_from_text(const char *text, size_t len);

/* ---- accounts --------------------------------------------------------- */

enum ledger_account_flags {
	/* This event is chained to the next one of the batch. */
	LEDGER_ACCOUNT_LINKED = 1u << 0,
	/* debits_pending + debits_posted <= credits_posted: an account that
	 * holds money for someone (a customer deposit) cannot go negative. */
	LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 1,
	/* credits_pending + credits_posted <= debits_posted: the mirror. */
	LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 2,
	/* Closed: no new transfer touches it (voids and expiry still
	 * release what it reserved). Set by ledger_account_set_closed(). */
	LEDGER_ACCOUNT_CLOSED = 1u << 3,
};
#define LEDGER_ACCOUNT_FLAGS_ALL 0x000fu

typedef struct ledger_account {
	ledger_id_t id;            /* caller's, not 0 or all-ones */
	uint64_t debits_pending;   /* minor units, ledger-maintained */
	uint64_t debits_posted;
	uint64_t credits_pending;
	uint64_t credits_posted;
	ledger_id_t user_data_128; /* caller's, e.g. a customer number */
	uint64_t user_data_64;
	uint32_t ledger;           /* the currency (ISO 4217 number), not 0 */
	uint16_t code;             /* the kind of account, not 0 */
	uint16_t flags;            /* enum ledger_account_flags */
	uint64_t timestamp;        /* ns, ledger-assigned: pass 0 */
} ledger_account_t;

enum ledger_account_result {
	LEDGER_ACCOUNT_OK = 0,
	LEDGER_ACCOUNT_LINKED_EVENT_FAILED,     /* another event of its chain
						   failed */
	LEDGER_ACCOUNT_LINKED_EVENT_CHAIN_OPEN, /* the batch ended inside a
						   chain */
	LEDGER_ACCOUNT_TIMESTAMP_MUST_BE_ZERO,
	LEDGER_ACCOUNT_RESERVED_FLAG,           /* a flag outside FLAGS_ALL */
	LEDGER_ACCOUNT_CLOSED_FLAG_AT_CREATE,   /* created accounts are open */
	LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO,
	LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
	LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE, /* both balance limits */
	LEDGER_ACCOUNT_BALANCES_MUST_BE_ZERO,   /* balances are the ledger's */
	LEDGER_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO,
	LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO,
	LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS,
	LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128,
	LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64,
	LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER,
	LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE,
	LEDGER_ACCOUNT_EXISTS,                  /* identical: nothing done */
	LEDGER_ACCOUNT_NOT_FOUND,               /* set_closed: no such id */
	LEDGER_ACCOUNT_RESULT_COUNT
};

/* ---- transfers -------------------------------------------------------- */

enum ledger_transfer_flags {
	LEDGER_TRANSFER_LINKED = 1u << 0,
	LEDGER_TRANSFER_PENDING = 1u << 1,      /* reserve (authorisation) */
	LEDGER_TRANSFER_POST_PENDING = 1u << 2, /* complete pending_id */
	LEDGER_TRANSFER_VOID_PENDING = 1u << 3, /* release pending_id */
};
#define LEDGER_TRANSFER_FLAGS_ALL 0x000fu

typedef struct ledger_transfer {
	ledger_id_t id;                /* idempotency key, caller's */
	ledger_id_t debit_account_id;
	ledger_id_t credit_account_id;
	ledger_id_t pending_id;        /* post/void: the pending's id */
	ledger_id_t user_data_128;     /* caller's reference, e.g. the
					  switch transaction id */
	uint64_t amount;               /* minor units, 1..LEDGER_AMOUNT_MAX */
	uint64_t user_data_64;
	uint64_t timestamp;            /* ns, ledger-assigned: pass 0 */
	uint32_t timeout_seconds;      /* pending only; 0 = never expires */
	uint32_t ledger;               /* must equal both accounts' ledger */
	uint16_t code;                 /* the kind of transfer, not 0 */
	uint16_t flags;                /* enum ledger_transfer_flags */
	uint32_t reserved;             /* must be 0 */
} ledger_transfer_t;

/*
 * Post and void: debit_account_id, credit_account_id, ledger and code may
 * be 0, and are then taken from the pending transfer; when given, they
 * must match it. A post's amount may be 0 (post the full pending amount)
 * or at most the pending amount (partial post; the rest is released). A
 * void's amount must be 0 or the pending amount. The stored post or void
 * carries the filled-in values, and a retry with the same id matches the
 * stored record where the retry's fields are 0 or equal.
 */
enum ledger_transfer_result {
	LEDGER_TRANSFER_OK = 0,
	LEDGER_TRANSFER_LINKED_EVENT_FAILED,
	LEDGER_TRANSFER_LINKED_EVENT_CHAIN_OPEN,
	LEDGER_TRANSFER_TIMESTAMP_MUST_BE_ZERO,
	LEDGER_TRANSFER_RESERVED_FLAG,
	LEDGER_TRANSFER_RESERVED_FIELD,
	LEDGER_TRANSFER_ID_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_ID_MUST_NOT_BE_INT_MAX,
	LEDGER_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE, /* pending/post/void */
	LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
	LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
	LEDGER_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT,
	LEDGER_TRANSFER_PENDING_ID_MUST_BE_ZERO,
	LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX,
	LEDGER_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT,
	LEDGER_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
	LEDGER_TRANSFER_AMOUNT_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_AMOUNT_EXCEEDS_MAX,           /* > LEDGER_AMOUNT_MAX */
	LEDGER_TRANSFER_LEDGER_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_CODE_MUST_NOT_BE_ZERO,
	LEDGER_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND,
	LEDGER_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND,
	LEDGER_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER,
	LEDGER_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS,
	LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED,
	LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED,
	LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND,
	LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING,
	LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID,
	LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID,
	LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER,
	LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE,
	LEDGER_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT,
	LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, /* void */
	LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED,
	LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED,
	LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER,
	LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CODE,
	LEDGER_TRANSFER_EXISTS,                        /* identical: no-op */
	LEDGER_TRANSFER_OVERFLOWS_DEBITS_PENDING,
	LEDGER_TRANSFER_OVERFLOWS_CREDITS_PENDING,
	LEDGER_TRANSFER_OVERFLOWS_DEBITS_POSTED,
	LEDGER_TRANSFER_OVERFLOWS_CREDITS_POSTED,
	LEDGER_TRANSFER_OVERFLOWS_DEBITS,   /* pending + posted */
	LEDGER_TRANSFER_OVERFLOWS_CREDITS,
	LEDGER_TRANSFER_EXCEEDS_CREDITS,    /* debit account: insufficient
					       funds */
	LEDGER_TRANSFER_EXCEEDS_DEBITS,     /* credit account: over its limit */
	LEDGER_TRANSFER_RESULT_COUNT
};

/*
 * The result of one event of a batch: its code, and the timestamp of the
 * stored record (the new one for OK, the existing one for EXISTS; 0 for
 * any other result).
 */
typedef struct ledger_result {
	uint32_t result; /* enum ledger_account_result or _transfer_result */
	uint32_t reserved;
	uint64_t timestamp;
} ledger_result_t;

/* snake_case names of the results, as the CLI and the JSON show them
 * ("exceeds_credits"); "unknown" for an out-of-range code. */
const char *ledger_account_result_name(uint32_t result);
const char *ledger_transfer_result_name(uint32_t result);
/* OK or EXISTS: the event is in the book. */
static inline bool ledger_transfer_result_is_success(uint32_t result)
{
	return result == LEDGER_TRANSFER_OK || result == LEDGER_TRANSFER_EXISTS;
}

/* States of a pending transfer. */
enum ledger_pending_state {
	LEDGER_PENDING_NONE = 0, /* not a pending transfer */
	LEDGER_PENDING_PENDING,  /* reserved, awaiting post or void */
	LEDGER_PENDING_POSTED,
	LEDGER_PENDING_VOIDED,
	LEDGER_PENDING_EXPIRED,  /* released by ledger_expire_pending() */
};
const char *ledger_pending_state_name(uint32_t state);

/* ---- opening ---------------------------------------------------------- */

/*
 * What a commit waits for. A process crash (SIGKILL, abort) loses nothing
 * that a call reported committed, in every mode; the modes differ only on
 * a machine crash or power loss.
 */
enum ledger_durability {
	/* fsync at every commit: a reported commit survives power loss. */
	LEDGER_DURABILITY_SYNC = 0,
	/* Data pages are flushed at commit, the meta page is not: a machine
	 * crash may undo the last commit, never corrupt the book. */
	LEDGER_DURABILITY_NOMETASYNC,
	/* Nothing is flushed at commit (the OS writes back in its own time,
	 * or at ledger_sync()): a machine crash may lose every commit since
	 * the last flush. On a filesystem that preserves write order the book
	 * stays consistent (an older state); on one that does not it may be
	 * corrupt. The speed of memory; for simulators, tests, benchmarks. */
	LEDGER_DURABILITY_NOSYNC,
};

typedef struct ledger_options {
	uint32_t durability;      /* enum ledger_durability; default SYNC */
	uint32_t batch_max;       /* 1..LEDGER_BATCH_MAX; 0 = the max */
	uint64_t map_bytes;       /* initial map; 0 = default */
	uint64_t map_bytes_max;   /* growth bound; 0 = default */
	/* The clock for timestamps and pending timeouts, in ns since the
	 * epoch; NULL = the wall clock. Tests inject a fake one. The ledger
	 * keeps timestamps strictly increasing whatever the clock does. */
	uint64_t (*clock_ns)(void *context);
	void *clock_context;
} ledger_options_t;

typedef struct ledger ledger_t;

/* Default options: SYNC, batch_max LEDGER_BATCH_MAX, default map sizes. */
void ledger_options_init(ledger_options_t *options);

/*
 * Opens (creating it if missing, with mode 0700 for a new directory) the
 * ledger in directory path and returns the handle in *out. options may be
 * NULL for the defaults. Allocates the batch scratch space here, once.
 * Errors: PS_EINVAL (bad option), PS_ENOMEM, PS_EIO (open or mkdir
 * failed; errno kept), LEDGER_EVERSION, LEDGER_EREADERS. Wherever a call
 * returns PS_EIO for an LMDB failure, the ledger logs LMDB's own message
 * (ps_log, event "ledger_storage_error").
 */
int ledger_open(ledger_t **out, const char *path,
		const ledger_options_t *options);

/*
 * Opens the ledger inside an LMDB environment the caller already opened,
 * in named databases "ledger.*", so that the caller can put its own
 * writes and a ledger batch in one transaction (ledger_*_txn below). The
 * environment must have been opened with MDB_NOTLS and with room for seven
 * more named databases (mdb_env_set_maxdbs); no write transaction may be
 * open on it during this call. The environment stays the caller's: its
 * flags are the durability, its map is never grown by the ledger (a full
 * map gives LEDGER_EMAPFULL), and ledger_close() leaves it open. options
 * may be NULL; its durability and map sizes are ignored here.
 */
struct MDB_env;
struct MDB_txn;
int ledger_open_env(ledger_t **out, struct MDB_env *env,
		    const ledger_options_t *options);

/* Closes the handle and frees everything it holds. NULL is a no-op. */
void ledger_close(ledger_t *ledger);

/* Flushes every commit to disk now, whatever the durability mode. */
int ledger_sync(ledger_t *ledger);

/* The handle's batch_max. */
uint32_t ledger_batch_max(const ledger_t *ledger);

/* ---- writing ---------------------------------------------------------- */

/*
 * Creates count accounts (1..batch_max) in order in one write transaction;
 * results[i] (count entries, caller-owned) says what became of
 * accounts[i]. Returns 0 when the batch committed (whatever the results),
 * PS_EINVAL on a NULL argument, PS_ELIMIT when count is 0 or over
 * batch_max, LEDGER_EMAPFULL or PS_EIO when nothing was committed.
 */
int ledger_create_accounts(ledger_t *ledger, const ledger_account_t *accounts,
			   uint32_t count, ledger_result_t *results);

/*
 * Creates count transfers (1..batch_max) in order in one write
 * transaction, results as for ledger_create_accounts(). The accounts each
 * batch touches are read once and written back once; transfers keep the
 * order given, and each sees the effect of those before it.
 */
int ledger_create_transfers(ledger_t *ledger,
			    const ledger_transfer_t *transfers,
			    uint32_t count, ledger_result_t *results);

/*
 * The same two calls inside the caller's write transaction txn, on a
 * ledger opened with ledger_open_env() on txn's environment: nothing is
 * committed here, and the results hold only if the caller commits txn.
 * After an error the caller must abort txn (part of the batch may have
 * been written). The ledger keeps no state between calls, so an abort
 * leaves the handle as good as before.
 */
int ledger_create_accounts_txn(ledger_t *ledger, struct MDB_txn *txn,
			       const ledger_account_t *accounts,
			       uint32_t count, ledger_result_t *results);
int ledger_create_transfers_txn(ledger_t *ledger, struct MDB_txn *txn,
				const ledger_transfer_t *transfers,
				uint32_t count, ledger_result_t *results);

/*
 * Closes (closed true) or reopens an account. *result is LEDGER_ACCOUNT_OK
 * (also when already in that state) or LEDGER_ACCOUNT_NOT_FOUND.
 */
int ledger_account_set_closed(ledger_t *ledger, ledger_id_t id, bool closed,
			      uint32_t *result);

/*
 * Voids, in one write transaction, up to limit (1..batch_max) pending
 * transfers whose timeout has passed by the ledger's clock, oldest expiry
 * first; *expired_count says how many. Call it periodically (a timer); a
 * count equal to limit means more may be waiting.
 */
int ledger_expire_pending(ledger_t *ledger, uint32_t limit,
			  uint32_t *expired_count);

/* ---- reading ---------------------------------------------------------- */

/* The account id, into *out; PS_ENOTFOUND if there is none. */
int ledger_account_get(ledger_t *ledger, ledger_id_t id,
		       ledger_account_t *out);
/* The transfer id, into *out; PS_ENOTFOUND if there is none. */
int ledger_transfer_get(ledger_t *ledger, ledger_id_t id,
			ledger_transfer_t *out);
/*
 * The state of pending transfer id (enum ledger_pending_state) into
 * *state, and when it expires (ns; 0 for none) into *expires_at_ns (may be
 * NULL). PS_ENOTFOUND when id is no transfer; LEDGER_PENDING_NONE when it
 * is not a pending one.
 */
int ledger_pending_get(ledger_t *ledger, ledger_id_t id, uint32_t *state,
		       uint64_t *expires_at_ns);

/*
 * An account's transfers, newest first: up to cap of them into out,
 * *count how many. before_timestamp 0 starts at the newest; to read the
 * next page pass the timestamp of the last transfer of the previous page
 * (it must be one of this account's transfers, else PS_EINVAL).
 * PS_ENOTFOUND when the account does not exist.
 */
int ledger_account_transfers(ledger_t *ledger, ledger_id_t account_id,
			     uint64_t before_timestamp, ledger_transfer_t *out,
			     uint32_t cap, uint32_t *count);

/*
 * Pages through every account in id order: up to cap accounts with an id
 * above after_id into out (start with the zero id; continue with the last
 * id returned). *count is 0 at the end.
 */
int ledger_scan_accounts(ledger_t *ledger, ledger_id_t after_id,
			 ledger_account_t *out, uint32_t cap,
			 uint32_t *count);
/* Pages through every transfer in timestamp order, as above. */
int ledger_scan_transfers(ledger_t *ledger, uint64_t after_timestamp,
			  ledger_transfer_t *out, uint32_t cap,
			  uint32_t *count);

/* ---- checking ---------------------------------------------------------- */

#define LEDGER_CHECK_DETAIL_MAX 256

typedef struct ledger_check_report {
	bool ok;                 /* every invariant holds */
	uint32_t problems;       /* how many violations were found */
	uint64_t accounts;       /* records examined */
	uint64_t transfers;
	uint64_t pending_open;   /* pendings not yet posted/voided/expired */
	uint32_t ledgers;        /* distinct ledger numbers */
	char first_problem[LEDGER_CHECK_DETAIL_MAX]; /* "" when ok */
} ledger_check_report_t;

/*
 * Verifies the whole book in one read transaction (a consistent snapshot,
 * so it can run beside a writer): on every ledger the sum of debits equals
 * the sum of credits, pending and posted separately; every balance equals
 * the replay of the account's transfers (and pending states); no flagged
 * account breaks its limit; no balance passes LEDGER_AMOUNT_MAX; every
 * transfer has its id in the index and the index nothing else; every
 * pending's state agrees with its post or void; every account's history
 * chain holds exactly its transfers; timestamps strictly increase. The
 * call returns 0 when it could read the book; report->ok says whether the
 * book is sound. Allocates memory proportional to the number of accounts
 * (it is not a hot-path call). PS_ENOMEM, PS_EIO on failure.
 */
int ledger_check(ledger_t *ledger, ledger_check_report_t *report);

#endif /* PAYSWITCH_LEDGER_H */
