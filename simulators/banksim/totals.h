/*
 * totals.h: the bank's reconciliation totals per settlement date (a 0500
 * asks for them, the 0510 carries them in fields 74-77, 86-89 and 97),
 * kept as ledger balances so that they are exactly what the book holds.
 *
 * The model (docs/banksim.md has the long form):
 *  - For each settlement date (MMDD) and each total (enum bank_total:
 *    credits, credit reversals, debits, debit reversals) the memo ledger
 *    999 holds two accounts, the total's count and its amount.
 *  - Every transfer the bank counts (a posted debit, credit or refund, a
 *    completion's post, a compensating reversal) is LINKED with two memo
 *    transfers in the same batch: 1 unit from the counts source (5) into
 *    the count account, and the transfer's amount from the amounts
 *    source (6) into the amount account. A chain commits or fails as a
 *    whole, so a total moves exactly when money moves (51 moves neither);
 *    and their ids derive from the counted transfer's ("count:<text>",
 *    "amount:<text>"), so nothing is ever counted twice: not on a repeat,
 *    not after a restart. A count is that account's credits_posted.
 *  - A total's account id is the decimal number "2" MMDD T M: T the total
 *    (1-4), M 0 for the count and 1 for the amount. 2120331 is the amount
 *    of the debits of December 3rd. The leading 2 keeps them apart from
 *    customers ("1" + digits) and from the bank's own ids (1-6).
 *  - Accounts are created when a batch first needs them (bank_batch_commit
 *    calls bank_totals_ensure), so the book holds only dates that were
 *    used; a date never seen reads as zeros.
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

/* ---- accounts --------------------------------------------------------------- */

/* The account of a date's total: its count, or its amount. date must be a
 * date (bank_date_parse), total an enum bank_total. */
ledger_id_t bank_totals_account_id(uint16_t date, int total, bool amount);
/* The date, total and measure an account id stands for; false for any
 * other id. */
bool bank_totals_account_of(ledger_id_t id, uint16_t *date, int *total,
			    bool *amount);
/* "credits", "credit_reversals", "debits", "debit_reversals". */
const char *bank_total_name(int total);

/* Does the book hold (as far as this process knows) the accounts of this
 * date's total? */
bool bank_totals_ready(const bank_t *bank, uint16_t date, int total);
/*
 * Creates, idempotently, the two accounts of each (date, total) in
 * pairs (date * BANK_TOTAL_KINDS + total - 1, count of them), in as few
 * ledger calls as the handle's batch_max allows, and marks them ready.
 * scratch holds 2 * count accounts and results. PS_EEXIST when an id is
 * taken by an account of another kind; the ledger's error otherwise
 * (what a failed call held is not marked).
 */
int bank_totals_ensure(bank_t *bank, const uint16_t *pairs, uint32_t count,
		       ledger_account_t *scratch, ledger_result_t *results);

/* ---- counting and reading ----------------------------------------------------- */

/* The ids of the two memo transfers that count the transfer named by
 * (step, key) (book.h: bank_transfer_id). */
ledger_id_t bank_totals_transfer_id(bool amount, int step, const char *key);

/*
 * A date's totals, read from the book as committed: counts, amounts and
 * the net (credits - credit reversals - debits + debit reversals, > 0 the
 * bank is owed). A date never counted reads as zeros. Returns 0, or the
 * ledger's read error.
 */
int bank_totals_read(bank_t *bank, uint16_t date, txn_totals_t *out);

#endif /* PAYSWITCH_BANKSIM_TOTALS_H */
