/*
 * query.c - table requests of the read side (concord/query.h): parse and
 * validate the parameters against the table's catalogue, build one SQL
 * text with quoted identifiers and numbered parameters, and stream the
 * rows as JSON, CSV or NDJSON through a writer callback.
 *
 * Schema: the model's tables live in model.db, attached to the workspace
 * as "model" once a run has built it (core/workspace.c); without it (a
 * database made by model_create() alone, as in the tests) they are in
 * "main".  Every name is qualified with that schema, so a table of
 * workspace.db can never stand in for one of the model.
 *
 * Memory: one output buffer (flushed at 64 KiB, grown only for a row
 * larger than that) and SQLite's own statement state; nothing grows with
 * the number of rows.  Page mode runs a probe first (the sort keys of at
 * most _size + 1 rows) so that the Link header is known before the first
 * byte of the body; both statements run in one read transaction, so they
 * see the same rows.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "concord/model.h"
#include "concord/query.h"
#include "concord/util.h"

#define OUT_CHUNK	65536		/* flush threshold of the writer */
#define MAX_IN_VALUES	1000		/* items of one __in filter */
#define MAX_FILTERS	32		/* filters of one request */
#define MAX_TOKEN	2048		/* characters of a _next token */
#define MAX_NAME	128		/* bytes of a table or column name */

static const char *const type_names[QUERY__T_MAX] = {
	"text",		/* QUERY_T_TEXT */
	"integer",	/* QUERY_T_INTEGER */
	"real",		/* QUERY_T_REAL */
	"money",	/* QUERY_T_MONEY */
	"date",		/* QUERY_T_DATE */
	"timestamp",	/* QUERY_T_TIMESTAMP */
	"boolean",	/* QUERY_T_BOOLEAN */
};

static const char *const op_names[QUERY__OP_MAX] = {
	"exact",	/* QUERY_OP_EXACT */
	"not",		/* QUERY_OP_NOT */
	"contains",	/* QUERY_OP_CONTAINS */
	"startswith",	/* QUERY_OP_STARTSWITH */
	"gt",		/* QUERY_OP_GT */
	"gte",		/* QUERY_OP_GTE */
	"lt",		/* QUERY_OP_LT */
	"lte",		/* QUERY_OP_LTE */
	"in",		/* QUERY_OP_IN */
	"isnull",	/* QUERY_OP_ISNULL */
};

static const char *const op_sql[QUERY__OP_MAX] = {
	"=", "IS NOT", NULL, NULL, ">", ">=", "<", "<=", NULL, NULL,
};

static const struct {
	const char	*mime;
	const char	*ext;
} formats[QUERY__FORMAT_MAX] = {
	{ "application/json", "json" },			/* QUERY_JSON */
	{ "text/csv; charset=utf-8", "csv" },		/* QUERY_CSV */
	{ "application/x-ndjson", "ndjson" },		/* QUERY_NDJSON */
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  "xlsx" },					/* QUERY_XLSX */
};

/* Reserved parameters; anything else is a filter. */
enum qparam {
	P_SIZE = 0, P_NEXT, P_SORT, P_SORT_DESC, P_COL, P_NOCOL, P_SHAPE,
	P_HEADER, P_FORMULAS, P_STREAM, P_DL, P_FORMAT, P__MAX
};

static const char *const param_names[P__MAX] = {
	"_size",	/* P_SIZE */
	"_next",	/* P_NEXT */
	"_sort",	/* P_SORT */
	"_sort_desc",	/* P_SORT_DESC */
	"_col",		/* P_COL (repeatable) */
	"_nocol",	/* P_NOCOL (repeatable) */
	"_shape",	/* P_SHAPE */
	"_header",	/* P_HEADER */
	"_formulas",	/* P_FORMULAS */
	"_stream",	/* P_STREAM */
	"_dl",		/* P_DL */
	"_format",	/* P_FORMAT: chosen by the handler */
};

/* A typed value: a filter operand or a keyset position. */
struct qval {
	int		 kind;		/* SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB,
					   _NULL */
	sqlite3_int64	 i;
	double		 d;
	char		*s;		/* kinds TEXT and BLOB: owned */
	size_t		 n;
};

struct qcol {
	char		*name;
	char		*ident;		/* "name" quoted as an SQL identifier */
	char		*jkey;		/* "name": as JSON */
	size_t		 jkeylen;
	enum query_type	 type;
};

struct qfilter {
	int		 col;
	enum query_op	 op;
	struct qval	*v;		/* operands (nv of them) */
	size_t		 nv;
	int		 want_null;	/* isnull */
};

/* A growing byte buffer. */
struct qbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

/* What the authorizer lets a statement read. */
struct qauth {
	const char	*schema;
	const char	*table;
};

/* Time spent inside SQLite for one request (progress handler). */
struct qclock {
	long	limit_ms;
	double	spent;			/* ms inside sqlite3_step so far */
	double	start;			/* ms, monotonic, of the current step */
	int	in_step;		/* inside qstep(): other statements
					   (catalogue look-ups) are not timed */
	int	fired;
	int	(*gone)(void *);	/* the client went away */
	void	*gone_ctx;
	double	next_gone;		/* ms: when gone() is asked next */
	int	gone_fired;
};

struct query {
	char			 schema[8];	/* "model" or "main" */
	char			 table[MAX_NAME];
	char			*ident;		/* "schema"."table" */
	enum query_format	 fmt;
	struct query_limits	 lim;
	struct qcol		*cols;		/* catalogue order */
	size_t			 ncols;
	int			*sel;		/* selected column indexes */
	size_t			 nsel;
	struct qfilter		*filters;
	size_t			 nfilters;
	int			 sort;		/* column index, -1: rowid */
	int			 desc;
	int			 size;
	int			 stream, dl, header, formulas_raw, arrays;
	const char		*rowid;		/* rowid, _rowid_ or oid */
	int			 has_after;
	struct qval		 after;		/* sort value of the last row */
	struct qval		 after_r;	/* its rowid (SQLITE_INTEGER) */
	struct query_param	*params;	/* copies, for next_url */
	size_t			 nparams;
	json_t			*filters_json;
	json_t			*sort_json;
	char			*sql;		/* rows */
	char			*probe_sql;	/* page mode: keys of
						   size+1 rows */
	const struct qval	**binds;	/* ?1..?nbinds */
	size_t			 nbinds;
	/* After query_open(). */
	sqlite3			*db;
	struct qauth		 auth;
	sqlite3_stmt		*st;
	int			 in_txn;
	struct qclock		 clk;
	char			*run_id;
	char			*next_token;
	char			*next_url;
	char			 generated_at[32];
};

/* ---- statement cache ------------------------------------------------- */

/*
 * A worker answers the same few statements again and again (the
 * catalogue look-ups, the latest run, a page's probe and rows): they are
 * kept prepared between requests, per connection, keyed by their SQL
 * text.  stc_prepare() hands out a kept statement that is not in use, or
 * prepares one (SQLITE_PREPARE_PERSISTENT); stc_release() resets it and
 * clears its bindings for the next request.  SQLite re-prepares a kept
 * statement by itself when the schema changed.  query_cache_drop()
 * finalizes a connection's statements before it is closed.  A statement
 * prepared under the authorizer is kept apart from one prepared without
 * it (and from one of another table), even with the same text: the key
 * is the text and the authorizer's table.
 */
#define STC_MAX	64

static struct stc {
	sqlite3		*db;
	char		*sql;
	char		*akey;		/* "schema.table" authorized, or NULL */
	sqlite3_stmt	*st;
	int		 busy;
	unsigned long	 used;
} stc[STC_MAX];
static unsigned long stc_clock;

/* The authorizer's part of a kept statement's key (NULL: none). */
static int
same_akey(const char *kept, const char *akey)
{
	if (kept == NULL || akey == NULL)
		return kept == akey;
	return strcmp(kept, akey) == 0;
}

static void	cmemo_drop(sqlite3 *);

static int
stc_prepare_as(sqlite3 *db, const char *akey, const char *sql,
    sqlite3_stmt **out)
{
	struct stc *e, *victim = NULL;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < STC_MAX; i++) {
		e = &stc[i];
		if (e->st != NULL && !e->busy && e->db == db &&
		    strcmp(e->sql, sql) == 0 && same_akey(e->akey, akey)) {
			e->busy = 1;
			e->used = ++stc_clock;
			*out = e->st;
			return SQLITE_OK;
		}
		if (!e->busy && (victim == NULL || e->st == NULL ||
		    (victim->st != NULL && e->used < victim->used)))
			victim = e;
	}
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	    NULL);
	if (rc != SQLITE_OK || *out == NULL || victim == NULL)
		return rc;
	if (victim->st != NULL) {
		sqlite3_finalize(victim->st);
		free(victim->sql);
		free(victim->akey);
		memset(victim, 0, sizeof(*victim));
	}
	if ((victim->sql = strdup(sql)) == NULL ||
	    (akey != NULL && (victim->akey = strdup(akey)) == NULL)) {
		free(victim->sql);
		victim->sql = NULL;
		return rc;		/* not kept: finalized on release */
	}
	victim->db = db;
	victim->st = *out;
	victim->busy = 1;
	victim->used = ++stc_clock;
	return rc;
}

static int
stc_prepare(sqlite3 *db, const char *sql, int nbyte, sqlite3_stmt **out,
    const char **tail)
{
	(void)nbyte;
	(void)tail;
	return stc_prepare_as(db, NULL, sql, out);
}

static int
stc_release(sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL)
		return SQLITE_OK;
	for (i = 0; i < STC_MAX; i++)
		if (stc[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			stc[i].busy = 0;
			return SQLITE_OK;
		}
	return sqlite3_finalize(st);
}

/* One fixed statement without rows (BEGIN, COMMIT), kept prepared. */
static int
stc_exec(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stc_prepare(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	stc_release(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void
query_cache_drop(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < STC_MAX; i++)
		if (stc[i].st != NULL && stc[i].db == db) {
			sqlite3_finalize(stc[i].st);
			free(stc[i].sql);
			free(stc[i].akey);
			memset(&stc[i], 0, sizeof(stc[i]));
		}
	cmemo_drop(db);
	query_authorizer_lost(db);
}

/* ---- small helpers ------------------------------------------------- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int
qb_reserve(struct qbuf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

static void
qb_put(struct qbuf *b, const void *s, size_t n)
{
	if (qb_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
qb_puts(struct qbuf *b, const char *s)
{
	qb_put(b, s, strlen(s));
}

static void
qb_putc(struct qbuf *b, char c)
{
	if (qb_reserve(b, 1) != 0)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void qb_printf(struct qbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
qb_printf(struct qbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || qb_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The buffer's text, handed over to the caller (NULL when out of memory). */
static char *
qb_take(struct qbuf *b)
{
	char *p;

	if (b->oom || qb_reserve(b, 0) != 0) {
		free(b->p);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/*
 * Length of the valid UTF-8 sequence at s[0..n) (1 to 4 bytes), or 0 when
 * the bytes there are not one (overlong forms, surrogates and code points
 * above U+10FFFF are invalid: RFC 3629).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80 || (c == 0xF0 && s[1] < 0x90) ||
		    (c == 0xF4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(u + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

#define EXCERPT	48		/* bytes of request text in a message */

/*
 * A printable excerpt of request text for an error message: at most
 * EXCERPT bytes of whole UTF-8 characters, control characters and
 * invalid bytes as '?', "..." when cut.  The envelope is JSON, and a
 * message that is not UTF-8 could not be sent.  out holds EXCERPT + 4
 * bytes; returns out.
 */
static const char *
excerpt(const char *s, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, k, n = strlen(s);

	while (i < n) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			k = 0;
		else
			k = utf8_seq(u + i, n - i);
		if (o + (k == 0 ? 1 : k) > EXCERPT) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (k == 0) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

/* Appends s[0..n) as a JSON string (RFC 8259), invalid UTF-8 as U+FFFD. */
static void
put_json_str(struct qbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, k;
	char esc[8];

	qb_putc(b, '"');
	while (i < n) {
		unsigned c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_seq(u + i, n - i)) != 0) {
			i += k;
			continue;
		}
		qb_put(b, s + run, i - run);
		if (c >= 0x80)
			qb_put(b, replacement, 3);
		else {
			switch (c) {
			case '"':	qb_put(b, "\\\"", 2); break;
			case '\\':	qb_put(b, "\\\\", 2); break;
			case '\n':	qb_put(b, "\\n", 2); break;
			case '\r':	qb_put(b, "\\r", 2); break;
			case '\t':	qb_put(b, "\\t", 2); break;
			case '\b':	qb_put(b, "\\b", 2); break;
			case '\f':	qb_put(b, "\\f", 2); break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				qb_put(b, esc, 6);
			}
		}
		run = ++i;
	}
	qb_put(b, s + run, i - run);
	qb_putc(b, '"');
}

/* Appends s[0..n) as one CSV field (see query_csv_field()). */
static void
put_csv_str(struct qbuf *b, const char *s, size_t n, int formula_safe,
    int first_column)
{
	const unsigned char *u = (const unsigned char *)s;
	int prefix = 0, quote;
	size_t i, run, k;

	if (n == 0) {
		qb_put(b, "\"\"", 2);
		return;
	}
	if (formula_safe && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	    s[0] == '@' || s[0] == '\t' || s[0] == '\r' || s[0] == '\0'))
		prefix = 1;
	quote = (first_column && !prefix && s[0] == '#') ||
	    memchr(s, ',', n) != NULL || memchr(s, '"', n) != NULL ||
	    memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
	if (quote)
		qb_putc(b, '"');
	if (prefix)
		qb_putc(b, '\'');
	if (!quote && utf8_valid(s, n)) {
		qb_put(b, s, n);
		return;
	}
	for (i = run = 0; i < n; ) {
		if (u[i] == '"') {
			/* Up to the quote included, then another. */
			qb_put(b, s + run, i + 1 - run);
			qb_putc(b, '"');
			run = ++i;
		} else if (u[i] < 0x80)
			i++;
		else if ((k = utf8_seq(u + i, n - i)) != 0)
			i += k;
		else {
			qb_put(b, s + run, i - run);
			qb_put(b, replacement, 3);
			run = ++i;
		}
	}
	qb_put(b, s + run, n - run);
	if (quote)
		qb_putc(b, '"');
}

size_t
query_csv_field(const char *s, size_t len, int formula_safe,
    int first_column, char *out, size_t outsize)
{
	struct qbuf b = { 0 };
	size_t n;

	put_csv_str(&b, s, len, formula_safe, first_column);
	if (b.oom) {
		free(b.p);
		return (size_t)-1;
	}
	n = b.len;
	if (n < outsize) {
		memcpy(out, b.p, n);
		out[n] = '\0';
	}
	free(b.p);
	return n;
}

/* Decimal digits of v into buf (>= 21 bytes); returns the length. */
static size_t
fmt_i64(sqlite3_int64 v, char *buf)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	char tmp[24];
	size_t i = 0, o = 0;

	do {
		tmp[i++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[o++] = '-';
	while (i > 0)
		buf[o++] = tmp[--i];
	buf[o] = '\0';
	return o;
}

size_t
query_money_format(int64_t minor, char *buf)
{
	unsigned long long u = minor < 0 ? 0ULL - (unsigned long long)minor :
	    (unsigned long long)minor;
	char tmp[24];
	size_t i = 0, o = 0, keep;

	do {
		tmp[i++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 || i < QUERY_MONEY_DIGITS + 1);
	if (minor < 0)
		buf[o++] = '-';
	while (i > QUERY_MONEY_DIGITS)
		buf[o++] = tmp[--i];
	buf[o++] = '.';
	/* the fraction: every digit up to the last non-zero one, at least
	 * QUERY_MONEY_MIN_DIGITS */
	for (keep = QUERY_MONEY_DIGITS; keep > QUERY_MONEY_MIN_DIGITS &&
	    tmp[QUERY_MONEY_DIGITS - keep] == '0'; keep--)
		;
	while (keep > 0) {
		buf[o++] = tmp[--i];
		keep--;
	}
	buf[o] = '\0';
	return o;
}

cc_err
query_money_parse(const char *s, int64_t *minor)
{
	unsigned long long whole = 0, frac = 0, limit, total, unit = 1;
	const char *p = s;
	int neg = 0, nd = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return CC_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (~0ULL - 9) / 10)
			return CC_EINVAL;
		whole = whole * 10 + (unsigned)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (nd == QUERY_MONEY_DIGITS)
				return CC_EINVAL;
			frac = frac * 10 + (unsigned)(*p - '0');
			nd++;
		}
		if (nd == 0)
			return CC_EINVAL;
	}
	if (*p != '\0')
		return CC_EINVAL;
	for (; nd < QUERY_MONEY_DIGITS; nd++)
		frac *= 10;
	for (nd = 0; nd < QUERY_MONEY_DIGITS; nd++)
		unit *= 10;
	limit = neg ? (unsigned long long)INT64_MAX + 1 :
	    (unsigned long long)INT64_MAX;
	if (whole > (limit - frac) / unit)
		return CC_EINVAL;
	total = whole * unit + frac;
	if (!neg)
		*minor = (int64_t)total;
	else if (total == 0)
		*minor = 0;
	else
		*minor = -(int64_t)(total - 1) - 1;
	return CC_OK;
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as d (finite), into
 * buf (>= 32 bytes).
 */
static size_t
fmt_real(double d, char *buf)
{
	int prec, n = 0;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return (size_t)n;
}

const char *
query_type_name(enum query_type t)
{
	return (unsigned)t < QUERY__T_MAX ? type_names[t] : "text";
}

enum query_type
query_type_of(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < QUERY__T_MAX; i++)
		if (strcmp(name, type_names[i]) == 0)
			return (enum query_type)i;
	return QUERY_T_TEXT;
}

const char *
query_op_name(enum query_op op)
{
	return (unsigned)op < QUERY__OP_MAX ? op_names[op] : "?";
}

int
query_op_of(const char *name)
{
	int i;

	for (i = 0; i < QUERY__OP_MAX; i++)
		if (strcmp(name, op_names[i]) == 0)
			return i;
	return -1;
}

const char *
query_content_type(enum query_format fmt)
{
	return formats[(unsigned)fmt < QUERY__FORMAT_MAX ? fmt : 0].mime;
}

const char *
query_extension(enum query_format fmt)
{
	return formats[(unsigned)fmt < QUERY__FORMAT_MAX ? fmt : 0].ext;
}

void
query_limits_default(struct query_limits *lim)
{
	lim->size_default = 100;
	lim->size_max = 1000;
	lim->stream_max_rows = 5000000;
	lim->stream_max_bytes = 4LL << 30;
	lim->time_limit_ms = 10000;
	lim->stream_time_limit_ms = 120000;
	lim->gone = NULL;
	lim->gone_ctx = NULL;
	lim->tmpdir = NULL;
}

/* "name" with inner quotes doubled: an SQL identifier. */
static char *
quote_ident(const char *name)
{
	struct qbuf b = { 0 };
	const char *p;

	qb_putc(&b, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"')
			qb_putc(&b, '"');
		qb_putc(&b, *p);
	}
	qb_putc(&b, '"');
	return qb_take(&b);
}

/* "schema"."table". */
static char *
qualified(const char *schema, const char *table)
{
	char *s = quote_ident(schema), *t = quote_ident(table);
	struct qbuf b = { 0 };

	if (s != NULL && t != NULL)
		qb_printf(&b, "%s.%s", s, t);
	else
		b.oom = 1;
	free(s);
	free(t);
	return qb_take(&b);
}

static void
qval_clear(struct qval *v)
{
	free(v->s);
	memset(v, 0, sizeof(*v));
	v->kind = SQLITE_NULL;
}

static int
qval_bytes(struct qval *v, int kind, const char *s, size_t n)
{
	v->kind = kind;
	if ((v->s = malloc(n + 1)) == NULL)
		return -1;
	memcpy(v->s, s, n);
	v->s[n] = '\0';
	v->n = n;
	return 0;
}

static int
qval_text(struct qval *v, const char *s, size_t n)
{
	return qval_bytes(v, SQLITE_TEXT, s, n);
}

static int
bind_val(sqlite3_stmt *st, int i, const struct qval *v)
{
	switch (v->kind) {
	case SQLITE_INTEGER:
		return sqlite3_bind_int64(st, i, v->i);
	case SQLITE_FLOAT:
		return sqlite3_bind_double(st, i, v->d);
	case SQLITE_TEXT:
		return sqlite3_bind_text(st, i, v->s, (int)v->n,
		    SQLITE_STATIC);
	case SQLITE_BLOB:
		return sqlite3_bind_blob(st, i, v->s, (int)v->n,
		    SQLITE_STATIC);
	default:
		return sqlite3_bind_null(st, i);
	}
}

/* ---- time limit and authorizer ------------------------------------- */

static int
progress(void *ctx)
{
	struct qclock *c = ctx;
	double now;

	if (c->gone != NULL && (now = now_ms()) >= c->next_gone) {
		c->next_gone = now + 50.0;
		if (c->gone(c->gone_ctx)) {
			c->gone_fired = 1;
			return 1;
		}
	}
	if (c->limit_ms <= 0 || !c->in_step)
		return 0;
	if (c->spent + (now_ms() - c->start) > (double)c->limit_ms) {
		c->fired = 1;
		return 1;
	}
	return 0;
}

/* sqlite3_step() with the time spent counted against the limit. */
static int
qstep(struct qclock *c, sqlite3_stmt *st)
{
	int rc;

	c->start = now_ms();
	c->in_step = 1;
	rc = sqlite3_step(st);
	c->in_step = 0;
	c->spent += now_ms() - c->start;
	return rc;
}

/*
 * While our statements are prepared and run: reads of one table of one
 * schema only, and the few functions the filters use.  Everything else
 * is denied (defence in depth: the statements are built here, from
 * catalogue names).
 */
/*
 * The authorizer stays installed on a connection once set, because
 * sqlite3_set_authorizer() expires every prepared statement of the
 * connection (https://sqlite.org/c3ref/set_authorizer.html), which would
 * make every kept statement prepare again on each request.  What it
 * allows is the statement being prepared now: auth_cur on auth_cur_db,
 * set by auth_use() around a preparation; with none, it allows all (as
 * no authorizer would).  auth_dbs are the connections it is installed
 * on; a connection leaves the list when it is closed (query_cache_drop())
 * or another authorizer replaces ours (query_authorizer_lost()).
 */
#define AUTH_DBS	16

static sqlite3 *auth_dbs[AUTH_DBS];
static size_t auth_next;
static sqlite3 *auth_cur_db;
static const struct qauth *auth_cur;

static int authorizer(void *, int, const char *, const char *,
    const char *, const char *);

static void
auth_use(sqlite3 *db, const struct qauth *au)
{
	size_t i;

	if (au != NULL) {
		for (i = 0; i < AUTH_DBS && auth_dbs[i] != db; i++)
			;
		if (i == AUTH_DBS) {
			sqlite3_set_authorizer(db, authorizer, db);
			auth_dbs[auth_next] = db;	/* an evicted one keeps
							   ours, allowing all */
			auth_next = (auth_next + 1) % AUTH_DBS;
		}
	}
	auth_cur_db = au != NULL ? db : NULL;
	auth_cur = au;
}

void
query_authorizer_lost(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < AUTH_DBS; i++)
		if (auth_dbs[i] == db)
			auth_dbs[i] = NULL;
	if (auth_cur_db == db) {
		auth_cur_db = NULL;
		auth_cur = NULL;
	}
}

static int
authorizer(void *ctx, int action, const char *a, const char *b,
    const char *dbname, const char *trigger)
{
	const struct qauth *au = auth_cur;

	(void)trigger;
	if (au == NULL || ctx != (void *)auth_cur_db)
		return SQLITE_OK;	/* not one of ours being prepared */
	switch (action) {
	case SQLITE_SELECT:
		return SQLITE_OK;
	case SQLITE_READ:
		return a != NULL && dbname != NULL &&
		    strcmp(a, au->table) == 0 &&
		    strcmp(dbname, au->schema) == 0 ? SQLITE_OK : SQLITE_DENY;
	case SQLITE_FUNCTION:
		if (b != NULL && (strcmp(b, "instr") == 0 ||
		    strcmp(b, "substr") == 0 || strcmp(b, "length") == 0 ||
		    strcmp(b, "count") == 0))
			return SQLITE_OK;
		return SQLITE_DENY;
	default:
		return SQLITE_DENY;
	}
}

/*
 * Prepares sql under the authorizer for au (which must outlive the
 * statement) and checks that the statement cannot write.  Errors:
 * CC_EDB.
 */
static cc_err
prepare_ro(sqlite3 *db, const struct qauth *au, const char *sql,
    sqlite3_stmt **st, struct cc_diag *diag)
{
	int rc;

	char akey[2 * MAX_NAME + 2];

	snprintf(akey, sizeof(akey), "%s.%s", au->schema, au->table);
	auth_use(db, au);
	rc = stc_prepare_as(db, akey, sql, st);
	if (rc != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		auth_use(db, NULL);
		return CC_EDB;
	}
	if (!sqlite3_stmt_readonly(*st)) {
		stc_release(*st);
		*st = NULL;
		auth_use(db, NULL);
		return cc_diag_set(diag, CC_EDB, "not_read_only",
		    "refusing a statement that could write");
	}
	return CC_OK;
}

/* ---- catalogue ----------------------------------------------------- */

static void
free_cols(struct qcol *cols, size_t n)
{
	size_t i;

	for (i = 0; cols != NULL && i < n; i++) {
		free(cols[i].name);
		free(cols[i].ident);
		free(cols[i].jkey);
	}
	free(cols);
}

/*
 * The schema holding the model: "model" when model.db is attached, else
 * "main".  Both names are constants, safe to paste.
 */
static const char *
model_schema(sqlite3 *db)
{
	/* sqlite3_db_filename() names attached schemas only, and parses
	 * nothing (this runs for every request). */
	return sqlite3_db_filename(db, "model") != NULL ? "model" : "main";
}

/*
 * 1 if schema.table declares a column named name, as pragma_table_info()
 * would list it, but from the parsed schema
 * (sqlite3_table_column_metadata()) without preparing a PRAGMA.  That
 * function also answers for the rowid aliases, which a table need not
 * declare: those names are looked up in pragma_table_info() itself.
 */
static int
column_exists(sqlite3 *db, const char *schema, const char *table,
    const char *name)
{
	sqlite3_stmt *st;
	int found;

	if (sqlite3_table_column_metadata(db, schema, table, name, NULL, NULL,
	    NULL, NULL, NULL) != SQLITE_OK)
		return 0;
	if (strcasecmp(name, "rowid") != 0 && strcasecmp(name, "_rowid_") != 0 &&
	    strcasecmp(name, "oid") != 0)
		return 1;
	if (stc_prepare(db, "SELECT 1 FROM pragma_table_info(?1, ?2)"
	    " WHERE name = ?3", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	stc_release(st);
	return found;
}

/* 1 if a table (type 'table') named name exists in schema. */
static int
table_exists(sqlite3 *db, const char *schema, const char *name)
{
	sqlite3_stmt *st;
	char sql[128];
	int found = 0;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\".sqlite_master"
	    " WHERE type = 'table' AND name = ?1", schema);
	if (stc_prepare(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	stc_release(st);
	return found;
}

/*
 * The columns of schema.table in catalogue order (schema.table_columns):
 * the catalogue rows whose column really exists in the table
 * (pragma_table_info with the names bound).  *rowid gets a rowid alias no
 * column shadows.  Errors: CC_ENOTFOUND (no table or no catalogue rows),
 * CC_EDB, CC_ENOMEM.
 */
static cc_err
load_columns_now(sqlite3 *db, const char *schema, const char *table,
    struct qcol **out, size_t *nout, const char **rowid,
    struct cc_diag *diag)
{
	char sql[256];
	static const char *const aliases[] = { "rowid", "_rowid_", "oid" };
	struct qcol *cols = NULL, *nc;
	sqlite3_stmt *st = NULL;
	size_t n = 0, cap = 0, i, k;
	struct qbuf jk = { 0 };
	int rc;

	*out = NULL;
	*nout = 0;
	if (!table_exists(db, schema, "table_columns") ||
	    !table_exists(db, schema, table))
		return cc_diag_set(diag, CC_ENOTFOUND, "no_such_table",
		    "table %s does not exist in this workspace yet (no run"
		    " has built it)", table);
	/* The catalogue's columns that exist in the table: checked with
	 * sqlite3_table_column_metadata() against the parsed schema, not
	 * with pragma_table_info(), which prepares a PRAGMA on every call. */
	snprintf(sql, sizeof(sql), "SELECT c.column_name, c.type FROM"
	    " \"%s\".table_columns AS c WHERE c.table_name = ?1"
	    " ORDER BY c.ordinal, c.column_name", schema);
	if (stc_prepare(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		if (name == NULL || *name == '\0' || strlen(name) >= MAX_NAME ||
		    !utf8_valid(name, strlen(name)) ||
		    !column_exists(db, schema, table, name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			if ((nc = realloc(cols, cap * sizeof(*cols))) == NULL)
				goto oom;
			cols = nc;
		}
		memset(&cols[n], 0, sizeof(cols[n]));
		cols[n].name = strdup(name);
		cols[n].ident = quote_ident(name);
		cols[n].type = query_type_of(type);
		jk.len = 0;
		put_json_str(&jk, name, strlen(name));
		qb_putc(&jk, ':');
		if (jk.oom || cols[n].name == NULL || cols[n].ident == NULL ||
		    (cols[n].jkey = strdup(jk.p)) == NULL) {
			n++;
			goto oom;
		}
		cols[n].jkeylen = jk.len;
		n++;
	}
	stc_release(st);
	st = NULL;
	free(jk.p);
	jk.p = NULL;
	if (rc != SQLITE_DONE)
		goto dberr;
	if (n == 0) {
		free(cols);
		return cc_diag_set(diag, CC_ENOTFOUND, "no_such_table",
		    "table %s has no catalogue entries in this workspace",
		    table);
	}
	*rowid = NULL;
	for (k = 0; k < sizeof(aliases) / sizeof(aliases[0]) &&
	    *rowid == NULL; k++) {
		for (i = 0; i < n; i++)
			if (strcasecmp(cols[i].name, aliases[k]) == 0)
				break;
		if (i == n)
			*rowid = aliases[k];
	}
	if (*rowid == NULL) {
		free_cols(cols, n);
		return cc_diag_set(diag, CC_EDB, "no_rowid",
		    "table %s shadows every rowid alias", table);
	}
	*out = cols;
	*nout = n;
	return CC_OK;
oom:
	stc_release(st);
	free(jk.p);
	free_cols(cols, n);
	return cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
dberr:
	cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
	stc_release(st);
	free(jk.p);
	free_cols(cols, n);
	return CC_EDB;
}

/*
 * The worker's memory of loaded columns (load_columns()): a table page
 * needs the same catalogue rows, checked against the same table, on every
 * request.  An entry is (connection, schema, table) with the schema's
 * data version (SQLITE_FCNTL_DATA_VERSION: it changes with every change to
 * that database file, by this connection or another, seen at the start of
 * the connection's next read transaction); it is used only while that
 * version is unchanged, and dropped with the connection's kept statements
 * (query_cache_drop()).  A hit hands out a copy: the caller owns its
 * columns as with load_columns_now().
 */
#define CMEMO_MAX	16

static struct cmemo {
	sqlite3		*db;
	char		 schema[8];
	char		 table[MAX_NAME];
	unsigned int	 version;
	struct qcol	*cols;
	size_t		 n;
	const char	*rowid;
} cmemo[CMEMO_MAX];
static size_t cmemo_next;

static void
cmemo_clear(struct cmemo *m)
{
	free_cols(m->cols, m->n);
	memset(m, 0, sizeof(*m));
}

/* Forgets db's entries (its handle is about to be closed). */
static void
cmemo_drop(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < CMEMO_MAX; i++)
		if (cmemo[i].db == db)
			cmemo_clear(&cmemo[i]);
}

/* A copy of n columns; NULL when out of memory. */
static struct qcol *
copy_cols(const struct qcol *src, size_t n)
{
	struct qcol *c;
	size_t i;

	if ((c = calloc(n, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c[i] = src[i];
		c[i].name = strdup(src[i].name);
		c[i].ident = strdup(src[i].ident);
		c[i].jkey = strdup(src[i].jkey);
		if (c[i].name == NULL || c[i].ident == NULL ||
		    c[i].jkey == NULL) {
			free_cols(c, i + 1);
			return NULL;
		}
	}
	return c;
}

/*
 * *version = schema's data version (SQLITE_FCNTL_DATA_VERSION).  The
 * pager brings that number up to date when a read transaction starts, so
 * a PRAGMA data_version of the schema (a kept statement: it reads in a
 * transaction of its own when none is open) is stepped first.  0 when
 * either fails.  schema is "main" or "model" (model_schema()): a constant.
 */
static int
schema_version_of(sqlite3 *db, const char *schema, unsigned int *version)
{
	sqlite3_stmt *st;
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA \"%s\".data_version", schema);
	if (stc_prepare(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	rc = sqlite3_step(st);
	stc_release(st);
	return rc == SQLITE_ROW && sqlite3_file_control(db, schema,
	    SQLITE_FCNTL_DATA_VERSION, version) == SQLITE_OK;
}

/* load_columns_now() through the worker's memory. */
static cc_err
load_columns(sqlite3 *db, const char *schema, const char *table,
    struct qcol **out, size_t *nout, const char **rowid,
    struct cc_diag *diag)
{
	struct cmemo *m;
	unsigned int version = 0;
	size_t i;
	cc_err err;
	int known;

	known = strlen(schema) < sizeof(m->schema) &&
	    strlen(table) < sizeof(m->table) && schema_version_of(db, schema,
	    &version);
	for (i = 0; known && i < CMEMO_MAX; i++) {
		m = &cmemo[i];
		if (m->cols == NULL || m->db != db || m->version != version ||
		    strcmp(m->schema, schema) != 0 ||
		    strcmp(m->table, table) != 0)
			continue;
		if ((*out = copy_cols(m->cols, m->n)) == NULL)
			return cc_diag_set(diag, CC_ENOMEM, "oom",
			    "out of memory");
		*nout = m->n;
		*rowid = m->rowid;
		return CC_OK;
	}
	if ((err = load_columns_now(db, schema, table, out, nout, rowid,
	    diag)) != CC_OK || !known)
		return err;
	m = &cmemo[cmemo_next];
	cmemo_clear(m);
	if ((m->cols = copy_cols(*out, *nout)) == NULL)
		return CC_OK;		/* not kept */
	cmemo_next = (cmemo_next + 1) % CMEMO_MAX;
	m->db = db;
	snprintf(m->schema, sizeof(m->schema), "%s", schema);
	snprintf(m->table, sizeof(m->table), "%s", table);
	m->version = version;
	m->n = *nout;
	m->rowid = *rowid;
	return CC_OK;
}

/* ---- parameters ---------------------------------------------------- */

static int
find_col(const struct query *q, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < q->ncols; i++)
		if (strlen(q->cols[i].name) == len &&
		    memcmp(q->cols[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* 1/true/on -> 1, 0/false/off -> 0, else -1. */
static int
parse_flag(const char *s)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "off") == 0)
		return 0;
	return -1;
}

/* 1 if s is an optional '-' then 1 to 19 digits. */
static int
int_syntax(const char *s)
{
	size_t i = 0, d;

	if (s[i] == '-')
		i++;
	for (d = 0; s[i] >= '0' && s[i] <= '9'; i++)
		d++;
	return d > 0 && d <= 19 && s[i] == '\0';
}

/*
 * Parses s[0..n) as a value of column type t into v.  Returns 0, -1 for
 * a value of the wrong form, -2 when out of memory.
 */
static int
parse_typed(enum query_type t, const char *s, size_t n, struct qval *v)
{
	char buf[64], *end;
	int64_t m;
	size_t i;
	int f;

	memset(v, 0, sizeof(*v));
	v->kind = SQLITE_NULL;
	if (t != QUERY_T_TEXT && t != QUERY_T_DATE &&
	    t != QUERY_T_TIMESTAMP) {
		if (n == 0 || n >= sizeof(buf))
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	switch (t) {
	case QUERY_T_INTEGER:
		if (!int_syntax(buf))
			return -1;
		errno = 0;
		v->i = strtoll(buf, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
		v->kind = SQLITE_INTEGER;
		return 0;
	case QUERY_T_REAL:
		for (i = 0; i < n; i++)
			if (strchr("0123456789+-.eE", buf[i]) == NULL)
				return -1;
		errno = 0;
		v->d = strtod(buf, &end);
		if (errno != 0 || *end != '\0' || end == buf || !isfinite(v->d))
			return -1;
		v->kind = SQLITE_FLOAT;
		return 0;
	case QUERY_T_MONEY:
		if (query_money_parse(buf, &m) != CC_OK)
			return -1;
		v->i = m;
		v->kind = SQLITE_INTEGER;
		return 0;
	case QUERY_T_BOOLEAN:
		if ((f = parse_flag(buf)) < 0 || strcmp(buf, "on") == 0 ||
		    strcmp(buf, "off") == 0)
			return -1;
		v->i = f;
		v->kind = SQLITE_INTEGER;
		return 0;
	default:
		return qval_text(v, s, n) == 0 ? 0 : -2;
	}
}

/* What a type accepts, for messages. */
static const char *
type_hint(enum query_type t)
{
	switch (t) {
	case QUERY_T_INTEGER:	return "an integer";
	case QUERY_T_REAL:	return "a finite number";
	case QUERY_T_MONEY:	return "a decimal amount with at most four"
				    " decimals, e.g. 12.50 or 0.001";
	case QUERY_T_BOOLEAN:	return "1, 0, true or false";
	default:		return "text";
	}
}

/* The items of an __in value: JSON array or comma-separated. */
static cc_err
parse_in(struct query *q, struct qfilter *f, const char *key,
    const char *value, struct cc_diag *diag)	/* key: an excerpt */
{
	enum query_type t = q->cols[f->col].type;
	json_t *arr = NULL, *it;
	const char *p, *e;
	char num[40];
	size_t i, cnt;
	int rc;

	if (value[0] == '[') {
		if ((arr = json_loads(value, JSON_REJECT_DUPLICATES, NULL)) ==
		    NULL || !json_is_array(arr)) {
			json_decref(arr);
			return cc_diag_set(diag, CC_EINVAL, "bad_value",
			    "%s: a value starting with '[' must be a JSON"
			    " array of strings or numbers", key);
		}
		cnt = json_array_size(arr);
	} else
		for (cnt = 1, p = value; *p != '\0'; p++)
			cnt += *p == ',';
	if (cnt == 0 || cnt > MAX_IN_VALUES) {
		json_decref(arr);
		return cc_diag_set(diag, CC_EINVAL, "bad_value",
		    "%s: give 1 to %d values", key, MAX_IN_VALUES);
	}
	if ((f->v = calloc(cnt, sizeof(*f->v))) == NULL) {
		json_decref(arr);
		return CC_ENOMEM;
	}
	for (i = 0, p = value; i < cnt; i++) {
		if (arr != NULL) {
			it = json_array_get(arr, i);
			if (json_is_string(it)) {
				p = json_string_value(it);
				e = p + json_string_length(it);
			} else if (json_is_integer(it)) {
				snprintf(num, sizeof(num),
				    "%" JSON_INTEGER_FORMAT,
				    json_integer_value(it));
				p = num;
				e = p + strlen(p);
			} else if (json_is_real(it)) {
				fmt_real(json_real_value(it), num);
				p = num;
				e = p + strlen(p);
			} else {
				json_decref(arr);
				return cc_diag_set(diag, CC_EINVAL, "bad_value",
				    "%s: the array may hold strings and"
				    " numbers only", key);
			}
		} else
			e = p + strcspn(p, ",");
		rc = parse_typed(t, p, (size_t)(e - p), &f->v[i]);
		f->nv = i + 1;
		if (rc == -2) {
			json_decref(arr);
			return CC_ENOMEM;
		}
		if (rc != 0) {
			json_decref(arr);
			return cc_diag_set(diag, CC_EINVAL, "bad_value",
			    "%s: item %zu is not %s", key, i + 1,
			    type_hint(t));
		}
		if (arr == NULL)
			p = *e == ',' ? e + 1 : e;
	}
	json_decref(arr);
	return CC_OK;
}

/* Reads one filter parameter key=value into q. */
static cc_err
parse_filter(struct query *q, const char *key, const char *value,
    struct cc_diag *diag)
{
	const char *sep = NULL, *p;
	struct qfilter *f;
	char norm[MAX_NAME + 16], kx[EXCERPT + 4], vx[EXCERPT + 4];
	char cx[EXCERPT + 4];
	enum query_type t;
	int col, op, rc;
	size_t klen = strlen(key);

	excerpt(key, kx);
	if ((col = find_col(q, key, klen)) >= 0)
		op = QUERY_OP_EXACT;
	else {
		for (p = key; (p = strstr(p, "__")) != NULL; p++)
			sep = p;
		if (sep == NULL || (col = find_col(q, key,
		    (size_t)(sep - key))) < 0) {
			size_t nl = sep != NULL ? (size_t)(sep - key) : klen;
			char col_only[EXCERPT + 1];
			snprintf(col_only, sizeof(col_only), "%.*s",
			    (int)(nl < EXCERPT ? nl : EXCERPT), key);
			return cc_diag_set(diag, CC_EINVAL, "unknown_column",
			    "unknown column '%s' in parameter '%s': table %s"
			    " has no such column", excerpt(col_only, cx), kx,
			    q->table);
		}
		if ((op = query_op_of(sep + 2)) < 0)
			return cc_diag_set(diag, CC_EINVAL, "unknown_operator",
			    "unknown operator '%s' in parameter '%s' (use"
			    " exact, not, contains, startswith, gt, gte, lt,"
			    " lte, in or isnull)", excerpt(sep + 2, cx), kx);
	}
	t = q->cols[col].type;
	if (!utf8_valid(value, strlen(value)))
		return cc_diag_set(diag, CC_EINVAL, "bad_value",
		    "%s: the value is not UTF-8", kx);
	if ((op == QUERY_OP_CONTAINS || op == QUERY_OP_STARTSWITH) &&
	    t != QUERY_T_TEXT && t != QUERY_T_DATE && t != QUERY_T_TIMESTAMP)
		return cc_diag_set(diag, CC_EINVAL, "bad_operator",
		    "%s: %s applies to text, date and timestamp columns;"
		    " %s is %s", kx, op_names[op], q->cols[col].name,
		    type_names[t]);
	snprintf(norm, sizeof(norm), "%s__%s", q->cols[col].name,
	    op_names[op]);
	if (json_object_get(q->filters_json, norm) != NULL)
		return cc_diag_set(diag, CC_EINVAL, "duplicate_filter",
		    "%s: give each column__operator once",
		    excerpt(norm, cx));
	if (q->nfilters == MAX_FILTERS)
		return cc_diag_set(diag, CC_EINVAL, "bad_parameter",
		    "at most %d filters", MAX_FILTERS);
	f = &q->filters[q->nfilters++];
	memset(f, 0, sizeof(*f));
	f->col = col;
	f->op = (enum query_op)op;
	if (op == QUERY_OP_ISNULL) {
		if ((f->want_null = parse_flag(value)) < 0 ||
		    strcmp(value, "on") == 0 || strcmp(value, "off") == 0)
			return cc_diag_set(diag, CC_EINVAL, "bad_value",
			    "%s: isnull takes 1, 0, true or false", kx);
	} else if (op == QUERY_OP_IN) {
		cc_err err;
		if ((err = parse_in(q, f, kx, value, diag)) != CC_OK)
			return err;
	} else {
		/* contains and startswith compare text, whatever the type. */
		enum query_type pt = op == QUERY_OP_CONTAINS ||
		    op == QUERY_OP_STARTSWITH ? QUERY_T_TEXT : t;
		if ((f->v = calloc(1, sizeof(*f->v))) == NULL)
			return CC_ENOMEM;
		rc = parse_typed(pt, value, strlen(value), f->v);
		f->nv = 1;
		if (rc == -2)
			return CC_ENOMEM;
		if (rc != 0)
			return cc_diag_set(diag, CC_EINVAL, "bad_value",
			    "%s: '%s' is not %s (column %s is %s)", kx,
			    excerpt(value, vx), type_hint(t),
			    excerpt(q->cols[col].name, cx), type_names[t]);
	}
	if (json_object_set_new(q->filters_json, norm,
	    json_string(value)) != 0)
		return CC_ENOMEM;
	return CC_OK;
}

/* Selects the columns named in a _col or _nocol value (comma-separated). */
static cc_err
parse_col_list(struct query *q, const char *pname, const char *value,
    char *mark, int keep, struct cc_diag *diag)
{
	char one[EXCERPT + 1], cx[EXCERPT + 4];
	const char *p = value, *e;
	int col;

	for (;;) {
		e = p + strcspn(p, ",");
		if (e == p)
			return cc_diag_set(diag, CC_EINVAL, "bad_parameter",
			    "%s: empty column name", pname);
		if ((col = find_col(q, p, (size_t)(e - p))) < 0) {
			snprintf(one, sizeof(one), "%.*s", (int)(e - p <
			    EXCERPT ? e - p : EXCERPT), p);
			return cc_diag_set(diag, CC_EINVAL, "unknown_column",
			    "%s: unknown column '%s': table %s has no such"
			    " column", pname, excerpt(one, cx), q->table);
		}
		if (keep) {
			if (!mark[col]) {
				mark[col] = 1;
				q->sel[q->nsel++] = col;
			}
		} else
			mark[col] = 1;
		if (*e == '\0')
			return CC_OK;
		p = e + 1;
	}
}

/* ---- _next tokens -------------------------------------------------- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
b64url_encode(const unsigned char *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o;
	size_t i;

	if ((o = out) == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[(in[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

/*
 * Strict base64url without padding: only the URL-safe alphabet, no
 * impossible length, unused trailing bits zero.  out holds n*3/4+1
 * bytes.  Returns the decoded length or -1.
 */
static long
b64url_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned acc = 0;
	size_t i, o = 0;
	int bits = 0;
	const char *c;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || (c = strchr(b64chars, s[i])) == NULL)
			return -1;
		acc = (acc << 6) | (unsigned)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)o;
}

static char *
hex_encode(const char *s, size_t n)
{
	char *out = malloc(n * 2 + 1);

	if (out != NULL)
		util_hex((const unsigned char *)s, n, out);
	return out;
}

/* Builds the token of a position: sort value v (when sorted) and rowid. */
static char *
token_make(const struct query *q, const struct qval *v, sqlite3_int64 rowid)
{
	json_t *t = json_object(), *jv = NULL;
	char *text = NULL, *tok = NULL, *hx;

	if (t == NULL)
		return NULL;
	if (q->sort >= 0) {
		json_object_set_new(t, "s", json_string(q->cols[q->sort].name));
		json_object_set_new(t, "d", json_integer(q->desc));
		switch (v->kind) {
		case SQLITE_INTEGER:	jv = json_integer(v->i); break;
		case SQLITE_FLOAT:	jv = json_real(v->d); break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			/* Text that JSON cannot hold as is, and blobs: hex. */
			if (v->kind == SQLITE_TEXT && utf8_valid(v->s, v->n) &&
			    memchr(v->s, '\0', v->n) == NULL)
				jv = json_stringn(v->s, v->n);
			else if ((hx = hex_encode(v->s, v->n)) != NULL) {
				json_object_set_new(t, v->kind == SQLITE_TEXT ?
				    "vx" : "vb", json_string(hx));
				free(hx);
			}
			break;
		default:		jv = json_null(); break;
		}
		if (jv != NULL)
			json_object_set_new(t, "v", jv);
		else if (json_object_get(t, "vx") == NULL &&
		    json_object_get(t, "vb") == NULL)
			goto out;
	}
	json_object_set_new(t, "r", json_integer(rowid));
	if ((text = json_dumps(t, JSON_COMPACT)) != NULL)
		tok = b64url_encode((const unsigned char *)text, strlen(text));
out:
	free(text);
	json_decref(t);
	return tok;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads a _next token for the request's sort into q->after*. */
static cc_err
token_read(struct query *q, const char *tok, struct cc_diag *diag)
{
	unsigned char raw[MAX_TOKEN];
	const char *k, *hx;
	json_t *doc = NULL, *v, *r, *s, *d, *x, *xb;
	size_t n = strlen(tok), i, nkeys;
	long len;

	if (n == 0 || n > MAX_TOKEN ||
	    (len = b64url_decode(tok, n, raw)) <= 0)
		goto bad;
	doc = json_loadb((const char *)raw, (size_t)len,
	    JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL || !json_is_object(doc))
		goto bad;
	r = json_object_get(doc, "r");
	s = json_object_get(doc, "s");
	d = json_object_get(doc, "d");
	v = json_object_get(doc, "v");
	x = json_object_get(doc, "vx");
	xb = json_object_get(doc, "vb");
	if (!json_is_integer(r))
		goto bad;
	nkeys = 1;
	if (q->sort < 0) {
		if (s != NULL || d != NULL || v != NULL || x != NULL ||
		    xb != NULL)
			goto other_sort;
	} else {
		if (!json_is_string(s) || !json_is_integer(d))
			goto other_sort;
		if (strcmp(json_string_value(s), q->cols[q->sort].name) != 0 ||
		    json_integer_value(d) != q->desc)
			goto other_sort;
		if ((v != NULL) + (x != NULL) + (xb != NULL) != 1)
			goto bad;
		nkeys += 3;
		if (v != NULL) {
			if (json_is_integer(v)) {
				q->after.kind = SQLITE_INTEGER;
				q->after.i = json_integer_value(v);
			} else if (json_is_real(v)) {
				q->after.kind = SQLITE_FLOAT;
				q->after.d = json_real_value(v);
			} else if (json_is_string(v)) {
				if (qval_text(&q->after, json_string_value(v),
				    json_string_length(v)) != 0)
					goto oom;
			} else if (json_is_null(v))
				q->after.kind = SQLITE_NULL;
			else
				goto bad;
		} else {
			if (x == NULL)
				x = xb;
			if (!json_is_string(x) || json_string_length(x) % 2)
				goto bad;
			hx = json_string_value(x);
			if (qval_bytes(&q->after, xb != NULL ? SQLITE_BLOB :
			    SQLITE_TEXT, hx, json_string_length(x) / 2) != 0)
				goto oom;
			for (i = 0; i < q->after.n; i++) {
				int hi = hexval(hx[2 * i]);
				int lo = hexval(hx[2 * i + 1]);
				if (hi < 0 || lo < 0)
					goto bad;
				q->after.s[i] = (char)(hi * 16 + lo);
			}
		}
	}
	if (json_object_size(doc) != nkeys)
		goto bad;
	json_object_foreach(doc, k, v)
		if (strcmp(k, "r") != 0 && strcmp(k, "s") != 0 &&
		    strcmp(k, "d") != 0 && strcmp(k, "v") != 0 &&
		    strcmp(k, "vx") != 0 && strcmp(k, "vb") != 0)
			goto bad;
	q->after_r.kind = SQLITE_INTEGER;
	q->after_r.i = json_integer_value(r);
	q->has_after = 1;
	json_decref(doc);
	return CC_OK;
oom:
	json_decref(doc);
	return CC_ENOMEM;
other_sort:
	json_decref(doc);
	return cc_diag_set(diag, CC_EINVAL, "bad_next",
	    "_next: this token belongs to another sort order");
bad:
	json_decref(doc);
	qval_clear(&q->after);
	return cc_diag_set(diag, CC_EINVAL, "bad_next",
	    "_next: not a valid page token (use next or next_url as given)");
}

/* ---- SQL ----------------------------------------------------------- */

static void
bind_slot(struct query *q, const struct qval *v)
{
	q->binds[q->nbinds++] = v;
}

/* Builds q->sql and q->probe_sql from the parsed request. */
static cc_err
build_sql(struct query *q)
{
	struct qbuf w = { 0 }, b = { 0 };
	const char *c, *dir = q->desc ? "DESC" : "ASC";
	size_t i, k, total = 2;
	char order[2 * MAX_NAME + 64];

	for (i = 0; i < q->nfilters; i++)
		total += q->filters[i].nv;
	if ((q->binds = calloc(total, sizeof(*q->binds))) == NULL)
		return CC_ENOMEM;
	for (i = 0; i < q->nfilters; i++) {
		struct qfilter *f = &q->filters[i];
		enum query_type t = q->cols[f->col].type;
		c = q->cols[f->col].ident;
		if (w.len > 0)
			qb_puts(&w, " AND ");
		switch (f->op) {
		case QUERY_OP_EXACT:
		case QUERY_OP_NOT:
			bind_slot(q, &f->v[0]);
			qb_printf(&w, "%s %s ?%zu", c, op_sql[f->op],
			    q->nbinds);
			break;
		case QUERY_OP_GT:
		case QUERY_OP_GTE:
		case QUERY_OP_LT:
		case QUERY_OP_LTE:
			/* Dates and timestamps compare as text: "+" drops the
			 * column's NUMERIC affinity, so "2024" stays text. */
			bind_slot(q, &f->v[0]);
			qb_printf(&w, "%s%s %s ?%zu", t == QUERY_T_DATE ||
			    t == QUERY_T_TIMESTAMP ? "+" : "", c,
			    op_sql[f->op], q->nbinds);
			break;
		case QUERY_OP_CONTAINS:
			bind_slot(q, &f->v[0]);
			qb_printf(&w, "instr(%s, ?%zu) > 0", c, q->nbinds);
			break;
		case QUERY_OP_STARTSWITH:
			bind_slot(q, &f->v[0]);
			qb_printf(&w, "substr(%s, 1, length(?%zu)) = ?%zu", c,
			    q->nbinds, q->nbinds);
			break;
		case QUERY_OP_IN:
			qb_printf(&w, "%s IN (", c);
			for (k = 0; k < f->nv; k++) {
				bind_slot(q, &f->v[k]);
				qb_printf(&w, "%s?%zu", k > 0 ? ", " : "",
				    q->nbinds);
			}
			qb_putc(&w, ')');
			break;
		case QUERY_OP_ISNULL:
			qb_printf(&w, "%s IS %sNULL", c, f->want_null ? "" :
			    "NOT ");
			break;
		default:
			break;
		}
	}
	if (q->has_after && !q->stream) {
		if (w.len > 0)
			qb_puts(&w, " AND ");
		if (q->sort < 0) {
			bind_slot(q, &q->after_r);
			qb_printf(&w, "%s > ?%zu", q->rowid, q->nbinds);
		} else {
			c = q->cols[q->sort].ident;
			bind_slot(q, &q->after);
			bind_slot(q, &q->after_r);
			if (q->after.kind != SQLITE_NULL && !q->desc)
				qb_printf(&w, "(%s, %s) > (?%zu, ?%zu)", c,
				    q->rowid, q->nbinds - 1, q->nbinds);
			else if (q->after.kind != SQLITE_NULL)
				qb_printf(&w, "((%s, %s) < (?%zu, ?%zu)"
				    " OR %s IS NULL)", c, q->rowid,
				    q->nbinds - 1, q->nbinds, c);
			else if (!q->desc)
				qb_printf(&w, "((%s IS NULL AND %s > ?%zu)"
				    " OR %s IS NOT NULL)", c, q->rowid,
				    q->nbinds, c);
			else
				qb_printf(&w, "(%s IS NULL AND %s < ?%zu)", c,
				    q->rowid, q->nbinds);
		}
	}
	if (q->sort >= 0)
		snprintf(order, sizeof(order), "%s %s, %s %s",
		    q->cols[q->sort].ident, dir, q->rowid, dir);
	else
		snprintf(order, sizeof(order), "%s ASC", q->rowid);
	qb_puts(&b, "SELECT ");
	for (i = 0; i < q->nsel; i++)
		qb_printf(&b, "%s%s", i > 0 ? ", " : "",
		    q->cols[q->sel[i]].ident);
	qb_printf(&b, " FROM %s%s%s ORDER BY %s", q->ident,
	    w.len > 0 ? " WHERE " : "", w.len > 0 ? w.p : "", order);
	if (!q->stream)
		qb_printf(&b, " LIMIT %d", q->size);
	if ((q->sql = qb_take(&b)) == NULL)
		goto oom;
	if (!q->stream) {
		qb_printf(&b, "SELECT %s%s%s FROM %s%s%s ORDER BY %s LIMIT %d",
		    q->sort >= 0 ? q->cols[q->sort].ident : "",
		    q->sort >= 0 ? ", " : "", q->rowid, q->ident,
		    w.len > 0 ? " WHERE " : "", w.len > 0 ? w.p : "", order,
		    q->size + 1);
		if ((q->probe_sql = qb_take(&b)) == NULL)
			goto oom;
	}
	free(w.p);
	return w.oom ? CC_ENOMEM : CC_OK;
oom:
	free(w.p);
	free(b.p);
	return CC_ENOMEM;
}

/* Binds ?1..?nbinds. */
static int
bind_all(const struct query *q, sqlite3_stmt *st)
{
	size_t i;

	for (i = 0; i < q->nbinds; i++)
		if (bind_val(st, (int)i + 1, q->binds[i]) != SQLITE_OK)
			return -1;
	return 0;
}

/* ---- parse --------------------------------------------------------- */

static int
reserved(const char *key)
{
	int i;

	for (i = 0; i < P__MAX; i++)
		if (strcmp(key, param_names[i]) == 0)
			return i;
	return -1;
}

static cc_err parse_in_txn(sqlite3 *, const char *, enum query_format,
    const struct query_param *, size_t, const struct query_limits *,
    struct query **, struct cc_diag *);

cc_err
query_parse(sqlite3 *db, const char *table, enum query_format fmt,
    const struct query_param *params, size_t n,
    const struct query_limits *lim, struct query **out,
    struct cc_diag *diag)
{
	cc_err err;
	int txn;

	/* The catalogue look-ups in one read transaction, not one each. */
	txn = db != NULL && sqlite3_get_autocommit(db) &&
	    stc_exec(db, "BEGIN") == SQLITE_OK;
	err = parse_in_txn(db, table, fmt, params, n, lim, out, diag);
	if (txn)
		stc_exec(db, "COMMIT");
	return err;
}

static cc_err
parse_in_txn(sqlite3 *db, const char *table, enum query_format fmt,
    const struct query_param *params, size_t n,
    const struct query_limits *lim, struct query **out,
    struct cc_diag *diag)
{
	const char *one[P__MAX] = { 0 };
	char cx[EXCERPT + 4];
	struct query *q;
	char *mark = NULL;
	size_t i, k;
	cc_err err;
	int r, f;
	long v;
	char *end;

	*out = NULL;
	if (table == NULL || !model_is_public_table(table) ||
	    strlen(table) >= MAX_NAME)
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found",
		    "no such table");
	if ((unsigned)fmt >= QUERY__FORMAT_MAX)
		return cc_diag_set(diag, CC_EINVAL, "bad_format",
		    "unknown format");
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return CC_ENOMEM;
	snprintf(q->table, sizeof(q->table), "%s", table);
	snprintf(q->schema, sizeof(q->schema), "%s", model_schema(db));
	q->fmt = fmt;
	q->lim = *lim;
	q->sort = -1;
	q->header = 1;
	q->size = lim->size_default;
	q->after.kind = SQLITE_NULL;
	err = CC_ENOMEM;
	if ((q->ident = qualified(q->schema, table)) == NULL ||
	    (q->filters_json = json_object()) == NULL ||
	    (q->filters = calloc(MAX_FILTERS, sizeof(*q->filters))) == NULL)
		goto fail;
	if ((err = load_columns(db, q->schema, table, &q->cols, &q->ncols,
	    &q->rowid, diag)) != CC_OK)
		goto fail;
	err = CC_ENOMEM;
	if ((q->sel = calloc(q->ncols, sizeof(*q->sel))) == NULL ||
	    (mark = calloc(q->ncols, 1)) == NULL)
		goto fail;

	/* Reserved parameters once each (but _col, _nocol); filters. */
	for (i = 0; i < n; i++) {
		const char *key = params[i].key, *val = params[i].value;
		if (key == NULL || val == NULL)
			continue;
		if ((r = reserved(key)) < 0) {
			if ((err = parse_filter(q, key, val, diag)) != CC_OK)
				goto fail;
			continue;
		}
		if (r == P_COL || r == P_NOCOL)
			continue;
		if (one[r] != NULL) {
			err = cc_diag_set(diag, CC_EINVAL, "bad_parameter",
			    "give %s once", param_names[r]);
			goto fail;
		}
		one[r] = val;
	}
	for (r = 0; r < P__MAX; r++) {
		if (one[r] == NULL)
			continue;
		switch (r) {
		case P_SHAPE:
			if (strcmp(one[r], "arrays") == 0)
				q->arrays = 1;
			else if (strcmp(one[r], "objects") != 0)
				goto badparam;
			break;
		case P_FORMULAS:
			if (strcmp(one[r], "raw") == 0)
				q->formulas_raw = 1;
			else if (strcmp(one[r], "safe") != 0)
				goto badparam;
			break;
		case P_HEADER:
		case P_STREAM:
		case P_DL:
			if ((f = parse_flag(one[r])) < 0)
				goto badparam;
			if (r == P_HEADER)
				q->header = f;
			else if (r == P_STREAM)
				q->stream = f;
			else
				q->dl = f;
			break;
		default:
			break;
		}
	}
	if (q->fmt == QUERY_XLSX) {
		/* a workbook is the whole view, as _stream=1 */
		q->stream = 1;
		q->dl = 1;
		if (q->lim.stream_max_rows > QUERY_XLSX_MAX_ROWS)
			q->lim.stream_max_rows = QUERY_XLSX_MAX_ROWS;
	}
	if (one[P_SIZE] != NULL && !q->stream) {
		errno = 0;
		v = strtol(one[P_SIZE], &end, 10);
		if (errno != 0 || end == one[P_SIZE] || *end != '\0' ||
		    !isdigit((unsigned char)one[P_SIZE][0]) || v < 1 ||
		    v > lim->size_max) {
			err = cc_diag_set(diag, CC_EINVAL, "bad_size",
			    "_size must be an integer from 1 to %d",
			    lim->size_max);
			goto fail;
		}
		q->size = (int)v;
	}
	if (one[P_SORT] != NULL && one[P_SORT_DESC] != NULL) {
		err = cc_diag_set(diag, CC_EINVAL, "bad_sort",
		    "give _sort or _sort_desc, not both");
		goto fail;
	}
	if (one[P_SORT] != NULL || one[P_SORT_DESC] != NULL) {
		const char *s = one[P_SORT] != NULL ? one[P_SORT] :
		    one[P_SORT_DESC];
		q->desc = one[P_SORT_DESC] != NULL;
		if ((q->sort = find_col(q, s, strlen(s))) < 0) {
			err = cc_diag_set(diag, CC_EINVAL, "unknown_column",
			    "%s: unknown column '%s': table %s has no such"
			    " column", q->desc ? "_sort_desc" : "_sort",
			    excerpt(s, cx), q->table);
			goto fail;
		}
	}

	/* Columns: _col in request order, then _nocol removes. */
	for (i = 0; i < n; i++)
		if (params[i].key != NULL && params[i].value != NULL &&
		    strcmp(params[i].key, "_col") == 0 &&
		    (err = parse_col_list(q, "_col", params[i].value, mark, 1,
		    diag)) != CC_OK)
			goto fail;
	if (q->nsel == 0)
		for (i = 0; i < q->ncols; i++)
			q->sel[q->nsel++] = (int)i;
	memset(mark, 0, q->ncols);
	for (i = 0; i < n; i++)
		if (params[i].key != NULL && params[i].value != NULL &&
		    strcmp(params[i].key, "_nocol") == 0 &&
		    (err = parse_col_list(q, "_nocol", params[i].value, mark, 0,
		    diag)) != CC_OK)
			goto fail;
	for (i = k = 0; i < q->nsel; i++)
		if (!mark[q->sel[i]])
			q->sel[k++] = q->sel[i];
	q->nsel = k;
	if (q->nsel == 0) {
		err = cc_diag_set(diag, CC_EINVAL, "no_columns",
		    "_col and _nocol leave no column");
		goto fail;
	}

	if (one[P_NEXT] != NULL && !q->stream &&
	    (err = token_read(q, one[P_NEXT], diag)) != CC_OK)
		goto fail;

	/* Parameters kept for next_url: all but _next. */
	err = CC_ENOMEM;
	if (n > 0 && (q->params = calloc(n, sizeof(*q->params))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		char *kc, *vc;
		if (params[i].key == NULL || params[i].value == NULL ||
		    strcmp(params[i].key, "_next") == 0)
			continue;
		kc = strdup(params[i].key);
		vc = strdup(params[i].value);
		q->params[q->nparams].key = kc;
		q->params[q->nparams].value = vc;
		q->nparams++;
		if (kc == NULL || vc == NULL)
			goto fail;
	}
	if (q->sort >= 0)
		q->sort_json = json_pack("{s:s, s:b}", "column",
		    q->cols[q->sort].name, "desc", q->desc);
	else
		q->sort_json = json_null();
	if (q->sort_json == NULL || (err = build_sql(q)) != CC_OK)
		goto fail;
	free(mark);
	*out = q;
	return CC_OK;
badparam:
	err = cc_diag_set(diag, CC_EINVAL, "bad_parameter",
	    "%s: '%s' is not accepted (%s)", param_names[r],
	    excerpt(one[r], cx), r == P_SHAPE ? "objects or arrays" :
	    r == P_FORMULAS ? "safe or raw" : "1/0, true/false or on/off");
fail:
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
	free(mark);
	query_free(q);
	return err;
}

void
query_free(struct query *q)
{
	size_t i, k;

	if (q == NULL)
		return;
	query_close(q);
	free(q->ident);
	free_cols(q->cols, q->ncols);
	free(q->sel);
	for (i = 0; q->filters != NULL && i < q->nfilters; i++) {
		for (k = 0; k < q->filters[i].nv; k++)
			free(q->filters[i].v[k].s);
		free(q->filters[i].v);
	}
	free(q->filters);
	free(q->after.s);
	for (i = 0; i < q->nparams; i++) {
		free((char *)(uintptr_t)q->params[i].key);
		free((char *)(uintptr_t)q->params[i].value);
	}
	free(q->params);
	json_decref(q->filters_json);
	json_decref(q->sort_json);
	free(q->sql);
	free(q->probe_sql);
	free(q->binds);
	free(q->run_id);
	free(q->next_token);
	free(q->next_url);
	free(q);
}

/* ---- open: transaction, handlers, probe ---------------------------- */

/* Appends s percent-encoded (everything but RFC 3986 unreserved). */
static void
put_urlenc(struct qbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	char e[3];

	for (; *u != '\0'; u++) {
		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' ||
		    *u == '_' || *u == '~')
			qb_putc(b, (char)*u);
		else {
			e[0] = '%';
			e[1] = hex[*u >> 4];
			e[2] = hex[*u & 15];
			qb_put(b, e, 3);
		}
	}
}

static cc_err
make_next_url(struct query *q, const char *self_path)
{
	struct qbuf b = { 0 };
	size_t i;

	qb_puts(&b, self_path);
	qb_putc(&b, '?');
	for (i = 0; i < q->nparams; i++) {
		put_urlenc(&b, q->params[i].key);
		qb_putc(&b, '=');
		put_urlenc(&b, q->params[i].value);
		qb_putc(&b, '&');
	}
	qb_puts(&b, "_next=");
	qb_puts(&b, q->next_token);
	return (q->next_url = qb_take(&b)) != NULL ? CC_OK : CC_ENOMEM;
}

/* The id of the latest run in state done, or NULL (none, or no runs
 * table in this database). */
static char *
latest_run(sqlite3 *db)
{
	static const char *const sql[] = {
		/* the run that built the model being read (it records itself
		 * before the model is swapped in) */
		"SELECT run_id FROM model.model_info LIMIT 1",
		/* an older model, or one built outside a run */
		"SELECT id FROM main.runs WHERE state = 'done' ORDER BY seq DESC"
		" LIMIT 1",
	};
	sqlite3_stmt *st;
	char *id = NULL;
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && id == NULL; i++) {
		if (stc_prepare(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			continue;
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			id = strdup((const char *)sqlite3_column_text(st, 0));
		stc_release(st);
	}
	return id;
}

static cc_err
step_error(struct query *q, int rc, struct cc_diag *diag)
{
	if (q->clk.gone_fired)
		return cc_diag_set(diag, CC_EDB, "client_gone",
		    "the client went away");
	if (rc == SQLITE_INTERRUPT || q->clk.fired)
		return cc_diag_set(diag, CC_EDB, "query_time_limit",
		    "the query ran longer than the %ld ms limit: narrow the"
		    " filters", q->clk.limit_ms);
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
	    sqlite3_errmsg(q->db));
}

/*
 * The next row of q->st for a writer that has written nrows: 1 with a
 * row, 0 at the end with *c the reason (QUERY_CUT_NONE: no more rows;
 * QUERY_CUT_ROWS: capped, when capped and stream_max_rows are written
 * and a row is left; QUERY_CUT_WRITER, _TIME, _ERROR: the step failed,
 * diag set by step_error()).
 */
static int
next_row(struct query *q, long long nrows, int capped, enum query_cut *c,
    struct cc_diag *diag)
{
	int rc;

	if (capped && nrows >= q->lim.stream_max_rows) {
		rc = qstep(&q->clk, q->st);
		*c = rc == SQLITE_DONE ? QUERY_CUT_NONE : QUERY_CUT_ROWS;
		return 0;
	}
	if ((rc = qstep(&q->clk, q->st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		*c = q->clk.gone_fired ? QUERY_CUT_WRITER :
		    rc == SQLITE_INTERRUPT || q->clk.fired ?
		    QUERY_CUT_TIME : QUERY_CUT_ERROR;
		step_error(q, rc, diag);
		return 0;
	}
	return 1;
}

/* Page mode: the keys of at most size+1 rows decide the next token. */
static cc_err
probe(struct query *q, const char *self_path, struct cc_diag *diag)
{
	struct qval last = { SQLITE_NULL, 0, 0, NULL, 0 };
	sqlite3_int64 last_rowid = 0;
	sqlite3_stmt *st = NULL;
	int rc, nrows = 0, kc = q->sort >= 0 ? 1 : 0;
	cc_err err = CC_OK;

	if ((err = prepare_ro(q->db, &q->auth, q->probe_sql, &st, diag)) !=
	    CC_OK)
		return err;
	if (bind_all(q, st) != 0) {
		stc_release(st);
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(q->db));
	}
	while ((rc = qstep(&q->clk, st)) == SQLITE_ROW) {
		if (nrows == q->size)
			break;
		nrows++;
		if (nrows < q->size)
			continue;
		/* The last row of the page: keep its keys. */
		last_rowid = sqlite3_column_int64(st, kc);
		if (kc) {
			switch (sqlite3_column_type(st, 0)) {
			case SQLITE_INTEGER:
				last.kind = SQLITE_INTEGER;
				last.i = sqlite3_column_int64(st, 0);
				break;
			case SQLITE_FLOAT:
				last.kind = SQLITE_FLOAT;
				last.d = sqlite3_column_double(st, 0);
				break;
			case SQLITE_NULL:
				break;
			default: {
				/* TEXT or BLOB, kept as such: SQLite orders
				 * every TEXT before every BLOB. */
				int kind = sqlite3_column_type(st, 0);
				const void *p = sqlite3_column_blob(st, 0);
				if (qval_bytes(&last, kind, p != NULL ? p : "",
				    (size_t)sqlite3_column_bytes(st, 0)) != 0)
					err = CC_ENOMEM;
			}
			}
		}
	}
	if (rc == SQLITE_ROW && err == CC_OK) {
		if ((q->next_token = token_make(q, &last, last_rowid)) == NULL)
			err = CC_ENOMEM;
		else
			err = make_next_url(q, self_path);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = step_error(q, rc, diag);
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
	free(last.s);
	stc_release(st);
	return err;
}

cc_err
query_open(struct query *q, sqlite3 *db, const char *self_path,
    struct cc_diag *diag)
{
	cc_err err;

	q->db = db;
	q->auth.schema = q->schema;
	q->auth.table = q->table;
	util_rfc3339(time(NULL), q->generated_at, sizeof(q->generated_at));
	if (stc_exec(db, "BEGIN") != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	q->in_txn = 1;
	q->run_id = latest_run(db);
	memset(&q->clk, 0, sizeof(q->clk));
	q->clk.limit_ms = q->stream ? q->lim.stream_time_limit_ms :
	    q->lim.time_limit_ms;
	q->clk.gone = q->lim.gone;
	q->clk.gone_ctx = q->lim.gone_ctx;
	sqlite3_progress_handler(db, 1000, progress, &q->clk);
	if (!q->stream && (err = probe(q, self_path, diag)) != CC_OK)
		return err;
	if ((err = prepare_ro(db, &q->auth, q->sql, &q->st, diag)) != CC_OK)
		return err;
	if (bind_all(q, q->st) != 0)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	return CC_OK;
}

void
query_close(struct query *q)
{
	if (q == NULL || q->db == NULL)
		return;
	stc_release(q->st);
	q->st = NULL;
	auth_use(q->db, NULL);
	sqlite3_progress_handler(q->db, 0, NULL, NULL);
	if (q->in_txn)
		stc_exec(q->db, "COMMIT");
	q->in_txn = 0;
	q->db = NULL;
}

/* ---- write --------------------------------------------------------- */

struct qout {
	struct qbuf	 b;
	query_write_fn	 fn;
	void		*ctx;
	long long	 total;		/* bytes handed to fn */
	int		 failed;
};

static void
out_flush(struct qout *o)
{
	if (o->failed || o->b.len == 0)
		return;
	if (o->fn(o->ctx, o->b.p, o->b.len) != 0)
		o->failed = 1;
	o->total += (long long)o->b.len;
	o->b.len = 0;
}

/* One value as JSON (see the top of concord/query.h). */
static void
json_cell(struct qbuf *b, const struct qcol *c, sqlite3_stmt *st, int i)
{
	char num[32];
	sqlite3_int64 v;
	double d;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		qb_put(b, "null", 4);
		break;
	case SQLITE_INTEGER:
		v = sqlite3_column_int64(st, i);
		if (c->type == QUERY_T_MONEY) {
			qb_putc(b, '"');
			qb_put(b, num, query_money_format(v, num));
			qb_putc(b, '"');
		} else if (c->type == QUERY_T_BOOLEAN && (v == 0 || v == 1))
			qb_puts(b, v ? "true" : "false");
		else
			qb_put(b, num, fmt_i64(v, num));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		if (isfinite(d))
			qb_put(b, num, fmt_real(d, num));
		else
			qb_put(b, "null", 4);
		break;
	default: {
		const char *p = (const char *)sqlite3_column_blob(st, i);
		put_json_str(b, p != NULL ? p : "",
		    (size_t)sqlite3_column_bytes(st, i));
	}
	}
}

static void
csv_cell(struct qbuf *b, const struct query *q, const struct qcol *c,
    sqlite3_stmt *st, int i)
{
	char num[32];
	sqlite3_int64 v;
	double d;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		break;
	case SQLITE_INTEGER:
		v = sqlite3_column_int64(st, i);
		if (c->type == QUERY_T_MONEY)
			qb_put(b, num, query_money_format(v, num));
		else if (c->type == QUERY_T_BOOLEAN && (v == 0 || v == 1))
			qb_puts(b, v ? "true" : "false");
		else
			qb_put(b, num, fmt_i64(v, num));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		if (isfinite(d))
			qb_put(b, num, fmt_real(d, num));
		else if (!isnan(d))
			qb_puts(b, d > 0 ? "Infinity" : "-Infinity");
		break;
	default: {
		const char *p = (const char *)sqlite3_column_blob(st, i);
		put_csv_str(b, p != NULL ? p : "",
		    (size_t)sqlite3_column_bytes(st, i), !q->formulas_raw,
		    i == 0);
	}
	}
}

static void
write_row(struct query *q, struct qbuf *b, long long nrow)
{
	size_t i;

	switch (q->fmt) {
	case QUERY_CSV:
		for (i = 0; i < q->nsel; i++) {
			if (i > 0)
				qb_putc(b, ',');
			csv_cell(b, q, &q->cols[q->sel[i]], q->st, (int)i);
		}
		qb_put(b, "\r\n", 2);
		break;
	default:
		if (q->fmt == QUERY_JSON && nrow > 0)
			qb_putc(b, ',');
		qb_putc(b, q->arrays ? '[' : '{');
		for (i = 0; i < q->nsel; i++) {
			const struct qcol *c = &q->cols[q->sel[i]];
			if (i > 0)
				qb_putc(b, ',');
			if (!q->arrays)
				qb_put(b, c->jkey, c->jkeylen);
			json_cell(b, c, q->st, (int)i);
		}
		qb_putc(b, q->arrays ? ']' : '}');
		if (q->fmt == QUERY_NDJSON)
			qb_putc(b, '\n');
	}
}

static void
write_head(struct query *q, struct qbuf *b)
{
	char *t;
	size_t i;

	if (q->fmt == QUERY_CSV) {
		if (!q->header)
			return;
		for (i = 0; i < q->nsel; i++) {
			if (i > 0)
				qb_putc(b, ',');
			put_csv_str(b, q->cols[q->sel[i]].name,
			    strlen(q->cols[q->sel[i]].name), 0, i == 0);
		}
		qb_put(b, "\r\n", 2);
		return;
	}
	if (q->fmt != QUERY_JSON)
		return;
	/* The members json_pack() + json_dumps(JSON_COMPACT) would write for
	 * {ok, table, columns: [{name, type}...], filters, sort}, in that
	 * order, written directly: a page's head costs no JSON tree. */
	qb_puts(b, "{\"ok\":true,\"table\":");
	put_json_str(b, q->table, strlen(q->table));
	qb_puts(b, ",\"columns\":[");
	for (i = 0; i < q->nsel; i++) {
		const struct qcol *c = &q->cols[q->sel[i]];
		qb_puts(b, i > 0 ? ",{\"name\":" : "{\"name\":");
		put_json_str(b, c->name, strlen(c->name));
		qb_puts(b, ",\"type\":\"");
		qb_puts(b, type_names[c->type]);
		qb_puts(b, "\"}");
	}
	qb_puts(b, "],\"filters\":");
	if ((t = json_dumps(q->filters_json, JSON_COMPACT)) == NULL) {
		b->oom = 1;
		return;
	}
	qb_puts(b, t);
	free(t);
	qb_puts(b, ",\"sort\":");
	if ((t = json_dumps(q->sort_json, JSON_COMPACT |
	    JSON_ENCODE_ANY)) == NULL) {
		b->oom = 1;
		return;
	}
	qb_puts(b, t);
	free(t);
	qb_puts(b, ",\"rows\":[");
}

static const char *const cut_codes[] = {
	"", "page", "row_cap", "byte_cap", "time_limit", "error", "error",
};
static const char *const cut_text[] = {
	"", "", "row cap reached", "byte cap reached", "time limit reached",
	"error", "error",
};

static void
write_tail(struct query *q, struct qbuf *b, long long rows,
    enum query_cut cut)
{
	int inband = cut != QUERY_CUT_NONE && cut != QUERY_CUT_PAGE;
	const char *next = inband ? NULL : q->next_token;
	json_t *t, *prov;
	char *s;

	if (q->fmt == QUERY_CSV) {
		if (inband)
			qb_printf(b, "# truncated: %s\r\n", cut_text[cut]);
		return;
	}
	if (q->fmt == QUERY_NDJSON) {
		if (inband)
			qb_printf(b, "{\"_truncated\":true,"
			    "\"reason\":\"%s\"}\n", cut_codes[cut]);
		return;
	}
	prov = json_pack("{s:s, s:O, s:O, s:s, s:I, s:o}", "table", q->table,
	    "filters", q->filters_json, "sort", q->sort_json, "generated_at",
	    q->generated_at, "row_count", (json_int_t)rows, "run_id",
	    q->run_id != NULL ? json_string(q->run_id) : json_null());
	t = json_pack("{s:I, s:o, s:o, s:b}", "count", (json_int_t)rows,
	    "next", next != NULL ? json_string(next) : json_null(),
	    "next_url", next != NULL ? json_string(q->next_url) : json_null(),
	    "truncated", cut != QUERY_CUT_NONE);
	if (t != NULL && inband)
		json_object_set_new(t, "truncated_reason",
		    json_string(cut_codes[cut]));
	if (t == NULL || prov == NULL ||
	    json_object_set_new(t, "provenance", prov) != 0 ||
	    (s = json_dumps(t, JSON_COMPACT)) == NULL) {
		json_decref(t);
		b->oom = 1;
		return;
	}
	json_decref(t);
	qb_put(b, "],", 2);
	qb_puts(b, s + 1);			/* without the first '{' */
	qb_putc(b, '\n');
	free(s);
}

/* ---- xlsx ---------------------------------------------------------- */

#define XLSX_MAX_CELL	32767		/* characters of a cell (Excel) */
#define XLSX_WIDTH_MAX	60		/* column width cap, characters */

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]" -> *t. */
static int
parse_when(const char *s, size_t n, int with_time, lxw_datetime *t)
{
	int y, mo, d, h = 0, mi = 0, k = 0;
	double sec = 0;

	memset(t, 0, sizeof(*t));
	if (n < 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &k) != 3 ||
	    k != 10 || y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31)
		return -1;
	if (with_time && n > 10) {
		if ((s[10] != 'T' && s[10] != ' ') ||
		    sscanf(s + 11, "%2d:%2d:%lf", &h, &mi, &sec) != 3 ||
		    h > 23 || mi > 59 || sec < 0 || sec >= 61)
			return -1;
	} else if (n != 10)
		return -1;
	t->year = y;
	t->month = mo;
	t->day = d;
	t->hour = h;
	t->min = mi;
	t->sec = sec;
	return 0;
}

/*
 * s[0, n) as text a workbook can hold: invalid UTF-8 bytes become U+FFFD,
 * control characters XML 1.0 cannot hold become ST_Xstring escapes
 * ("_x0001_", ECMA-376 Part 1, 22.9.2.19), and the text is cut at
 * XLSX_MAX_CELL characters (*cut set).  Returns the text in b.
 */
static const char *
xlsx_text(struct qbuf *b, const char *s, size_t n, int *cut)
{
	size_t i = 0, k, chars = 0;
	unsigned char c;

	b->len = 0;
	*cut = 0;
	while (i < n) {
		if (chars == XLSX_MAX_CELL) {
			*cut = 1;
			break;
		}
		c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			qb_printf(b, "_x%04X_", c);
			i++;
		} else if (c == '_' && i + 1 < n && s[i + 1] == 'x') {
			qb_puts(b, "_x005F_");	/* a literal "_x" */
			i++;
		} else if (c < 0x80) {
			qb_putc(b, (char)c);
			i++;
		} else if ((k = utf8_seq((const unsigned char *)s + i,
		    n - i)) > 0) {
			qb_put(b, s + i, k);
			i += k;
		} else {
			qb_puts(b, "\xEF\xBF\xBD");
			i++;
		}
		chars++;
	}
	qb_putc(b, '\0');
	return b->oom ? "" : b->p;
}

struct xlsx_out {
	lxw_workbook	*wb;
	lxw_worksheet	*ws;
	lxw_format	*bold, *date, *stamp, *money;
	double		*width;
	long long	 cut_cells;
};

static void
xlsx_width(struct xlsx_out *x, size_t i, double w)
{
	if (w > XLSX_WIDTH_MAX)
		w = XLSX_WIDTH_MAX;
	if (w > x->width[i])
		x->width[i] = w;
}

static lxw_error
xlsx_cell(struct xlsx_out *x, struct qbuf *b, const struct qcol *c,
    sqlite3_stmt *st, int i, lxw_row_t row)
{
	lxw_col_t col = (lxw_col_t)i;
	lxw_datetime t;
	const char *p, *txt;
	char num[32];
	size_t n;
	double d;
	int cut;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return LXW_NO_ERROR;
	case SQLITE_INTEGER:
		if (c->type == QUERY_T_MONEY) {
			xlsx_width(x, (size_t)i, (double)query_money_format(
			    sqlite3_column_int64(st, i), num) + 3);
			return worksheet_write_number(x->ws, row, col,
			    (double)sqlite3_column_int64(st, i) /
			    (double)QUERY_MONEY_UNIT, x->money);
		}
		if (c->type == QUERY_T_BOOLEAN) {
			sqlite3_int64 v = sqlite3_column_int64(st, i);
			if (v == 0 || v == 1) {
				xlsx_width(x, (size_t)i, 6);
				return worksheet_write_boolean(x->ws, row, col,
				    (int)v, NULL);
			}
		}
		xlsx_width(x, (size_t)i, (double)fmt_i64(
		    sqlite3_column_int64(st, i), num) + 1);
		return worksheet_write_number(x->ws, row, col,
		    (double)sqlite3_column_int64(st, i), NULL);
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		if (!isfinite(d))
			return LXW_NO_ERROR;
		xlsx_width(x, (size_t)i, (double)fmt_real(d, num) + 1);
		return worksheet_write_number(x->ws, row, col, d, NULL);
	default:
		p = (const char *)sqlite3_column_blob(st, i);
		n = (size_t)sqlite3_column_bytes(st, i);
		if (p == NULL)
			p = "";
		if (c->type == QUERY_T_DATE && parse_when(p, n, 0, &t) == 0) {
			xlsx_width(x, (size_t)i, 11);
			return worksheet_write_datetime(x->ws, row, col, &t,
			    x->date);
		}
		if (c->type == QUERY_T_TIMESTAMP &&
		    parse_when(p, n, 1, &t) == 0) {
			xlsx_width(x, (size_t)i, 20);
			return worksheet_write_datetime(x->ws, row, col, &t,
			    x->stamp);
		}
		txt = xlsx_text(b, p, n, &cut);
		x->cut_cells += cut;
		xlsx_width(x, (size_t)i, (double)(n < 200 ? n : 200) + 1);
		return worksheet_write_string(x->ws, row, col, txt, NULL);
	}
}

/* Copies the finished workbook at path through fn. */
static int
xlsx_send(const char *path, query_write_fn fn, void *ctx)
{
	char *buf;
	FILE *f;
	size_t n;
	int rc = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(OUT_CHUNK)) == NULL) {
		fclose(f);
		return -1;
	}
	while (rc == 0 && (n = fread(buf, 1, OUT_CHUNK, f)) > 0)
		rc = fn(ctx, buf, n);
	free(buf);
	fclose(f);
	return rc;
}

/*
 * The xlsx answer: the rows go to sheet "data" of a workbook written in
 * libxlsxwriter's constant_memory mode to a temporary file, which is then
 * copied through fn and removed.  A second sheet, "provenance", holds
 * what the JSON answer's "provenance" holds.
 */
static cc_err
xlsx_write(struct query *q, query_write_fn fn, void *ctx, long long *rows,
    enum query_cut *cut, struct cc_diag *diag)
{
	lxw_workbook_options opt = { LXW_TRUE, NULL, LXW_FALSE };
	struct xlsx_out x;
	struct qbuf b = { 0 };
	enum query_cut c = QUERY_CUT_NONE;
	const char *tmp = q->lim.tmpdir;
	lxw_worksheet *pv;
	long long nrows = 0;
	char path[4096], *fj = NULL, *sj = NULL;
	size_t i;
	lxw_row_t r = 0;
	int fd;

	memset(&x, 0, sizeof(x));
	if (tmp == NULL && (tmp = getenv("TMPDIR")) == NULL)
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/concord-xlsx-XXXXXX", tmp);
	if ((fd = mkstemp(path)) < 0)
		return cc_diag_set(diag, CC_EIO, "io", "cannot create a"
		    " temporary file in %s: %s", tmp, strerror(errno));
	close(fd);
	opt.tmpdir = (char *)tmp;
	if ((x.width = calloc(q->nsel ? q->nsel : 1, sizeof(double))) ==
	    NULL || (x.wb = workbook_new_opt(path, &opt)) == NULL ||
	    (x.ws = workbook_add_worksheet(x.wb, "data")) == NULL ||
	    (pv = workbook_add_worksheet(x.wb, "provenance")) == NULL) {
		if (x.wb != NULL)
			workbook_close(x.wb);
		free(x.width);
		unlink(path);
		return cc_diag_set(diag, CC_ENOMEM, "oom", "cannot start the"
		    " workbook");
	}
	x.bold = workbook_add_format(x.wb);
	format_set_bold(x.bold);
	x.date = workbook_add_format(x.wb);
	format_set_num_format(x.date, "yyyy-mm-dd");
	x.stamp = workbook_add_format(x.wb);
	format_set_num_format(x.stamp, "yyyy-mm-dd hh:mm:ss");
	x.money = workbook_add_format(x.wb);
	format_set_num_format(x.money, "#,##0.00##");
	worksheet_freeze_panes(x.ws, 1, 0);
	for (i = 0; i < q->nsel; i++) {
		const char *name = q->cols[q->sel[i]].name;
		worksheet_write_string(x.ws, 0, (lxw_col_t)i, name, x.bold);
		xlsx_width(&x, i, (double)strlen(name) + 2);
	}
	while (next_row(q, nrows, 1, &c, diag)) {
		r++;
		for (i = 0; i < q->nsel; i++)
			if (xlsx_cell(&x, &b, &q->cols[q->sel[i]], q->st,
			    (int)i, r) != LXW_NO_ERROR)
				c = QUERY_CUT_ERROR;
		nrows++;
		if (c != QUERY_CUT_NONE || b.oom) {
			c = QUERY_CUT_ERROR;
			cc_diag_set(diag, CC_EIO, "xlsx", "cannot write row"
			    " %lld of the workbook", nrows);
			break;
		}
	}
	for (i = 0; i < q->nsel; i++)
		worksheet_set_column(x.ws, (lxw_col_t)i, (lxw_col_t)i,
		    x.width[i] + 1, NULL);
	/* the provenance sheet: the JSON answer's "provenance" */
	fj = json_dumps(q->filters_json, JSON_COMPACT);
	sj = json_dumps(q->sort_json, JSON_COMPACT | JSON_ENCODE_ANY);
	worksheet_set_column(pv, 0, 0, 18, x.bold);
	worksheet_set_column(pv, 1, 1, 60, NULL);
	{
		/* constant_memory: a row is final once the next one starts,
		 * so each row is written whole, in order */
		const char *k[] = { "table", "filters", "sort", "generated_at",
		    "row_count", "run_id", "truncated", "truncated_reason",
		    "cells_cut" };
		lxw_row_t pr;
		for (pr = 0; pr < sizeof(k) / sizeof(k[0]); pr++) {
			worksheet_write_string(pv, pr, 0, k[pr], x.bold);
			switch (pr) {
			case 0:
				worksheet_write_string(pv, pr, 1, q->table, NULL);
				break;
			case 1:
				worksheet_write_string(pv, pr, 1, fj != NULL ? fj :
				    "{}", NULL);
				break;
			case 2:
				worksheet_write_string(pv, pr, 1, sj != NULL ? sj :
				    "null", NULL);
				break;
			case 3:
				worksheet_write_string(pv, pr, 1,
				    q->generated_at, NULL);
				break;
			case 4:
				worksheet_write_number(pv, pr, 1, (double)nrows,
				    NULL);
				break;
			case 5:
				if (q->run_id != NULL)
					worksheet_write_string(pv, pr, 1,
					    q->run_id, NULL);
				break;
			case 6:
				worksheet_write_boolean(pv, pr, 1,
				    c != QUERY_CUT_NONE, NULL);
				break;
			case 7:
				if (c != QUERY_CUT_NONE)
					worksheet_write_string(pv, pr, 1,
					    cut_codes[c], NULL);
				break;
			default:
				worksheet_write_number(pv, pr, 1,
				    (double)x.cut_cells, NULL);
			}
		}
	}
	free(fj);
	free(sj);
	free(b.p);
	free(x.width);
	if (workbook_close(x.wb) != LXW_NO_ERROR) {
		unlink(path);
		*rows = nrows;
		*cut = QUERY_CUT_ERROR;
		return cc_diag_set(diag, CC_EIO, "xlsx", "cannot write the"
		    " workbook in %s", tmp);
	}
	if (c != QUERY_CUT_WRITER && xlsx_send(path, fn, ctx) != 0)
		c = QUERY_CUT_WRITER;
	unlink(path);
	*rows = nrows;
	*cut = c;
	return CC_OK;
}

cc_err
query_write(struct query *q, query_write_fn fn, void *ctx, long long *rows,
    enum query_cut *cut, struct cc_diag *diag)
{
	struct qout o = { { 0 }, fn, ctx, 0, 0 };
	long long nrows = 0;
	enum query_cut c = QUERY_CUT_NONE;
	int rc;

	*rows = 0;
	*cut = QUERY_CUT_NONE;
	if (q->st == NULL)
		return cc_diag_set(diag, CC_EINVAL, "not_open",
		    "query_open() first");
	if (q->fmt == QUERY_XLSX)
		return xlsx_write(q, fn, ctx, rows, cut, diag);
	write_head(q, &o.b);
	if (o.b.oom) {
		free(o.b.p);
		return cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
	}
	while (next_row(q, nrows, q->stream, &c, diag)) {
		write_row(q, &o.b, nrows);
		nrows++;
		if (o.b.oom) {
			c = QUERY_CUT_ERROR;
			cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
			break;
		}
		if (o.b.len >= OUT_CHUNK)
			out_flush(&o);
		if (o.failed) {
			c = QUERY_CUT_WRITER;
			break;
		}
		if (q->stream && o.total + (long long)o.b.len >=
		    q->lim.stream_max_bytes) {
			rc = qstep(&q->clk, q->st);
			c = rc == SQLITE_DONE ? QUERY_CUT_NONE :
			    QUERY_CUT_BYTES;
			break;
		}
	}
	if (c == QUERY_CUT_NONE && q->next_token != NULL)
		c = QUERY_CUT_PAGE;
	if (c != QUERY_CUT_WRITER) {
		/* Room for the tail even after an allocation failure. */
		o.b.oom = 0;
		write_tail(q, &o.b, nrows, c);
		out_flush(&o);
		if (o.failed)
			c = QUERY_CUT_WRITER;
	}
	free(o.b.p);
	*rows = nrows;
	*cut = c;
	return CC_OK;
}

/* ---- accessors ----------------------------------------------------- */

enum query_format
query_format_of(const struct query *q)
{
	return q->fmt;
}

const char *
query_table(const struct query *q)
{
	return q->table;
}

int
query_is_stream(const struct query *q)
{
	return q->stream;
}

int
query_is_download(const struct query *q)
{
	return q->dl;
}

const char *
query_next_token(const struct query *q)
{
	return q->next_token;
}

const char *
query_next_url(const struct query *q)
{
	return q->next_url;
}

const char *
query_sql(const struct query *q)
{
	return q->sql;
}

const char *
query_probe_sql(const struct query *q)
{
	return q->probe_sql;
}

const json_t *
query_filters(const struct query *q)
{
	return q->filters_json;
}

/* ---- the list of tables -------------------------------------------- */

/* The rows of au's table (ident: its qualified, quoted name). */
static cc_err
count_rows(sqlite3 *db, const struct qauth *au, const char *ident,
    struct qclock *clk, long long *count, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char sql[2 * MAX_NAME + 64];
	cc_err err;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", ident);
	if ((err = prepare_ro(db, au, sql, &st, diag)) != CC_OK)
		return err;
	rc = qstep(clk, st);
	auth_use(db, NULL);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_INTERRUPT || clk->fired)
		err = cc_diag_set(diag, CC_EDB, "query_time_limit",
		    "counting rows ran longer than %ld ms", clk->limit_ms);
	else
		err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	stc_release(st);
	return err;
}

cc_err
query_tables(sqlite3 *db, const struct query_limits *lim, json_t **out,
    struct cc_diag *diag)
{
	json_t *list = NULL, *names = NULL, *cols, *t;
	struct qclock clk = { 0 };
	struct qauth au;
	struct qcol *qc;
	const char *rowid, *schema = model_schema(db);
	char sql[128];
	sqlite3_stmt *st = NULL;
	long long count = 0;
	size_t i, k, nc;
	char url[MAX_NAME + 32], *ident;
	cc_err err = CC_OK;
	int rc;

	*out = NULL;
	if ((list = json_array()) == NULL || (names = json_array()) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	if (stc_exec(db, "BEGIN") != SQLITE_OK) {
		err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
		goto out;
	}
	clk.limit_ms = lim->time_limit_ms;
	sqlite3_progress_handler(db, 1000, progress, &clk);
	if (table_exists(db, schema, "table_columns")) {
		snprintf(sql, sizeof(sql), "SELECT DISTINCT table_name FROM"
		    " \"%s\".table_columns ORDER BY table_name", schema);
		if (stc_prepare(db, sql, -1, &st, NULL) != SQLITE_OK) {
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
			goto done;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = (const char *)
			    sqlite3_column_text(st, 0);
			if (name != NULL && model_is_public_table(name))
				json_array_append_new(names, json_string(name));
		}
		stc_release(st);
		if (rc != SQLITE_DONE) {
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
			goto done;
		}
	}
	for (i = 0; i < json_array_size(names); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		err = load_columns(db, schema, name, &qc, &nc, &rowid, diag);
		if (err == CC_ENOTFOUND) {
			err = CC_OK;
			continue;
		}
		if (err != CC_OK)
			goto done;
		if ((ident = qualified(schema, name)) == NULL) {
			free_cols(qc, nc);
			err = CC_ENOMEM;
			goto done;
		}
		au.schema = schema;
		au.table = name;
		err = count_rows(db, &au, ident, &clk, &count, diag);
		free(ident);
		cols = json_array();
		for (k = 0; cols != NULL && k < nc; k++)
			json_array_append_new(cols, json_pack("{s:s, s:s}",
			    "name", qc[k].name, "type",
			    type_names[qc[k].type]));
		free_cols(qc, nc);
		if (err != CC_OK) {
			json_decref(cols);
			goto done;
		}
		snprintf(url, sizeof(url), "/api/v1/tables/%s", name);
		if ((t = json_pack("{s:s, s:o, s:I, s:s}", "name", name,
		    "columns", cols, "rows", (json_int_t)count, "url", url)) ==
		    NULL || json_array_append_new(list, t) != 0) {
			err = CC_ENOMEM;
			goto done;
		}
	}
done:
	sqlite3_progress_handler(db, 0, NULL, NULL);
	stc_exec(db, "COMMIT");
out:
	json_decref(names);
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "oom", "out of memory");
	if (err != CC_OK) {
		json_decref(list);
		return err;
	}
	*out = list;
	return CC_OK;
}
