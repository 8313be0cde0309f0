/*
 * server.c - master and workers (fcgi/server.h).
 *
 * Every worker opens its own SQLite handles after fork() (security.md,
 * "FastCGI").  libfcgi's accept is interrupted by SIGTERM because requests
 * are initialised with FCGI_FAIL_ACCEPT_ON_INTR and the handler is
 * installed without SA_RESTART; a request being handled is finished first
 * (SIGTERM and SIGINT are blocked while it is, so that they cannot cut
 * the read of its body).  A request body that stops arriving for
 * body_idle_timeout seconds is abandoned (SO_RCVTIMEO on the connection,
 * seen by http_body_read()).  At start, the master and the runner remove
 * the temporary files killed processes left in the workspaces
 * (ws_sweep()).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "concord/log.h"
#include "concord/runs.h"
#include "concord/workspace.h"
#include "authcache.h"
#include "http.h"
#include "routes.h"
#include "server.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
install(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: accept() must return */
	sigaction(sig, &sa, NULL);
}

int
server_listen(const char *path, const char *group)
{
	struct sockaddr_un sun;
	struct group *gr;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("socket path too long: %s", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);		/* a stale socket from an earlier run */
	old = umask(0117);	/* born 0660: no window with wider rights */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		log_error("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL ||
		    chown(path, (uid_t)-1, gr->gr_gid) != 0) {
			log_error("socket group %s: %s", group,
			    gr == NULL ? "no such group" : strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (chmod(path, 0660) != 0 || listen(fd, 128) != 0) {
		log_error("listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * The idle timeout of a request body: a read of the connection that
 * waits longer than seconds fails with EAGAIN.  fcgiapp.h lists ipcFd
 * among the fields not to use, but it is libfcgi's only handle on the
 * accepted connection (every 2.4 release has it); the parameters were
 * read during the accept, so what the timeout governs is the body.
 */
static void
set_body_timeout(FCGX_Request *fr, long seconds)
{
	struct timeval tv;

	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	if (fr->ipcFd >= 0 && setsockopt(fr->ipcFd, SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)) != 0)
		log_warn("worker: SO_RCVTIMEO: %s", strerror(errno));
}

/*
 * Serves the request accepted in fr.  Returns 1 when its body was read to
 * the end (http_drain()), so nothing more can arrive on the connection.
 */
static int
handle(FCGX_Request *fr, struct app *app)
{
	struct http_req req;
	cc_err err;
	int ended;

	err = http_req_init(&req, fr, app);
	if (err != CC_OK)
		http_error(&req, err == CC_ENOMEM ? 500 : 400, "bad_request",
		    "malformed request line or query string");
	else
		routes_dispatch(&req);
	if (req.status == 0)
		http_error(&req, 500, "internal", "no response");
	/* An early answer (401, 403, 415...) leaves the body unread: read
	 * it, so the web server does not see the connection cut. */
	ended = http_drain(&req);
	/* One line per request; never a token or a body. */
	log_info("req=%s %s %s %d %lld %ldms user=%s", req.request_id,
	    req.method, req.path != NULL ? req.path : "-", req.status,
	    req.sent, elapsed_ms(&req.start),
	    req.authed ? req.user.username : "-");
	http_req_free(&req);
	return ended;
}

static int
worker(const struct cc_config *cfg, const unsigned char *key, size_t keylen,
    int listen_fd)
{
	struct cc_diag diag;
	sigset_t term, old;
	FCGX_Request fr;
	struct app app;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	install(SIGTERM, on_term);
	install(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	memset(&app, 0, sizeof(app));
	app.cfg = *cfg;
	memcpy(app.key, key, keylen);
	app.keylen = keylen;
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &app.ctl, &diag) != CC_OK) {
		log_error("worker: %s", diag.message);
		return 1;
	}
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("worker: FastCGI initialisation failed");
		control_close(app.ctl);
		return 1;
	}
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		/* Held back until the answer is out; then the loop ends. */
		sigprocmask(SIG_BLOCK, &term, &old);
		set_body_timeout(&fr, cfg->body_idle_timeout);
		/*
		 * libfcgi closes a connection with a lingering close:
		 * shutdown(SHUT_WR), then poll() and read() until the web
		 * server closes its end (up to 2 s), so that a peer still
		 * sending is not cut off.  When the request's FCGI_STDIN was
		 * read to its end, nothing more can come (nginx sends no
		 * FCGI_ABORT_REQUEST without fastcgi_keep_conn), and the
		 * worker closes at once: FCGX_Detach() makes FCGX_Finish_r()
		 * close without the shutdown.  The answer is already in the
		 * peer's receive queue of the Unix socket and is not lost.
		 */
		if (handle(&fr, &app))
			FCGX_Detach(&fr);
		FCGX_Finish_r(&fr);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	FCGX_Free(&fr, 0);
	authcache_free(app.auth);
	control_close(app.ctl);
	sodium_memzero(app.key, sizeof(app.key));
	return 0;
}

/* The runner stops a run in progress when the service stops. */
static int
runner_tick(void *arg, const char *phase, long long done, long long total)
{
	(void)arg;
	(void)phase;
	(void)done;
	(void)total;
	return stopping != 0;
}

/* Ends runs a previous runner left behind (it died mid-run). */
static void
runner_recover(const struct cc_config *cfg, struct control *ctl)
{
	struct workspace *ws;
	json_t *orphans = NULL, *o;
	size_t i;

	if (control_queue_orphans(ctl, &orphans) != CC_OK)
		return;
	json_array_foreach(orphans, i, o) {
		if (ws_open(cfg->data_dir, json_string_value(json_object_get(o,
		    "user_id")), &ws, NULL) != CC_OK)
			continue;
		if (runs_recover(ws) > 0)
			log_warn("run %s: its runner ended; marked failed",
			    json_string_value(json_object_get(o, "run_id")));
		ws_close(ws);
	}
	json_decref(orphans);
}

/*
 * The runner: claims queued runs from the control database and executes
 * them one at a time, outside any request, so that workers stay free.
 */
static int
runner(const struct cc_config *cfg)
{
	char run_id[33], user_id[64 + 1];	/* a workspace key (teams.h) */
	const struct timespec pause = { 0, 300 * 1000 * 1000 };
	struct control *ctl = NULL;
	struct workspace *ws;
	struct cc_diag diag;
	cc_err err;
	int n;

	install(SIGTERM, on_term);
	install(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	/* /proc/PID/comm says which process runs the runs */
	prctl(PR_SET_NAME, "concord-runner", 0, 0, 0);
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK) {
		log_error("runner: %s", diag.message);
		return 1;
	}
	/* The model.db.tmp of a run killed with its runner (and uploads of
	 * killed workers); files of living processes are locked and kept. */
	if ((n = ws_sweep(cfg->data_dir)) > 0)
		log_info("runner: removed %d temporary file%s left by killed"
		    " processes", n, n == 1 ? "" : "s");
	runner_recover(cfg, ctl);
	while (!stopping) {
		if (control_queue_claim(ctl, (long)getpid(), run_id, user_id) !=
		    CC_OK) {
			nanosleep(&pause, NULL);
			continue;
		}
		cc_diag_clear(&diag);
		if (ws_open(cfg->data_dir, user_id, &ws, &diag) != CC_OK) {
			log_error("run %s: workspace: %s", run_id, diag.message);
			control_queue_end(ctl, run_id);
			continue;
		}
		log_info("run %s: started", run_id);
		err = runs_execute(ws, run_id, NULL, runner_tick, NULL, &diag);
		log_info("run %s: %s%s%s", run_id, err == CC_OK ? "done" :
		    err == CC_ECONFLICT ? "cancelled" : "failed",
		    err == CC_OK ? "" : ": ", err == CC_OK ? "" : diag.message);
		ws_close(ws);
		control_queue_end(ctl, run_id);
	}
	control_close(ctl);
	return 0;
}

static pid_t
spawn_runner(const struct cc_config *cfg)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(runner(cfg));
	if (pid < 0)
		log_error("fork: %s", strerror(errno));
	return pid;
}

static pid_t
spawn(const struct cc_config *cfg, const unsigned char *key, size_t keylen,
    int listen_fd)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(worker(cfg, key, keylen, listen_fd));
	if (pid < 0)
		log_error("fork: %s", strerror(errno));
	return pid;
}

int
server_run(const struct cc_config *cfg, int listen_fd)
{
	unsigned char key[AUTH_SECRET_MAX];
	struct control *ctl = NULL;
	struct cc_diag diag;
	size_t keylen = 0;
	pid_t *pids, pid, runner_pid = 0;
	time_t last_restart = 0;
	int i, n = cfg->workers, status, alive;

	cc_diag_clear(&diag);
	/* Check what workers need before forking, so errors show at once;
	 * the handle is closed again: workers open their own. */
	if (auth_secret_load(cfg->data_dir, key, &keylen, &diag) != CC_OK ||
	    control_open(cfg->data_dir, &ctl, &diag) != CC_OK) {
		log_error("%s", diag.message);
		return 1;
	}
	control_close(ctl);
	/* Before any worker or runner exists: what killed ones left. */
	if ((i = ws_sweep(cfg->data_dir)) > 0)
		log_info("removed %d temporary file%s left by killed processes",
		    i, i == 1 ? "" : "s");
	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		return 1;
	install(SIGTERM, on_term);
	install(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		pids[i] = spawn(cfg, key, keylen, listen_fd);
	runner_pid = spawn_runner(cfg);
	log_info("serving with %d workers and a runner (data %s)", n,
	    cfg->data_dir);
	while (!stopping) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pid == runner_pid) {
			runner_pid = 0;
			if (!stopping) {
				log_warn("runner %ld ended; restarting", (long)pid);
				if (time(NULL) == last_restart)
					sleep(1);
				last_restart = time(NULL);
				runner_pid = spawn_runner(cfg);
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			pids[i] = 0;
			if (stopping)
				break;
			log_warn("worker %ld ended (%s %d); restarting",
			    (long)pid, WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
			/* A worker that dies at once must not spin the CPU. */
			if (time(NULL) == last_restart)
				sleep(1);
			last_restart = time(NULL);
			pids[i] = spawn(cfg, key, keylen, listen_fd);
		}
	}
	log_info("stopping: waiting for workers to finish their requests");
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	if (runner_pid > 0) {
		kill(runner_pid, SIGTERM);
		waitpid(runner_pid, &status, 0);
	}
	do {
		alive = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, 0) == pids[i] ||
			    errno == ECHILD)
				pids[i] = 0;
			else
				alive = 1;
		}
	} while (alive);
	free(pids);
	sodium_memzero(key, sizeof(key));
	return 0;
}
