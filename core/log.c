/* log.c - one sanitised line per event on stderr (concord/log.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "concord/log.h"

static enum log_level min_level = LOG_LVL_INFO;

void
log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
	char msg[2048], out[2048 * 4 + 128];
	size_t n, o = 0;
	struct tm tm;
	time_t now;
	va_list ap;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now = time(NULL);
	gmtime_r(&now, &tm);
	o = strftime(out, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
	o += (size_t)snprintf(out + o, 64, " concord[%ld] %s ", (long)getpid(),
	    names[lvl]);
	for (n = 0; msg[n] != '\0'; n++) {
		unsigned char c = (unsigned char)msg[n];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
	}
	out[o++] = '\n';
	/* One write(2) per line: lines of concurrent workers do not mix. */
	(void)!write(STDERR_FILENO, out, o);
}
