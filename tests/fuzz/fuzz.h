/*
 * tests/fuzz/fuzz.h - what the fuzz targets share: an assertion that
 * aborts (so that libFuzzer and the replay runner both see a crash), an
 * RFC 3629 UTF-8 check written here independently of the code under
 * test, and a scratch file for the readers that take a path.
 *
 * Every target defines LLVMFuzzerTestOneInput() and, when it needs set-up,
 * LLVMFuzzerInitialize().  Built with clang -fsanitize=fuzzer (make fuzz)
 * they are libFuzzer programs; linked with tests/fuzz/replay.c (make
 * check) they replay a corpus once (tests/fuzz/README.md).
 */
#ifndef CONCORD_FUZZ_H
#define CONCORD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  NUL bytes are allowed here. */
static inline int
fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xC2 && p[i] <= 0xDF)
			len = 2, cp = p[i] & 0x1F, min = 0x80;
		else if (p[i] >= 0xE0 && p[i] <= 0xEF)
			len = 3, cp = p[i] & 0x0F, min = 0x800;
		else if (p[i] >= 0xF0 && p[i] <= 0xF4)
			len = 4, cp = p[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static inline int
fuzz_utf8_str(const char *s)
{
	return s != NULL && fuzz_utf8_valid(s, strlen(s));
}

/* The input as a new NUL-terminated string (the caller frees it). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Writes data to this process's scratch file (in /dev/shm when there is
 * one, so that no disk is touched; removed at exit) and returns its path,
 * static.
 */
static char fuzz_scratch_path[256];

static inline void
fuzz_scratch_unlink(void)
{
	if (fuzz_scratch_path[0] != '\0')
		unlink(fuzz_scratch_path);
}

static inline const char *
fuzz_scratch(const uint8_t *data, size_t size)
{
	char *path = fuzz_scratch_path;
	FILE *f;

	if (path[0] == '\0') {
		snprintf(path, sizeof(fuzz_scratch_path),
		    "%s/concord-fuzz-%ld", access("/dev/shm", W_OK) == 0 ?
		    "/dev/shm" : "/tmp", (long)getpid());
		atexit(fuzz_scratch_unlink);
	}
	if ((f = fopen(path, "wb")) == NULL ||
	    (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

#endif /* CONCORD_FUZZ_H */
