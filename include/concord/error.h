/*
 * concord/error.h - the one error enum every core function returns.
 *
 * Convention (see README "Code layout"): functions return cc_err, 0 is
 * success, and the HTTP layer turns errors into statuses in one place
 * (fcgi/http.c, http_status_of()).  Details a caller needs (a line and a
 * column, a reason) travel in a struct cc_diag filled by the callee.
 */
#ifndef CONCORD_ERROR_H
#define CONCORD_ERROR_H

#include <stddef.h>

typedef enum cc_err {
	CC_OK = 0,        /* success */
	CC_ENOMEM,        /* allocation failed */
	CC_EIO,           /* read, write, open or rename failed (errno kept) */
	CC_EINVAL,        /* a caller passed an invalid argument */
	CC_ENOTFOUND,     /* the thing named does not exist (or is not yours) */
	CC_EEXIST,        /* the thing already exists */
	CC_ETOOBIG,       /* input above a configured limit */
	CC_EPARSE,        /* malformed input: broken CSV, JSON, ... */
	CC_EENCODING,     /* bytes are neither UTF-8 nor Latin-1, or binary */
	CC_EINVALID,      /* well-formed but invalid content (422) */
	CC_EDB,           /* SQLite failed */
	CC_EAUTH,         /* authentication failed (bad password, bad token) */
	CC_EFORBIDDEN,    /* authenticated but not allowed */
	CC_ERATE,         /* throttled: too many attempts */
	CC_ECONFIG,       /* configuration missing or invalid */
	CC_EUNSUPPORTED,  /* a format or option that is not supported */
	CC_ECONFLICT,     /* state conflict (409) */
	CC_EOF,           /* end of input: not an error for iterators */
	CC_EINCOMPLETE,   /* input ended before its announced end, or went
			     past it (a request body cut off: 400) */
	CC__MAX
} cc_err;

/*
 * A diagnostic: where and why an operation failed, for messages to people.
 * Fields that do not apply are 0 (line, column, offset) or "" (strings).
 * line and column are 1-based; column counts characters for text formats
 * (fields for CSV when field is set); offset is a 0-based byte offset.
 */
struct cc_diag {
	long		line;
	long		column;
	long long	offset;
	char		code[40];	/* machine code, e.g. "csv_unterminated_quote" */
	char		message[256];	/* one line for a person */
};

/* Returns a static, human-readable name of err ("out of memory", ...).
 * Never NULL; unknown values give "unknown error". */
const char	*cc_strerror(cc_err err);

/* Clears d (may be NULL). */
void		 cc_diag_clear(struct cc_diag *d);

/*
 * Fills d (may be NULL) with code and a printf-style message and returns
 * err, so that callers can write `return cc_diag_set(d, CC_EPARSE, ...)`.
 * line, column and offset are left as they are.  code and message are
 * always valid UTF-8: a byte of the arguments that is not (input quoted
 * in a message, a character cut at the buffer's end) becomes '?'.
 */
cc_err		 cc_diag_set(struct cc_diag *d, cc_err err, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* CONCORD_ERROR_H */
