/*
 * ledger_json.h: accounts and transfers as JSON objects, one per line: the
 * format of the ledger CLI's batch input and of its export.
 *
 * A transfer line (keys other than id may be left out; zero is the
 * default; unknown keys are an error, so a typo never passes silently):
 *
 *   {"id":1001,"debit_account_id":"2","credit_account_id":3,
 *    "amount":12850,"ledger":156,"code":1,"flags":["pending","linked"],
 *    "pending_id":0,"timeout_seconds":30,"user_data_128":"0x2a",
 *    "user_data_64":7}
 *
 * Ids (id, *_account_id, pending_id, user_data_128) are JSON integers
 * (1..2^63-1), or strings: decimal up to 2^128-1, hex with 0x, or
 * "text:ANY" for ledger_id_from_text("ANY"). Amounts and the other
 * numbers are non-negative JSON integers; never floating point. An
 * account line has id, ledger, code, flags, user_data_128, user_data_64.
 * Flags are arrays of names: "linked", "pending", "post_pending",
 * "void_pending" for transfers; "linked", "debits_must_not_exceed_credits",
 * "credits_must_not_exceed_debits" (and, on output, "closed") for accounts.
 *
 * Output writes ids above 2^63-1 as decimal strings, the rest as integers.
 * Parsing never reads past len, needs no NUL, and allocates only inside
 * jansson for the duration of the call.
 */
#ifndef PAYSWITCH_LEDGER_JSON_H
#define PAYSWITCH_LEDGER_JSON_H

#include <stddef.h>

#include "core.h"
#include "ledger.h"

#define LEDGER_JSON_LINE_MAX 16384 /* longest line accepted, bytes */
#define LEDGER_JSON_ERROR_MAX 160

/*
 * Parses one JSON object into *out (zeroed first). On failure returns
 * PS_EFORMAT and writes into err (LEDGER_JSON_ERROR_MAX bytes) a reason
 * that names the key: "amount: must be a non-negative integer".
 */
int ledger_json_parse_transfer(const char *text, size_t len,
			       ledger_transfer_t *out, char *err);
int ledger_json_parse_account(const char *text, size_t len,
			      ledger_account_t *out, char *err);

/* Appends the object (no newline) to buf; PS_ENOSPC if it does not fit
 * (512 bytes always do). */
int ledger_json_format_transfer(ps_buf_t *buf, const ledger_transfer_t *t);
int ledger_json_format_account(ps_buf_t *buf, const ledger_account_t *a);
/* Appends an id as the output rule above says. */
int ledger_json_format_id(ps_buf_t *buf, ledger_id_t id);

/* Flag names joined by ',' ("pending,linked"), or "" for none. */
const char *ledger_transfer_flags_text(uint16_t flags, char *out, size_t cap);
const char *ledger_account_flags_text(uint16_t flags, char *out, size_t cap);
/* Parses a ','-separated list of flag names; PS_EINVAL on an unknown one. */
int ledger_transfer_flags_parse(const char *text, uint16_t *out);
int ledger_account_flags_parse(const char *text, uint16_t *out);

#endif /* PAYSWITCH_LEDGER_JSON_H */
