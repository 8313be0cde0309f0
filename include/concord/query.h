/*
 * concord/query.h - the read side's table requests: one public table of
 * the star schema (concord/model.h) with filters, column selection, a
 * sort, keyset paging, and rows streamed as JSON, CSV or NDJSON to a
 * writer callback in constant memory.  No HTTP here: the FastCGI handler
 * (fcgi/h_tables.c) hands over the decoded query parameters and a writer.
 *
 * Conventions come from ../shared/guides/http-api.md (Datasette's table
 * API: `column__op=value` filters, `_sort`, `_col`, `_size`, `_next`,
 * `_shape`, `_stream`, `_dl`) and security.md (identifiers never pasted
 * from the request, values always bound, read-only statements under an
 * authorizer and a time limit, spreadsheet formula injection).
 *
 * Request parameters (query_parse()):
 *   _size=N          rows per page, 1..limits.size_max (default
 *                    limits.size_default); 400 outside.
 *   _next=TOKEN      continue after the page that returned TOKEN.  The
 *                    token is opaque (base64url of a small JSON holding
 *                    the last row's sort value with its SQLite type, its
 *                    rowid, and the sort it belongs to); any other value,
 *                    or a token of another sort, is 400.  Paging is
 *                    keyset paging (never OFFSET): (sort column, rowid) >
 *                    (last value, last rowid), NULLs first ascending and
 *                    last descending, as SQLite sorts.
 *   _sort=COL, _sort_desc=COL   order by COL (then rowid in the same
 *                    direction); default: rowid ascending.  Not both.
 *   _col=COL (repeatable or comma-separated)   only these columns, in
 *                    this order; _nocol=COL drops columns.
 *   _shape=objects|arrays   JSON/NDJSON rows as objects (default) or
 *                    arrays in the order of "columns".
 *   _header=on|off   CSV header row (default on).
 *   _formulas=safe|raw   CSV formula-injection protection (default safe):
 *                    see "CSV" below.  raw is for machine consumers that
 *                    never open the file in a spreadsheet.
 *   _stream=1        every matching row (no paging; _size and _next are
 *                    ignored), up to limits.stream_max_rows rows and
 *                    limits.stream_max_bytes bytes, then an in-band marker.
 *   _dl=1            the handler adds Content-Disposition: attachment.
 *   COL=V, COL__OP=V filters, ANDed: OP is one of exact, not, contains,
 *                    startswith, gt, gte, lt, lte, in, isnull.  COL must be
 *                    a column of the table in table_columns (400
 *                    unknown_column otherwise), OP a known operator (400
 *                    unknown_operator).  A filter key may appear once.
 *                    Values are parsed by the column's declared type and
 *                    bound, never pasted:
 *                      integer: a decimal integer; real: a finite number;
 *                      money: a decimal string with at most
 *                        QUERY_MONEY_DIGITS (4) decimals, compared in
 *                        units of 10^-4 ("12.5" -> 125000);
 *                      boolean: 1/0/true/false;
 *                      text, date, timestamp: the text itself (dates and
 *                        timestamps compare as text: ISO 8601 sorts).
 *                    not: `IS NOT` (rows whose value is NULL match);
 *                    contains/startswith: case-sensitive, text, date and
 *                    timestamp columns only; in: comma-separated, or a
 *                    JSON array of strings/numbers when the value starts
 *                    with '[' (for values holding commas), 1..1000 items;
 *                    isnull: 1/0/true/false.
 *   Any other parameter is read as a filter, so `_foo=1` is 400
 *   unknown_column (columns may start with '_': _file_id, _row).
 *
 * Values in the output, by declared type and SQLite storage class:
 * money INTEGER -> exact decimal string ("12.50", "-0.05", "0.001"); boolean INTEGER
 * 0/1 -> false/true; other INTEGER and REAL -> numbers (a non-finite REAL
 * is null in JSON); TEXT -> string (invalid UTF-8 bytes become U+FFFD);
 * NULL -> null (CSV: an empty field; an empty string is written "").
 *
 * JSON: {"ok": true, "table", "columns": [{"name", "type"}], "filters":
 * {"col__op": value}, "sort": null | {"column", "desc"}, "rows": [...],
 * "count" (rows in this answer), "next", "next_url", "truncated",
 * "truncated_reason" (only when truncated by a cap), "provenance":
 * {"table", "filters", "sort", "generated_at" (RFC 3339 UTC), "row_count",
 * "run_id" (latest run in state done, or null)}}.  The object is written
 * incrementally: rows first, the keys known only at the end after them.
 * "truncated" is true when matching rows were left out of this answer: a
 * next page exists, or a stream cap, the time limit or an error ended it.
 *
 * CSV (RFC 4180): text/csv; charset=utf-8, CRLF line ends, a header row,
 * fields quoted when they hold a comma, a quote, CR or LF (quotes
 * doubled); an empty string is "" and NULL is empty.  Formula injection
 * (OWASP, ASVS 5.0 1.2.10): a cell whose value is a string in the
 * database and begins with = + - @ TAB CR or NUL is prefixed with a single
 * quote ('=1+2).  Numbers (integer, real and money columns stored as
 * numbers, booleans) are never prefixed: -5.00 in a money column is data.
 * _formulas=raw writes strings unchanged.  A first-column field beginning
 * with '#' is always quoted, so that a line beginning with '#' can only be
 * the in-band marker a cut stream ends with:
 *     # truncated: row cap reached | byte cap reached | time limit reached
 *       | error
 *
 * NDJSON: application/x-ndjson, one JSON row per line (object, or array
 * with _shape=arrays); a cut stream ends with the line
 * {"_truncated": true, "reason": "row_cap" | "byte_cap" | "time_limit" |
 * "error"}.  Paging of CSV and NDJSON is given by the Link header only.
 *
 * XLSX (ECMA-376 workbook, written by libxlsxwriter in constant_memory
 * mode to a temporary file in limits.tmpdir, then copied to the writer):
 * always the whole view, as _stream=1 (_size and _next ignored), at most
 * QUERY_XLSX_MAX_ROWS rows; always a download.  Sheet "data": a bold
 * header row, frozen; column widths from the longest value (capped at 60
 * characters); integer and real values as numbers, money as numbers
 * (units / 10^4) in the format "#,##0.00##" (2 to 4 decimals), booleans
 * as booleans, date columns' YYYY-MM-DD as dates ("yyyy-mm-dd"),
 * timestamp columns' RFC 3339 text as date-times ("yyyy-mm-dd hh:mm:ss",
 * UTC, the offset dropped), text as inline strings (never formulas, so no
 * formula injection; invalid UTF-8 becomes U+FFFD, control characters
 * "_xHHHH_" escapes, a string over 32,767 characters is cut and counted);
 * NULL and non-finite reals are blank cells; a date or timestamp value
 * that does not parse is written as text.  Sheet "provenance": rows
 * table, filters (JSON), sort (JSON), generated_at, row_count, run_id,
 * truncated, truncated_reason, cells_cut.
 */
#ifndef CONCORD_QUERY_H
#define CONCORD_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/error.h"

enum query_format {
	QUERY_JSON = 0,		/* application/json */
	QUERY_CSV,		/* text/csv; charset=utf-8 */
	QUERY_NDJSON,		/* application/x-ndjson */
	QUERY_XLSX,		/* application/vnd.openxmlformats-
				   officedocument.spreadsheetml.sheet */
	QUERY__FORMAT_MAX
};

/* Declared column types of table_columns (concord/model.h). */
enum query_type {
	QUERY_T_TEXT = 0,	/* also any type name not listed here */
	QUERY_T_INTEGER,
	QUERY_T_REAL,
	QUERY_T_MONEY,		/* INTEGER units of 10^-QUERY_MONEY_DIGITS */
	QUERY_T_DATE,		/* TEXT YYYY-MM-DD */
	QUERY_T_TIMESTAMP,	/* TEXT RFC 3339 UTC */
	QUERY_T_BOOLEAN,	/* INTEGER 0/1 */
	QUERY__T_MAX
};

enum query_op {
	QUERY_OP_EXACT = 0,
	QUERY_OP_NOT,
	QUERY_OP_CONTAINS,
	QUERY_OP_STARTSWITH,
	QUERY_OP_GT,
	QUERY_OP_GTE,
	QUERY_OP_LT,
	QUERY_OP_LTE,
	QUERY_OP_IN,
	QUERY_OP_ISNULL,
	QUERY__OP_MAX
};

/* One decoded query parameter, in request order (keys may repeat). */
struct query_param {
	const char	*key;
	const char	*value;
};

struct query_limits {
	int		size_default;		/* _size when absent (100) */
	int		size_max;		/* largest _size (1000) */
	long long	stream_max_rows;	/* _stream row cap
						   (5,000,000) */
	long long	stream_max_bytes;	/* _stream byte cap (4 GiB) */
	long		time_limit_ms;		/* time spent inside SQLite per
						   request (10,000); 0 = none */
	long		stream_time_limit_ms;	/* the same for _stream=1
						   (120,000); 0 = none */
	int		(*gone)(void *ctx);	/* non-zero once the client
						   went away: asked about every
						   50 ms while SQLite works, the
						   statement is interrupted
						   (diag code "client_gone");
						   NULL (default): not asked */
	void		*gone_ctx;		/* gone()'s argument */
	const char	*tmpdir;		/* xlsx: where the workbook is
						   built (NULL: $TMPDIR, else
						   /tmp) */
};

/* Data rows of an xlsx answer at most: Excel's 1,048,576 rows per sheet,
 * less the header row. */
#define QUERY_XLSX_MAX_ROWS	1048575LL

/* Why an answer ended before the last matching row. */
enum query_cut {
	QUERY_CUT_NONE = 0,
	QUERY_CUT_PAGE,		/* _size: a next page exists */
	QUERY_CUT_ROWS,		/* stream_max_rows */
	QUERY_CUT_BYTES,	/* stream_max_bytes */
	QUERY_CUT_TIME,		/* time_limit_ms */
	QUERY_CUT_ERROR,	/* SQLite failed after the answer began */
	QUERY_CUT_WRITER,	/* the writer failed (client gone) */
};

/*
 * Writes len bytes of the answer.  Returns 0, or -1 to stop (the client
 * went away); query_write() then stops stepping.
 */
typedef int	(*query_write_fn)(void *ctx, const void *buf, size_t len);

struct query;

/* Fills lim with the defaults above. */
void		 query_limits_default(struct query_limits *lim);

/*
 * Parses and validates a request for table in db (a workspace handle:
 * the model is read from the schema "model" when model.db is attached,
 * else from "main"; every name is qualified with it).  The table must
 * pass model_is_public_table() and exist with its catalogue rows in that
 * schema's table_columns; column names in filters, _sort, _col
 * and _nocol must be catalogue names exactly; they are then quoted as SQL
 * identifiers.  params (n of them, not kept) are the decoded query
 * parameters; lim is copied.  On success *out is freed with query_free().
 *
 * Errors: CC_ENOTFOUND (not a public table: diag code "not_found"; or not
 * created in this workspace yet: "no_such_table"), CC_EINVAL (diag code
 * unknown_column, unknown_operator, bad_operator (contains or startswith
 * on a column that is not text, date or timestamp), bad_value,
 * bad_parameter, bad_size, bad_next, bad_sort, duplicate_filter,
 * no_columns; the message names the parameter), CC_ENOMEM, CC_EDB.
 */
cc_err		 query_parse(sqlite3 *db, const char *table,
		     enum query_format fmt, const struct query_param *params,
		     size_t n, const struct query_limits *lim,
		     struct query **out, struct cc_diag *diag);

/*
 * Starts the answer: begins a read transaction, installs the authorizer
 * (reads of this table only) and the progress-handler time limit, and in
 * page mode runs the keyset probe that decides the next token.  self_path
 * is the request's path ("/api/v1/tables/fact_sales.csv", trusted: it
 * matched a route) used for next_url, which keeps every other parameter.
 * Call query_close() afterwards whatever it returns.
 * Errors: CC_EDB (diag code "query_time_limit" when the time limit cut
 * the probe; "client_gone" when lim.gone said the client left;
 * "sqlite" otherwise), CC_ENOMEM.
 */
cc_err		 query_open(struct query *q, sqlite3 *db,
		     const char *self_path, struct cc_diag *diag);

/* After query_open(): the next page's token and relative URL, or NULL. */
const char	*query_next_token(const struct query *q);
const char	*query_next_url(const struct query *q);

/*
 * Steps the rows and writes the whole answer through fn, buffered in
 * 64 KiB chunks; memory does not grow with the row count.  *rows gets the
 * number of rows written, *cut why the answer ended early (QUERY_CUT_NONE
 * when it holds every matching row).  Errors after the first byte was
 * written are reported in band (see the top of this file) and logged by
 * the caller from *cut; the return value is then CC_OK.  Returns CC_EDB
 * or CC_ENOMEM only when nothing could be written.
 */
cc_err		 query_write(struct query *q, query_write_fn fn, void *ctx,
		     long long *rows, enum query_cut *cut,
		     struct cc_diag *diag);

/* Ends the read transaction and removes the handlers.  NULL is fine. */
void		 query_close(struct query *q);

/* Frees q (NULL is fine). */
void		 query_free(struct query *q);

/* Accessors for the handler and the tests. */
enum query_format query_format_of(const struct query *q);
const char	*query_table(const struct query *q);
int		 query_is_stream(const struct query *q);
int		 query_is_download(const struct query *q);

/* The MIME type of a format ("text/csv; charset=utf-8", ...). */
const char	*query_content_type(enum query_format fmt);

/* The file extension of a format without the dot ("csv", ...). */
const char	*query_extension(enum query_format fmt);

/* The SQL text of the row statement and of the probe (for tests and
 * logs: values are never in it, only ?NNN parameters). */
const char	*query_sql(const struct query *q);
const char	*query_probe_sql(const struct query *q);

/* The parsed filters as the answer echoes them ({"col__op": value});
 * borrowed. */
const json_t	*query_filters(const struct query *q);

/*
 * The public tables of the workspace: {"name", "columns": [{"name",
 * "type"}], "rows": count, "url"} for each public table that exists and
 * has catalogue rows, by name; an empty array before the first run.
 * *out is a new reference.  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err		 query_tables(sqlite3 *db, const struct query_limits *lim,
		     json_t **out, struct cc_diag *diag);

/*
 * The statements query_parse(), query_open() and query_tables() prepare
 * are kept prepared between calls (per process, per connection, by SQL
 * text; at most 64, the least recently used finalized first), so a
 * worker does not parse the same statements for every request.  Call
 * query_cache_drop(db) before closing a connection these functions
 * used (ws_close() of a cached workspace handle does): it finalizes the
 * connection's kept statements.  NULL is fine.
 */
void		 query_cache_drop(sqlite3 *db);

/*
 * The statements of these functions are prepared under an authorizer
 * that allows reading the one table a request names (defence in depth),
 * installed once per connection and kept (setting an authorizer expires
 * every prepared statement of the connection: SQLite's
 * sqlite3_set_authorizer()).  Code that installs another authorizer on a
 * connection these functions used must call query_authorizer_lost(db)
 * (ask_check() does), so that they install theirs again before their
 * next preparation.  NULL or an unknown connection is fine.
 */
void		 query_authorizer_lost(sqlite3 *db);

/* Helpers, exported for the tests. */

/*
 * Money is stored as an INTEGER of units of 10^-QUERY_MONEY_DIGITS of the
 * currency (1 = 0.0001): four decimals hold every price a sales export
 * writes (sub-cent unit prices such as 0.001 included) exactly, sums of
 * integers stay exact, and int64 still holds 922 trillion.  A value with
 * more decimals is rounded by the cleaner, which records it (clean rule
 * money_round, concord/clean.h).  Printed with at least
 * QUERY_MONEY_MIN_DIGITS decimals (the cent, ISO 4217 minor unit of most
 * currencies) and every further non-zero digit.
 */
#define QUERY_MONEY_DIGITS	4
#define QUERY_MONEY_UNIT	INT64_C(10000)	/* units per currency unit */
#define QUERY_MONEY_MIN_DIGITS	2

/*
 * Writes units (10^-QUERY_MONEY_DIGITS) as the exact decimal string,
 * with two to four decimals: "12.50" (125000), "-0.05" (-500), "0.001"
 * (10), "1.2345" (12345), "-922337203685477.5808" for INT64_MIN, into
 * buf, which holds at least 24 bytes.  Returns the length.
 */
size_t		 query_money_format(int64_t minor, char *buf);

/*
 * Parses a decimal money string: optional '-', digits, optionally '.' and
 * one to QUERY_MONEY_DIGITS digits ("12", "12.5", "-0.05", "0.001").
 * Returns CC_OK and the units (10^-QUERY_MONEY_DIGITS), or CC_EINVAL
 * (another form, more than four decimals, or out of the int64 range).
 */
cc_err		 query_money_parse(const char *s, int64_t *minor);

/*
 * The name of type/op ("money", "gte"), and the reverse (QUERY_T_TEXT for
 * an unknown type name; -1 for an unknown operator).
 */
const char	*query_type_name(enum query_type t);
enum query_type	 query_type_of(const char *name);
const char	*query_op_name(enum query_op op);
int		 query_op_of(const char *name);

/*
 * Appends one CSV field holding s[0..len) to out (a caller buffer of
 * outsize bytes) with the quoting and formula rules above (formula_safe:
 * prefix a leading = + - @ TAB CR NUL with '; first_column: quote a
 * leading '#').  Invalid UTF-8 becomes U+FFFD.  Returns the length the
 * field needs; writes nothing when it exceeds outsize.
 */
size_t		 query_csv_field(const char *s, size_t len, int formula_safe,
		     int first_column, char *out, size_t outsize);

#endif /* CONCORD_QUERY_H */
