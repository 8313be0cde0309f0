/*
 * test_workspace.c - temporary files of a workspace: created 0600 and
 * locked (ws_tmp_create()), removed by ws_sweep() only when no living
 * process holds them, and nothing else removed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "concord/workspace.h"

struct fx {
	char	data[64];			/* DATA_DIR */
	char	ws[256];			/* DATA_DIR/workspaces/u1 */
	char	path[PATH_MAX + 64];
};

static char *
at(struct fx *fx, const char *rel)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->ws, rel);
	return fx->path;
}

static void
touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "stale", 5), 5);
	close(fd);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* 1 if another open file description cannot take the lock of path. */
static int
locked(const char *path)
{
	int fd = open(path, O_RDONLY), busy;

	assert_true(fd >= 0);
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char d[PATH_MAX + 32];

	snprintf(fx->data, sizeof(fx->data), "/tmp/concord-ws-XXXXXX");
	assert_non_null(mkdtemp(fx->data));
	snprintf(d, sizeof(d), "%s/workspaces", fx->data);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(fx->ws, sizeof(fx->ws), "%s/workspaces/u1", fx->data);
	assert_int_equal(mkdir(fx->ws, 0700), 0);
	assert_int_equal(mkdir(at(fx, "uploads"), 0700), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->data);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* A template: a new name, mode 0600 whatever the umask, locked. */
static void
test_tmp_create_template(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct stat st;
	mode_t old;
	int fd;

	snprintf(path, sizeof(path), "%s/uploads/" WS_UPLOAD_TMP_PREFIX
	    "XXXXXX", fx->ws);
	old = umask(0);
	assert_int_equal(ws_tmp_create(path, &fd), CC_OK);
	umask(old);
	assert_true(fd >= 0);
	assert_null(strstr(path, "XXXXXX"));
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(locked(path));
	close(fd);
	assert_false(locked(path));
}

/* A fixed name: a stale file (of a killed run) is replaced by a new,
 * empty, 0600 one. */
static void
test_tmp_create_fixed_replaces_stale(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct stat st;
	mode_t old;
	int fd;

	snprintf(path, sizeof(path), "%s/" WS_MODEL_TMP, fx->ws);
	touch(path);
	chmod(path, 0644);
	/* a killed run's WAL beside it: gone too, or SQLite would read it
	 * into the new model */
	touch(at(fx, WS_MODEL_TMP "-wal"));
	touch(at(fx, WS_MODEL_TMP "-shm"));
	old = umask(0);
	assert_int_equal(ws_tmp_create(path, &fd), CC_OK);
	umask(old);
	assert_false(exists(at(fx, WS_MODEL_TMP "-wal")));
	assert_false(exists(at(fx, WS_MODEL_TMP "-shm")));
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(locked(path));
	close(fd);
}

static void
test_tmp_create_errors(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	int fd = 7;

	(void)fx;
	snprintf(path, sizeof(path), "/nonexistent/dir/.upload-XXXXXX");
	assert_int_equal(ws_tmp_create(path, &fd), CC_EIO);
	assert_int_equal(fd, -1);
	snprintf(path, sizeof(path), "/nonexistent/dir/" WS_MODEL_TMP);
	assert_int_equal(ws_tmp_create(path, &fd), CC_EIO);
	assert_int_equal(fd, -1);
}

/* What the dead left goes; what the living hold, registered files and
 * anything that is not a plain temporary file stay. */
static void
test_sweep(void **state)
{
	struct fx *fx = *state;
	char live[PATH_MAX], model[PATH_MAX], outside[PATH_MAX + 32];
	int fd_live, fd_model, status;
	pid_t pid;

	/* left by killed processes: one that held the lock, one that never
	 * did (an older version) */
	pid = fork();
	if (pid == 0) {
		char p[PATH_MAX];
		int fd;
		snprintf(p, sizeof(p), "%s/uploads/" WS_UPLOAD_TMP_PREFIX
		    "dead01", fx->ws);
		fd = open(p, O_RDWR | O_CREAT, 0600);
		_exit(fd >= 0 && flock(fd, LOCK_EX) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	touch(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "stale1"));
	touch(at(fx, WS_MODEL_TMP));
	touch(at(fx, WS_MODEL_TMP "-wal"));	/* its WAL, removed with it */
	touch(at(fx, WS_MODEL_TMP "-shm"));
	/* living: an upload and a run of this process */
	snprintf(live, sizeof(live), "%s/uploads/" WS_UPLOAD_TMP_PREFIX
	    "XXXXXX", fx->ws);
	assert_int_equal(ws_tmp_create(live, &fd_live), CC_OK);
	/* registered bytes, the databases, a directory and a symlink that
	 * merely look like temporary uploads */
	touch(at(fx, "uploads/0123abcd"));
	touch(at(fx, "workspace.db"));
	touch(at(fx, "model.db"));
	assert_int_equal(mkdir(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "dir"),
	    0700), 0);
	snprintf(outside, sizeof(outside), "%s/outside", fx->data);
	touch(outside);
	assert_int_equal(symlink(outside, at(fx, "uploads/"
	    WS_UPLOAD_TMP_PREFIX "link")), 0);

	assert_int_equal(ws_sweep(fx->data), 3);
	assert_false(exists(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "dead01")));
	assert_false(exists(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "stale1")));
	assert_false(exists(at(fx, WS_MODEL_TMP)));
	assert_false(exists(at(fx, WS_MODEL_TMP "-wal")));
	assert_false(exists(at(fx, WS_MODEL_TMP "-shm")));
	assert_true(exists(live));
	assert_true(exists(at(fx, "uploads/0123abcd")));
	assert_true(exists(at(fx, "workspace.db")));
	assert_true(exists(at(fx, "model.db")));
	assert_true(exists(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "dir")));
	assert_true(exists(at(fx, "uploads/" WS_UPLOAD_TMP_PREFIX "link")));
	assert_true(exists(outside));

	/* a run in progress keeps its model.db.tmp */
	snprintf(model, sizeof(model), "%s/" WS_MODEL_TMP, fx->ws);
	assert_int_equal(ws_tmp_create(model, &fd_model), CC_OK);
	touch(at(fx, WS_MODEL_TMP "-wal"));	/* and its WAL */
	assert_int_equal(ws_sweep_dir(fx->ws), 0);
	assert_true(exists(model));
	assert_true(exists(at(fx, WS_MODEL_TMP "-wal")));
	/* once their processes let go, they are the dead's */
	close(fd_live);
	close(fd_model);
	assert_int_equal(ws_sweep_dir(fx->ws), 2);
	assert_false(exists(live));
	assert_false(exists(model));
	assert_false(exists(at(fx, WS_MODEL_TMP "-wal")));
	assert_int_equal(ws_sweep(fx->data), 0);
}

/* No workspaces, a data dir that does not exist, entries that are not
 * user ids: nothing to do, nothing touched. */
static void
test_sweep_nothing(void **state)
{
	struct fx *fx = *state;
	char bad[PATH_MAX + 64];

	assert_int_equal(ws_sweep("/nonexistent"), 0);
	assert_int_equal(ws_sweep_dir("/nonexistent/u1"), 0);
	snprintf(bad, sizeof(bad), "%s/workspaces/Not.An.Id", fx->data);
	assert_int_equal(mkdir(bad, 0700), 0);
	snprintf(bad, sizeof(bad), "%s/workspaces/Not.An.Id/" WS_MODEL_TMP,
	    fx->data);
	touch(bad);
	assert_int_equal(ws_sweep(fx->data), 0);
	assert_true(exists(bad));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tmp_create_template, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_tmp_create_fixed_replaces_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_create_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_nothing, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("workspace", tests, NULL, NULL);
}
