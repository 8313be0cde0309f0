/*
 * test_llm.c - the language-model pieces that need no network: masking
 * of examples, what the mapping prompt holds, validation and merge of the
 * model's answers, the content parser, and the SQL authorizer of
 * concord/ask.h (each refusal with its code, and what passes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/ask.h"
#include "concord/llm.h"
#include "concord/map.h"
#include "concord/map_llm.h"

static const char *
mask(const char *v)
{
	static char out[MAP_LLM_MASK_MAX];

	return map_llm_mask(v, out, sizeof(out));
}

static void
test_mask_email(void **state)
{
	(void)state;
	assert_string_equal(mask("jane.doe@example.com"), "j***@e***.com");
	assert_string_equal(mask("  Bob@Mail.Example.co.uk "), "B***@M***.uk");
	/* not an address: shaped */
	assert_string_equal(mask("a@b"), "x@x");
	assert_string_equal(mask("@example.com"), "@xxxx.xxx");
}

static void
test_mask_phone(void **state)
{
	(void)state;
	assert_string_equal(mask("+1 555-867-1234"), "+1 ***-***-1234");
	assert_string_equal(mask("(555) 584-4439"), "(***) ***-4439");
	assert_string_equal(mask("555-4748"), "***-4748");
	/* the country code is kept only when written apart */
	assert_string_equal(mask("+15558671234"), "+*******1234");
	/* a date is no phone; 6 digits are too few, digits alone a number */
	assert_string_equal(mask("2023-08-26"), "dddd-dd-dd");
	assert_string_equal(mask("555-474"), "ddd-ddd");
	assert_string_equal(mask("5558671234"), "dddddddddd");
}

static void
test_mask_shape(void **state)
{
	(void)state;
	assert_string_equal(mask("Jonathan"), "Xxxxx");
	assert_string_equal(mask("Jon Yang"), "Xxx Xxxx");
	assert_string_equal(mask("AW00011000"), "XXdddddddd");
	assert_string_equal(mask("12.50"), "dd.dd");
	assert_string_equal(mask("12345678901234"), "dddddddddd");
	assert_string_equal(mask("Müller"), "Xxxxx");
	assert_string_equal(mask("ÉMILE"), "XXXX");
	assert_string_equal(mask(""), "");
	assert_string_equal(mask("   "), "");
	assert_string_equal(mask(NULL), "");
	/* bytes that are not UTF-8 never pass through */
	assert_string_equal(mask("a\xff" "b"), "x?x");
	/* the output is bounded */
	{
		char big[400];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[1] = '-';		/* runs are cut, separators kept */
		assert_true(strlen(mask(big)) < MAP_LLM_MASK_MAX);
	}
}

/* A profile of the given columns (name, type, examples...). */
static json_t *
profile(void)
{
	return json_pack("{s:I, s:[{s:s, s:s, s:I, s:I, s:I, s:b, s:I, s:I,"
	    " s:[s, s, s, s], s:[{s:s, s:I}]}, {s:s, s:s, s:I, s:I, s:I, s:b,"
	    " s:I, s:I, s:[s, s], s:[]}]}",
	    "rows", (json_int_t)100, "columns",
	    "name", "contact", "type", "email", "nulls", (json_int_t)0,
	    "blanks", (json_int_t)0, "distinct", (json_int_t)100,
	    "distinct_exact", 1, "min_length", (json_int_t)10, "max_length",
	    (json_int_t)30, "examples", "jane.doe@example.com",
	    "john@example.org", "jane.doe@example.com", "amy@x.io", "top",
	    "value", "jane.doe@example.com", "count", (json_int_t)1,
	    "name", "who", "type", "text", "nulls", (json_int_t)0, "blanks",
	    (json_int_t)0, "distinct", (json_int_t)90, "distinct_exact", 1,
	    "min_length", (json_int_t)3, "max_length", (json_int_t)20,
	    "examples", "Jane Doe", "Jon Yang", "top");
}

static void
test_prompt_is_masked(void **state)
{
	json_t *p = profile(), *doc = NULL, *ex;
	char *text;

	(void)state;
	assert_int_equal(map_llm_prompt(p, "crm.csv", &doc), CC_OK);
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "jane.doe"));
	assert_null(strstr(text, "example.com"));
	assert_null(strstr(text, "Jane"));
	assert_null(strstr(text, "Yang"));
	ex = json_object_get(json_array_get(json_object_get(doc, "columns"), 0),
	    "examples");
	/* masked, duplicates dropped, at most MAP_LLM_EXAMPLES */
	assert_int_equal(json_array_size(ex), MAP_LLM_EXAMPLES);
	assert_string_equal(json_string_value(json_array_get(ex, 0)),
	    "j***@e***.com");
	assert_string_equal(json_string_value(json_array_get(ex, 1)),
	    "j***@e***.org");
	assert_null(json_object_get(json_array_get(json_object_get(doc,
	    "columns"), 0), "code_list"));
	/* the targets list the schema */
	assert_true(json_array_size(json_object_get(doc, "targets")) > 20);
	free(text);
	json_decref(doc);
	json_decref(p);
	p = json_object();	/* a profile without columns (freed: ASan) */
	assert_int_equal(map_llm_prompt(p, "x", &doc), CC_EINVAL);
	json_decref(p);
}

static json_t *
answer(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
test_valid(void **state)
{
	json_t *p = profile(), *a;
	char why[200];

	(void)state;
	a = answer("{\"columns\": [{\"source\": \"contact\", \"target\":"
	    " \"customer.email\", \"confidence\": 0.9, \"reason\": \"r\"}]}");
	assert_true(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	/* null is a target too ("none fits") */
	a = answer("{\"columns\": [{\"source\": \"who\", \"target\": null}]}");
	assert_true(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	a = answer("{\"columns\": [{\"source\": \"contact\", \"target\":"
	    " \"customer.shoe_size\"}]}");
	assert_false(map_llm_valid(a, p, why, sizeof(why)));
	assert_non_null(strstr(why, "customer.shoe_size"));
	json_decref(a);
	a = answer("{\"columns\": [{\"source\": \"nope\", \"target\":"
	    " \"customer.email\"}]}");
	assert_false(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	a = answer("{\"columns\": \"DROP TABLE files\"}");
	assert_false(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	a = answer("{\"columns\": [42]}");
	assert_false(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	a = answer("{\"mapping\": []}");
	assert_false(map_llm_valid(a, p, why, sizeof(why)));
	json_decref(a);
	json_decref(p);
}

static const json_t *
col(const json_t *doc, const char *source)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(doc, "columns"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "source")),
		    source))
			return c;
	fail();
	return NULL;
}

static void
test_merge(void **state)
{
	json_t *doc = answer("{\"mapper\": \"heuristic\", \"threshold\": 0.5,"
	    " \"entities\": [{\"name\": \"customer\"}], \"columns\": ["
	    "{\"source\": \"a\", \"target\": \"customer.email\", \"confidence\":"
	    " 0.9, \"evidence\": [\"e\"], \"alternatives\": []},"
	    "{\"source\": \"b\", \"target\": null, \"confidence\": 0,"
	    " \"evidence\": [\"none\"], \"alternatives\": []},"
	    "{\"source\": \"c\", \"target\": \"customer.gender\","
	    " \"confidence\": 0.8, \"evidence\": [], \"alternatives\": []},"
	    "{\"source\": \"d\", \"target\": \"customer.city\", \"confidence\":"
	    " 0.3, \"evidence\": [], \"alternatives\": []},"
	    "{\"source\": \"e\", \"target\": \"customer.phone\", \"confidence\":"
	    " 0.6, \"evidence\": [], \"alternatives\": []}]}");
	json_t *a = answer("{\"columns\": ["
	    "{\"source\": \"a\", \"target\": \"customer.email\", \"confidence\":"
	    " 0.99, \"reason\": \"agrees\"},"
	    "{\"source\": \"b\", \"target\": \"product.name\", \"confidence\":"
	    " 0.8, \"reason\": \"fills\\nthe gap\"},"
	    "{\"source\": \"c\", \"target\": \"customer.marital_status\","
	    " \"confidence\": 0.95, \"reason\": \"disagrees\"},"
	    "{\"source\": \"d\", \"target\": \"customer.country\","
	    " \"confidence\": 0.4, \"reason\": \"weak\"},"
	    "{\"source\": \"e\", \"target\": \"martian.antenna\","
	    " \"confidence\": 1, \"reason\": \"nonsense\"},"
	    "{\"source\": \"zz\", \"target\": \"customer.email\","
	    " \"confidence\": 1, \"reason\": \"no such column\"}]}");
	const json_t *c, *llm;

	(void)state;
	assert_int_equal(map_llm_merge(doc, a, "m1", 0), CC_OK);
	/* agree: the confidence rises to the model's, at most 0.95 */
	c = col(doc, "a");
	assert_string_equal(json_string_value(json_object_get(c, "proposed_by")),
	    "heuristic");
	assert_false(json_is_true(json_object_get(c, "disagrees")));
	assert_true(json_number_value(json_object_get(c, "confidence")) ==
	    0.95);
	/* a gap: the model's target is taken, at most 0.9, reason one line */
	c = col(doc, "b");
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "product.name");
	assert_string_equal(json_string_value(json_object_get(c, "proposed_by")),
	    "llm");
	assert_true(json_number_value(json_object_get(c, "confidence")) == 0.8);
	llm = json_object_get(c, "llm");
	assert_string_equal(json_string_value(json_object_get(llm, "reason")),
	    "fills the gap");
	assert_true(json_is_true(json_object_get(c, "disagrees")));
	/* the entity of the target taken is fed */
	assert_int_equal(json_array_size(json_object_get(doc, "entities")), 2);
	/* a confident heuristic stands: flagged, the model's an alternative */
	c = col(doc, "c");
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "customer.gender");
	assert_true(json_is_true(json_object_get(c, "disagrees")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(c, "alternatives"), 0), "target")),
	    "customer.marital_status");
	/* a weak heuristic and a weak model: the heuristic's stays */
	c = col(doc, "d");
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "customer.city");
	assert_string_equal(json_string_value(json_object_get(c, "proposed_by")),
	    "heuristic");
	/* nonsense is rejected, never shown as a proposal */
	c = col(doc, "e");
	assert_null(json_object_get(c, "llm"));
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "customer.phone");
	llm = json_object_get(doc, "llm");
	assert_int_equal(json_integer_value(json_object_get(llm, "proposed")),
	    4);
	assert_int_equal(json_integer_value(json_object_get(llm, "taken")), 1);
	assert_int_equal(json_array_size(json_object_get(llm, "rejected")), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "mapper")),
	    "heuristic+llm");
	json_decref(a);
	json_decref(doc);
}

/* An adviser that fails: the proposal stands and says why. */
static cc_err
failing(void *ctx, const json_t *profile, const char *file_name, json_t *doc,
    struct cc_diag *diag)
{
	(void)ctx;
	(void)profile;
	(void)file_name;
	(void)doc;
	return cc_diag_set(diag, CC_EIO, "llm_timeout", "too slow");
}

static void
test_adviser_failure_recorded(void **state)
{
	static const struct map_mapper *const chain[] = { &map_heuristic };
	const struct map_adviser f = { "llm", failing, NULL };
	const struct map_adviser *const adv[] = { &f };
	json_t *p = profile(), *doc = NULL, *plain = NULL, *fb;

	(void)state;
	assert_int_equal(map_propose_advised(chain, 1, adv, 1, p, "crm.csv",
	    &doc, NULL), CC_OK);
	assert_int_equal(map_propose_heuristic(p, "crm.csv", &plain, NULL),
	    CC_OK);
	fb = json_object_get(doc, "fallbacks");
	assert_int_equal(json_array_size(fb), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    fb, 0), "code")), "llm_timeout");
	json_object_del(doc, "fallbacks");
	assert_true(json_equal(doc, plain));
	json_decref(doc);
	json_decref(plain);
	/* not configured: the real adviser fails the same way */
	doc = NULL;
	{
		const struct map_adviser real = { "llm", map_llm_advise, NULL };
		const struct map_adviser *const a2[] = { &real };
		assert_int_equal(map_propose_advised(chain, 1, a2, 1, p,
		    "crm.csv", &doc, NULL), CC_OK);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(json_object_get(doc, "fallbacks"), 0),
		    "code")), "llm_not_configured");
	}
	json_decref(doc);
	json_decref(p);
}

static void
test_parse_content(void **state)
{
	json_t *j;

	(void)state;
	j = llm_parse_content("{\"a\": 1}");
	assert_non_null(j);
	json_decref(j);
	j = llm_parse_content("Here you are:\n```json\n{\"a\": 1}\n```\n");
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	json_decref(j);
	assert_null(llm_parse_content("[1, 2]"));
	assert_null(llm_parse_content("{\"a\": 1, \"a\": 2}"));
	assert_null(llm_parse_content("not json"));
	assert_null(llm_parse_content("```json\n{oops\n```"));
	assert_null(llm_parse_content(NULL));
}

/* A workspace-like connection: registry tables in main, the model
 * attached as "model". */
static sqlite3 *
workspace(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE files (id TEXT, name TEXT);"
	    "INSERT INTO files VALUES ('f1', 'secret.csv');"
	    "CREATE TABLE llm_cache (key TEXT, answer TEXT);"
	    "ATTACH ':memory:' AS model;"
	    "CREATE TABLE model.fact_sales (order_id TEXT, amount MONEY,"
	    " order_date DATE);"
	    /* money in units of 10^-4 (concord/query.h): 12.50, 0.99,
	     * 0.01 */
	    "INSERT INTO model.fact_sales VALUES ('o1', 125000, '2024-01-02'),"
	    " ('o2', 9900, '2024-01-03'), ('o3', 100, '2024-02-01');"
	    "CREATE TABLE model.dim_customer (customer_sk INTEGER, email TEXT);"
	    "CREATE TABLE model.secret_stuff (x);", NULL, NULL, NULL),
	    SQLITE_OK);
	return db;
}

static const char *
refusal(sqlite3 *db, const char *sql)
{
	static struct cc_diag d;
	sqlite3_stmt *st = NULL;

	cc_diag_clear(&d);
	if (ask_check(db, sql, &st, &d) == CC_OK) {
		ask_finish(db, st);
		return "ok";
	}
	assert_null(st);
	return d.code;
}

static void
test_authorizer(void **state)
{
	static const struct { const char *sql, *code; } cases[] = {
		{ "SELECT * FROM fact_sales", "ok" },
		{ "SELECT count(*) FROM fact_sales", "ok" },
		{ "SELECT f.order_id FROM model.fact_sales f JOIN dim_customer c"
		  " ON 1", "ok" },
		{ "WITH t AS (SELECT amount FROM fact_sales) SELECT sum(amount)"
		  " FROM t", "ok" },
		{ "SELECT strftime('%Y', order_date), round(avg(amount))"
		  " FROM fact_sales GROUP BY 1", "ok" },
		{ "SELECT (SELECT count(*) FROM fact_sales) AS n", "ok" },
		{ "SELECT 1;  -- done", "ok" },
		{ "SELECT * FROM files", "sql_table" },
		{ "SELECT count(*) FROM files", "sql_table" },
		{ "SELECT * FROM main.llm_cache", "sql_table" },
		{ "SELECT * FROM secret_stuff", "sql_table" },
		{ "SELECT * FROM sqlite_master", "sql_table" },
		{ "SELECT * FROM fact_sales, files", "sql_table" },
		{ "SELECT * FROM fact_sales WHERE order_id IN (SELECT id FROM"
		  " files)", "sql_table" },
		{ "WITH files AS (SELECT 1) SELECT count(*) FROM files",
		  "sql_table" },
		{ "DROP TABLE fact_sales", "sql_not_read_only" },
		{ "DELETE FROM fact_sales", "sql_not_read_only" },
		{ "INSERT INTO fact_sales VALUES (1, 2, 3)", "sql_not_read_only" },
		{ "UPDATE fact_sales SET amount = 0", "sql_not_read_only" },
		{ "CREATE TEMP TABLE t (a)", "sql_not_read_only" },
		{ "BEGIN", "sql_not_read_only" },
		{ "EXPLAIN SELECT 1", "sql_not_read_only" },
		{ "ATTACH ':memory:' AS x", "sql_attach" },
		{ "DETACH model", "sql_attach" },
		{ "PRAGMA writable_schema = 1", "sql_pragma" },
		{ "PRAGMA table_info(fact_sales)", "sql_pragma" },
		{ "SELECT * FROM pragma_table_info('fact_sales')", "sql_pragma" },
		{ "SELECT load_extension('x')", "sql_function" },
		{ "SELECT randomblob(10)", "sql_function" },
		{ "SELECT * FROM json_each('[1]')", "sql_function" },
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM"
		  " c) SELECT x FROM c", "sql_recursive" },
		{ "SELECT 1; SELECT 2", "sql_multiple" },
		{ "SELECT 1; DROP TABLE fact_sales", "sql_multiple" },
		{ "", "sql_empty" },
		{ " ; /* nothing */ ", "sql_empty" },
		{ "SELEKT 1", "sql_error" },
		{ "SELECT nope FROM fact_sales", "sql_error" },
	};
	sqlite3 *db = workspace();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = refusal(db, cases[i].sql);
		if (strcmp(got, cases[i].code) != 0)
			fail_msg("%s: got %s, want %s", cases[i].sql, got,
			    cases[i].code);
	}
	/* nothing was changed; the authorizer is gone afterwards */
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM files", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_run_and_chart(void **state)
{
	struct ask_limits lim = { 0, 2, NULL, NULL };
	struct cc_diag d;
	sqlite3 *db = workspace();
	json_t *out = NULL, *hint;

	(void)state;
	assert_int_equal(ask_run(db, "SELECT order_id, amount FROM fact_sales"
	    " ORDER BY order_id", &lim, NULL, &out, &d), CC_OK);
	/* money as decimal strings, the row cap */
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	    json_object_get(out, "rows"), 0), 1)), "12.50");
	assert_int_equal(json_integer_value(json_object_get(out, "count")), 2);
	assert_true(json_is_true(json_object_get(out, "truncated")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    out, "chart"), "type")), "bar");
	json_decref(out);
	lim.max_rows = 100;
	assert_int_equal(ask_run(db, "SELECT order_date, count(*) AS n FROM"
	    " fact_sales GROUP BY 1", &lim, NULL, &out, &d), CC_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    out, "chart"), "type")), "line");
	assert_false(json_is_true(json_object_get(out, "truncated")));
	/* a hint naming columns of the answer is taken; one that does not,
	 * not */
	hint = json_pack("{s:s, s:s, s:s}", "type", "pie", "x", "order_date",
	    "y", "n");
	json_t *c = ask_chart(json_object_get(out, "columns"),
	    json_object_get(out, "rows"), hint);
	assert_string_equal(json_string_value(json_object_get(c, "type")),
	    "pie");
	json_decref(c);
	json_decref(hint);
	hint = json_pack("{s:s, s:s, s:s}", "type", "pie", "x", "order_date",
	    "y", "password");
	c = ask_chart(json_object_get(out, "columns"), json_object_get(out,
	    "rows"), hint);
	assert_string_equal(json_string_value(json_object_get(c, "type")),
	    "line");
	json_decref(c);
	json_decref(hint);
	json_decref(out);
	assert_int_equal(ask_run(db, "SELECT sum(amount) FROM fact_sales",
	    &lim, NULL, &out, &d), CC_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    out, "chart"), "type")), "number");
	json_decref(out);
	/* the deadline stops a long statement */
	lim.deadline_ms = 50;
	assert_int_equal(ask_run(db, "WITH a(x) AS (VALUES (1),(2),(3),(4),"
	    "(5),(6),(7),(8),(9),(10)) SELECT count(*) FROM a, a b, a c, a d,"
	    " a e, a f, a g, a h", &lim, NULL, &out, &d), CC_EDB);
	assert_string_equal(d.code, "query_time_limit");
	/* a refusal runs nothing */
	assert_int_equal(ask_run(db, "DELETE FROM fact_sales", &lim, NULL,
	    &out, &d), CC_EINVALID);
	assert_null(out);
	sqlite3_close(db);
}

static void
test_not_configured(void **state)
{
	struct llm_request req = { "ask", "s", "u", NULL, NULL, 0, NULL, NULL };
	struct llm_result res;
	struct cc_diag d;
	json_t *out = NULL;

	(void)state;
	assert_false(llm_enabled());
	assert_int_equal(llm_chat(NULL, &req, &res, &d), CC_ECONFIG);
	assert_string_equal(d.code, "llm_not_configured");
	assert_int_equal(ask_question(NULL, NULL, "how many?", NULL, &out,
	    NULL, &d), CC_ECONFIG);
	assert_int_equal(ask_question(NULL, NULL, "", NULL, &out, NULL, &d),
	    CC_EINVAL);
}

static void
test_configure(void **state)
{
	struct cc_config cfg;
	struct cc_diag d;

	(void)state;
	config_defaults(&cfg);
	snprintf(cfg.llm_endpoint, sizeof(cfg.llm_endpoint), "ftp://x");
	assert_int_equal(llm_configure(&cfg, &d), CC_ECONFIG);
	assert_false(llm_enabled());
	snprintf(cfg.llm_endpoint, sizeof(cfg.llm_endpoint),
	    "http://127.0.0.1:9/v1/");
	snprintf(cfg.llm_response_format, sizeof(cfg.llm_response_format),
	    "yaml");
	assert_int_equal(llm_configure(&cfg, &d), CC_ECONFIG);
	snprintf(cfg.llm_response_format, sizeof(cfg.llm_response_format),
	    "json_object");
	assert_int_equal(llm_configure(&cfg, &d), CC_OK);
	assert_true(llm_enabled());
	/* a key file readable by others is refused before any request */
	{
		char path[] = "/tmp/test_llm_keyXXXXXX";
		struct llm_request req = { "t", "s", "u", NULL, NULL, 0, NULL,
		    NULL };
		struct llm_result res;
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "sk-secret\n", 10), 10);
		fchmod(fd, 0644);
		close(fd);
		snprintf(cfg.llm_api_key_file, sizeof(cfg.llm_api_key_file),
		    "%s", path);
		assert_int_equal(llm_configure(&cfg, &d), CC_OK);
		assert_int_equal(llm_chat(NULL, &req, &res, &d), CC_ECONFIG);
		assert_string_equal(d.code, "llm_key_file");
		assert_null(strstr(d.message, "sk-secret"));
		/* over plain http to a host that is not loopback: refused */
		chmod(path, 0600);
		snprintf(cfg.llm_endpoint, sizeof(cfg.llm_endpoint),
		    "http://192.0.2.1/v1");
		assert_int_equal(llm_configure(&cfg, &d), CC_OK);
		assert_int_equal(llm_chat(NULL, &req, &res, &d), CC_ECONFIG);
		assert_string_equal(d.code, "llm_plain_http");
		unlink(path);
	}
	config_defaults(&cfg);
	assert_int_equal(llm_configure(&cfg, &d), CC_OK);
	assert_false(llm_enabled());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_email),
		cmocka_unit_test(test_mask_phone),
		cmocka_unit_test(test_mask_shape),
		cmocka_unit_test(test_prompt_is_masked),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_adviser_failure_recorded),
		cmocka_unit_test(test_parse_content),
		cmocka_unit_test(test_authorizer),
		cmocka_unit_test(test_run_and_chart),
		cmocka_unit_test(test_not_configured),
		cmocka_unit_test(test_configure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
