/*
 * ids.c: 128-bit ids (parse, format, derive from text), the names of the
 * result codes and states, and the error messages.
 */
#include <string.h>

#include <openssl/sha.h>

#include "ledger_int.h"

typedef unsigned __int128 u128;

static u128 id_to_u128(ledger_id_t id)
{
	return ((u128)id.hi << 64) | id.lo;
}

static ledger_id_t id_from_u128(u128 v)
{
	ledger_id_t id = {(uint64_t)(v >> 64), (uint64_t)v};
	return id;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ledger_id_parse(const char *text, size_t len, ledger_id_t *out)
{
	PS_ASSERT(out != NULL);
	if (text == NULL || len == 0)
		return PS_EINVAL;
	u128 v = 0;
	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		if (len - 2 > 32)
			return PS_ELIMIT;
		for (size_t i = 2; i < len; i++) {
			int d = hex_value(text[i]);
			if (d < 0)
				return PS_EINVAL;
			v = (v << 4) | (u128)d;
		}
		*out = id_from_u128(v);
		return 0;
	}
	const u128 max = ~(u128)0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return PS_EINVAL;
		unsigned d = (unsigned)(text[i] - '0');
		if (v > (max - d) / 10)
			return PS_ELIMIT;
		v = v * 10 + d;
	}
	*out = id_from_u128(v);
	return 0;
}

const char *ledger_id_format(ledger_id_t id, char *out)
{
	char tmp[LEDGER_ID_TEXT_MAX];
	size_t n = 0;
	u128 v = id_to_u128(id);
	do {
		tmp[n++] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return out;
}

ledger_id_t ledger_id_from_text(const char *text, size_t len)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)text, len, digest);
	ledger_id_t id = key_get_id(digest);
	/* The two reserved ids: map them (2^-127 odds) to their neighbours. */
	if (ledger_id_is_zero(id))
		id.lo = 1;
	if (id_is_max(id))
		id.lo--;
	return id;
}

const char *ledger_strerror(int code)
{
	switch (code) {
	case LEDGER_EMAPFULL: return "ledger map full (map_bytes_max reached)";
	case LEDGER_EVERSION: return "ledger format version mismatch";
	case LEDGER_ECORRUPT: return "ledger record corrupt";
	case LEDGER_EREADERS: return "too many ledger readers";
	}
	return ps_strerror(code);
}

static const char *const account_result_names[] = {
	[LEDGER_ACCOUNT_OK] = "ok",
	[LEDGER_ACCOUNT_LINKED_EVENT_FAILED] = "linked_event_failed",
	[LEDGER_ACCOUNT_LINKED_EVENT_CHAIN_OPEN] = "linked_event_chain_open",
	[LEDGER_ACCOUNT_TIMESTAMP_MUST_BE_ZERO] = "timestamp_must_be_zero",
	[LEDGER_ACCOUNT_RESERVED_FLAG] = "reserved_flag",
	[LEDGER_ACCOUNT_CLOSED_FLAG_AT_CREATE] = "closed_flag_at_create",
	[LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO] = "id_must_not_be_zero",
	[LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX] = "id_must_not_be_int_max",
	[LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE] =
		"flags_are_mutually_exclusive",
	[LEDGER_ACCOUNT_BALANCES_MUST_BE_ZERO] = "balances_must_be_zero",
	[LEDGER_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO] = "ledger_must_not_be_zero",
	[LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO] = "code_must_not_be_zero",
	[LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS] =
		"exists_with_different_flags",
	[LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128] =
		"exists_with_different_user_data_128",
	[LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64] =
		"exists_with_different_user_data_64",
	[LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER] =
		"exists_with_different_ledger",
	[LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE] =
		"exists_with_different_code",
	[LEDGER_ACCOUNT_EXISTS] = "exists",
	[LEDGER_ACCOUNT_NOT_FOUND] = "account_not_found",
};
_Static_assert(PS_ARRAY_LEN(account_result_names) ==
		       LEDGER_ACCOUNT_RESULT_COUNT,
	       "a name for every account result");

static const char *const transfer_result_names[] = {
	[LEDGER_TRANSFER_OK] = "ok",
	[LEDGER_TRANSFER_LINKED_EVENT_FAILED] = "linked_event_failed",
	[LEDGER_TRANSFER_LINKED_EVENT_CHAIN_OPEN] = "linked_event_chain_open",
	[LEDGER_TRANSFER_TIMESTAMP_MUST_BE_ZERO] = "timestamp_must_be_zero",
	[LEDGER_TRANSFER_RESERVED_FLAG] = "reserved_flag",
	[LEDGER_TRANSFER_RESERVED_FIELD] = "reserved_field",
	[LEDGER_TRANSFER_ID_MUST_NOT_BE_ZERO] = "id_must_not_be_zero",
	[LEDGER_TRANSFER_ID_MUST_NOT_BE_INT_MAX] = "id_must_not_be_int_max",
	[LEDGER_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE] =
		"flags_are_mutually_exclusive",
	[LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO] =
		"debit_account_id_must_not_be_zero",
	[LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX] =
		"debit_account_id_must_not_be_int_max",
	[LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO] =
		"credit_account_id_must_not_be_zero",
	[LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX] =
		"credit_account_id_must_not_be_int_max",
	[LEDGER_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT] =
		"accounts_must_be_different",
	[LEDGER_TRANSFER_PENDING_ID_MUST_BE_ZERO] = "pending_id_must_be_zero",
	[LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO] =
		"pending_id_must_not_be_zero",
	[LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX] =
		"pending_id_must_not_be_int_max",
	[LEDGER_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT] =
		"pending_id_must_be_different",
	[LEDGER_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER] =
		"timeout_reserved_for_pending_transfer",
	[LEDGER_TRANSFER_AMOUNT_MUST_NOT_BE_ZERO] = "amount_must_not_be_zero",
	[LEDGER_TRANSFER_AMOUNT_EXCEEDS_MAX] = "amount_exceeds_max",
	[LEDGER_TRANSFER_LEDGER_MUST_NOT_BE_ZERO] = "ledger_must_not_be_zero",
	[LEDGER_TRANSFER_CODE_MUST_NOT_BE_ZERO] = "code_must_not_be_zero",
	[LEDGER_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND] = "debit_account_not_found",
	[LEDGER_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND] =
		"credit_account_not_found",
	[LEDGER_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER] =
		"accounts_must_have_the_same_ledger",
	[LEDGER_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS] =
		"transfer_must_have_the_same_ledger_as_accounts",
	[LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED] = "debit_account_closed",
	[LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED] = "credit_account_closed",
	[LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND] =
		"pending_transfer_not_found",
	[LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING] =
		"pending_transfer_not_pending",
	[LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID] =
		"pending_transfer_has_different_debit_account_id",
	[LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID] =
		"pending_transfer_has_different_credit_account_id",
	[LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER] =
		"pending_transfer_has_different_ledger",
	[LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE] =
		"pending_transfer_has_different_code",
	[LEDGER_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT] =
		"exceeds_pending_transfer_amount",
	[LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT] =
		"pending_transfer_has_different_amount",
	[LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED] =
		"pending_transfer_already_posted",
	[LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED] =
		"pending_transfer_already_voided",
	[LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED] = "pending_transfer_expired",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS] =
		"exists_with_different_flags",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID] =
		"exists_with_different_debit_account_id",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID] =
		"exists_with_different_credit_account_id",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT] =
		"exists_with_different_amount",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID] =
		"exists_with_different_pending_id",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128] =
		"exists_with_different_user_data_128",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64] =
		"exists_with_different_user_data_64",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT] =
		"exists_with_different_timeout",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER] =
		"exists_with_different_ledger",
	[LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CODE] =
		"exists_with_different_code",
	[LEDGER_TRANSFER_EXISTS] = "exists",
	[LEDGER_TRANSFER_OVERFLOWS_DEBITS_PENDING] = "overflows_debits_pending",
	[LEDGER_TRANSFER_OVERFLOWS_CREDITS_PENDING] =
		"overflows_credits_pending",
	[LEDGER_TRANSFER_OVERFLOWS_DEBITS_POSTED] = "overflows_debits_posted",
	[LEDGER_TRANSFER_OVERFLOWS_CREDITS_POSTED] = "overflows_credits_posted",
	[LEDGER_TRANSFER_OVERFLOWS_DEBITS] = "overflows_debits",
	[LEDGER_TRANSFER_OVERFLOWS_CREDITS] = "overflows_credits",
	[LEDGER_TRANSFER_EXCEEDS_CREDITS] = "exceeds_credits",
	[LEDGER_TRANSFER_EXCEEDS_DEBITS] = "exceeds_debits",
};
_Static_assert(PS_ARRAY_LEN(transfer_result_names) ==
		       LEDGER_TRANSFER_RESULT_COUNT,
	       "a name for every transfer result");

const char *ledger_account_result_name(uint32_t result)
{
	if (result >= LEDGER_ACCOUNT_RESULT_COUNT)
		return "unknown";
	return account_result_names[result];
}

const char *ledger_transfer_result_name(uint32_t result)
{
	if (result >= LEDGER_TRANSFER_RESULT_COUNT)
		return "unknown";
	return transfer_result_names[result];
}

const char *ledger_pending_state_name(uint32_t state)
{
	switch (state) {
	case LEDGER_PENDING_NONE: return "none";
	case LEDGER_PENDING_PENDING: return "pending";
	case LEDGER_PENDING_POSTED: return "posted";
	case LEDGER_PENDING_VOIDED: return "voided";
	case LEDGER_PENDING_EXPIRED: return "expired";
	}
	return "unknown";
}
