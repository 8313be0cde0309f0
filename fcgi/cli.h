/*
 * fcgi/cli.h - the subcommands of the concord binary.  Each takes the
 * resolved configuration and its own arguments (argv[0] is the subcommand)
 * and returns the process exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef CONCORD_FCGI_CLI_H
#define CONCORD_FCGI_CLI_H

#include "concord/config.h"
#include "concord/control.h"
#include "concord/workspace.h"

int	cmd_init(struct cc_config *cfg, int argc, char **argv);
int	cmd_user(struct cc_config *cfg, int argc, char **argv);
int	cmd_team(struct cc_config *cfg, int argc, char **argv);
int	cmd_serve(struct cc_config *cfg, int argc, char **argv);
int	cmd_profile(struct cc_config *cfg, int argc, char **argv);
int	cmd_map(struct cc_config *cfg, int argc, char **argv);
int	cmd_run(struct cc_config *cfg, int argc, char **argv);
int	cmd_upload(struct cc_config *cfg, int argc, char **argv);
int	cmd_match(struct cc_config *cfg, int argc, char **argv);
int	cmd_pairs(struct cc_config *cfg, int argc, char **argv);
int	cmd_mapping(struct cc_config *cfg, int argc, char **argv);
int	cmd_entity(struct cc_config *cfg, int argc, char **argv);

/*
 * Opens the control database and the workspace of user name, for a
 * subcommand that works on it: *ctl (closed with control_close()) and *u
 * are filled; the workspace is freed with ws_close().  NULL, after saying
 * why on standard error, when there is no such user or a file cannot be
 * opened.
 */
struct workspace *cli_workspace(struct cc_config *cfg, const char *name,
	    struct control **ctl, struct cc_user *u);

/* 1 if argv holds -h or --help. */
int	cli_wants_help(int argc, char **argv);

#endif /* CONCORD_FCGI_CLI_H */
