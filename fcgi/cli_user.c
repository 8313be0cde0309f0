/*
 * cli_user.c - the administrative subcommands: init, user, serve.
 * Passwords are read from standard input (a terminal gets a prompt with
 * echo off), never from the command line where ps(1) would show them.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "concord/auth.h"
#include "concord/control.h"
#include "concord/util.h"
#include "cli.h"
#include "server.h"

int
cmd_init(struct cc_config *cfg, int argc, char **argv)
{
	char ws[4200];
	struct control *ctl = NULL;
	struct cc_diag diag;
	cc_err err;

	if (cli_wants_help(argc, argv) || argc != 1) {
		printf("usage: concord [-d DIR] init\n\n"
		    "Creates DIR (mode 0700), DIR/control.db, DIR/workspaces/\n"
		    "and DIR/secret (32 random bytes, mode 0600).  An existing\n"
		    "secret is kept; running init again is harmless.\n");
		return argc == 1 ? 0 : 2;
	}
	snprintf(ws, sizeof(ws), "%s/workspaces", cfg->data_dir);
	if (util_mkdir_p(ws, 0700) != CC_OK) {
		fprintf(stderr, "concord: cannot create %s: %s\n", ws,
		    strerror(errno));
		return 1;
	}
	err = auth_secret_create(cfg->data_dir);
	if (err != CC_OK && err != CC_EEXIST) {
		fprintf(stderr, "concord: cannot write the token secret: %s\n",
		    strerror(errno));
		return 1;
	}
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		return 1;
	}
	control_close(ctl);
	printf("initialised %s\n", cfg->data_dir);
	return 0;
}

/* Reads one password line from stdin (no echo on a terminal). */
static int
read_password(const char *prompt, char *buf, size_t size)
{
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	if (fgets(buf, (int)size, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

static int
get_password(char *buf, size_t size)
{
	char again[AUTH_PASSWORD_MAX + 2];

	if (read_password("Password: ", buf, size) != 0) {
		fprintf(stderr, "concord: no password on standard input\n");
		return -1;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_password("Again: ", again, sizeof(again)) != 0 ||
		    strcmp(again, buf) != 0) {
			fprintf(stderr, "concord: the passwords differ\n");
			return -1;
		}
	}
	return 0;
}

static void
user_usage(FILE *fp)
{
	fprintf(fp, "usage: concord [-d DIR] user add NAME [--role admin|member]\n"
	    "       concord [-d DIR] user passwd NAME\n"
	    "       concord [-d DIR] user disable NAME\n"
	    "       concord [-d DIR] user enable NAME\n"
	    "       concord [-d DIR] user list\n\n"
	    "add and passwd read the password from standard input (8 to 1024\n"
	    "characters).  disable, enable and passwd end the user's sessions.\n");
}

int
cmd_user(struct cc_config *cfg, int argc, char **argv)
{
	char pw[AUTH_PASSWORD_MAX + 2];
	const char *role = "member", *verb, *name;
	struct control *ctl = NULL;
	struct cc_diag diag;
	struct cc_user u;
	json_t *list, *v;
	size_t i;
	int rc = 1;
	cc_err err;

	if (cli_wants_help(argc, argv)) {
		user_usage(stdout);
		return 0;
	}
	if (argc < 2) {
		user_usage(stderr);
		return 2;
	}
	verb = argv[1];
	name = argc > 2 ? argv[2] : NULL;
	for (i = 3; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < (size_t)argc)
			role = argv[++i];
		else if (strncmp(argv[i], "--role=", 7) == 0)
			role = argv[i] + 7;
		else {
			user_usage(stderr);
			return 2;
		}
	}
	if (strcmp(verb, "list") != 0 && name == NULL) {
		user_usage(stderr);
		return 2;
	}
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s (run 'concord init' first?)\n",
		    diag.message);
		return 1;
	}
	if (strcmp(verb, "list") == 0) {
		if (control_user_list(ctl, &list) == CC_OK) {
			printf("%-32s  %-20s  %-6s  %s\n", "ID", "NAME", "ROLE",
			    "ACTIVE");
			json_array_foreach(list, i, v)
				printf("%-32s  %-20s  %-6s  %s\n",
				    json_string_value(json_object_get(v, "id")),
				    json_string_value(json_object_get(v,
				    "username")),
				    json_string_value(json_object_get(v, "role")),
				    json_is_true(json_object_get(v, "active")) ?
				    "yes" : "no");
			json_decref(list);
			rc = 0;
		}
	} else if (strcmp(verb, "add") == 0) {
		if (get_password(pw, sizeof(pw)) == 0) {
			err = control_user_add(ctl, name, pw, role, &u, &diag);
			if (err == CC_OK) {
				printf("added %s (%s) id %s\n", u.username,
				    u.role, u.id);
				rc = 0;
			} else
				fprintf(stderr, "concord: %s\n", diag.message);
		}
	} else if (strcmp(verb, "passwd") == 0 || strcmp(verb, "disable") == 0 ||
	    strcmp(verb, "enable") == 0) {
		if (control_user_by_name(ctl, name, &u) != CC_OK)
			fprintf(stderr, "concord: no user '%s'\n", name);
		else if (strcmp(verb, "passwd") == 0) {
			if (get_password(pw, sizeof(pw)) == 0) {
				if (control_user_set_password(ctl, u.id, pw,
				    &diag) == CC_OK)
					rc = 0;
				else
					fprintf(stderr, "concord: %s\n",
					    diag.message);
			}
		} else if (control_user_set_active(ctl, u.id,
		    strcmp(verb, "enable") == 0) == CC_OK)
			rc = 0;
		if (rc == 0)
			printf("%s: %s done\n", name, verb);
	} else {
		user_usage(stderr);
		rc = 2;
	}
	sodium_memzero(pw, sizeof(pw));
	control_close(ctl);
	return rc;
}

int
cmd_serve(struct cc_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_diag diag;
	int ch, fd, type, rc;
	socklen_t len = sizeof(type);

	optind = 1;
	cc_diag_clear(&diag);
	while ((ch = getopt_long(argc, argv, "s:g:w:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (config_set(cfg, "socket", optarg, &diag) != CC_OK)
				goto bad;
			break;
		case 'g':
			if (config_set(cfg, "socket_group", optarg, &diag) !=
			    CC_OK)
				goto bad;
			break;
		case 'w':
			if (config_set(cfg, "workers", optarg, &diag) != CC_OK)
				goto bad;
			break;
		case 'h':
			printf("usage: concord [-d DIR] serve [--socket PATH]"
			    " [--socket-group GROUP] [--workers N]\n\n"
			    "Listens on the unix socket PATH (mode 0660), or on the\n"
			    "socket passed as standard input by spawn-fcgi or systemd\n"
			    "when no socket is given.  SIGTERM finishes the requests\n"
			    "in hand and stops.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (cfg->socket[0] != '\0')
		fd = server_listen(cfg->socket, cfg->socket_group);
	else if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &len) ==
	    0 && type == SOCK_STREAM)
		fd = STDIN_FILENO;
	else {
		fprintf(stderr, "concord: give --socket PATH, or start under"
		    " spawn-fcgi or systemd with the socket on standard input\n");
		return 2;
	}
	if (fd < 0)
		return 1;
	rc = server_run(cfg, fd);
	if (cfg->socket[0] != '\0')
		unlink(cfg->socket);
	return rc;
bad:
	fprintf(stderr, "concord: %s\n", diag.message);
	return 2;
}
