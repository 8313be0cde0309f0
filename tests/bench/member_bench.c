/*
 * member_bench.c - what the membership check costs a request (concord/
 * teams.h): team_resolve() is called once per workspace request against
 * control.db, with no cache, so that removing a member takes effect at
 * their next request.  Not a test: it prints numbers (tests/bench/
 * README.md, "member_bench").
 *
 *   member_bench [USERS [TEAMS [MEMBERS [N]]]]
 *
 * Builds a control database in a temporary directory with USERS users
 * (default 1000), TEAMS teams (100) of MEMBERS members each (10, drawn
 * in turn), then times N (100000) calls of each, on a warm page cache
 * and one connection as a worker holds it:
 *   session   auth_session_check() - what every authenticated request
 *             already does (the user record and the token deny-list);
 *   personal  team_resolve() with no header (no query at all);
 *   member    team_resolve("team:ID") of a member (two indexed look-ups);
 *   outsider  team_resolve("team:ID") of a non-member (one look-up).
 * Printed: microseconds per call (wall clock, CLOCK_MONOTONIC).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "concord/auth.h"
#include "concord/control.h"
#include "concord/db.h"
#include "concord/teams.h"
#include "concord/util.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	int users = argc > 1 ? atoi(argv[1]) : 1000,
	    teams = argc > 2 ? atoi(argv[2]) : 100,
	    members = argc > 3 ? atoi(argv[3]) : 10,
	    n = argc > 4 ? atoi(argv[4]) : 100000, i, k;
	char dir[] = "/tmp/concord-member-bench-XXXXXX", name[64], sel[64],
	    insel[64], cmd[128];
	struct control *c = NULL;
	struct cc_user u, member, outsider;
	struct auth_claims cl;
	struct ws_access a;
	struct cc_team t;
	double t0, t1;
	char (*ids)[CONTROL_ID_LEN + 1];
	const char *what[] = { "session", "personal", "member", "outsider" };

	if (users < 2 || teams < 1 || members < 1 || members > users ||
	    n < 1 || sodium_init() < 0 || mkdtemp(dir) == NULL ||
	    control_open(dir, &c, NULL) != CC_OK) {
		fprintf(stderr, "usage: member_bench [USERS [TEAMS [MEMBERS"
		    " [N]]]]\n");
		return 2;
	}
	if ((ids = calloc((size_t)users, sizeof(*ids))) == NULL)
		return 1;
	/* users: one real hash for all (Argon2id would dominate the setup) */
	db_exec(c->db, "BEGIN", NULL);
	for (i = 0; i < users; i++) {
		sqlite3_stmt *st;
		util_random_hex(ids[i], CONTROL_ID_LEN / 2);
		snprintf(name, sizeof(name), "user%d", i);
		sqlite3_prepare_v2(c->db, "INSERT INTO users (id, username,"
		    " password_hash, role, created_at, updated_at) VALUES"
		    " (?1, ?2, 'x', 'member', 'now', 'now')", -1, &st, NULL);
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	db_exec(c->db, "COMMIT", NULL);
	for (i = 0, k = 0; i < teams; i++) {
		snprintf(name, sizeof(name), "team%d", i);
		if (team_create(c, name, ids[k++ % users], &t, NULL) != CC_OK)
			return 1;
		for (int m = 1; m < members; m++)
			team_member_set(c, t.id, ids[k++ % users], TEAM_EDITOR, 1,
			    NULL);
		if (i == teams / 2) {
			snprintf(insel, sizeof(insel), "team:%s", t.id);
			control_user_by_id(c, ids[(k - 1) % users], &member);
		}
	}
	/* a user in no team: ids beyond teams * members, else any non-member */
	control_user_by_id(c, ids[users - 1], &outsider);
	for (i = users - 1; i >= 0; i--) {
		control_user_by_id(c, ids[i], &outsider);
		if (team_resolve(c, &outsider, insel, &a, NULL) == CC_ENOTFOUND)
			break;
	}
	snprintf(sel, sizeof(sel), "%s", insel);
	memset(&cl, 0, sizeof(cl));
	snprintf(cl.sub, sizeof(cl.sub), "%s", member.id);
	cl.ver = member.token_version;
	util_random_hex(cl.jti, 16);
	printf("member_bench: %d users, %d teams of %d members, %d calls"
	    " each\n", users, teams, members, n);
	for (k = 0; k < 4; k++) {
		int bad = 0;
		t0 = now_us();
		for (i = 0; i < n; i++) {
			switch (k) {
			case 0:
				bad += auth_session_check(c, &cl, &u, NULL) !=
				    CC_OK;
				break;
			case 1:
				bad += team_resolve(c, &member, NULL, &a, NULL) !=
				    CC_OK;
				break;
			case 2:
				bad += team_resolve(c, &member, sel, &a, NULL) !=
				    CC_OK || a.role != TEAM_EDITOR;
				break;
			default:
				bad += team_resolve(c, &outsider, sel, &a, NULL) !=
				    CC_ENOTFOUND;
			}
		}
		t1 = now_us();
		printf("%-9s %8.2f us/call%s\n", what[k], (t1 - t0) / n,
		    bad ? "  (WRONG ANSWERS)" : "");
	}
	control_close(c);
	free(ids);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
