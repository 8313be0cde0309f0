/*
 * test_teams.c - teams, members and roles (concord/teams.h): names and
 * uniqueness, the last-owner rule, the workspace a selector resolves to
 * (a non-member and an unknown team answer alike), revocation seen by
 * another connection at once, cascades, the audit log of a workspace
 * (control_audit_ws(), control_audit_page()) and its migration.
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

#include <sodium.h>

#include "concord/control.h"
#include "concord/teams.h"
#include "concord/workspace.h"

static char dir[64];

struct fx {
	struct control	*c;
	struct cc_user	 ann, bob, cid;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(dir, sizeof(dir), "/tmp/concord-teams-XXXXXX");
	if (f == NULL || mkdtemp(dir) == NULL ||
	    control_open(dir, &f->c, NULL) != CC_OK ||
	    control_user_add(f->c, "ann", "password-ann", "member", &f->ann,
	    NULL) != CC_OK ||
	    control_user_add(f->c, "bob", "password-bob", "member", &f->bob,
	    NULL) != CC_OK ||
	    control_user_add(f->c, "cid", "password-cid", "member", &f->cid,
	    NULL) != CC_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	control_close(f->c);
	free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_role_names(void **state)
{
	enum team_role r;

	(void)state;
	for (r = TEAM_VIEWER; r <= TEAM_OWNER; r++)
		assert_int_equal(team_role_of(team_role_name(r)), r);
	assert_int_equal(team_role_of(NULL), TEAM_NONE);
	assert_int_equal(team_role_of("admin"), TEAM_NONE);
	assert_int_equal(team_role_of("Owner"), TEAM_NONE);
	assert_int_equal(team_role_of("none"), TEAM_NONE);
	assert_string_equal(team_role_name(TEAM_NONE), "none");
	/* the order the route checks rely on */
	assert_true(TEAM_VIEWER < TEAM_EDITOR && TEAM_EDITOR < TEAM_OWNER);
}

static void
test_create(void **state)
{
	struct fx *f = *state;
	struct cc_team t, u;
	struct cc_diag d;

	assert_int_equal(team_create(f->c, "Sales-EU", f->ann.id, &t, &d),
	    CC_OK);
	assert_int_equal(strlen(t.id), TEAM_ID_LEN);
	assert_string_equal(t.name, "Sales-EU");
	assert_int_equal(team_member_role(f->c, t.id, f->ann.id), TEAM_OWNER);
	assert_int_equal(team_member_role(f->c, t.id, f->bob.id), TEAM_NONE);
	/* names are unique whatever their case */
	assert_int_equal(team_create(f->c, "sales-eu", NULL, NULL, &d),
	    CC_EEXIST);
	assert_string_equal(d.code, "team_name_taken");
	assert_int_equal(team_by_name(f->c, "SALES-EU", &u), CC_OK);
	assert_string_equal(u.id, t.id);
	assert_int_equal(team_create(f->c, "", NULL, NULL, &d), CC_EINVALID);
	assert_string_equal(d.code, "team_name_invalid");
	assert_int_equal(team_create(f->c, "a b", NULL, NULL, &d),
	    CC_EINVALID);
	assert_int_equal(team_create(f->c, "../x", NULL, NULL, &d),
	    CC_EINVALID);
	/* an unknown owner creates nothing */
	assert_int_equal(team_create(f->c, "ghost", "0123456789abcdef"
	    "0123456789abcdef", NULL, &d), CC_ENOTFOUND);
	assert_int_equal(team_by_name(f->c, "ghost", NULL), CC_ENOTFOUND);
	/* without an owner: an admin adds members later */
	assert_int_equal(team_create(f->c, "ops", NULL, &u, &d), CC_OK);
	assert_int_equal(team_member_role(f->c, u.id, f->ann.id), TEAM_NONE);
}

static void
test_members_and_last_owner(void **state)
{
	struct fx *f = *state;
	struct cc_team t;
	struct cc_diag d;
	json_t *m;

	assert_int_equal(team_create(f->c, "fin", f->ann.id, &t, &d), CC_OK);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_VIEWER,
	    1, &d), CC_OK);
	assert_int_equal(team_member_role(f->c, t.id, f->bob.id), TEAM_VIEWER);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_EDITOR,
	    1, &d), CC_EEXIST);
	assert_string_equal(d.code, "member_exists");
	assert_int_equal(team_member_set(f->c, t.id, f->cid.id, TEAM_EDITOR,
	    0, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "not_member");
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_NONE, 0,
	    &d), CC_EINVALID);
	assert_int_equal(team_member_set(f->c, t.id, "0123456789abcdef"
	    "0123456789abcdef", TEAM_VIEWER, 1, &d), CC_ENOTFOUND);
	assert_int_equal(team_member_set(f->c, "0123456789abcdef"
	    "0123456789abcdef", f->bob.id, TEAM_VIEWER, 1, &d), CC_ENOTFOUND);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_EDITOR,
	    0, &d), CC_OK);
	assert_int_equal(team_member_role(f->c, t.id, f->bob.id), TEAM_EDITOR);
	/* ann is the only owner: she can neither leave nor step down */
	assert_int_equal(team_member_remove(f->c, t.id, f->ann.id, &d),
	    CC_ECONFLICT);
	assert_string_equal(d.code, "last_owner");
	assert_int_equal(team_member_set(f->c, t.id, f->ann.id, TEAM_EDITOR,
	    0, &d), CC_ECONFLICT);
	assert_int_equal(team_member_role(f->c, t.id, f->ann.id), TEAM_OWNER);
	/* with a second owner she can */
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_OWNER,
	    0, &d), CC_OK);
	assert_int_equal(team_member_set(f->c, t.id, f->ann.id, TEAM_VIEWER,
	    0, &d), CC_OK);
	assert_int_equal(team_member_remove(f->c, t.id, f->ann.id, &d), CC_OK);
	assert_int_equal(team_member_role(f->c, t.id, f->ann.id), TEAM_NONE);
	assert_int_equal(team_member_remove(f->c, t.id, f->ann.id, &d),
	    CC_ENOTFOUND);
	assert_int_equal(team_members(f->c, t.id, &m), CC_OK);
	assert_int_equal(json_array_size(m), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m,
	    0), "username")), "bob");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m,
	    0), "role")), "owner");
	json_decref(m);
}

static void
test_resolve(void **state)
{
	struct fx *f = *state;
	struct ws_access a;
	struct cc_diag d1, d2;
	struct cc_team t, other;
	char sel[64], unknown[64];
	const char *bad[] = { "team:", "team:xyz", "Team:0", "team",
		"team:0123456789ABCDEF0123456789ABCDEF",
		"team:0123456789abcdef0123456789abcdef0",
		"team:../../workspaces/x", "personal ", "team: 1", "user:x" };
	size_t i;

	/* the personal workspace: the user's own id, owner */
	assert_int_equal(team_resolve(f->c, &f->ann, NULL, &a, &d1), CC_OK);
	assert_string_equal(a.key, f->ann.id);
	assert_int_equal(a.role, TEAM_OWNER);
	assert_string_equal(a.team_id, "");
	assert_int_equal(team_resolve(f->c, &f->ann, "", &a, &d1), CC_OK);
	assert_string_equal(a.key, f->ann.id);
	assert_int_equal(team_resolve(f->c, &f->ann, "personal", &a, &d1),
	    CC_OK);
	assert_string_equal(a.key, f->ann.id);

	assert_int_equal(team_create(f->c, "mkt", f->ann.id, &t, &d1), CC_OK);
	assert_int_equal(team_create(f->c, "hr", f->cid.id, &other, &d1),
	    CC_OK);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_VIEWER,
	    1, &d1), CC_OK);
	snprintf(sel, sizeof(sel), "team:%s", t.id);
	assert_int_equal(team_resolve(f->c, &f->bob, sel, &a, &d1), CC_OK);
	snprintf(unknown, sizeof(unknown), TEAM_WS_PREFIX "%s", t.id);
	assert_string_equal(a.key, unknown);
	assert_true(strlen(a.key) <= WS_KEY_MAX);
	assert_string_equal(a.team_id, t.id);
	assert_string_equal(a.name, "mkt");
	assert_int_equal(a.role, TEAM_VIEWER);
	/* another team bob is not in, and a team that does not exist:
	 * the same error, code and message */
	snprintf(sel, sizeof(sel), "team:%s", other.id);
	assert_int_equal(team_resolve(f->c, &f->bob, sel, &a, &d1),
	    CC_ENOTFOUND);
	snprintf(unknown, sizeof(unknown), "team:%032x", 7);
	assert_int_equal(team_resolve(f->c, &f->bob, unknown, &a, &d2),
	    CC_ENOTFOUND);
	assert_string_equal(d1.code, "workspace_not_found");
	assert_string_equal(d1.code, d2.code);
	assert_string_equal(d1.message, d2.message);
	assert_string_equal(a.key, "");		/* nothing filled */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(team_resolve(f->c, &f->bob, bad[i], &a, &d1),
		    CC_EINVAL);
		assert_string_equal(d1.code, "workspace_invalid");
	}
}

/* A membership removed through one connection is gone for another at
 * its very next look-up (what a second worker process sees). */
static void
test_revocation_other_connection(void **state)
{
	struct fx *f = *state;
	struct control *c2 = NULL;
	struct ws_access a;
	struct cc_diag d;
	struct cc_team t;
	char sel[64];

	assert_int_equal(control_open(dir, &c2, NULL), CC_OK);
	assert_int_equal(team_create(f->c, "ops", f->ann.id, &t, &d), CC_OK);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_EDITOR,
	    1, &d), CC_OK);
	snprintf(sel, sizeof(sel), "team:%s", t.id);
	assert_int_equal(team_resolve(c2, &f->bob, sel, &a, &d), CC_OK);
	assert_int_equal(a.role, TEAM_EDITOR);
	assert_int_equal(team_member_set(f->c, t.id, f->bob.id, TEAM_VIEWER,
	    0, &d), CC_OK);
	assert_int_equal(team_resolve(c2, &f->bob, sel, &a, &d), CC_OK);
	assert_int_equal(a.role, TEAM_VIEWER);
	assert_int_equal(team_member_remove(f->c, t.id, f->bob.id, &d), CC_OK);
	assert_int_equal(team_resolve(c2, &f->bob, sel, &a, &d), CC_ENOTFOUND);
	/* a deleted user's memberships go with the user */
	assert_int_equal(team_member_set(f->c, t.id, f->cid.id, TEAM_EDITOR,
	    1, &d), CC_OK);
	assert_int_equal(control_user_delete(f->c, f->cid.id), CC_OK);
	assert_int_equal(team_member_role(c2, t.id, f->cid.id), TEAM_NONE);
	/* a deleted team's too */
	assert_int_equal(team_delete(f->c, t.id), CC_OK);
	assert_int_equal(team_delete(f->c, t.id), CC_ENOTFOUND);
	assert_int_equal(team_resolve(c2, &f->ann, sel, &a, &d), CC_ENOTFOUND);
	assert_int_equal(team_member_role(c2, t.id, f->ann.id), TEAM_NONE);
	control_close(c2);
}

static void
test_lists(void **state)
{
	struct fx *f = *state;
	struct cc_team t1, t2;
	struct cc_diag d;
	json_t *l, *w;

	assert_int_equal(team_create(f->c, "zeta", f->ann.id, &t1, &d), CC_OK);
	assert_int_equal(team_create(f->c, "alpha", f->cid.id, &t2, &d), CC_OK);
	assert_int_equal(team_member_set(f->c, t2.id, f->ann.id, TEAM_VIEWER,
	    1, &d), CC_OK);
	assert_int_equal(team_list(f->c, NULL, &l), CC_OK);
	assert_int_equal(json_array_size(l), 2);
	assert_true(json_is_null(json_object_get(json_array_get(l, 0),
	    "role")));
	json_decref(l);
	assert_int_equal(team_list(f->c, f->bob.id, &l), CC_OK);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	assert_int_equal(team_workspaces(f->c, &f->ann, &w), CC_OK);
	assert_int_equal(json_array_size(w), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    0), "id")), "personal");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    0), "role")), "owner");
	/* by team name: alpha (viewer) before zeta (owner) */
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    1), "name")), "alpha");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    1), "role")), "viewer");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    2), "role")), "owner");
	assert_int_equal(strncmp(json_string_value(json_object_get(
	    json_array_get(w, 2), "id")), "team:", 5), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w,
	    2), "id")) + 5, t1.id);
	json_decref(w);
}

static void
test_audit_pages(void **state)
{
	struct fx *f = *state;
	json_t *page, *all = json_array();
	long long next = 0;
	char target[16];
	int i, pages = 0;

	for (i = 0; i < 5; i++) {
		snprintf(target, sizeof(target), "a%d", i);
		assert_int_equal(control_audit_ws(f->c, "team-a", f->ann.id,
		    "ann", "file.delete", target, "127.0.0.1", "ok", "req-a"),
		    CC_OK);
		if (i < 2)
			assert_int_equal(control_audit_ws(f->c, "team-b",
			    f->bob.id, "bob", "run.create", "b", NULL, "ok",
			    "req-b"), CC_OK);
	}
	assert_int_equal(control_audit(f->c, f->ann.id, "ann", "login", NULL,
	    NULL, "ok", "req-l"), CC_OK);
	do {
		assert_int_equal(control_audit_page(f->c, "team-a", 2, next,
		    &page, &next), CC_OK);
		assert_true(json_array_size(page) <= 2);
		json_array_extend(all, page);
		json_decref(page);
		pages++;
	} while (next != 0 && pages < 10);
	assert_int_equal(pages, 3);
	assert_int_equal(json_array_size(all), 5);
	/* newest first, only team-a's */
	for (i = 0; i < 5; i++) {
		json_t *e = json_array_get(all, (size_t)i);
		snprintf(target, sizeof(target), "a%d", 4 - i);
		assert_string_equal(json_string_value(json_object_get(e,
		    "target")), target);
		assert_string_equal(json_string_value(json_object_get(e,
		    "username")), "ann");
		assert_string_equal(json_string_value(json_object_get(e,
		    "request_id")), "req-a");
	}
	json_decref(all);
	assert_int_equal(control_audit_page(f->c, "team-c", 2, 0, &page,
	    &next), CC_OK);
	assert_int_equal(json_array_size(page), 0);
	assert_int_equal(next, 0);
	json_decref(page);
	assert_int_equal(control_audit_page(f->c, NULL, 2, 0, &page, &next),
	    CC_EINVAL);
	assert_int_equal(control_audit_page(f->c, "team-a", 0, 0, &page,
	    &next), CC_EINVAL);
}

/* Migration 3 on a control database of version 2: the workspace actions
 * already logged are given their user's workspace, the others none. */
static void
test_migration_backfill(void **state)
{
	struct fx *f = *state;
	struct control *c2 = NULL;
	sqlite3_stmt *st;
	int n = 0;

	assert_int_equal(control_audit(f->c, f->ann.id, "ann", "file.delete",
	    "f1", NULL, "ok", "r1"), CC_OK);
	assert_int_equal(control_audit(f->c, f->ann.id, "ann", "login", NULL,
	    NULL, "ok", "r2"), CC_OK);
	assert_int_equal(sqlite3_exec(f->c->db, "DROP INDEX audit_log_workspace;"
	    " ALTER TABLE audit_log DROP COLUMN workspace;"
	    " DROP TABLE team_members; DROP TABLE teams;"
	    " PRAGMA user_version=2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(control_open(dir, &c2, NULL), CC_OK);
	assert_int_equal(sqlite3_prepare_v2(c2->db, "SELECT action, workspace"
	    " FROM audit_log ORDER BY id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *act = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(act, "file.delete") == 0)
			assert_string_equal((const char *)sqlite3_column_text(st,
			    1), f->ann.id);
		else
			assert_int_equal(sqlite3_column_type(st, 1), SQLITE_NULL);
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 2);
	assert_int_equal(team_create(c2, "after", f->ann.id, NULL, NULL),
	    CC_OK);
	control_close(c2);
}

static void
test_remove_dir(void **state)
{
	struct fx *f = *state;
	struct workspace *ws = NULL;
	char key[WS_KEY_MAX + 1], path[256];
	struct cc_team t;
	struct stat sb;
	FILE *fp;

	assert_int_equal(team_create(f->c, "gone", f->ann.id, &t, NULL), CC_OK);
	snprintf(key, sizeof(key), TEAM_WS_PREFIX "%s", t.id);
	assert_int_equal(ws_open(dir, key, &ws, NULL), CC_OK);
	ws_close(ws);
	snprintf(path, sizeof(path), "%s/workspaces/%s/uploads/x", dir, key);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(team_remove_dir(dir, t.id), CC_OK);
	snprintf(path, sizeof(path), "%s/workspaces/%s", dir, key);
	assert_int_equal(stat(path, &sb), -1);
	snprintf(path, sizeof(path), "%s/workspaces/.deleted-%s", dir, t.id);
	assert_int_equal(stat(path, &sb), -1);
	/* nothing there any more: fine; not a team id: refused */
	assert_int_equal(team_remove_dir(dir, t.id), CC_OK);
	assert_int_equal(team_remove_dir(dir, "0123abcd"), CC_EINVAL);
	/* a user's id has the shape of a team id, but the prefix keeps the
	 * user's workspace out of reach (checked below) */
	assert_int_equal(team_remove_dir(dir, f->ann.id), CC_OK);
	assert_int_equal(team_remove_dir(dir, "../../etc"), CC_EINVAL);
	/* a user's workspace is never touched */
	assert_int_equal(ws_open(dir, f->ann.id, &ws, NULL), CC_OK);
	ws_close(ws);
	snprintf(path, sizeof(path), "%s/workspaces/%s", dir, f->ann.id);
	assert_int_equal(stat(path, &sb), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members_and_last_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation_other_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_backfill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_dir, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("teams", tests, NULL, NULL);
}
