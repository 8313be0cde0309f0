/* config.c - configuration defaults, file and environment (concord/config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concord/config.h"

enum kind { K_STR, K_INT, K_LONG, K_LLONG, K_BOOL };

/* The keys: one table, so that file, environment and documentation agree. */
static const struct key {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	size_t		 size;		/* K_STR: buffer size */
	long long	 min, max;	/* numbers: accepted range */
} keys[] = {
#define S(n, f) { n, K_STR, offsetof(struct cc_config, f), sizeof(((struct cc_config *)0)->f), 0, 0 }
#define N(n, k, f, lo, hi) { n, k, offsetof(struct cc_config, f), 0, lo, hi }
	S("data_dir", data_dir),
	S("socket", socket),
	S("socket_group", socket_group),
	N("workers", K_INT, workers, 1, 64),
	N("max_upload_bytes", K_LLONG, max_upload_bytes, 1, 1LL << 40),
	N("body_idle_timeout", K_LONG, body_idle_timeout, 1, 3600),
	N("token_lifetime", K_LONG, token_lifetime, 60, 30L * 24 * 3600),
	N("cookie_secure", K_BOOL, cookie_secure, 0, 1),
	N("login_max_failures", K_INT, login_max_failures, 1, 1000),
	N("login_max_failures_per_client", K_INT,
	    login_max_failures_per_client, 1, 100000),
	N("login_window", K_LONG, login_window, 1, 7L * 24 * 3600),
	N("page_size_max", K_INT, page_size_max, 1, 100000),
	N("request_deadline_ms", K_LONG, request_deadline_ms, 0, 3600000),
	N("dashboard_cache", K_BOOL, dashboard_cache, 0, 1),
	N("page_cache", K_BOOL, page_cache, 0, 1),
	S("llm_endpoint", llm_endpoint),
	S("llm_model", llm_model),
	S("llm_api_key_file", llm_api_key_file),
	N("llm_timeout_ms", K_LONG, llm_timeout_ms, 100, 600000),
	N("llm_daily_requests", K_INT, llm_daily_requests, 1, 1000000),
	S("llm_response_format", llm_response_format),
#undef S
#undef N
};

void
config_defaults(struct cc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "/var/lib/concord");
	cfg->workers = 4;
	cfg->max_upload_bytes = 1073741824LL;
	cfg->body_idle_timeout = 30;
	cfg->token_lifetime = 3600;
	cfg->cookie_secure = 1;
	cfg->login_max_failures = 5;
	cfg->login_max_failures_per_client = 20;
	cfg->login_window = 900;
	cfg->page_size_max = 1000;
	cfg->request_deadline_ms = 10000;
	cfg->dashboard_cache = 1;
	cfg->page_cache = 1;
	cfg->llm_timeout_ms = 30000;
	cfg->llm_daily_requests = 1000;
	snprintf(cfg->llm_response_format, sizeof(cfg->llm_response_format),
	    "json_schema");
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const t[] = { "1", "true", "yes", "on" };
	static const char *const f[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcasecmp(v, t[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, f[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

cc_err
config_set(struct cc_config *cfg, const char *key, const char *value,
    struct cc_diag *diag)
{
	const struct key *k = NULL;
	char *base = (char *)cfg, *end;
	long long n;
	size_t i;
	int b;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (k == NULL)
		return cc_diag_set(diag, CC_EINVAL, "config_unknown_key",
		    "unknown configuration key '%s'", key);
	switch (k->kind) {
	case K_STR:
		if (strlen(value) >= k->size)
			return cc_diag_set(diag, CC_ECONFIG, "config_too_long",
			    "value of '%s' is too long", key);
		memcpy(base + k->off, value, strlen(value) + 1);
		return CC_OK;
	case K_BOOL:
		if (parse_bool(value, &b) != 0)
			return cc_diag_set(diag, CC_ECONFIG, "config_not_bool",
			    "'%s' must be true or false, not '%s'", key, value);
		*(int *)(base + k->off) = b;
		return CC_OK;
	default:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' ||
		    n < k->min || n > k->max)
			return cc_diag_set(diag, CC_ECONFIG, "config_bad_number",
			    "'%s' must be an integer from %lld to %lld, not '%s'",
			    key, k->min, k->max, value);
		if (k->kind == K_INT)
			*(int *)(base + k->off) = (int)n;
		else if (k->kind == K_LONG)
			*(long *)(base + k->off) = (long)n;
		else
			*(long long *)(base + k->off) = n;
		return CC_OK;
	}
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

cc_err
config_load_file(struct cc_config *cfg, const char *path, struct cc_diag *diag)
{
	char line[2048], *p, *eq, *key, *val;
	long lineno = 0;
	cc_err err = CC_OK;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return cc_diag_set(diag, CC_EIO, "config_open",
		    "cannot open configuration file %s: %s", path,
		    strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			err = cc_diag_set(diag, CC_ECONFIG, "config_syntax",
			    "%s:%ld: expected 'key = value'", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if ((err = config_set(cfg, key, val, diag)) != CC_OK) {
			err = CC_ECONFIG;
			break;
		}
	}
	if (err != CC_OK && diag != NULL)
		diag->line = lineno;
	fclose(fp);
	return err;
}

cc_err
config_apply_env(struct cc_config *cfg, struct cc_diag *diag)
{
	char name[96];
	const char *v;
	size_t i, j;
	cc_err err;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(name, sizeof(name), "CONCORD_%s", keys[i].name);
		for (j = 8; name[j] != '\0'; j++)
			name[j] = (char)toupper((unsigned char)name[j]);
		if ((v = getenv(name)) == NULL)
			continue;
		if ((err = config_set(cfg, keys[i].name, v, diag)) != CC_OK)
			return err;
	}
	return CC_OK;
}
