/* error.c - error names and diagnostics (see concord/error.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	return err;
}
