/*
 * concord/log.h - one line per event on standard error, fixed format:
 *   2026-11-22T01:02:03Z concord[pid] LEVEL message
 * Bytes outside printable ASCII are written as \xHH, so a line never
 * splits and a control sequence never reaches a terminal.  Never log a
 * token, a password, an API key or a full uploaded row.
 */
#ifndef CONCORD_LOG_H
#define CONCORD_LOG_H

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* Sets the lowest level written (default LOG_LVL_INFO). */
void	log_set_level(enum log_level lvl);

/* Writes one line at lvl; printf-style.  Lines longer than 2 KiB are cut. */
void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* CONCORD_LOG_H */
