/*
 * cli_entity.c - `concord entity list|put|delete --user NAME`: the
 * user-defined entities of a workspace's target schema from the command
 * line, with the same document and validation as GET, POST, PUT and
 * DELETE /api/v1/schema/entities (core/entities.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "concord/control.h"
#include "concord/entities.h"
#include "concord/workspace.h"
#include "cli.h"

static int
usage(int help)
{
	printf("usage: concord [-d DIR] entity list --user NAME\n"
	    "       concord [-d DIR] entity put --user NAME < DEFINITION.json\n"
	    "       concord [-d DIR] entity delete --user NAME ENTITY\n\n"
	    "list prints the user's entity definitions as a JSON array.  put\n"
	    "creates the entity the definition names, or replaces it when it\n"
	    "exists, after the same checks as POST /api/v1/schema/entities:\n"
	    "when refused, every reason is printed as JSON on standard error\n"
	    "and nothing changes (exit 1).  delete removes an entity; the next\n"
	    "run no longer builds it.\n");
	return help ? 0 : 2;
}

/* Prints the reasons of a refused definition on standard error. */
static void
refused(json_t *errors)
{
	json_t *e = json_pack("{s:s, s:O}", "error", "the definition is"
	    " invalid", "errors", errors != NULL ? errors : json_array());

	json_dumpf(e, stderr, JSON_INDENT(2));
	fputc('\n', stderr);
	json_decref(e);
}

int
cmd_entity(struct cc_config *cfg, int argc, char **argv)
{
	struct control *ctl = NULL;
	struct workspace *ws = NULL;
	struct cc_diag diag;
	struct cc_user u;
	const char *verb = argc > 1 ? argv[1] : NULL, *name = NULL,
	    *ent = NULL, *action = NULL;
	json_t *doc = NULL, *errors = NULL;
	json_error_t jerr;
	int rc = 1, k;
	cc_err err;

	if (cli_wants_help(argc, argv))
		return usage(1);
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--user") && k + 1 < argc)
			name = argv[++k];
		else if (ent == NULL && argv[k][0] != '-')
			ent = argv[k];
		else
			return usage(0);
	}
	if (verb == NULL || name == NULL || (strcmp(verb, "list") &&
	    strcmp(verb, "put") && strcmp(verb, "delete")) ||
	    (!strcmp(verb, "delete")) != (ent != NULL))
		return usage(0);
	cc_diag_clear(&diag);
	if (!strcmp(verb, "put")) {
		if ((doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)) ==
		    NULL || !json_is_object(doc)) {
			fprintf(stderr, "concord: standard input: line %d,"
			    " column %d: %s\n", jerr.line, jerr.column,
			    doc == NULL ? jerr.text : "not a JSON object");
			goto out;
		}
	}
	if ((ws = cli_workspace(cfg, name, &ctl, &u)) == NULL)
		goto out;
	if (!strcmp(verb, "list")) {
		if ((err = entities_list(ws, &doc, &diag)) != CC_OK) {
			fprintf(stderr, "concord: %s\n", diag.message[0] ?
			    diag.message : cc_strerror(err));
			goto out;
		}
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		rc = 0;
		goto out;
	}
	if (!strcmp(verb, "delete")) {
		if ((err = entities_delete(ws, ent, &diag)) != CC_OK) {
			fprintf(stderr, "concord: %s: %s\n", ent,
			    err == CC_ENOTFOUND ? "no such entity" :
			    diag.message[0] ? diag.message : cc_strerror(err));
			goto out;
		}
		control_audit(ctl, u.id, u.username, "entity.delete", ent,
		    "cli", "ok", NULL);
		printf("%s deleted\n", ent);
		rc = 0;
		goto out;
	}
	/* put: create, or replace the entity of that name */
	action = "entity.create";
	err = entities_put(ws, NULL, doc, 1, &errors, &diag);
	if (err == CC_EEXIST && json_is_string(json_object_get(doc, "name"))) {
		action = "entity.replace";
		cc_diag_clear(&diag);
		err = entities_put(ws, json_string_value(json_object_get(doc,
		    "name")), doc, 0, &errors, &diag);
	}
	if (err == CC_EINVALID) {
		refused(errors);
		goto out;
	}
	if (err != CC_OK) {
		fprintf(stderr, "concord: %s\n", err == CC_ETOOBIG ?
		    "too many entities" : diag.message[0] ? diag.message :
		    cc_strerror(err));
		goto out;
	}
	control_audit(ctl, u.id, u.username, action, json_string_value(
	    json_object_get(doc, "name")), "cli", "ok", NULL);
	printf("%s %s\n", json_string_value(json_object_get(doc, "name")),
	    !strcmp(action, "entity.create") ? "created" : "replaced");
	rc = 0;
out:
	json_decref(doc);
	json_decref(errors);
	ws_close(ws);
	control_close(ctl);
	return rc;
}
