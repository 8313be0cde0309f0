/*
 * main.c - the concord binary: global options, configuration, and the
 * subcommand table.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "concord/config.h"
#include "concord/control.h"
#include "concord/llm.h"
#include "concord/workspace.h"
#include "concord/log.h"
#include "cli.h"

static const struct command {
	const char	*name;
	int		(*run)(struct cc_config *, int, char **);
	const char	*summary;
} commands[] = {
	{ "init",  cmd_init,  "create the data directory, control database and token secret" },
	{ "user",  cmd_user,  "add, list, disable, enable users; set passwords" },
	{ "team",  cmd_team,  "add, list, delete teams; manage their members" },
	{ "serve", cmd_serve, "run the FastCGI service" },
	{ "profile", cmd_profile, "profile a CSV/JSON file (no service needed)" },
	{ "map",   cmd_map,   "propose a file's mapping onto the target schema" },
	{ "upload", cmd_upload, "register files in a user's workspace" },
	{ "run",   cmd_run,   "run the reconciliation of a user's workspace now" },
	{ "mapping", cmd_mapping, "show, edit or confirm a file's mapping" },
	{ "entity", cmd_entity, "list, define or delete the user's own entities" },
	{ "match", cmd_match, "re-run entity resolution with the review decisions" },
	{ "pairs", cmd_pairs, "print the matched and review pairs of the model" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: concord [-d DATA_DIR] [-c CONFIG] COMMAND [ARGS]\n"
	    "\n"
	    "  -d DIR     data directory (env CONCORD_DATA_DIR)\n"
	    "  -c FILE    configuration file (env CONCORD_CONFIG; default\n"
	    "             %s/concord.conf when it exists)\n"
	    "  -V         print the version\n"
	    "\ncommands:\n", CONCORD_SYSCONFDIR);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\nEach command takes --help.  See concord(1).\n");
}

int
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

struct workspace *
cli_workspace(struct cc_config *cfg, const char *name, struct control **ctl,
    struct cc_user *u)
{
	struct workspace *ws = NULL;
	struct cc_diag diag;

	*ctl = NULL;
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, ctl, &diag) != CC_OK ||
	    control_user_by_name(*ctl, name, u) != CC_OK ||
	    ws_open(cfg->data_dir, u->id, &ws, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message[0] ? diag.message :
		    "no such user");
		control_close(*ctl);
		*ctl = NULL;
		return NULL;
	}
	return ws;
}

int
main(int argc, char **argv)
{
	const char *data_dir = NULL, *conf = NULL;
	char sysconf[4096];
	struct cc_config cfg;
	struct cc_diag diag;
	size_t i;
	int ch;

	/* Once, before anything is created: every file of the data
	 * directory (workspaces, model.db, SQLite's journals) is 0600 and
	 * every directory 0700.  The socket is made 0660 explicitly. */
	umask(077);
	/* SQLite's memory statistics (sqlite3_memory_used() and friends)
	 * are never read here; kept, they take a mutex on every allocation
	 * SQLite makes.  Must precede sqlite3_initialize(). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	while ((ch = getopt(argc, argv, "+d:c:hV")) != -1) {
		switch (ch) {
		case 'd':
			data_dir = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'V':
			printf("concord %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "concord: libsodium cannot initialise\n");
		return 1;
	}
	config_defaults(&cfg);
	cc_diag_clear(&diag);
	if (conf == NULL)
		conf = getenv("CONCORD_CONFIG");
	if (conf == NULL) {
		snprintf(sysconf, sizeof(sysconf), "%s/concord.conf",
		    CONCORD_SYSCONFDIR);
		if (access(sysconf, R_OK) == 0)
			conf = sysconf;
	}
	if ((conf != NULL && config_load_file(&cfg, conf, &diag) != CC_OK) ||
	    config_apply_env(&cfg, &diag) != CC_OK ||
	    (data_dir != NULL && config_set(&cfg, "data_dir", data_dir,
	    &diag) != CC_OK)) {
		fprintf(stderr, "concord: %s\n", diag.message);
		return 1;
	}
	/* the language model's settings, for every command (llm.h) */
	if (llm_configure(&cfg, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		return 1;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&cfg, argc, argv);
	fprintf(stderr, "concord: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
