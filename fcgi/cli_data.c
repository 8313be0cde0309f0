/*
 * cli_data.c - subcommands that work on a file directly, without the
 * service: profile it, propose its mapping.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "concord/map.h"
#include "concord/profile.h"
#include "concord/source.h"
#include "cli.h"

/* Sniffs and profiles path; prints the first problem and returns NULL. */
static json_t *
profile_path(const char *path)
{
	struct source_dialect d;
	struct cc_diag diag;
	json_t *profile = NULL;

	cc_diag_clear(&diag);
	if (source_sniff(path, path, &d, &diag) != CC_OK ||
	    profile_source(path, &d, &profile, &diag) != CC_OK) {
		if (diag.line > 0)
			fprintf(stderr, "concord: %s:%ld:%ld: %s\n", path,
			    diag.line, diag.column, diag.message);
		else
			fprintf(stderr, "concord: %s: %s\n", path, diag.message);
		return NULL;
	}
	json_object_set_new(profile, "format",
	    json_string(source_format_name(d.format)));
	json_object_set_new(profile, "encoding",
	    json_string(source_encoding_name(d.encoding)));
	return profile;
}

static int
print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;

	putchar('\n');
	json_decref(doc);
	return rc;
}

int
cmd_profile(struct cc_config *cfg, int argc, char **argv)
{
	json_t *p;

	(void)cfg;
	if (cli_wants_help(argc, argv) || argc != 2) {
		printf("usage: concord profile FILE\n\n"
		    "Detects the format and dialect of a CSV, JSON or NDJSON file,\n"
		    "validates it and prints its column profile as JSON.  A broken\n"
		    "file gives FILE:LINE:COLUMN: reason and exit status 1.\n");
		return argc == 2 ? 0 : 2;
	}
	if ((p = profile_path(argv[1])) == NULL)
		return 1;
	return print_json(p);
}

int
cmd_map(struct cc_config *cfg, int argc, char **argv)
{
	struct cc_diag diag;
	json_t *p, *doc;
	const char *base;

	(void)cfg;
	if (cli_wants_help(argc, argv) || argc != 2) {
		printf("usage: concord map FILE\n\n"
		    "Profiles FILE and prints the heuristic mapper's proposal:\n"
		    "entities, and per column a target attribute with confidence\n"
		    "and evidence (see GET /api/v1/files/{id}/mapping).\n");
		return argc == 2 ? 0 : 2;
	}
	if ((p = profile_path(argv[1])) == NULL)
		return 1;
	base = strrchr(argv[1], '/');
	cc_diag_clear(&diag);
	if (map_propose_heuristic(p, base != NULL ? base + 1 : argv[1], &doc,
	    &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		json_decref(p);
		return 1;
	}
	json_decref(p);
	return print_json(doc);
}
