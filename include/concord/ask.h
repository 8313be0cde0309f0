/*
 * concord/ask.h - questions to the model tables: read-only SQL a person
 * writes (POST /api/v1/query) or a language model writes from a question
 * in plain words (POST /api/v1/ask, concord/llm.h).
 *
 * Every statement, whoever wrote it, passes ask_check() before it runs
 * (security.md, "SQL"): exactly one statement, at most ASK_SQL_MAX
 * bytes, prepared under an authorizer (sqlite3_set_authorizer()) that
 * allows only
 *   - SELECT, reading the public tables of the model
 *     (model_is_public_table(), concord/model.h) in the schema holding
 *     the model ("model" when model.db is attached, else "main");
 *   - the functions of a safe list (aggregates, rounding, text, dates,
 *     coalesce/ifnull/nullif/iif, like/glob, typeof, printf);
 * and denies everything else: another table (the registry, the caches,
 * sqlite_master), ATTACH and DETACH, PRAGMA, recursive common table
 * expressions, writes, transactions and any other function (among them
 * load_extension, randomblob, zeroblob).  The prepared statement must
 * then be read-only (sqlite3_stmt_readonly()) and not EXPLAIN.  While
 * the statement is prepared and stepped, sqlite3_limit() caps a value
 * at 1,000,000 bytes, compound SELECTs at 16 terms and expressions at a
 * depth of 100; a progress handler stops it at the request deadline (or
 * when the client has gone); at most max_rows rows are returned.  The
 * connection is the worker's read-only workspace handle (query_only),
 * with SQLITE_DBCONFIG_DEFENSIVE (concord/db.h).
 */
#ifndef CONCORD_ASK_H
#define CONCORD_ASK_H

#include <jansson.h>
#include <sqlite3.h>

#include "concord/error.h"

#define ASK_SQL_MAX		10000	/* bytes of one statement */
#define ASK_QUESTION_MAX	1000	/* bytes of one question */
#define ASK_MAX_ROWS		1000	/* default row cap */

struct ask_limits {
	long	 deadline_ms;		/* wall clock for the statement; 0:
					   none */
	int	 max_rows;		/* rows returned, 1..100000 */
	int	(*gone)(void *ctx);	/* non-zero: the client has gone */
	void	*gone_ctx;
};

/*
 * Checks sql as above and prepares it on db (the caller's read-only
 * workspace handle).  On success *st is the prepared statement, with the
 * authorizer still installed (ask_finish() removes both).  Errors:
 * CC_EINVALID with diag code one of sql_empty, sql_too_long,
 * sql_multiple, sql_not_read_only, sql_table (names the table),
 * sql_function (names the function), sql_attach, sql_pragma,
 * sql_recursive, sql_denied (another action), sql_error (SQLite's own
 * message: a syntax error, an unknown column); the message is one line
 * for a person.  CC_ENOMEM.
 */
cc_err	ask_check(sqlite3 *db, const char *sql, sqlite3_stmt **st,
	    struct cc_diag *diag);

/* Finalizes st (may be NULL) and removes the authorizer and limits. */
void	ask_finish(sqlite3 *db, sqlite3_stmt *st);

/*
 * ask_check(), then runs the statement under lim.  *out is a new object
 * {"sql", "columns": [{"name", "type"}], "rows": [[...]] (values typed
 * as the read side types them: a MONEY column as a decimal string),
 * "count", "truncated" (true when the row cap cut the answer), "chart"
 * (ask_chart() with hint, which may be NULL)}.  Errors: those of
 * ask_check(); CC_EDB with diag code "query_time_limit" (the deadline
 * passed), "client_gone", or "sql_error"; CC_ENOMEM.
 */
cc_err	ask_run(sqlite3 *db, const char *sql, const struct ask_limits *lim,
	    const json_t *hint, json_t **out, struct cc_diag *diag);

/*
 * A chart for an answer: {"type": "bar" | "line" | "number" | "table" |
 * "none", "x", "y"}.  hint (from the model: {"type", "x", "y"}) is used
 * when its type is one of bar, line, pie, number, table and x and y name
 * columns of the answer, y a numeric one; otherwise: no rows -> none;
 * one row of one number -> number; a text or date column followed by a
 * numeric column -> line when the first column holds dates (YYYY-MM...)
 * or its name says date, month, year or day, else bar; else table.
 * Returns a new reference (NULL on ENOMEM).
 */
json_t	*ask_chart(const json_t *columns, const json_t *rows,
	    const json_t *hint);

/*
 * What the model is shown of the user's model: {"tables": [{"name",
 * "rows", "columns": [{"name", "type"}]}], "facts": {...}} for the
 * dimensions and facts (dim_*, fact_*) built so far, with "facts" a few
 * aggregates (the first and last order date of fact_sales); never a
 * row.  *out is a new reference.  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	ask_schema(sqlite3 *db, json_t **out, struct cc_diag *diag);

/*
 * Answers a question in plain words: ask_schema() of ro, the question
 * (1..ASK_QUESTION_MAX bytes, else CC_EINVAL "question"), the model
 * asked through llm_chat() with the cache and budget of rw (a read-write
 * workspace connection), then ask_run() of its SQL on ro.  *out is
 * ask_run()'s object plus "question" and "explanation" (the model's one
 * line, may be ""), and "cached".  *sql (may be NULL) receives a copy of
 * the model's SQL even when it is refused (caller frees).  Errors: those
 * of llm_chat() (CC_ECONFIG when no endpoint: the HTTP layer answers
 * 503) and of ask_run() (CC_EINVALID: the model's SQL was refused).
 */
cc_err	ask_question(sqlite3 *ro, sqlite3 *rw, const char *question,
	    const struct ask_limits *lim, json_t **out, char **sql,
	    struct cc_diag *diag);

#endif /* CONCORD_ASK_H */
