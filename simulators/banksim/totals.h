/*
 * totals.h: the bank's reconciliation totals per settlement date and
 * forwarding institution (a 0500 asks for them, the 0510 carries them in
 * fields 74-77, 86-89 and 97), kept as ledger balances so that they are
 * exactly what the book holds.
 *
 * The model (docs/banksim.md has the long form):
 *  - A bank is reached over several links (the switch's own, each
 *    network's), and each reconciles what it sent. So the totals are kept
 *    per (settlement date, forwarder): the forwarder is field 33 of the
 *    request that did the posting (a JSON leg's "forwarder"), read as a
 *    number as field 90 carries it; 0 is "no forwarder" (no field 33).
 *  - For each (date, forwarder) and each total (enum bank_total: credits,
 *    credit reversals, debits, debit reversals) the memo ledger 999 holds
 *    two accounts, the total's count and its amount.
 *  - Every transfer the bank counts (a posted debit, credit or refund, a
 *    completion's post, a compensating reversal) is LINKED with two memo
 *    transfers in the same batch: 1 unit from the counts source (5) into
 *    the count account, and the transfer's amount from the amounts
 *    source (6) into the amount account. A chain commits or fails as a
 *    whole, so a total moves exactly when money moves (51 moves neither);
 *    and their ids derive from the counted transfer's ("count:<text>",
 *    "amount:<text>"), so nothing is ever counted twice: not on a repeat,
 *    not after a restart. A count is that account's credits_posted.
 *  - Account ids are decimal numbers. No forwarder: "2" MMDD T M, T the
 *    total (1-4), M 0 for the count and 1 for the amount (2120331 is the
 *    amount of the debits of December 3rd), which is what a banksim wrote
 *    before totals were kept per forwarder: its totals read as "no
 *    forwarder". A forwarder F: "3", F in 11 digits, MMDD T M (18 digits:
 *    300099990000120331 for forwarder 99990000). "3" and 11 zeros is the
 *    shared bucket "other". A leading 2 or 3 keeps them apart from
 *    customers ("1" + digits) and from the bank's own ids (1-6).
 *  - At most BANK_FORWARDERS_MAX forwarders are kept apart; the book says
 *    which (bank_totals_load), so the bound holds across restarts. Any
 *    further forwarder counts in "other": money is never refused for a
 *    bookkeeping bound, and the sum over forwarders stays exact.
 *  - Accounts are created when a batch first needs them (bank_batch_commit
 *    calls bank_totals_ensure), so the book holds only (date, forwarder)s
 *    that were used; one never seen reads as zeros.
 *  - The counted transfers carry "1", the forwarder in 11 digits and MMDD
 *    in user_data_64 (bank_totals_tag), so a two-phase completion finds
 *    both in its authorisation.
 *
 * Pure: never includes uv.h.
 */
#ifndef PAYSWITCH_BANKSIM_TOTALS_H
#define PAYSWITCH_BANKSIM_TOTALS_H

#include <stdbool.h>
#include <stdint.h>

#include "adapters.h"
#include "book.h"

/* ---- settlement dates ----------------------------------------------------- */

/*
 * A settlement date as received: field 15 ("MMDD") or a JSON leg's
 * period ("YYYYMMDD"). False for anything else, or a month or day that
 * no year has (0229 is a date).
 */
bool bank_date_parse(const char *text, uint16_t *date);
/* Is date (MMDD as a number) a date? */
bool bank_date_valid(uint64_t date);
/* The UTC date (MMDD) of a wall-clock time in ms since the epoch. */
uint16_t bank_date_of_wall(uint64_t wall_ms);
/* "MMDD", 4 digits. */
void bank_date_format(uint16_t date, char out[5]);

/* ---- forwarders ------------------------------------------------------------ */

/* The largest forwarder (field 33 is n..11); the shared bucket's value is
 * beyond it, so that no field 33 can name it. */
#define BANK_FORWARDER_MAX UINT64_C(99999999999)
#define BANK_FORWARDER_OTHER (BANK_FORWARDER_MAX + 1)
/* "99999999999" or "other", and NUL. */
#define BANK_FORWARDER_TEXT_MAX 12

/* The forwarder a request names: its field 33 as a number (leading zeros
 * do not count, as in field 90); 0 when text is empty. */
uint64_t bank_forwarder_of(const char *text);
/* The forwarder as a dump shows it: its number, "0" for none, "other". */
void bank_forwarder_format(uint64_t forwarder,
			   char out[BANK_FORWARDER_TEXT_MAX]);

/*
 * The slot forwarder counts in (book.h): BANK_TOTALS_SLOT_NONE for 0, its
 * own slot if it has one, a new one while fewer than
 * BANK_FORWARDERS_MAX are taken, else BANK_TOTALS_SLOT_OTHER (logged at
 * warn the first time). forwarder must be at most BANK_FORWARDER_MAX.
 */
uint32_t bank_totals_slot(bank_t *bank, uint64_t forwarder);
/* Does forwarder have totals of its own (0 always does)? False for one
 * never seen, which then may or may not have counted in "other". */
bool bank_totals_known(const bank_t *bank, uint64_t forwarder);
/* Is every slot taken, so that a new forwarder counts in "other"? */
bool bank_totals_full(const bank_t *bank);
/* The forwarder of a slot: 0, a forwarder, or BANK_FORWARDER_OTHER. */
uint64_t bank_totals_slot_forwarder(const bank_t *bank, uint32_t slot);

/*
 * Learns from the book which forwarders it keeps totals of (one account
 * read per forwarder), so that they keep their slots and the bound holds
 * across restarts. bank_book_open calls it. PS_ELIMIT when the book holds
 * more than BANK_FORWARDERS_MAX; the ledger's error otherwise.
 */
int bank_totals_load(bank_t *bank);

/* The user_data_64 of a counted transfer: "1", the forwarder in 11
 * digits, MMDD (99990000 on 1203: 1000999900001203). */
uint64_t bank_totals_tag(uint16_t date, uint64_t forwarder);
/*
 * What a tag says: *date and *forwarder, and true; false for a tag from
 * before forwarders were kept, where *has_date says whether it is at least
 * a date (MMDD alone, the forwarder unknown) or nothing at all (from
 * before totals were kept).
 */
bool bank_totals_tag_parse(uint64_t tag, uint16_t *date, uint64_t *forwarder,
			   bool *has_date);

/* ---- accounts --------------------------------------------------------------- */

/* The account of a total of (date, forwarder): its count, or its amount.
 * date must be a date (bank_date_parse), forwarder at most
 * BANK_FORWARDER_OTHER, total an enum bank_total. */
ledger_id_t bank_totals_account_id(uint16_t date, uint64_t forwarder,
				   int total, bool amount);
/* The date, forwarder, total and measure an account id stands for; false
 * for any other id. */
bool bank_totals_account_of(ledger_id_t id, uint16_t *date,
			    uint64_t *forwarder, int *total, bool *amount);
/* "credits", "credit_reversals", "debits", "debit_reversals". */
const char *bank_total_name(int total);

/* What bank_totals_ensure takes: one (slot, date, total). */
uint32_t bank_totals_pair(uint32_t slot, uint16_t date, int total);
/* Does the book hold (as far as this process knows) the accounts of this
 * (slot, date, total)? */
bool bank_totals_ready(const bank_t *bank, uint32_t slot, uint16_t date,
		       int total);
/*
 * Creates, idempotently, the two accounts of each pair (bank_totals_pair,
 * count of them), in as few ledger calls as the handle's batch_max
 * allows, and marks them ready. scratch holds 2 * count accounts and
 * results. PS_EEXIST when an id is taken by an account of another kind;
 * the ledger's error otherwise (what a failed call held is not marked).
 */
int bank_totals_ensure(bank_t *bank, const uint32_t *pairs, uint32_t count,
		       ledger_account_t *scratch, ledger_result_t *results);

/* ---- counting and reading ----------------------------------------------------- */

/* The ids of the two memo transfers that count the transfer named by
 * (step, key) (book.h: bank_transfer_id). */
ledger_id_t bank_totals_transfer_id(bool amount, int step, const char *key);

/*
 * The totals of one (date, forwarder), read from the book as committed:
 * counts, amounts and the net (credits - credit reversals - debits +
 * debit reversals, > 0 the bank is owed). forwarder may be
 * BANK_FORWARDER_OTHER; one never counted reads as zeros. Returns 0, or
 * the ledger's read error.
 */
int bank_totals_read(bank_t *bank, uint16_t date, uint64_t forwarder,
		     txn_totals_t *out);
/* The same summed over every forwarder of the date: no forwarder, each
 * one kept apart and "other" (what a 0500 without field 33 is answered). */
int bank_totals_read_all(bank_t *bank, uint16_t date, txn_totals_t *out);

#endif /* PAYSWITCH_BANKSIM_TOTALS_H */
