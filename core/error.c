/* error.c - error names and diagnostics (see concord/error.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "concord/error.h"

static const char *const names[CC__MAX] = {
	"success",				/* CC_OK */
	"out of memory",			/* CC_ENOMEM */
	"input/output error",			/* CC_EIO */
	"invalid argument",			/* CC_EINVAL */
	"not found",				/* CC_ENOTFOUND */
	"already exists",			/* CC_EEXIST */
	"too large",				/* CC_ETOOBIG */
	"malformed input",			/* CC_EPARSE */
	"invalid text encoding",		/* CC_EENCODING */
	"invalid content",			/* CC_EINVALID */
	"database error",			/* CC_EDB */
	"authentication failed",		/* CC_EAUTH */
	"not allowed",				/* CC_EFORBIDDEN */
	"too many attempts",			/* CC_ERATE */
	"configuration error",			/* CC_ECONFIG */
	"unsupported",				/* CC_EUNSUPPORTED */
	"conflict",				/* CC_ECONFLICT */
	"end of input",				/* CC_EOF */
	"incomplete input",			/* CC_EINCOMPLETE */
};

const char *
cc_strerror(cc_err err)
{
	if ((int)err < 0 || err >= CC__MAX || names[err] == NULL)
		return "unknown error";
	return names[err];
}

void
cc_diag_clear(struct cc_diag *d)
{
	if (d != NULL)
		memset(d, 0, sizeof(*d));
}

/*
 * Messages go into JSON answers and logs: every byte that is not part of
 * well-formed UTF-8 (RFC 3629) becomes '?', in place.  Such bytes come
 * from the input a message quotes (Jansson's "near '...'" holds the bytes
 * where it stopped) or from a cut at the buffer's end.
 */
static void
utf8_or_mark(char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(n - i), &cp);
		if (k < 0) {
			s[i++] = '?';
			continue;
		}
		i += (size_t)k;
	}
}

cc_err
cc_diag_set(struct cc_diag *d, cc_err err, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return err;
	snprintf(d->code, sizeof(d->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	utf8_or_mark(d->message);
	utf8_or_mark(d->code);
	return err;
}
