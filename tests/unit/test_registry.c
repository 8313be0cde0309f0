/*
 * test_registry.c - registry_upload_prepare() (concord/registry.h): an
 * upload prepared ahead, on this thread or on several at once, is
 * finished with the record, the column profiles and the errors of an
 * upload finished alone; a duplicate still wins over the content's
 * error; a prepared upload takes no more bytes and is not prepared twice.
 * Each case is uploaded twice into two fresh workspaces, once each way,
 * and the two workspaces' records compared (the one-step finish is the
 * reference, as the service's POST /api/v1/files uses it).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "concord/registry.h"
#include "concord/workspace.h"

struct fx {
	char			 dir[64];
	struct workspace	*ws;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/concord-reg-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(ws_open(fx->dir, "u1", &fx->ws, NULL), CC_OK);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	ws_close(fx->ws);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* A second workspace beside fx's (same layout), opened into *ws. */
static void
second(struct fx *fx, char *dir, size_t size, struct workspace **ws)
{
	snprintf(dir, size, "%s-b", fx->dir);
	assert_int_equal(ws_open(dir, "u1", ws, NULL), CC_OK);
}

static void
second_free(const char *dir, struct workspace *ws)
{
	char cmd[160];

	ws_close(ws);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The outcome of one upload, as a client reads it. */
struct outcome {
	cc_err		 err;
	int		 dup;
	struct cc_diag	 diag;
	json_t		*file;		/* or NULL */
};

static void
outcome_free(struct outcome *o)
{
	json_decref(o->file);
	memset(o, 0, sizeof(*o));
}

/* Uploads data as name (ctype) into ws; prepared: through
 * registry_upload_prepare() first, whose answer goes to *perr. */
static void
put(struct workspace *ws, const char *name, const char *ctype,
    const char *data, size_t len, int prepared, cc_err *perr,
    struct outcome *o)
{
	struct registry_upload *up = NULL;

	memset(o, 0, sizeof(*o));
	assert_int_equal(registry_upload_begin(ws, 1LL << 30, &up), CC_OK);
	if (len > 0)
		assert_int_equal(registry_upload_write(up, data, len), CC_OK);
	if (prepared) {
		cc_err e = registry_upload_prepare(up, name, ctype);
		if (perr != NULL)
			*perr = e;
	}
	cc_diag_clear(&o->diag);
	o->err = registry_upload_finish(ws, up, name, ctype, &o->file,
	    &o->dup, &o->diag);
}

/* The rows of a file's record and profiles that do not differ between
 * two uploads of the same bytes (not the id nor the times), as text. */
static char *
record_of(struct workspace *ws, const char *id)
{
	sqlite3_stmt *st;
	size_t cap = 1 << 16, n = 0;
	char *out = malloc(cap);
	int i;

	assert_non_null(out);
	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(ws->db, "SELECT f.name, f.sha256,"
	    " f.size, f.content_type, f.format, f.encoding, f.delimiter,"
	    " f.quote, f.has_header, f.line_ending, f.records_path, f.status,"
	    " f.row_count, f.column_count, f.header_fingerprint, c.ordinal,"
	    " c.name, c.inferred_type, c.nulls, c.blanks, c.distinct_count,"
	    " c.distinct_exact, c.min_value, c.max_value, c.profile"
	    " FROM files f LEFT JOIN file_columns c ON c.file_id = f.id"
	    " WHERE f.id = ?1 ORDER BY c.ordinal", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st,
			    i);
			size_t l = v != NULL ? strlen(v) : 4;
			while (n + l + 2 >= cap) {
				out = realloc(out, cap *= 2);
				assert_non_null(out);
			}
			n += (size_t)snprintf(out + n, cap - n, "%s%c",
			    v != NULL ? v : "NULL", i + 1 <
			    sqlite3_column_count(st) ? '|' : '\n');
		}
	sqlite3_finalize(st);
	return out;
}

static const char *
id_of(const struct outcome *o)
{
	return json_string_value(json_object_get(o->file, "id"));
}

/* The two outcomes the same: error, code, place and message; the same
 * record when registered. */
static void
same(struct workspace *wa, struct outcome *a, struct workspace *wb,
    struct outcome *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->dup, b->dup);
	assert_string_equal(a->diag.code, b->diag.code);
	assert_string_equal(a->diag.message, b->diag.message);
	assert_int_equal(a->diag.line, b->diag.line);
	assert_int_equal(a->diag.column, b->diag.column);
	assert_int_equal(a->file != NULL, b->file != NULL);
	if (a->file != NULL) {
		char *x = record_of(wa, id_of(a)), *y = record_of(wb, id_of(b));
		assert_true(strlen(x) > 0);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
}

static const char csv_ok[] =
    "id,name,amount,joined,country\n"
    "1,Ann Lee,\"1,234.50\",2024-01-05,DE\n"
    "2,Bo Chan,$12.00,05/02/2024,United States\n"
    "3,Cy Diaz,,2024-03-01,fr\n"
    "4,Ann Lee,7,2024-01-05,DE\n";
/* an unclosed quote: line 3, column 3 */
static const char csv_broken[] =
    "id,name\n"
    "1,Ann\n"
    "2,\"Bo\n";
static const char json_ok[] =
    "[{\"id\": 1, \"sku\": \"A-1\", \"price\": 9.5},"
    " {\"id\": 2, \"sku\": \"B-2\", \"price\": null}]";

/* Every case, finished alone in one workspace and prepared first in the
 * other: the same outcome, and prepare's answer is finish's error. */
static void
test_prepared_as_finished_alone(void **state)
{
	static const struct {
		const char *name, *ctype, *data;
	} cases[] = {
		{ "customers.csv", "text/csv", csv_ok },
		{ "products.json", "application/json", json_ok },
		{ "products.csv", "text/csv", "[{\"id\": 3}]" }, /* JSON as CSV */
		{ "broken.csv", "text/csv", csv_broken },
		{ "empty.csv", "text/csv", "" },
		{ "a/b.csv", "text/csv", csv_ok },		/* bad name */
		{ "x.pdf", "application/pdf", csv_ok },	/* bad type */
		{ "nothing.xlsx", "application/vnd.openxmlformats-"
		    "officedocument.spreadsheetml.sheet", "id,x\n1,2\n" },
	};
	struct fx *fx = *state;
	struct workspace *wb;
	struct outcome a, b;
	char dir[96];
	size_t i;
	int registered = 0, refused = 0;

	second(fx, dir, sizeof(dir), &wb);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc_err perr = CC_OK;
		size_t len = strlen(cases[i].data);
		put(fx->ws, cases[i].name, cases[i].ctype, cases[i].data, len,
		    0, NULL, &a);
		put(wb, cases[i].name, cases[i].ctype, cases[i].data, len, 1,
		    &perr, &b);
		same(fx->ws, &a, wb, &b);
		/* no case is a duplicate: prepare's answer is finish's */
		assert_int_equal(a.dup, 0);
		assert_int_equal(perr, a.err);
		registered += a.err == CC_OK;
		refused += a.err != CC_OK;
		if (strcmp(cases[i].name, "broken.csv") == 0) {
			/* the place of the problem, as the reader gives it */
			assert_int_equal(a.err, CC_EPARSE);
			assert_int_equal(a.diag.line, 3);
			assert_int_equal(a.diag.column, 3);
		}
		if (strcmp(cases[i].name, "a/b.csv") == 0)
			assert_string_equal(a.diag.code, "name_invalid");
		if (strcmp(cases[i].name, "empty.csv") == 0)
			assert_string_equal(a.diag.code, "empty");
		outcome_free(&a);
		outcome_free(&b);
	}
	/* both kinds were tried */
	assert_true(registered >= 2);
	assert_true(refused >= 4);
	second_free(dir, wb);
}

/* Bytes registered already: a duplicate, prepared or not, even sent with
 * a content type under which the content is refused. */
static void
test_duplicate_wins(void **state)
{
	struct fx *fx = *state;
	struct outcome first, a, b;
	cc_err perr = CC_OK;

	put(fx->ws, "customers.csv", "text/csv", csv_ok, strlen(csv_ok), 0,
	    NULL, &first);
	assert_int_equal(first.err, CC_OK);
	assert_int_equal(first.dup, 0);
	/* CSV bytes sent as JSON: refused on their own (the fresh case
	 * below), a duplicate here */
	put(fx->ws, "again.json", "application/json", csv_ok, strlen(csv_ok),
	    0, NULL, &a);
	put(fx->ws, "again.json", "application/json", csv_ok, strlen(csv_ok),
	    1, &perr, &b);
	assert_int_not_equal(perr, CC_OK);
	same(fx->ws, &a, fx->ws, &b);
	assert_int_equal(b.err, CC_OK);
	assert_int_equal(b.dup, 1);
	assert_string_equal(id_of(&b), id_of(&first));
	outcome_free(&a);
	outcome_free(&b);
	outcome_free(&first);
	{
		struct workspace *wb;
		char dir[96];
		second(fx, dir, sizeof(dir), &wb);
		put(wb, "again.json", "application/json", csv_ok,
		    strlen(csv_ok), 0, NULL, &a);
		assert_int_equal(a.err, perr);
		outcome_free(&a);
		second_free(dir, wb);
	}
}

/* A prepared upload takes no more bytes nor a sheet and is not prepared
 * again; it is still finished as it was prepared. */
static void
test_prepared_is_closed(void **state)
{
	struct fx *fx = *state;
	struct registry_upload *up = NULL;
	json_t *file = NULL;
	int dup = -1;

	assert_int_equal(registry_upload_prepare(NULL, "a.csv", "text/csv"),
	    CC_EINVAL);
	assert_int_equal(registry_upload_begin(fx->ws, 1LL << 20, &up), CC_OK);
	assert_int_equal(registry_upload_write(up, csv_ok, strlen(csv_ok)),
	    CC_OK);
	assert_int_equal(registry_upload_prepare(up, "a.csv", "text/csv"),
	    CC_OK);
	assert_int_equal(registry_upload_write(up, "5,x,1,2024-01-01,DE\n",
	    20), CC_EINVAL);
	assert_int_equal(registry_upload_prepare(up, "a.csv", "text/csv"),
	    CC_EINVAL);
	assert_int_equal(registry_upload_sheet(up, "Sheet2"), CC_EINVAL);
	assert_int_equal(registry_upload_size(up), (long long)strlen(csv_ok));
	assert_int_equal(registry_upload_finish(fx->ws, up, "a.csv",
	    "text/csv", &file, &dup, NULL), CC_OK);
	assert_int_equal(dup, 0);
	assert_int_equal(json_integer_value(json_object_get(file, "rows")), 4);
	assert_int_equal(json_integer_value(json_object_get(file, "size")),
	    (long long)strlen(csv_ok));
	json_decref(file);
	/* a prepared upload aborted leaves nothing registered */
	assert_int_equal(registry_upload_begin(fx->ws, 1LL << 20, &up), CC_OK);
	assert_int_equal(registry_upload_write(up, json_ok, strlen(json_ok)),
	    CC_OK);
	assert_int_equal(registry_upload_prepare(up, "p.json",
	    "application/json"), CC_OK);
	registry_upload_abort(up);
	{
		json_t *files = NULL;
		char next[32];
		assert_int_equal(registry_list(fx->ws, 10, NULL, &files, next),
		    CC_OK);
		assert_int_equal(json_array_size(files), 1);
		json_decref(files);
	}
}

/* Uploads prepared on four threads at once (the profiler keeps its
 * memory of classified values per call): each one's record is the one
 * of the same bytes finished alone. */
#define NTHREADS 4
struct tjob {
	struct registry_upload	*up;
	const char		*name;
	char			*data;
	cc_err			 err;
};

static void *
prep_thread(void *arg)
{
	struct tjob *j = arg;

	j->err = registry_upload_prepare(j->up, j->name, "text/csv");
	return NULL;
}

/* A CSV of n rows whose values the classifier sees often, different per
 * seed (amounts, dates and codes in the formats the profiler tells
 * apart). */
static char *
many_rows(int seed, int n)
{
	size_t cap = (size_t)n * 64 + 64, len = 0;
	char *s = malloc(cap);
	int i;

	assert_non_null(s);
	len += (size_t)snprintf(s, cap, "id,amount,day,code,ratio\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    "%d,%s%d.%02d,%s,%c%03d,%d\n", i, seed % 2 ? "$" : "",
		    (i * (seed + 3)) % 977, i % 100, seed % 2 ?
		    "2024-02-29" : "29/02/2024", 'A' + (i + seed) % 26,
		    (i * 7 + seed) % 1000, (i + seed) % 3);
	return s;
}

static void
test_prepared_on_threads(void **state)
{
	struct fx *fx = *state;
	struct workspace *wb;
	struct tjob j[NTHREADS];
	pthread_t th[NTHREADS];
	char dir[96], names[NTHREADS][16];
	int i;

	second(fx, dir, sizeof(dir), &wb);
	for (i = 0; i < NTHREADS; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d.csv", i);
		j[i].name = names[i];
		j[i].data = many_rows(i, 20000);
		assert_int_equal(registry_upload_begin(fx->ws, 1LL << 30,
		    &j[i].up), CC_OK);
		assert_int_equal(registry_upload_write(j[i].up, j[i].data,
		    strlen(j[i].data)), CC_OK);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, prep_thread,
		    &j[i]), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		struct outcome a, b;
		memset(&a, 0, sizeof(a));
		assert_int_equal(j[i].err, CC_OK);
		a.err = registry_upload_finish(fx->ws, j[i].up, j[i].name,
		    "text/csv", &a.file, &a.dup, &a.diag);
		assert_int_equal(a.err, CC_OK);
		put(wb, j[i].name, "text/csv", j[i].data, strlen(j[i].data),
		    0, NULL, &b);
		same(fx->ws, &a, wb, &b);
		assert_int_equal(json_integer_value(json_object_get(a.file,
		    "rows")), 20000);
		outcome_free(&a);
		outcome_free(&b);
		free(j[i].data);
	}
	second_free(dir, wb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepared_as_finished_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prepared_is_closed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prepared_on_threads, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
