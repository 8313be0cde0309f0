/*
 * concord/util.h - small helpers shared by the modules: time in RFC 3339,
 * random identifiers (libsodium's CSPRNG), directories and atomic files.
 */
#ifndef CONCORD_UTIL_H
#define CONCORD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "concord/error.h"

/* Writes t as RFC 3339 UTC ("2026-11-22T01:02:03Z") into buf (>= 21 bytes).
 * Returns buf. */
char	*util_rfc3339(time_t t, char *buf, size_t size);

/*
 * Writes 2*nbytes lower-case hex characters of fresh random bytes
 * (randombytes_buf) and a NUL into out, which must hold 2*nbytes+1 bytes.
 * Requires sodium_init() to have succeeded.
 */
void	 util_random_hex(char *out, size_t nbytes);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void	 util_hex(const unsigned char *in, size_t len, char *out);

/* mkdir -p with mode for each created directory.  Errors: CC_EIO. */
cc_err	 util_mkdir_p(const char *path, mode_t mode);

/*
 * Writes len bytes to path atomically: a temporary file in the same
 * directory, fsync, rename.  mode is the file's permission bits.
 * Errors: CC_EIO (errno kept).
 */
cc_err	 util_write_file_atomic(const char *path, const void *data,
	     size_t len, mode_t mode);

/*
 * Reads at most max bytes of path into a new NUL-terminated buffer the
 * caller frees; *len gets the length.  Errors: CC_EIO, CC_ETOOBIG (file
 * larger than max), CC_ENOMEM.
 */
cc_err	 util_read_file(const char *path, size_t max, char **out, size_t *len);

/* 1 if s is a plausible opaque id: 1..64 characters of [0-9a-z_-]. */
int	 util_valid_id(const char *s);

/*
 * FNV-1a, 64 bits, of len bytes at key (len 0: the offset basis): offset
 * basis 14695981039346656037, prime 1099511628211 (Fowler, Noll, Vo;
 * draft-eastlake-fnv-21).  Deterministic across runs and builds, and not
 * keyed: for in-memory hash tables whose keys come from one run's own
 * data, where a hostile key set costs time, never correctness.
 */
uint64_t util_fnv1a64(const void *key, size_t len);

#endif /* CONCORD_UTIL_H */
