/*
 * llm.c - the OpenAI-compatible chat-completions client (concord/llm.h):
 * libcurl for HTTP, Jansson for JSON, libsodium's SHA-256 for the cache
 * key, the workspace for the cache and the daily budget.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "concord/llm.h"
#include "concord/log.h"
#include "concord/util.h"

#define CONNECT_MAX_MS	10000	/* connection phase, at most */
#define BACKOFF_MS	500	/* wait before the retry without Retry-After */
#define KEY_MAX		4096	/* bytes of an API key file */

enum rfmt { RF_SCHEMA = 0, RF_OBJECT, RF_NONE };

/* This process's settings (llm_configure()). */
static struct {
	char	endpoint[512];		/* without a trailing '/' */
	char	model[128];
	char	key_file[PATH_MAX];
	long	timeout_ms;
	int	daily;
	enum rfmt fmt;
	int	loopback;		/* the endpoint's host is loopback */
	int	https;
} S = { "", "", "", 30000, LLM_DAILY_REQUESTS, RF_SCHEMA, 0, 0 };

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* 1 if the URL's host is loopback (127.0.0.0/8, [::1], localhost). */
static int
loopback_host(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (h == NULL)
		return 0;
	h += 3;
	if (h[strcspn(h, "@/")] == '@')		/* no user info */
		return 0;
	n = strcspn(h, ":/");
	if (!strncmp(h, "[::1]", 5))
		return 1;
	if (n == 9 && !strncasecmp(h, "localhost", 9))
		return 1;
	return n >= 4 && !strncmp(h, "127.", 4) && strspn(h, "0123456789.") >=
	    n;
}

cc_err
llm_configure(const struct cc_config *cfg, struct cc_diag *diag)
{
	const char *e = cfg->llm_endpoint, *f = cfg->llm_response_format;
	size_t n;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	S.endpoint[0] = '\0';
	snprintf(S.model, sizeof(S.model), "%s", cfg->llm_model);
	snprintf(S.key_file, sizeof(S.key_file), "%s", cfg->llm_api_key_file);
	S.timeout_ms = cfg->llm_timeout_ms > 0 ? cfg->llm_timeout_ms : 30000;
	S.daily = cfg->llm_daily_requests > 0 ? cfg->llm_daily_requests :
	    LLM_DAILY_REQUESTS;
	if (f[0] == '\0' || !strcmp(f, "json_schema"))
		S.fmt = RF_SCHEMA;
	else if (!strcmp(f, "json_object"))
		S.fmt = RF_OBJECT;
	else if (!strcmp(f, "none"))
		S.fmt = RF_NONE;
	else
		return cc_diag_set(diag, CC_ECONFIG, "config_llm_format",
		    "llm_response_format must be json_schema, json_object or"
		    " none, not '%.40s'", f);
	if (e[0] == '\0')
		return CC_OK;
	if (strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0)
		return cc_diag_set(diag, CC_ECONFIG, "config_llm_endpoint",
		    "llm_endpoint must begin with http:// or https://");
	snprintf(S.endpoint, sizeof(S.endpoint), "%s", e);
	n = strlen(S.endpoint);
	while (n > 0 && S.endpoint[n - 1] == '/')
		S.endpoint[--n] = '\0';
	S.https = !strncmp(S.endpoint, "https://", 8);
	S.loopback = loopback_host(S.endpoint);
	return CC_OK;
}

int
llm_enabled(void)
{
	return S.endpoint[0] != '\0';
}

const char *
llm_model(void)
{
	return S.model;
}

long
llm_timeout_ms(void)
{
	return S.timeout_ms;
}

/* ---- the key --------------------------------------------------------- */

/* Reads the key into key (size bytes); "" when no file is configured. */
static cc_err
read_key(char *key, size_t size, struct cc_diag *diag)
{
	char *text = NULL, *p, *end;
	struct stat st;
	size_t len = 0;

	key[0] = '\0';
	if (S.key_file[0] == '\0')
		return CC_OK;
	if (stat(S.key_file, &st) != 0 ||
	    util_read_file(S.key_file, KEY_MAX, &text, &len) != CC_OK)
		return cc_diag_set(diag, CC_ECONFIG, "llm_key_file",
		    "the API key file (llm_api_key_file) cannot be read");
	if (st.st_mode & 077) {
		sodium_memzero(text, len);
		free(text);
		return cc_diag_set(diag, CC_ECONFIG, "llm_key_file",
		    "the API key file (llm_api_key_file) is readable by group"
		    " or others: chmod 600 it");
	}
	for (p = text; *p != '\0' && isspace((unsigned char)*p); p++)
		;
	end = p + strcspn(p, "\r\n");
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end == p || (size_t)(end - p) >= size) {
		sodium_memzero(text, len);
		free(text);
		return cc_diag_set(diag, CC_ECONFIG, "llm_key_file",
		    "the API key file (llm_api_key_file) holds no key");
	}
	memcpy(key, p, (size_t)(end - p));
	key[end - p] = '\0';
	sodium_memzero(text, len);
	free(text);
	return CC_OK;
}

/* ---- cache and budget ------------------------------------------------ */

/* The answer cached under key, or NULL. */
static json_t *
cache_get(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;
	json_t *j = NULL;

	if (db == NULL || sqlite3_prepare_v2(db, "SELECT answer FROM llm_cache"
	    " WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = json_loads((const char *)sqlite3_column_text(st, 0), 0,
		    NULL);
	sqlite3_finalize(st);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static void
cache_put(sqlite3 *db, const char *key, const char *purpose,
    const json_t *answer)
{
	sqlite3_stmt *st;
	char now[32], *text;

	if (db == NULL || (text = json_dumps(answer, JSON_COMPACT)) == NULL)
		return;
	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO llm_cache (key,"
	    " purpose, model, answer, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, S.model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warn("llm: the answer could not be cached: %s",
			    sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	free(text);
}

/*
 * Counts one request against today's budget: CC_OK, or CC_ERATE when the
 * budget is spent (nothing counted).  A failed write of the counter is a
 * failure too (CC_EDB): an uncounted request would escape the budget.
 */
static cc_err
budget_take(sqlite3 *db, struct cc_diag *diag)
{
	char day[32];
	sqlite3_stmt *st;
	int rc;

	if (db == NULL)
		return CC_OK;
	util_rfc3339(time(NULL), day, sizeof(day));
	day[10] = '\0';				/* YYYY-MM-DD, UTC */
	if (sqlite3_prepare_v2(db, "INSERT INTO llm_usage (day, requests)"
	    " VALUES (?1, 1) ON CONFLICT (day) DO UPDATE SET requests ="
	    " requests + 1 WHERE requests < ?2", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "llm_budget", "%s",
		    sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, S.daily);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cc_diag_set(diag, CC_EDB, "llm_budget", "%s",
		    sqlite3_errmsg(db));
	if (sqlite3_changes(db) == 0)
		return cc_diag_set(diag, CC_ERATE, "llm_budget", "the daily"
		    " budget of %d language-model requests is spent (UTC day"
		    " %s; llm_daily_requests)", S.daily, day);
	return CC_OK;
}

/* ---- HTTP ------------------------------------------------------------ */

struct body {
	char	*p;
	size_t	 len;
	int	 too_big;
};

static size_t
on_data(char *ptr, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;
	char *q;

	if (b->len + add > LLM_MAX_RESPONSE) {
		b->too_big = 1;
		return 0;
	}
	if ((q = realloc(b->p, b->len + add + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, ptr, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* Retry-After: delay-seconds (RFC 9110 §10.2.3), else -1. */
static size_t
on_header(char *buf, size_t size, size_t n, void *ctx)
{
	long *retry = ctx;
	size_t len = size * n;
	char line[128];

	if (len < sizeof(line) && len > 12 && !strncasecmp(buf, "Retry-After:",
	    12)) {
		char *end;
		long v;
		memcpy(line, buf, len);
		line[len] = '\0';
		v = strtol(line + 12, &end, 10);
		if (end != line + 12 && v >= 0 && v < 86400)
			*retry = v;
	}
	return len;
}

/*
 * One POST of body to the endpoint within ms milliseconds.  *status is
 * the HTTP status (0: no answer), *curl_rc curl's code, *retry_after the
 * Retry-After seconds (-1 none), out the response.
 */
static void
post_once(const char *url, const char *key, const char *body, long ms,
    long *status, CURLcode *curl_rc, long *retry_after, struct body *out)
{
	struct curl_slist *h = NULL;
	char auth[KEY_MAX + 32];
	CURL *c;

	*status = 0;
	*retry_after = -1;
	if ((c = curl_easy_init()) == NULL) {
		*curl_rc = CURLE_OUT_OF_MEMORY;
		return;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	if (key[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
		h = curl_slist_append(h, auth);
		sodium_memzero(auth, sizeof(auth));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms < CONNECT_MAX_MS ?
	    ms : (long)CONNECT_MAX_MS);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, retry_after);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "concord/" PACKAGE_VERSION);
	*curl_rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	/* the list holds a copy of the header with the key */
	for (struct curl_slist *x = h; x != NULL; x = x->next)
		sodium_memzero(x->data, strlen(x->data));
	curl_slist_free_all(h);
}

/* The request body for format fmt. */
static char *
request_body(const struct llm_request *req, enum rfmt fmt)
{
	json_t *b, *rf = NULL;
	char *s;

	if (fmt == RF_SCHEMA && req->schema != NULL)
		rf = json_pack("{s:s, s:{s:s, s:b, s:O}}", "type", "json_schema",
		    "json_schema", "name", req->schema_name != NULL ?
		    req->schema_name : "answer", "strict", 1, "schema",
		    req->schema);
	else if (fmt != RF_NONE)
		rf = json_pack("{s:s}", "type", "json_object");
	b = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i}", "model",
	    S.model, "messages", "role", "system", "content", req->system,
	    "role", "user", "content", req->user, "temperature", 0);
	if (b == NULL) {
		json_decref(rf);
		return NULL;
	}
	if (rf != NULL)
		json_object_set_new(b, "response_format", rf);
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

json_t *
llm_parse_content(const char *content)
{
	const char *p, *q, *end;
	json_t *j;
	char *tmp;

	if (content == NULL)
		return NULL;
	if ((j = json_loads(content, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
		if (json_is_object(j))
			return j;
		json_decref(j);
		return NULL;
	}
	/* ```json ... ``` (models asked without a response format) */
	if ((p = strstr(content, "```")) == NULL)
		return NULL;
	p += 3;
	p += strspn(p, "abcdefghijklmnopqrstuvwxyzJSON");
	if ((q = strstr(p, "```")) == NULL)
		return NULL;
	end = q;
	if ((tmp = strndup(p, (size_t)(end - p))) == NULL)
		return NULL;
	j = json_loads(tmp, JSON_REJECT_DUPLICATES, NULL);
	free(tmp);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The cache key of req. */
static void
cache_key(const struct llm_request *req, char *hex)
{
	crypto_hash_sha256_state h;
	unsigned char md[crypto_hash_sha256_BYTES];
	char *schema = req->schema != NULL ? json_dumps(req->schema,
	    JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	const char *parts[6];
	char fmt[4];
	size_t i;

	snprintf(fmt, sizeof(fmt), "%d", (int)S.fmt);
	parts[0] = S.endpoint;
	parts[1] = S.model;
	parts[2] = fmt;
	parts[3] = schema != NULL ? schema : "";
	parts[4] = req->system;
	parts[5] = req->user;
	crypto_hash_sha256_init(&h);
	for (i = 0; i < 6; i++)		/* each part with its NUL */
		crypto_hash_sha256_update(&h, (const unsigned char *)parts[i],
		    strlen(parts[i]) + 1);
	crypto_hash_sha256_final(&h, md);
	util_hex(md, sizeof(md), hex);
	free(schema);
}

cc_err
llm_chat(sqlite3 *db, const struct llm_request *req, struct llm_result *res,
    struct cc_diag *diag)
{
	char key[KEY_MAX], url[600], why[200];
	double start = now_ms(), deadline;
	struct body out = { NULL, 0, 0 };
	enum rfmt fmt = S.fmt;
	long limit, left, retry_after, status = 0;
	const char *content;
	json_t *resp = NULL, *answer = NULL;
	CURLcode crc = CURLE_OK;
	char *body = NULL;
	cc_err err;
	long wait;
	int retried = 0, downgraded = 0;

	memset(res, 0, sizeof(*res));
	if (!llm_enabled())
		return cc_diag_set(diag, CC_ECONFIG, "llm_not_configured",
		    "no language model is configured (llm_endpoint)");
	if (req->system == NULL || req->user == NULL)
		return cc_diag_set(diag, CC_EINVAL, "llm_request",
		    "a request needs a system and a user message");
	limit = req->timeout_ms > 0 && req->timeout_ms < S.timeout_ms ?
	    req->timeout_ms : S.timeout_ms;
	deadline = start + (double)limit;
	cache_key(req, res->key);
	if ((answer = cache_get(db, res->key)) != NULL) {
		res->answer = answer;
		res->cached = 1;
		log_info("llm purpose=%s model=%s cached=1", req->purpose,
		    S.model);
		return CC_OK;
	}
	if ((err = read_key(key, sizeof(key), diag)) != CC_OK)
		return err;
	if (key[0] != '\0' && !S.https && !S.loopback) {
		sodium_memzero(key, sizeof(key));
		return cc_diag_set(diag, CC_ECONFIG, "llm_plain_http",
		    "refusing to send the API key over plain http to a host"
		    " that is not loopback: use https in llm_endpoint");
	}
	snprintf(url, sizeof(url), "%s/chat/completions", S.endpoint);
	for (;;) {
		left = (long)(deadline - now_ms());
		if (left <= 0) {
			crc = CURLE_OPERATION_TIMEDOUT;
			break;
		}
		if ((err = budget_take(db, diag)) != CC_OK)
			goto out;
		free(body);
		if ((body = request_body(req, fmt)) == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		free(out.p);
		memset(&out, 0, sizeof(out));
		post_once(url, key, body, left, &status, &crc, &retry_after,
		    &out);
		res->attempts++;
		if (out.too_big)
			break;
		/* json_schema refused: the same question in JSON mode */
		if (crc == CURLE_OK && status == 400 && fmt == RF_SCHEMA &&
		    req->schema != NULL && !downgraded) {
			fmt = RF_OBJECT;
			downgraded = 1;
			continue;
		}
		if (crc == CURLE_OK && status != 429 && status < 500)
			break;
		if (crc == CURLE_OPERATION_TIMEDOUT || retried)
			break;
		/* one retry with backoff, only when it fits the deadline */
		retried = 1;
		wait = retry_after >= 0 ? retry_after * 1000L : BACKOFF_MS;
		if ((double)wait + 100.0 > deadline - now_ms())
			break;
		usleep((useconds_t)wait * 1000);
	}
	sodium_memzero(key, sizeof(key));
	res->status = status;
	if (out.too_big) {
		err = cc_diag_set(diag, CC_ETOOBIG, "llm_too_big", "the model's"
		    " answer is larger than %d bytes", LLM_MAX_RESPONSE);
		goto out;
	}
	if (crc == CURLE_OPERATION_TIMEDOUT) {
		err = cc_diag_set(diag, CC_EIO, "llm_timeout", "the model did"
		    " not answer within %ld ms", limit);
		goto out;
	}
	if (crc != CURLE_OK) {
		err = cc_diag_set(diag, CC_EIO, "llm_unreachable", "the model"
		    " endpoint cannot be reached: %s", curl_easy_strerror(crc));
		goto out;
	}
	if (status == 429) {
		err = cc_diag_set(diag, CC_ERATE, "llm_rate_limited", "the model"
		    " endpoint is rate-limiting requests (HTTP 429)");
		goto out;
	}
	if (status >= 500) {
		err = cc_diag_set(diag, CC_EIO, "llm_server_error", "the model"
		    " endpoint failed (HTTP %ld)", status);
		goto out;
	}
	if (status != 200) {
		err = cc_diag_set(diag, CC_EIO, "llm_http_status", "the model"
		    " endpoint answered HTTP %ld", status);
		goto out;
	}
	resp = out.p != NULL ? json_loads(out.p, 0, NULL) : NULL;
	content = json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(resp, "choices"), 0), "message"),
	    "content"));
	if (content == NULL) {
		err = cc_diag_set(diag, CC_EPARSE, "llm_bad_json", "the model"
		    " endpoint's answer is not a chat completion");
		goto out;
	}
	if ((answer = llm_parse_content(content)) == NULL) {
		err = cc_diag_set(diag, CC_EPARSE, "llm_bad_json", "the model's"
		    " answer is not a JSON object");
		goto out;
	}
	why[0] = '\0';
	if (req->valid != NULL && !req->valid(answer, req->valid_ctx, why,
	    sizeof(why))) {
		json_decref(answer);
		answer = NULL;
		err = cc_diag_set(diag, CC_EINVALID, "llm_bad_answer", "the"
		    " model's answer is unusable: %s", why);
		goto out;
	}
	cache_put(db, res->key, req->purpose, answer);
	res->answer = answer;
	err = CC_OK;
out:
	sodium_memzero(key, sizeof(key));
	res->elapsed_ms = (long)(now_ms() - start);
	log_info("llm purpose=%s model=%s status=%ld ms=%ld attempts=%d"
	    " cached=0 result=%s", req->purpose, S.model, status,
	    res->elapsed_ms, res->attempts, err == CC_OK ? "ok" :
	    diag != NULL ? diag->code : cc_strerror(err));
	json_decref(resp);
	free(out.p);
	free(body);
	return err;
}
