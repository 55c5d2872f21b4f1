/*
 * options.c: one option table read from the command line and from a JSON
 * config file.
 *
 * Every value, whichever way it came, goes through one setter as text, so
 * the command line and the file accept exactly the same values and give
 * the same messages. JSON numbers and booleans are turned into their text
 * first; a JSON key is the option's name with '_' for '-'.
 */
#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"

#define CONFIG_BYTES_MAX (1u << 20)

int sim_fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return rc;
}

static const sim_opt_t *find_cli(const sim_opt_t *opts, size_t count,
				 const char *name, size_t len)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(opts[i].name) == len &&
		    memcmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

/* A JSON key matches the option name with '_' for every '-'. */
static const sim_opt_t *find_key(const sim_opt_t *opts, size_t count,
				 const char *key)
{
	for (size_t i = 0; i < count; i++) {
		const char *n = opts[i].name;
		size_t j = 0;
		while (n[j] != '\0' && key[j] != '\0' &&
		       (n[j] == '-' ? key[j] == '_' : n[j] == key[j]))
			j++;
		if (n[j] == '\0' && key[j] == '\0' && !opts[i].cli_only)
			return &opts[i];
	}
	return NULL;
}

static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 2: { uint16_t x = (uint16_t)v; memcpy(field, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(field, &x, 4); break; }
	case 8: memcpy(field, &v, 8); break;
	default: PS_ASSERT(!"option field size");
	}
}

static int set_rate(void *field, const char *value, char *err, size_t cap)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(value, &end);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || !(v >= 0.0) ||
	    v > 1.0)
		return sim_fail(err, cap, PS_EINVAL, "must be a probability from 0 to 1, "
			    "not \"%s\"", value);
	memcpy(field, &v, sizeof(v));
	return 0;
}

static int set_flag(void *field, const char *value, char *err, size_t cap)
{
	bool v;
	if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
		v = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
		v = false;
	else
		return sim_fail(err, cap, PS_EINVAL, "must be true or false, not \"%s\"", value);
	memcpy(field, &v, sizeof(v));
	return 0;
}

/* Sets opt's field from text; err gets the rule, without the name. */
static int set_value(const sim_opt_t *opt, void *cfg, const char *value,
		     char *err, size_t cap)
{
	void *field = (char *)cfg + opt->offset;
	uint64_t v = 0;
	size_t len = strlen(value);
	switch (opt->kind) {
	case SIM_OPT_STR:
		if (len >= opt->size)
			return sim_fail(err, cap, PS_EINVAL, "longer than %zu characters",
				    opt->size - 1);
		memcpy(field, value, len + 1);
		return 0;
	case SIM_OPT_UINT:
		if (ps_parse_u64(value, len, &v) != 0 || v < opt->min ||
		    v > opt->max)
			return sim_fail(err, cap, PS_EINVAL,
				    "must be an integer from %llu to %llu, "
				    "not \"%s\"", (unsigned long long)opt->min,
				    (unsigned long long)opt->max, value);
		store_uint(field, opt->size, v);
		return 0;
	case SIM_OPT_RATE:
		return set_rate(field, value, err, cap);
	case SIM_OPT_FLAG:
		return set_flag(field, value, err, cap);
	}
	PS_ASSERT(!"option kind");
	return PS_EINVAL;
}

/* A JSON scalar as the text a command line would carry. */
static int json_text(const json_t *v, char *out, size_t cap)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) >= cap ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return PS_EINVAL;
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case JSON_INTEGER:
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
		return 0;
	case JSON_REAL:
		snprintf(out, cap, "%.17g", json_real_value(v));
		return 0;
	case JSON_TRUE:
		ps_strlcpy(out, "true", cap);
		return 0;
	case JSON_FALSE:
		ps_strlcpy(out, "false", cap);
		return 0;
	default:
		return PS_EINVAL;
	}
}

static int apply_file(const sim_opt_t *opts, size_t count, const char *path,
		      void *cfg, char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	int rc = sim_file_read(path, CONFIG_BYTES_MAX, &text, &len);
	if (rc != 0)
		return sim_fail(err, cap, PS_EINVAL, "%s: %s", path,
			    rc == PS_ELIMIT ? "larger than 1 MiB"
					    : "cannot read the file");
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (root == NULL)
		return sim_fail(err, cap, PS_EINVAL, "%s: line %d: %s", path, jerr.line,
			    jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return sim_fail(err, cap, PS_EINVAL, "%s: must be a JSON object", path);
	}
	const char *key;
	json_t *value;
	rc = 0;
	json_object_foreach(root, key, value) {
		const sim_opt_t *opt = find_key(opts, count, key);
		char text_value[1024], why[256];
		if (opt == NULL) {
			rc = sim_fail(err, cap, PS_EINVAL, "%s: %s: unknown key", path, key);
			break;
		}
		if (json_text(value, text_value, sizeof(text_value)) != 0) {
			rc = sim_fail(err, cap, PS_EINVAL, "%s: %s: must be a string, a "
				  "number or a boolean", path, key);
			break;
		}
		if (set_value(opt, cfg, text_value, why, sizeof(why)) != 0) {
			rc = sim_fail(err, cap, PS_EINVAL, "%s: %s: %s", path, key, why);
			break;
		}
	}
	json_decref(root);
	return rc;
}

/* Finds --config FILE or --config=FILE; NULL when absent. */
static const char *config_path(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

static int apply_arg(const sim_opt_t *opts, size_t count, int argc,
		     char **argv, int *i, void *cfg, char *err, size_t cap)
{
	const char *arg = argv[*i];
	if (strncmp(arg, "--", 2) != 0)
		return sim_fail(err, cap, PS_EINVAL, "unexpected argument \"%s\"", arg);
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
	if (name_len == 6 && memcmp(name, "config", 6) == 0) {
		if (eq == NULL)
			(*i)++; /* applied already */
		return 0;
	}
	const sim_opt_t *opt = find_cli(opts, count, name, name_len);
	if (opt == NULL)
		return sim_fail(err, cap, PS_EINVAL, "unknown option --%.*s", (int)name_len,
			    name);
	const char *value = eq ? eq + 1 : NULL;
	if (value == NULL && opt->kind == SIM_OPT_FLAG)
		value = "true";
	if (value == NULL) {
		if (*i + 1 >= argc)
			return sim_fail(err, cap, PS_EINVAL, "--%s needs a value (%s)",
				    opt->name, opt->arg ? opt->arg : "");
		value = argv[++(*i)];
	}
	char why[256];
	if (set_value(opt, cfg, value, why, sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--%s: %s", opt->name, why);
	return 0;
}

int sim_opts_parse(const sim_opt_t *opts, size_t count, int argc,
		   char **argv, void *cfg, char *err, size_t err_cap)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return SIM_OPTS_HELP;
	const char *path = config_path(argc, argv);
	if (path != NULL) {
		int rc = apply_file(opts, count, path, cfg, err, err_cap);
		if (rc != 0)
			return rc;
	}
	for (int i = 1; i < argc; i++) {
		int rc = apply_arg(opts, count, argc, argv, &i, cfg, err,
				   err_cap);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void sim_opts_usage(FILE *out, const char *synopsis, const sim_opt_t *opts,
		    size_t count)
{
	fprintf(out, "%s\n\n", synopsis);
	fprintf(out, "  --config FILE            a JSON object of options "
		     "(keys: option names with '_' for '-')\n");
	for (size_t i = 0; i < count; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name,
			 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(out, "  %-24s %s\n", left, opts[i].help);
	}
}
