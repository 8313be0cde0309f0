/*
 * test_ws_cache.c - the read side's cache of workspace handles
 * (ws_cache_*(), concord/workspace.h): a handle is kept between calls,
 * reads the model that is current (a new model.db renamed over the old
 * one, as a run installs it, is seen at the next call), is read-only,
 * its version changes with writes of other connections and new models
 * and stays put otherwise, and the least recently used handle makes
 * room.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "concord/db.h"
#include "concord/entities.h"
#include "concord/schema.h"
#include "concord/workspace.h"

struct fx {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/concord-wsc-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	rc = system(cmd);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/*
 * Installs a model whose table t holds the one value v the way a run
 * does: builds model.db.tmp beside it and renames it over model.db.
 */
static void
install_model(const struct fx *fx, const char *user, int v)
{
	char tmp[PATH_MAX], cur[PATH_MAX], sql[96];
	sqlite3 *m = NULL;

	snprintf(tmp, sizeof(tmp), "%s/workspaces/%s/model.db.tmp", fx->dir,
	    user);
	snprintf(cur, sizeof(cur), "%s/workspaces/%s/model.db", fx->dir, user);
	unlink(tmp);
	assert_int_equal(sqlite3_open(tmp, &m), SQLITE_OK);
	snprintf(sql, sizeof(sql), "CREATE TABLE t (v INTEGER);"
	    " INSERT INTO t VALUES (%d);", v);
	assert_int_equal(db_exec(m, sql, NULL), CC_OK);
	sqlite3_close(m);
	assert_int_equal(rename(tmp, cur), 0);
}

/* The value of model.t through handle ws; -1 when there is none. */
static int
model_value(struct workspace *ws)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(ws->db, "SELECT v FROM model.t", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_sees_new_model(void **state)
{
	struct fx *fx = *state;
	struct workspace *ws, *ws2, *w;
	struct ws_cache *c = NULL;
	long long v1, v2, v3;

	assert_int_equal(ws_cache_new(4, &c), CC_OK);
	/* no model yet: the workspace is created, nothing attached */
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, &v1, NULL),
	    CC_OK);
	assert_int_equal(model_value(ws), -1);
	/* the first model appears */
	install_model(fx, "u1", 1);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, &v2, NULL),
	    CC_OK);
	assert_int_equal(model_value(ws), 1);
	assert_true(v1 != v2);
	/* nothing changed: the same handle, the same version */
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws2, &v3, NULL),
	    CC_OK);
	assert_ptr_equal(ws, ws2);
	assert_true(v2 == v3);
	/* a run replaces model.db: the next call reads the new one, also
	 * when the previous user of the handle left a read open */
	assert_int_equal(db_exec(ws->db, "BEGIN; SELECT v FROM model.t;",
	    NULL), CC_OK);
	install_model(fx, "u1", 2);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, &v1, NULL),
	    CC_OK);
	assert_int_equal(model_value(ws), 2);
	assert_true(v1 != v3);
	/* a write of another connection to workspace.db changes the
	 * version, not the handle */
	assert_int_equal(ws_open(fx->dir, "u1", &w, NULL), CC_OK);
	assert_int_equal(db_exec(w->db, "INSERT INTO runs (id, state,"
	    " created_at) VALUES ('r1', 'done', '2025-01-01T00:00:00Z')",
	    NULL), CC_OK);
	ws_close(w);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws2, &v2, NULL),
	    CC_OK);
	assert_ptr_equal(ws, ws2);
	assert_true(v1 != v2);
	/* read-only */
	assert_int_equal(db_exec(ws->db, "DELETE FROM runs", NULL), CC_EDB);
	ws_cache_free(c);
}

/*
 * The schema in force is the workspace's of the handle just handed out:
 * its own entities, set again only when another workspace's were set in
 * between or its workspace.db changed (an entity defined or deleted by
 * another connection is seen at the next call).
 */
static void
test_schema_follows_workspace(void **state)
{
	struct fx *fx = *state;
	struct workspace *ws, *w;
	struct ws_cache *c = NULL;
	unsigned long long stamp;
	json_t *def;

	def = json_loads("{\"name\": \"gadget\", \"label\": \"Gadget\","
	    " \"attributes\": [{\"name\": \"gadget_id\", \"type\": \"key\","
	    " \"role\": \"natural_key\"}, {\"name\": \"title\", \"type\":"
	    " \"text\"}]}", 0, NULL);
	assert_non_null(def);
	assert_int_equal(ws_open(fx->dir, "u1", &w, NULL), CC_OK);
	assert_int_equal(entities_put(w, NULL, def, 1, NULL, NULL), CC_OK);
	ws_close(w);
	assert_int_equal(ws_cache_new(4, &c), CC_OK);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, NULL, NULL),
	    CC_OK);
	assert_non_null(schema_entity("gadget"));
	/* again, nothing changed: not set again */
	stamp = schema_custom_stamp();
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, NULL, NULL),
	    CC_OK);
	assert_true(schema_custom_stamp() == stamp);
	assert_non_null(schema_entity("gadget"));
	/* another user's workspace: the built-in schema */
	assert_int_equal(ws_cache_get(c, fx->dir, "u2", &ws, NULL, NULL),
	    CC_OK);
	assert_null(schema_entity("gadget"));
	/* back to u1: its entity again */
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, NULL, NULL),
	    CC_OK);
	assert_non_null(schema_entity("gadget"));
	/* deleted by another connection: gone at the next call */
	assert_int_equal(ws_open(fx->dir, "u1", &w, NULL), CC_OK);
	assert_int_equal(entities_delete(w, "gadget", NULL), CC_OK);
	ws_close(w);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &ws, NULL, NULL),
	    CC_OK);
	assert_null(schema_entity("gadget"));
	json_decref(def);
	ws_cache_free(c);
}

static void
test_lru_and_errors(void **state)
{
	struct fx *fx = *state;
	struct workspace *a, *b, *x;
	struct ws_cache *c = NULL;
	struct cc_diag d;

	assert_int_equal(ws_cache_new(0, &c), CC_EINVAL);
	assert_int_equal(ws_cache_new(2, &c), CC_OK);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &a, NULL, NULL),
	    CC_OK);
	assert_int_equal(ws_cache_get(c, fx->dir, "u2", &b, NULL, NULL),
	    CC_OK);
	assert_ptr_not_equal(a, b);
	/* u1 used last: u2 is the least recently used and makes room */
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &x, NULL, NULL),
	    CC_OK);
	assert_ptr_equal(x, a);
	assert_int_equal(ws_cache_get(c, fx->dir, "u3", &x, NULL, NULL),
	    CC_OK);
	assert_string_equal(x->dir + strlen(x->dir) - 2, "u3");
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &x, NULL, NULL),
	    CC_OK);
	assert_ptr_equal(x, a);
	/* never a path from a bad id; the cache is unchanged */
	cc_diag_clear(&d);
	assert_int_equal(ws_cache_get(c, fx->dir, "../u1", &x, NULL, &d),
	    CC_EINVAL);
	assert_int_equal(ws_cache_get(c, fx->dir, "u1", &x, NULL, NULL),
	    CC_OK);
	assert_ptr_equal(x, a);
	assert_int_equal(ws_cache_get(NULL, fx->dir, "u1", &x, NULL, &d),
	    CC_EINVAL);
	ws_cache_free(c);
	ws_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sees_new_model, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_follows_workspace,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_and_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("workspace", tests, NULL, NULL);
}
