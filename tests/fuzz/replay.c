/*
 * replay.c - a main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file of the directories (or
 * files) named on the command line, in name order, and prints one TAP
 * result for the whole replay (so that make check counts one test per
 * target).  A target's invariant failure aborts and so fails the test;
 * under --enable-sanitizers so does a memory error.  This is how CI
 * replays the corpus and every crash ever found (tests/fuzz/README.md).
 *
 *	tests/fuzz/replay_TARGET [DIR|FILE...]
 *
 * Without arguments (as make check runs it) it replays
 * SRCDIR/tests/fuzz/corpus/TARGET and SRCDIR/tests/fuzz/regressions/TARGET
 * (the latter may be missing: no crash found yet).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* Optional in a target. */
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t	nfiles;

static int
one(const char *path)
{
	unsigned char *buf;
	struct stat st;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		abort();
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
	/* a copy of exactly n bytes, as libFuzzer gives, so that a read
	 * past the end is seen by the sanitizers */
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	nfiles++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
walk(const char *dir)
{
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	int rc = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		printf("# %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap && (names = realloc(names, (cap = cap * 2 + 64) *
		    sizeof(*names))) == NULL)
			abort();
		if ((names[n++] = strdup(e->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (one(path) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	struct stat st;
	int i, rc = 0;

	name = name != NULL ? name + 1 : argv[0];
	if (strncmp(name, "replay_", 7) == 0)
		name += 7;
	printf("1..1\n");
	fflush(stdout);
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		char corpus[4096], regress[4096];

		snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/%s",
		    SRCDIR, name);
		snprintf(regress, sizeof(regress),
		    "%s/tests/fuzz/regressions/%s", SRCDIR, name);
		if (walk(corpus) != 0)
			rc = -1;
		if (stat(regress, &st) == 0 && walk(regress) != 0)
			rc = -1;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			printf("# %s: %s\n", argv[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode) ? walk(argv[i]) != 0 :
		    one(argv[i]) != 0)
			rc = -1;
	}
	if (nfiles == 0)
		rc = -1;
	printf("%s 1 - %s: replayed %zu inputs\n", rc == 0 ? "ok" : "not ok",
	    name, nfiles);
	return rc == 0 ? 0 : 1;
}
