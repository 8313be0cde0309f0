/*
 * cli_team.c - concord team: create, list and delete teams and manage
 * their members from the command line (the administrator's tool, next
 * to concord user).  Every change is written to the team's audit log
 * with the client "cli".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "concord/control.h"
#include "concord/teams.h"
#include "cli.h"

static void
team_usage(FILE *fp)
{
	fprintf(fp, "usage: concord [-d DIR] team add NAME [--owner USER]\n"
	    "       concord [-d DIR] team list\n"
	    "       concord [-d DIR] team delete NAME\n"
	    "       concord [-d DIR] team member list TEAM\n"
	    "       concord [-d DIR] team member add TEAM USER"
	    " [--role viewer|editor|owner]\n"
	    "       concord [-d DIR] team member role TEAM USER"
	    " viewer|editor|owner\n"
	    "       concord [-d DIR] team member remove TEAM USER\n\n"
	    "A team has its own workspace; members pick it with the header\n"
	    "X-Concord-Workspace: team:ID (see GET /api/v1/workspaces).\n"
	    "member add gives the role viewer unless --role says otherwise.\n"
	    "A team keeps at least one owner.\n");
}

static void
audit(struct control *ctl, const char *team_id, const char *action,
    const char *target)
{
	char key[WS_KEY_MAX + 1];

	snprintf(key, sizeof(key), TEAM_WS_PREFIX "%s", team_id);
	if (control_audit_ws(ctl, key, NULL, NULL, action, target, "cli", "ok",
	    NULL) != CC_OK)
		fprintf(stderr, "concord: warning: the audit log write"
		    " failed\n");
}

static int
team_cmd_list(struct control *ctl)
{
	json_t *list, *t;
	size_t i;

	if (team_list(ctl, NULL, &list) != CC_OK) {
		fprintf(stderr, "concord: cannot list teams\n");
		return 1;
	}
	printf("%-32s  %-24s  %s\n", "ID", "NAME", "MEMBERS");
	json_array_foreach(list, i, t)
		printf("%-32s  %-24s  %lld\n",
		    json_string_value(json_object_get(t, "id")),
		    json_string_value(json_object_get(t, "name")),
		    (long long)json_integer_value(json_object_get(t,
		    "members")));
	json_decref(list);
	return 0;
}

static int
member_cmd(struct control *ctl, int argc, char **argv)
{
	enum team_role role = TEAM_VIEWER;
	struct cc_diag diag;
	struct cc_team t;
	struct cc_user u;
	json_t *list, *m;
	const char *verb;
	size_t i;
	cc_err err;

	/* argv: member VERB TEAM [USER [ROLE | --role ROLE]] */
	if (argc < 3) {
		team_usage(stderr);
		return 2;
	}
	verb = argv[1];
	if (team_by_name(ctl, argv[2], &t) != CC_OK) {
		fprintf(stderr, "concord: no team '%s'\n", argv[2]);
		return 1;
	}
	if (strcmp(verb, "list") == 0 && argc == 3) {
		if (team_members(ctl, t.id, &list) != CC_OK)
			return 1;
		printf("%-32s  %-20s  %s\n", "USER ID", "NAME", "ROLE");
		json_array_foreach(list, i, m)
			printf("%-32s  %-20s  %s\n",
			    json_string_value(json_object_get(m, "user_id")),
			    json_string_value(json_object_get(m, "username")),
			    json_string_value(json_object_get(m, "role")));
		json_decref(list);
		return 0;
	}
	if (argc < 4) {
		team_usage(stderr);
		return 2;
	}
	if (strcmp(verb, "add") == 0 && argc == 6 &&
	    strcmp(argv[4], "--role") == 0)
		role = team_role_of(argv[5]);
	else if (strcmp(verb, "add") == 0 && argc == 5 &&
	    strncmp(argv[4], "--role=", 7) == 0)
		role = team_role_of(argv[4] + 7);
	else if (strcmp(verb, "role") == 0 && argc == 5)
		role = team_role_of(argv[4]);
	else if (argc != 4 || strcmp(verb, "role") == 0) {
		team_usage(stderr);
		return 2;
	}
	if (role == TEAM_NONE) {
		fprintf(stderr, "concord: a role is viewer, editor or owner\n");
		return 2;
	}
	if (control_user_by_name(ctl, argv[3], &u) != CC_OK) {
		fprintf(stderr, "concord: no user '%s'\n", argv[3]);
		return 1;
	}
	cc_diag_clear(&diag);
	if (strcmp(verb, "add") == 0)
		err = team_member_set(ctl, t.id, u.id, role, 1, &diag);
	else if (strcmp(verb, "role") == 0)
		err = team_member_set(ctl, t.id, u.id, role, 0, &diag);
	else if (strcmp(verb, "remove") == 0)
		err = team_member_remove(ctl, t.id, u.id, &diag);
	else {
		team_usage(stderr);
		return 2;
	}
	if (err != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message[0] ? diag.message :
		    cc_strerror(err));
		return 1;
	}
	audit(ctl, t.id, strcmp(verb, "add") == 0 ? "member.add" :
	    strcmp(verb, "role") == 0 ? "member.role" : "member.remove", u.id);
	printf("%s: member %s %s done\n", t.name, u.username, verb);
	return 0;
}

int
cmd_team(struct cc_config *cfg, int argc, char **argv)
{
	struct control *ctl = NULL;
	struct cc_diag diag;
	struct cc_team t;
	struct cc_user u;
	const char *owner = NULL;
	int rc = 1, busy;
	cc_err err;

	if (cli_wants_help(argc, argv)) {
		team_usage(stdout);
		return 0;
	}
	if (argc < 2) {
		team_usage(stderr);
		return 2;
	}
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s (run 'concord init' first?)\n",
		    diag.message);
		return 1;
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		rc = team_cmd_list(ctl);
	else if (strcmp(argv[1], "member") == 0)
		rc = member_cmd(ctl, argc - 1, argv + 1);
	else if (strcmp(argv[1], "add") == 0 && (argc == 3 || (argc == 5 &&
	    strcmp(argv[3], "--owner") == 0))) {
		if (argc == 5 && control_user_by_name(ctl, argv[4], &u) != CC_OK)
			fprintf(stderr, "concord: no user '%s'\n", argv[4]);
		else {
			owner = argc == 5 ? u.id : NULL;
			err = team_create(ctl, argv[2], owner, &t, &diag);
			if (err == CC_OK) {
				audit(ctl, t.id, "team.create", t.id);
				if (owner != NULL)
					audit(ctl, t.id, "member.add", owner);
				printf("added team %s id %s (workspace"
				    " team:%s)\n", t.name, t.id, t.id);
				rc = 0;
			} else
				fprintf(stderr, "concord: %s\n", diag.message);
		}
	} else if (strcmp(argv[1], "delete") == 0 && argc == 3) {
		if (team_by_name(ctl, argv[2], &t) != CC_OK)
			fprintf(stderr, "concord: no team '%s'\n", argv[2]);
		else if ((busy = team_runs_pending(ctl, t.id)) != 0)
			fprintf(stderr, "concord: %s\n", busy > 0 ? "a run of"
			    " the team is queued or running" :
			    "cannot read the run queue");
		else if (team_delete(ctl, t.id) != CC_OK)
			fprintf(stderr, "concord: cannot delete the team\n");
		else {
			audit(ctl, t.id, "team.delete", t.id);
			if (team_remove_dir(cfg->data_dir, t.id) != CC_OK)
				fprintf(stderr, "concord: warning: the team's"
				    " workspace directory was not wholly"
				    " removed: %s\n", strerror(errno));
			printf("deleted team %s\n", t.name);
			rc = 0;
		}
	} else {
		team_usage(stderr);
		rc = 2;
	}
	control_close(ctl);
	return rc;
}
