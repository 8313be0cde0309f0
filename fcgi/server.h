/*
 * fcgi/server.h - the pre-forking FastCGI server: a master that owns the
 * listening socket and N single-threaded workers that accept, handle and
 * answer one request at a time.
 */
#ifndef CONCORD_FCGI_SERVER_H
#define CONCORD_FCGI_SERVER_H

#include "concord/config.h"

/*
 * Runs the server until SIGTERM or SIGINT.  listen_fd is a listening
 * socket (made by server_listen() or passed as fd 0).  The master
 * restarts a worker that dies; on SIGTERM it asks workers to finish the
 * request in hand and waits for them.  Returns the exit status.
 */
int	server_run(const struct cc_config *cfg, int listen_fd);

/*
 * Creates a unix socket at path (a stale socket is replaced), mode 0660,
 * group group (name; NULL or "" keeps the default).  Returns the fd or -1
 * with a message logged.
 */
int	server_listen(const char *path, const char *group);

#endif /* CONCORD_FCGI_SERVER_H */
