/*
 * fuzz_query.c - the table API's request parsing: the query string as the
 * service decodes it (fcgi/http.c, http_req_init() on a REQUEST_URI) and
 * the table filters, sort, columns, paging token and shape it names
 * (core/query.c query_parse()), then the answer (query_open(),
 * query_write()) on a workspace holding the integration fixture's star
 * schema (tests/integration/fixtures/star.sql).
 *
 * The input is what follows "/api/v1/tables/" in a request target:
 * "fact_sales.csv?amount__gte=10&_sort=date".  Invariants:
 *  - the URI parser either refuses (CC_EINVAL, the service answers 400)
 *    or hands over at most HTTP_MAX_QUERY parameters, keys and values
 *    NUL-free C strings;
 *  - query_parse() returns CC_OK, CC_EINVAL or CC_ENOTFOUND with a
 *    documented diag code and a UTF-8 message;
 *  - a JSON answer is one JSON object with "ok": true and "rows" holding
 *    "count" rows; every NDJSON line is a JSON object or array; every
 *    answer is valid UTF-8; the SQL text holds no request value;
 *  - a page's next token, sent back as _next, is accepted.
 */
#include "config.h"

#include <sqlite3.h>
#include <jansson.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/query.h"
#include "fuzz.h"
#include "http.h"

static sqlite3 *db;
static char dbpath[256];

struct membuf {
	char	*p;
	size_t	 len, cap;
};

static int
mem_writer(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	if (m->len + len + 1 > m->cap) {
		m->cap = (m->len + len + 1) * 2;
		if ((m->p = realloc(m->p, m->cap)) == NULL)
			abort();
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	m->p[m->len] = '\0';
	return 0;
}

static void
exec_or_die(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "fuzz_query: %s\n", msg);
		abort();
	}
}

static void
cleanup(void)
{
	char p[300];

	query_cache_drop(db);
	sqlite3_close_v2(db);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cc_diag d;
	char path[1024], *sql, *p;
	size_t n;
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(dbpath, sizeof(dbpath), "%s/concord-fuzz-query-%ld.db",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
	    (long)getpid());
	unlink(dbpath);
	if (db_open(dbpath, &db, &d) != CC_OK) {
		fprintf(stderr, "fuzz_query: %s\n", d.message);
		abort();
	}
	atexit(cleanup);
	exec_or_die("BEGIN");
	if (model_create(db, &d) != CC_OK) {
		fprintf(stderr, "fuzz_query: model_create: %s\n", d.message);
		abort();
	}
	exec_or_die("COMMIT");
	/* the fixture's rows (its DDL mirrors model_create()'s) */
	snprintf(path, sizeof(path), "%s/tests/integration/fixtures/star.sql",
	    SRCDIR);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		abort();
	}
	if ((sql = malloc(1 << 20)) == NULL)
		abort();
	n = fread(sql, 1, (1 << 20) - 1, f);
	fclose(f);
	sql[n] = '\0';
	exec_or_die("DELETE FROM table_columns WHERE table_name IN"
	    " ('dim_date', 'dim_product', 'fact_sales')");
	if ((p = strstr(sql, "INSERT INTO table_columns")) == NULL)
		abort();
	exec_or_die(p);
	free(sql);
	return 0;
}

static const char *const codes[] = { "not_found", "no_such_table",
    "unknown_column", "unknown_operator", "bad_operator", "bad_value",
    "bad_parameter", "bad_size", "bad_next", "bad_sort", "duplicate_filter",
    "no_columns" };

static void
check_answer(enum query_format fmt, const struct membuf *m, long long rows,
    enum query_cut cut)
{
	json_error_t je;
	json_t *doc;
	char *line, *nl;

	FUZZ_ASSERT(fuzz_utf8_valid(m->p != NULL ? m->p : "", m->len),
	    "answer not UTF-8");
	if (fmt == QUERY_JSON && cut != QUERY_CUT_ERROR &&
	    cut != QUERY_CUT_TIME) {
		doc = json_loadb(m->p, m->len, 0, &je);
		FUZZ_ASSERT(doc != NULL, "JSON answer: %s", je.text);
		FUZZ_ASSERT(json_is_true(json_object_get(doc, "ok")), "ok");
		FUZZ_ASSERT((long long)json_array_size(json_object_get(doc,
		    "rows")) == rows, "rows %zu, written %lld",
		    json_array_size(json_object_get(doc, "rows")), rows);
		FUZZ_ASSERT(json_integer_value(json_object_get(doc, "count")) ==
		    rows, "count");
		json_decref(doc);
	} else if (fmt == QUERY_NDJSON && m->len > 0) {
		for (line = m->p; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			FUZZ_ASSERT(nl != NULL, "NDJSON line without \\n");
			doc = json_loadb(line, (size_t)(nl - line), 0, &je);
			FUZZ_ASSERT(doc != NULL && (json_is_object(doc) ||
			    json_is_array(doc)), "NDJSON line: %s", je.text);
			json_decref(doc);
		}
	}
}

/* Runs one parsed request; returns the next token (new) or NULL. */
static char *
run(const char *table, enum query_format fmt, const struct query_param *pp,
    size_t n, int expect_ok)
{
	struct query_limits lim;
	struct membuf m = { NULL, 0, 0 };
	struct query *q = NULL;
	struct cc_diag d;
	enum query_cut cut;
	long long rows = 0;
	char *next = NULL;
	size_t i;
	cc_err err;
	int known;

	query_limits_default(&lim);
	lim.size_max = 50;
	lim.size_default = 7;
	lim.stream_max_rows = 50;
	lim.stream_max_bytes = 64 * 1024;
	lim.time_limit_ms = 500;
	lim.stream_time_limit_ms = 500;
	cc_diag_clear(&d);
	err = query_parse(db, table, fmt, pp, n, &lim, &q, &d);
	if (err != CC_OK) {
		FUZZ_ASSERT(!expect_ok, "the next token was refused: %s",
		    d.message);
		FUZZ_ASSERT(err == CC_EINVAL || err == CC_ENOTFOUND,
		    "query_parse: %s (%s)", cc_strerror(err), d.message);
		for (i = 0, known = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			known |= strcmp(d.code, codes[i]) == 0;
		FUZZ_ASSERT(known, "undocumented code \"%s\"", d.code);
		FUZZ_ASSERT(d.message[0] != '\0' && fuzz_utf8_str(d.message),
		    "message");
		return NULL;
	}
	/* values are bound, never pasted */
	for (i = 0; i < n; i++)
		if (strlen(pp[i].value) >= 4 && strchr(pp[i].value, '\'') !=
		    NULL)
			FUZZ_ASSERT(strstr(query_sql(q), pp[i].value) == NULL,
			    "value \"%s\" in the SQL", pp[i].value);
	cc_diag_clear(&d);
	if ((err = query_open(q, db, "/api/v1/tables/t", &d)) == CC_OK) {
		if (query_next_token(q) != NULL &&
		    (next = strdup(query_next_token(q))) == NULL)
			abort();
		err = query_write(q, mem_writer, &m, &rows, &cut, &d);
		FUZZ_ASSERT(err == CC_OK || err == CC_EDB || err == CC_ENOMEM,
		    "query_write: %s", cc_strerror(err));
		if (err == CC_OK)
			check_answer(fmt, &m, rows, cut);
	} else
		FUZZ_ASSERT(err == CC_EDB || err == CC_ENOMEM,
		    "query_open: %s", cc_strerror(err));
	query_close(q);
	query_free(q);
	free(m.p);
	return next;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_param pp[HTTP_MAX_QUERY + 1];
	char *uri, *env[4], *table, *next, *dot;
	struct http_req req;
	FCGX_Request fcgx;
	enum query_format fmt = QUERY_JSON;
	size_t i, n, tl;
	int has_next = 0;
	cc_err err;

	if (size > 4096 || memchr(data, '\0', size) != NULL)
		return 0;	/* a CGI parameter is a C string */
	if ((uri = malloc(size + 64)) == NULL)
		abort();
	memcpy(uri, "REQUEST_URI=/api/v1/tables/", 27);
	memcpy(uri + 27, data, size);
	uri[27 + size] = '\0';
	env[0] = uri;
	env[1] = "REQUEST_METHOD=GET";
	env[2] = NULL;
	memset(&fcgx, 0, sizeof(fcgx));
	fcgx.envp = env;
	err = http_req_init(&req, &fcgx, NULL);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EINVAL, "http_req_init: %s",
		    cc_strerror(err));
		goto out;
	}
	FUZZ_ASSERT(req.nquery <= HTTP_MAX_QUERY, "%zu parameters",
	    req.nquery);
	FUZZ_ASSERT(strncmp(req.path, "/api/v1/tables/", 15) == 0, "path %s",
	    req.path);
	/* the route's capture: one path segment */
	table = req.path + 15;
	tl = strcspn(table, "/");
	if (table[tl] != '\0' || tl == 0 || tl >= 160)
		goto out;
	if ((dot = strrchr(table, '.')) != NULL) {
		if (!strcmp(dot, ".csv"))
			fmt = QUERY_CSV, *dot = '\0';
		else if (!strcmp(dot, ".ndjson"))
			fmt = QUERY_NDJSON, *dot = '\0';
		else if (!strcmp(dot, ".json"))
			fmt = QUERY_JSON, *dot = '\0';
	}
	for (i = 0; i < req.nquery; i++) {
		FUZZ_ASSERT(req.query[i].key != NULL &&
		    req.query[i].value != NULL, "parameter %zu", i);
		pp[i].key = req.query[i].key;
		pp[i].value = req.query[i].value;
		has_next |= !strcmp(pp[i].key, "_next") ||
		    !strcmp(pp[i].key, "_stream");
	}
	n = req.nquery;
	next = run(table, fmt, pp, n, 0);
	if (next != NULL && !has_next && n < HTTP_MAX_QUERY) {
		char *again;

		pp[n].key = "_next";
		pp[n].value = next;
		again = run(table, fmt, pp, n + 1, 1);
		free(again);
	}
	free(next);
out:
	http_req_free(&req);
	free(uri);
	return 0;
}
