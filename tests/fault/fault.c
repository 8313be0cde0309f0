/*
 * fault.c - fault injection for tests: a shared object preloaded into the
 * concord binary (LD_PRELOAD=tests/fault/libconcord_fault.so), never
 * linked into it.  Production code has no hook: the shim works from the
 * outside, through SQLite's documented configuration points and by
 * interposing four libc calls.
 *
 *   CONCORD_FAULT=SPEC[,SPEC...]      what to break, in this process
 *   CONCORD_FAULT_REPORT=FILE         at exit, append "OP COUNT" lines
 *                                     (how many times each OP happened)
 *
 * SPEC is OP:N[:ACTION]: the Nth OP of the process (counted from 1; a
 * forked child goes on counting from its parent's count) and, for the
 * persistent actions, every later one.  SPEC "count" breaks nothing and
 * only counts (with CONCORD_FAULT_REPORT).
 *
 *   OP       what is counted
 *   malloc   SQLite's memory allocations (xMalloc and xRealloc of
 *            SQLITE_CONFIG_MALLOC, https://sqlite.org/c3ref/mem_methods.html)
 *   write    xWrite of every file SQLite opens (a VFS shim registered as
 *            the default, wrapping the platform's, https://sqlite.org/vfs.html)
 *   sync     xSync of those files
 *   fwrite   write(2) on a regular file outside SQLite (uploads, the
 *            token secret, ...); standard output and error are not counted
 *   fsync    fsync(2) outside SQLite (SQLite's unix VFS calls fdatasync)
 *   rename   rename(2) (the upload stored under its hash, model.db installed)
 *
 *   ACTION   effect                                           default for
 *   full     this and every later OP fail: SQLITE_FULL, or     write, fwrite
 *            ENOSPC for libc calls ("disk full")
 *   ioerr    this OP alone fails: SQLITE_IOERR_WRITE/_FSYNC,   sync, fsync,
 *            or EIO for libc calls (rename: EIO)                rename
 *   oom      this and every later allocation fail (NULL)      malloc
 *   kill     the process kills itself with SIGKILL just before
 *            doing this OP ("kill -9 at this point")
 *
 * Example: CONCORD_FAULT=write:40 concord -d DATA run --user u fails every
 * SQLite write from the 40th on with SQLITE_FULL.
 *
 * Limits: counts are per process; a malformed CONCORD_FAULT makes the
 * process exit with status 99 at start (a test must not silently run
 * without its fault).  Not thread-safe beyond what concord needs (one
 * thread per process).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

enum op { OP_MALLOC, OP_WRITE, OP_SYNC, OP_FWRITE, OP_FSYNC, OP_RENAME,
	OP__MAX };
enum action { ACT_NONE, ACT_FULL, ACT_IOERR, ACT_OOM, ACT_KILL };

static const char *const op_names[OP__MAX] = {
	"malloc",	/* OP_MALLOC */
	"write",	/* OP_WRITE */
	"sync",		/* OP_SYNC */
	"fwrite",	/* OP_FWRITE */
	"fsync",	/* OP_FSYNC */
	"rename",	/* OP_RENAME */
};

static const enum action op_default[OP__MAX] = {
	ACT_OOM,	/* OP_MALLOC */
	ACT_FULL,	/* OP_WRITE */
	ACT_IOERR,	/* OP_SYNC */
	ACT_FULL,	/* OP_FWRITE */
	ACT_IOERR,	/* OP_FSYNC */
	ACT_IOERR,	/* OP_RENAME */
};

static struct fault_spec {
	unsigned long	at;		/* 0: not armed */
	enum action	act;
} spec[OP__MAX], armed[OP__MAX];

static unsigned long counts[OP__MAX];
static const char *report;

/* Counts one op; returns the action to take now (ACT_NONE: do it). */
static enum action
tick(enum op op)
{
	unsigned long n = ++counts[op];

	if (spec[op].at == 0 || n < spec[op].at)
		return ACT_NONE;
	switch (spec[op].act) {
	case ACT_KILL:
		if (n == spec[op].at)
			raise(SIGKILL);
		return ACT_NONE;
	case ACT_IOERR:
		return n == spec[op].at ? ACT_IOERR : ACT_NONE;
	default:
		return spec[op].act;	/* persistent */
	}
}

/* ---- SQLite memory: SQLITE_CONFIG_MALLOC around the default ---- */
static sqlite3_mem_methods mem_real;

static void *
mem_malloc(int n)
{
	return tick(OP_MALLOC) == ACT_NONE ? mem_real.xMalloc(n) : NULL;
}

static void *
mem_realloc(void *p, int n)
{
	return tick(OP_MALLOC) == ACT_NONE ? mem_real.xRealloc(p, n) : NULL;
}

static void
mem_free(void *p)
{
	mem_real.xFree(p);
}

static int
mem_size(void *p)
{
	return mem_real.xSize(p);
}

static int
mem_roundup(int n)
{
	return mem_real.xRoundup(n);
}

static int
mem_init(void *a)
{
	return mem_real.xInit(a);
}

static void
mem_shutdown(void *a)
{
	mem_real.xShutdown(a);
}

/* ---- SQLite files: a VFS that wraps the default one ---- */
struct ffile {
	sqlite3_file	 base;
	sqlite3_file	*real;		/* follows this struct */
};

static sqlite3_vfs *vfs_real;
static sqlite3_vfs vfs_shim;
static sqlite3_io_methods io_shim;

#define REAL(f)	(((struct ffile *)(f))->real)

static int
f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int
f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int
f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	switch (tick(OP_WRITE)) {
	case ACT_NONE:
		return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
	case ACT_IOERR:
		return SQLITE_IOERR_WRITE;
	default:
		return SQLITE_FULL;
	}
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	switch (tick(OP_SYNC)) {
	case ACT_NONE:
		return REAL(f)->pMethods->xSync(REAL(f), flags);
	case ACT_FULL:
		return SQLITE_FULL;
	default:
		return SQLITE_IOERR_FSYNC;
	}
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
f_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
f_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
f_shmmap(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int
f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
f_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
f_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int
v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)v;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = vfs_real->xOpen(vfs_real, name, ff->real, flags, out);
	/* SQLite calls xClose when pMethods is set, even after a failure. */
	ff->base.pMethods = ff->real->pMethods != NULL ? &io_shim : NULL;
	if (ff->real->pMethods != NULL)
		io_shim.iVersion = ff->real->pMethods->iVersion;
	return rc;
}

static int
v_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return vfs_real->xDelete(vfs_real, name, sync);
}

static int
v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return vfs_real->xAccess(vfs_real, name, flags, out);
}

static int
v_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return vfs_real->xFullPathname(vfs_real, name, n, out);
}

static void *
v_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return vfs_real->xDlOpen(vfs_real, name);
}

static void
v_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	vfs_real->xDlError(vfs_real, n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return vfs_real->xDlSym(vfs_real, h, sym);
}

static void
v_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	vfs_real->xDlClose(vfs_real, h);
}

static int
v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return vfs_real->xRandomness(vfs_real, n, out);
}

static int
v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return vfs_real->xSleep(vfs_real, us);
}

static int
v_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return vfs_real->xCurrentTime(vfs_real, t);
}

static int
v_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return vfs_real->xGetLastError(vfs_real, n, out);
}

static int
v_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	return vfs_real->xCurrentTimeInt64(vfs_real, t);
}

static int
v_setsyscall(sqlite3_vfs *v, const char *name, sqlite3_syscall_ptr p)
{
	(void)v;
	return vfs_real->xSetSystemCall(vfs_real, name, p);
}

static sqlite3_syscall_ptr
v_getsyscall(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return vfs_real->xGetSystemCall(vfs_real, name);
}

static const char *
v_nextsyscall(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return vfs_real->xNextSystemCall(vfs_real, name);
}

/* ---- libc: write(2), fsync(2), rename(2) outside SQLite ---- */
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_rename)(const char *, const char *);

static void
resolve(void)
{
	if (real_write == NULL) {
		real_write = (ssize_t (*)(int, const void *, size_t))
		    dlsym(RTLD_NEXT, "write");
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
		real_rename = (int (*)(const char *, const char *))
		    dlsym(RTLD_NEXT, "rename");
	}
}

static enum action
libc_tick(enum op op)
{
	enum action a = tick(op);

	if (a == ACT_FULL)
		errno = ENOSPC;
	else if (a != ACT_NONE)
		errno = EIO;
	return a;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	struct stat st;

	resolve();
	if (fd > STDERR_FILENO && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    libc_tick(OP_FWRITE) != ACT_NONE)
		return -1;
	return real_write(fd, buf, n);
}

int
fsync(int fd)
{
	resolve();
	if (libc_tick(OP_FSYNC) != ACT_NONE)
		return -1;
	return real_fsync(fd);
}

int
rename(const char *from, const char *to)
{
	resolve();
	if (libc_tick(OP_RENAME) != ACT_NONE)
		return -1;
	return real_rename(from, to);
}

/* ---- set-up from the environment ---- */
static void
bad(const char *what, const char *s)
{
	fprintf(stderr, "libconcord_fault: %s: %s\n", what, s);
	_exit(99);
}

static void
parse(const char *env)
{
	char buf[512], *save = NULL, *tok, *p, *end;
	unsigned long n;
	int i;

	if (strlen(env) >= sizeof(buf))
		bad("CONCORD_FAULT too long", env);
	strcpy(buf, env);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "count") == 0)
			continue;
		if ((p = strchr(tok, ':')) == NULL)
			bad("want OP:N[:ACTION]", tok);
		*p++ = '\0';
		for (i = 0; i < OP__MAX && strcmp(tok, op_names[i]) != 0; i++)
			;
		if (i == OP__MAX)
			bad("unknown OP", tok);
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno != 0 || end == p || n == 0 ||
		    (*end != '\0' && *end != ':'))
			bad("N must be a positive integer", p);
		armed[i].at = n;
		armed[i].act = op_default[i];
		if (*end == ':') {
			end++;
			if (strcmp(end, "full") == 0)
				armed[i].act = ACT_FULL;
			else if (strcmp(end, "ioerr") == 0)
				armed[i].act = ACT_IOERR;
			else if (strcmp(end, "oom") == 0 && i == OP_MALLOC)
				armed[i].act = ACT_OOM;
			else if (strcmp(end, "kill") == 0)
				armed[i].act = ACT_KILL;
			else
				bad("unknown ACTION for this OP", end);
		}
	}
}

static void
write_report(void)
{
	FILE *f;
	int i;

	if (report == NULL || (f = fopen(report, "a")) == NULL)
		return;
	fprintf(f, "pid %ld\n", (long)getpid());
	for (i = 0; i < OP__MAX; i++)
		fprintf(f, "%s %lu\n", op_names[i], counts[i]);
	fclose(f);
}

__attribute__((constructor)) static void
fault_init(void)
{
	sqlite3_mem_methods mem;
	const char *env = getenv("CONCORD_FAULT");

	resolve();
	if (env == NULL || *env == '\0')
		return;
	parse(env);
	report = getenv("CONCORD_FAULT_REPORT");
	if (report != NULL)
		atexit(write_report);
	/* Before anything initialises SQLite: the allocator first. */
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &mem_real) != SQLITE_OK)
		bad("sqlite3_config", "SQLITE_CONFIG_GETMALLOC refused");
	mem = mem_real;
	mem.xMalloc = mem_malloc;
	mem.xRealloc = mem_realloc;
	mem.xFree = mem_free;
	mem.xSize = mem_size;
	mem.xRoundup = mem_roundup;
	mem.xInit = mem_init;
	mem.xShutdown = mem_shutdown;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
		bad("sqlite3_config", "SQLITE_CONFIG_MALLOC refused");
	if ((vfs_real = sqlite3_vfs_find(NULL)) == NULL)
		bad("sqlite3_vfs_find", "no default VFS");
	vfs_shim = *vfs_real;
	vfs_shim.zName = "concord-fault";
	vfs_shim.szOsFile = (int)sizeof(struct ffile) + vfs_real->szOsFile;
	vfs_shim.pNext = NULL;
	vfs_shim.xOpen = v_open;
	vfs_shim.xDelete = v_delete;
	vfs_shim.xAccess = v_access;
	vfs_shim.xFullPathname = v_fullpath;
	vfs_shim.xDlOpen = v_dlopen;
	vfs_shim.xDlError = v_dlerror;
	vfs_shim.xDlSym = v_dlsym;
	vfs_shim.xDlClose = v_dlclose;
	vfs_shim.xRandomness = v_random;
	vfs_shim.xSleep = v_sleep;
	vfs_shim.xCurrentTime = v_time;
	vfs_shim.xGetLastError = v_lasterr;
	vfs_shim.xCurrentTimeInt64 = v_time64;
	vfs_shim.xSetSystemCall = v_setsyscall;
	vfs_shim.xGetSystemCall = v_getsyscall;
	vfs_shim.xNextSystemCall = v_nextsyscall;
	io_shim = (sqlite3_io_methods){
		3, f_close, f_read, f_write, f_truncate, f_sync, f_size,
		f_lock, f_unlock, f_check, f_fcntl, f_sector, f_chars,
		f_shmmap, f_shmlock, f_shmbarrier, f_shmunmap, f_fetch,
		f_unfetch
	};
	/* sqlite3_vfs_find() initialised SQLite: the allocator was set
	 * just before, as SQLITE_CONFIG_MALLOC requires. */
	if (sqlite3_vfs_register(&vfs_shim, 1) != SQLITE_OK)
		bad("sqlite3_vfs_register", "refused");
	/* Armed only now: what SQLite's own initialisation allocated is
	 * not counted (its failure is not concord's to handle). */
	memset(counts, 0, sizeof(counts));
	memcpy(spec, armed, sizeof(spec));
}
