/*
 * fcgi/cli.h - the subcommands of the concord binary.  Each takes the
 * resolved configuration and its own arguments (argv[0] is the subcommand)
 * and returns the process exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef CONCORD_FCGI_CLI_H
#define CONCORD_FCGI_CLI_H

#include "concord/config.h"

int	cmd_init(struct cc_config *cfg, int argc, char **argv);
int	cmd_user(struct cc_config *cfg, int argc, char **argv);
int	cmd_serve(struct cc_config *cfg, int argc, char **argv);
int	cmd_profile(struct cc_config *cfg, int argc, char **argv);
int	cmd_map(struct cc_config *cfg, int argc, char **argv);
int	cmd_run(struct cc_config *cfg, int argc, char **argv);
int	cmd_upload(struct cc_config *cfg, int argc, char **argv);
int	cmd_match(struct cc_config *cfg, int argc, char **argv);
int	cmd_pairs(struct cc_config *cfg, int argc, char **argv);
int	cmd_mapping(struct cc_config *cfg, int argc, char **argv);

/* 1 if argv holds -h or --help. */
int	cli_wants_help(int argc, char **argv);

#endif /* CONCORD_FCGI_CLI_H */
