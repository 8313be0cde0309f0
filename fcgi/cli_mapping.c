/*
 * cli_mapping.c - `concord mapping show|edit|confirm --user NAME FILE_ID`:
 * what the mapping review of the web UI does, from the command line, with
 * the same document and validation as GET and PUT
 * /api/v1/files/{id}/mapping (registry_mapping_get() and _put()).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "concord/control.h"
#include "concord/registry.h"
#include "concord/workspace.h"
#include "cli.h"

static int
usage(int help)
{
	printf("usage: concord [-d DIR] mapping show --user NAME FILE_ID\n"
	    "       concord [-d DIR] mapping confirm --user NAME FILE_ID\n"
	    "       concord [-d DIR] mapping edit --user NAME FILE_ID < MAPPING.json\n\n"
	    "show prints the file's mapping (the stored one, a confirmed one\n"
	    "reused by header, or the mapper's proposal) as JSON.  confirm\n"
	    "confirms it as it is.  edit confirms the mapping read from standard\n"
	    "input, {\"columns\": [{\"source\": COLUMN, \"target\":\n"
	    "\"entity.attribute\" or null}, ...]}, after the same checks as\n"
	    "PUT /api/v1/files/{id}/mapping: when refused, every reason is\n"
	    "printed as JSON on standard error and nothing changes (exit 1).\n");
	return help ? 0 : 2;
}

int
cmd_mapping(struct cc_config *cfg, int argc, char **argv)
{
	struct control *ctl = NULL;
	struct workspace *ws = NULL;
	struct cc_diag diag;
	struct cc_user u;
	const char *verb = argc > 1 ? argv[1] : NULL, *name = NULL,
	    *fid = NULL;
	json_t *doc = NULL, *sent = NULL, *errors = NULL, *cols, *c;
	json_error_t jerr;
	size_t i;
	int rc = 1, k;
	cc_err err;

	if (cli_wants_help(argc, argv))
		return usage(1);
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--user") && k + 1 < argc)
			name = argv[++k];
		else if (fid == NULL && argv[k][0] != '-')
			fid = argv[k];
		else
			return usage(0);
	}
	if (verb == NULL || name == NULL || fid == NULL ||
	    (strcmp(verb, "show") && strcmp(verb, "edit") &&
	    strcmp(verb, "confirm")))
		return usage(0);
	cc_diag_clear(&diag);
	if ((ws = cli_workspace(cfg, name, &ctl, &u)) == NULL)
		goto out;
	if (!strcmp(verb, "edit")) {
		if ((sent = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)) ==
		    NULL || !json_is_object(sent)) {
			fprintf(stderr, "concord: standard input: line %d,"
			    " column %d: %s\n", jerr.line, jerr.column,
			    sent == NULL ? jerr.text : "not a JSON object");
			goto out;
		}
	} else {
		if ((err = registry_mapping_get(ws, fid, &doc)) != CC_OK) {
			fprintf(stderr, "concord: %s: %s\n", fid,
			    err == CC_ENOTFOUND ? "no such file" :
			    cc_strerror(err));
			goto out;
		}
		if (!strcmp(verb, "show")) {
			json_dumpf(doc, stdout, JSON_INDENT(2) |
			    JSON_PRESERVE_ORDER);
			putchar('\n');
			rc = 0;
			goto out;
		}
		/* confirm: the document's own targets, as they are */
		sent = json_pack("{s:[]}", "columns");
		cols = json_object_get(sent, "columns");
		json_array_foreach(json_object_get(doc, "columns"), i, c)
			json_array_append_new(cols, json_pack("{s:O, s:O}",
			    "source", json_object_get(c, "source"), "target",
			    json_object_get(c, "target")));
		json_decref(doc);
		doc = NULL;
	}
	err = registry_mapping_put(ws, fid, sent, &doc, &errors, &diag);
	if (err == CC_EINVALID) {
		json_t *e = json_pack("{s:s, s:O}", "error", "the mapping is"
		    " invalid", "errors", errors != NULL ? errors :
		    json_array());
		json_dumpf(e, stderr, JSON_INDENT(2));
		fputc('\n', stderr);
		json_decref(e);
		goto out;
	}
	if (err != CC_OK) {
		fprintf(stderr, "concord: %s: %s\n", fid, err == CC_ENOTFOUND ?
		    "no such file" : diag.message[0] ? diag.message :
		    cc_strerror(err));
		goto out;
	}
	control_audit(ctl, u.id, u.username, "mapping.confirm", fid, "cli",
	    "ok", NULL);
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	rc = 0;
out:
	json_decref(doc);
	json_decref(sent);
	json_decref(errors);
	ws_close(ws);
	control_close(ctl);
	return rc;
}
