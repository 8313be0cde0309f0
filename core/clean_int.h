/*
 * clean_int.h - private helpers shared by core/clean*.c (concord/clean.h).
 * Not installed; nothing outside the clean module includes it.
 */
#ifndef CONCORD_CLEAN_INT_H
#define CONCORD_CLEAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "concord/clean.h"

/* A slice of the caller's raw value (not NUL-terminated). */
struct clean_span {
	const char	*p;
	size_t		 n;
};

/* Checks out/outsize/res, clears res, sets out to "". */
cc_err	 clean_i_start(char *out, size_t outsize, struct clean_result *res);

/* Records rule r in res (bit and, when more specific, primary). */
void	 clean_i_rule(struct clean_result *res, enum clean_rule r);

/*
 * Trims raw into *s and handles missing values.  Returns 1 when a value
 * remains (rule trim recorded when something was cut), 0 when res is
 * final (CLEAN_NULL).  check_tokens 0 skips the null-token test (the
 * caller tests it later with clean_i_null_token()).
 */
int	 clean_i_prep(const char *raw, const struct clean_opts *opt,
	     int check_tokens, struct clean_span *s, struct clean_result *res);

/* 1 when p[0..n) is one of opt's null tokens (ASCII case-insensitive). */
int	 clean_i_null_token(const char *p, size_t n,
	     const struct clean_opts *opt);

/* Sets res to CLEAN_NULL with rule null_token. */
void	 clean_i_null(struct clean_result *res, enum clean_rule why);

/* Copies p[0..n) to out as the value: CC_OK, or CC_ETOOBIG (res set). */
cc_err	 clean_i_put(const char *p, size_t n, char *out, size_t outsize,
	     struct clean_result *res);

/* Sets res to CLEAN_INVALID with issue; out ""; returns CC_OK. */
cc_err	 clean_i_invalid(struct clean_result *res, enum clean_issue issue,
	     char *out);

/* Result of a too-small out: CC_ETOOBIG with res invalid. */
cc_err	 clean_i_toobig(struct clean_result *res, char *out);

/*
 * Decodes one code point at p (n bytes left) into *cp; returns its length
 * in bytes, or -1 when the bytes are not well-formed UTF-8.
 */
int	 clean_i_utf8(const char *p, size_t n, int32_t *cp);

/*
 * Copies p[0..n) into dst (size >= 1 bytes, NUL-terminated) as an example
 * for a person: whole characters only, as many as fit, each ill-formed
 * byte written as U+FFFD, so that dst is always valid UTF-8 (evidence
 * strings go into JSON).
 */
void	 clean_i_example(char *dst, size_t size, const char *p, size_t n);

/* Encodes cp at dst (4 bytes room); returns the length. */
int	 clean_i_encode(int32_t cp, char *dst);

/* Unicode White_Space (with ASCII). */
int	 clean_i_is_space(int32_t cp);

/* Invisible format characters removed everywhere (BOM, ZW*, SHY). */
int	 clean_i_is_invisible(int32_t cp);

/* Trims white space and invisibles at both ends of *s. */
void	 clean_i_trim(struct clean_span *s);

/*
 * Matching key: case fold, strip marks, keep letters and digits only,
 * "&" becomes "and".  Returns the key length, or (size_t)-1 when p is
 * not UTF-8 or the key does not fit in outsize (with its NUL).
 */
size_t	 clean_i_fold(const char *p, size_t n, char *out, size_t outsize);

/* ASCII helpers that ignore the locale. */
int	 clean_i_lower(int c);
int	 clean_i_upper(int c);
int	 clean_i_casecmp(const char *a, size_t an, const char *b);

/*
 * Text core of clean_text(): control and invisible characters dropped,
 * white space collapsed, NFC.  Writes out (NUL-terminated) and *len.
 * CC_EENCODING when p is not UTF-8, CC_ETOOBIG, CC_ENOMEM.
 */
cc_err	 clean_i_text(const char *p, size_t n, unsigned flags, char *out,
	     size_t outsize, size_t *len, struct clean_result *res);

#endif /* CONCORD_CLEAN_INT_H */
