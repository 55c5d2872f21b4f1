/*
 * members.c: the members table (a sorted array, searched by bisection:
 * a central bank has hundreds of members, not millions) and the members
 * file parser, strict on purpose (members.h).
 */
#include "members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"
#include "sim.h"

static const char *const kind_names[] = {
	[PBOC_KIND_BANK] = "bank",       [PBOC_KIND_ACQUIRER] = "acquirer",
	[PBOC_KIND_PSP] = "psp",         [PBOC_KIND_NETWORK] = "network",
	[PBOC_KIND_SWITCH] = "switch",
};

const char *pboc_kind_name(int kind)
{
	if (kind < PBOC_KIND_BANK || kind > PBOC_KIND_SWITCH)
		return "unknown";
	return kind_names[kind];
}

bool pboc_member_id_valid(const char *s, size_t len)
{
	if (len < 1 || len > PBOC_MEMBER_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* ---- one member ------------------------------------------------------------ */

static int take_id(json_t *v, const char *path, pboc_member_t *m, char *err,
		   size_t cap)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	if (!pboc_member_id_valid(s, len))
		return sim_fail(err, cap, PS_EFORMAT, "%s.member: must be a "
				"string of 1 to %d characters A-Z 0-9", path,
				PBOC_MEMBER_ID_MAX);
	memcpy(m->id, s, len + 1);
	return 0;
}

static int take_kind(json_t *v, const char *path, pboc_member_t *m,
		     char *err, size_t cap)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	for (int k = PBOC_KIND_BANK; k <= PBOC_KIND_SWITCH; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			m->kind = (uint8_t)k;
			return 0;
		}
	}
	return sim_fail(err, cap, PS_EFORMAT, "%s.kind: must be one of bank, "
			"acquirer, psp, network, switch", path);
}

static int take_fen(json_t *v, const char *path, const char *key,
		    int64_t *out, char *err, size_t cap)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > PBOC_AMOUNT_MAX)
		return sim_fail(err, cap, PS_EFORMAT, "%s.%s: must be an "
				"integer from 0 to %lld (fen)", path, key,
				(long long)PBOC_AMOUNT_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int parse_member(json_t *obj, const char *path, pboc_member_t *m,
			char *err, size_t cap)
{
	memset(m, 0, sizeof(*m));
	if (!json_is_object(obj))
		return sim_fail(err, cap, PS_EFORMAT, "%s: must be an object",
				path);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int rc;
		if (strcmp(key, "member") == 0)
			rc = take_id(v, path, m, err, cap);
		else if (strcmp(key, "kind") == 0)
			rc = take_kind(v, path, m, err, cap);
		else if (strcmp(key, "balance") == 0)
			rc = take_fen(v, path, key, &m->balance, err, cap);
		else if (strcmp(key, "credit_limit") == 0)
			rc = take_fen(v, path, key, &m->credit_limit, err, cap);
		else
			rc = sim_fail(err, cap, PS_EFORMAT, "%s.%s: unknown "
				      "key (member, kind, balance, "
				      "credit_limit)", path, key);
		if (rc != 0)
			return rc;
	}
	if (m->id[0] == '\0')
		return sim_fail(err, cap, PS_EFORMAT, "%s.member: is required",
				path);
	if (m->kind == 0)
		return sim_fail(err, cap, PS_EFORMAT, "%s.kind: is required",
				path);
	return 0;
}

/* ---- the table --------------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
	return strcmp(((const pboc_member_t *)a)->id,
		      ((const pboc_member_t *)b)->id);
}

/* Sorts the list and refuses a member named twice. */
static int sort_members(pboc_members_t *m, const char *base, char *err,
			size_t cap)
{
	qsort(m->list, m->count, sizeof(*m->list), by_id);
	for (uint32_t i = 1; i < m->count; i++)
		if (strcmp(m->list[i - 1].id, m->list[i].id) == 0)
			return sim_fail(err, cap, PS_EFORMAT, "%s: member %s "
					"appears twice", base, m->list[i].id);
	return 0;
}

static int parse_array(json_t *array, const char *base, pboc_members_t *out,
		       char *err, size_t cap)
{
	size_t n = json_array_size(array);
	if (n > PBOC_MEMBERS_MAX)
		return sim_fail(err, cap, PS_ELIMIT, "%s: more than %u members",
				base, PBOC_MEMBERS_MAX);
	out->list = calloc(n > 0 ? n : 1, sizeof(*out->list));
	if (out->list == NULL)
		return sim_fail(err, cap, PS_ENOMEM, "no memory for %zu members",
				n);
	for (size_t i = 0; i < n; i++) {
		char path[48];
		snprintf(path, sizeof(path), "%s[%zu]", base, i);
		int rc = parse_member(json_array_get(array, i), path,
				      &out->list[i], err, cap);
		if (rc != 0)
			return rc;
		out->count++;
	}
	return sort_members(out, base[0] != '\0' ? base : "the file", err, cap);
}

int pboc_members_parse(const char *text, size_t len, pboc_members_t *out,
		       char *err, size_t err_cap)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return sim_fail(err, err_cap, PS_EFORMAT, "line %d column %d: %s",
				jerr.line, jerr.column, jerr.text);
	json_t *list = root;
	const char *base = "";
	if (json_is_object(root) && json_object_size(root) == 1) {
		list = json_object_get(root, "members");
		base = "members";
	}
	int rc = json_is_array(list)
			 ? parse_array(list, base, out, err, err_cap)
			 : sim_fail(err, err_cap, PS_EFORMAT, "must be an array "
				    "of members or {\"members\": [...]}");
	json_decref(root);
	if (rc != 0)
		pboc_members_free(out);
	return rc;
}

int pboc_members_load(const char *path, pboc_members_t *out, char *err,
		      size_t err_cap)
{
	memset(out, 0, sizeof(*out));
	char *text = NULL;
	size_t len = 0;
	int rc = sim_file_read(path, PBOC_MEMBERS_FILE_BYTES_MAX, &text, &len);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "%s: %s", path,
				rc == PS_ELIMIT ? "larger than 4 MiB"
						: "cannot read the file");
	char why[256];
	rc = pboc_members_parse(text, len, out, why, sizeof(why));
	free(text);
	if (rc != 0)
		sim_fail(err, err_cap, rc, "%s: %s", path, why);
	return rc;
}

void pboc_members_free(pboc_members_t *m)
{
	free(m->list);
	memset(m, 0, sizeof(*m));
}

const pboc_member_t *pboc_members_find(const pboc_members_t *m,
				       const char *id)
{
	pboc_member_t key;
	if (ps_strlcpy(key.id, id, sizeof(key.id)) != strlen(id))
		return NULL; /* longer than any member id */
	return m->count == 0 ? NULL
			     : bsearch(&key, m->list, m->count,
				       sizeof(*m->list), by_id);
}
