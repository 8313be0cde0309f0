/*
 * pipeline_int.h - what the phases of a run share (not a public header:
 * see concord/pipeline.h for the contract).
 */
#ifndef CONCORD_PIPELINE_INT_H
#define CONCORD_PIPELINE_INT_H

#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/clean.h"
#include "concord/schema.h"
#include "concord/pipeline.h"
#include "concord/workspace.h"

struct lines_plan;
struct prefetch;
struct qjob;

struct run {
	struct workspace	*ws;		/* files, mappings, runs */
	sqlite3			*db;		/* model.db.tmp; "old" attached
						   when a previous model exists */
	int			 has_old;
	const char		*model_path;	/* model.db.tmp's path */
	int			 model_wal;	/* 1: the model is in WAL mode
						   (from the load's pass over
						   the lines on, when it reads
						   them on a second connection,
						   and when quality runs beside
						   the aggregates: pipeline.c);
						   its committed state is
						   readable by other
						   connections */
	const char		*run_id;
	char			 today[11];
	int			 restage;
	int			 unknown_customer; /* pipeline_options' */
	int			 threads;	/* pipeline_options': 1 =
						   one thread, else up to 2 */
	int			 quality_beside; /* quality runs on its own
						   thread (pipeline.c) */
	struct qjob		*qjob;		/* that thread, waiting for
						   run_quality_go(); NULL:
						   none waits */
	int			 stage_copied;	/* a file's staged rows were
						   copied from the previous
						   model (stage.c), whose
						   order lines an older
						   version may have left
						   unnumbered (load.c) */
	int			 fact_indexes;	/* how many of fact_sales'
						   indexes are built
						   (run_fact_indexes()) */
	struct prefetch		*prefetch;	/* reconcile's thread, still
						   reading the lines' runs
						   (run_prefetch_join()), or
						   NULL */
	struct lines_plan	*lines_plan;	/* the order lines' runs, or
						   NULL (reconcile.c's
						   thread; load.c) */
	pipeline_tick		 tick;
	void			*arg;
	json_t			*counts;	/* {"name": n} */
	json_t			*timings;	/* {"phase": ms} */
	json_t			*key_rules;	/* [rule report] */
	json_t			*files;		/* [per-file report] */
	json_t			*matching;	/* {"entity": match report} */
	json_t			*warnings;	/* [{code, detail,
						   count}] */
	struct clean_opts	 copt;
};

/*
 * Union-find over staging rowids (Tarjan 1975), shared by key
 * reconciliation and entity resolution: path halving, and union by the
 * smaller rowid, so that a root is its cluster's first record.
 */
static inline long long
uf_find(long long *p, long long x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

static inline void
uf_unite(long long *p, long long a, long long b)
{
	a = uf_find(p, a);
	b = uf_find(p, b);
	if (a == b)
		return;
	if (a < b)
		p[b] = a;
	else
		p[a] = b;
}

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
long	run_ms_since(const struct timespec *t0);

/* Reports progress; returns 1 when the run must stop (cancelled). */
int	run_tick(struct run *r, const char *phase, long long done,
	    long long total);

/* Adds n to counts[key]. */
void	run_count(struct run *r, const char *key, long long n);

/*
 * A second handle on the run's workspace for another thread of the run:
 * r->ws's directories and a new connection to its workspace.db
 * (db_open(): WAL, so its short writes and the run's connection's reads
 * do not wait for each other).  *out is closed with run_ws_close() (also
 * after a failure).  Errors: CC_EINVAL (path too long), CC_EDB.
 */
cc_err	run_ws_open(const struct run *r, struct workspace *out);
void	run_ws_close(struct workspace *ws);

/*
 * A connection of another thread of the run to the model's committed
 * state (r->model_wal: the model is in WAL mode, so the run's open
 * transaction and this reader do not wait for each other): read-write
 * for the -shm, PRAGMA query_only, a 5 s busy timeout.  *out is the
 * caller's (sqlite3_close_v2()); NULL after an error.  Errors: CC_EINVAL
 * (the model is not in WAL mode), CC_EDB (it cannot be opened).
 */
cc_err	run_model_reader(const struct run *r, sqlite3 **out);

/*
 * Commits the run's transaction so far, puts the model in WAL mode (once:
 * r->model_wal) and begins the next transaction, so that
 * run_model_reader() connections read what the run wrote so far while it
 * goes on writing.  Returns CC_OK with r->model_wal 0 when WAL mode could
 * not be set (the caller reads on the run's connection then).  Errors:
 * those of COMMIT and BEGIN (CC_EDB, diag).
 */
cc_err	run_model_share(struct run *r, struct cc_diag *diag);

/*
 * Lets the quality phase's thread (pipeline.c, r->qjob) begin its work:
 * started with the aggregate phase, it holds its snapshot of the model
 * as load committed it and waits, so that the aggregate phase can run
 * the facts' pass and the first indexes with both cores and quality fill
 * the phase's end.  Once per run; nothing when no thread waits (one
 * thread, quality on this one); quality_join() calls it too, so that no
 * path leaves the thread waiting.
 */
void	run_quality_go(struct run *r);

/*
 * Joins the reconcile phase's reading thread (core/reconcile.c), which
 * reads the order lines' runs (lines_plan()) on after the phase's own
 * reads, while the run builds the load's dimensions: its runs become
 * r->lines_plan when it read them and the run has none.  The load calls
 * it before it may number lines or reads them; the run's end calls it
 * too.  Nothing when no thread runs (r->prefetch NULL).
 */
void	run_prefetch_join(struct run *r);

/*
 * Builds fact_sales' indexes (model_fact_indexes()) once per run
 * (r->fact_indexes).  They are built after every read of the facts the
 * run makes, so that no statement of the run is planned with them on
 * one thread and without them on another: at the end of the run, or,
 * with quality and the documents on threads of their own (which read
 * the model as committed before), by the run's thread while those
 * threads read (aggregate.c): 1M facts, 0.67 s of the 2 cores' wall
 * time that the other threads' reads now overlap.  Errors: CC_EDB.
 */
cc_err	run_fact_indexes(struct run *r, struct cc_diag *diag);
/* The first n of them only (model_fact_index()); the rest later. */
cc_err	run_fact_indexes_upto(struct run *r, int n, struct cc_diag *diag);

/* Runs one fixed SQL text on the model database (CC_EDB with diag). */
cc_err	run_exec(struct run *r, const char *sql, struct cc_diag *diag);

/*
 * Entity resolution of entity e (er.c) after key reconciliation: parent
 * is the union-find over e's staging rowids 1..maxrow (a root is its
 * cluster's smallest rowid), which it extends with the clusters of the
 * identity rule, the matcher and people's decisions; it writes
 * match_pairs (canonical id columns holding rowids until er_finish())
 * and fills report (an object) with the counts and the fitted model.
 * Errors: CC_EDB, CC_ENOMEM (diag says why).
 */
cc_err	er_entity(struct run *r, const struct schema_entity *e,
	    long long *parent, long long maxrow, json_t *report,
	    struct cc_diag *diag);

/* Replaces the rowids of e's match_pairs by canonical ids: idof[rowid]
 * (rowids 1..maxrow; 0: the record is no entity, NULL) as stg_<e>._key
 * got them.  Errors: CC_EDB. */
cc_err	er_finish(struct run *r, const struct schema_entity *e,
	    const long long *idof, long long maxrow, struct cc_diag *diag);

/* The attributes that identify a record of entity without a key (a name,
 * an e-mail): NULL-terminated, static; NULL for an entity without any. */
const char *const *er_identity_attrs(const char *entity);

/* The phases, in order. */
cc_err	stage_all(struct run *r, struct cc_diag *diag);
cc_err	reconcile_all(struct run *r, struct cc_diag *diag);
cc_err	load_all(struct run *r, struct cc_diag *diag);
cc_err	aggregate_all(struct run *r, struct cc_diag *diag);	/* aggregate.c */
cc_err	quality_all(struct run *r, struct cc_diag *diag);

/*
 * After the phases: appends to r->warnings what the run must say although
 * it succeeded (core/warnings.c): order lines mostly quarantined, per
 * reason, with the count and the fix.  Errors: CC_EDB.
 */
cc_err	run_warnings(struct run *r, struct cc_diag *diag);

/*
 * The distinct non-NULL values of column attr of stg_<entity> in the rows
 * of file file_id (reconcile.c), sorted in byte order (strcmp: the order
 * of ORDER BY under SQLite's BINARY collation, for the TEXT values of key
 * columns), without their rows: one scan and a hash set instead of a
 * sort of every row.  *values (*n strings, NULL when *n is 0) and each
 * string are the caller's (free()).  entity and attr are quoted as SQL
 * names and must not contain '"'.  Errors: CC_EDB (no such table or
 * column, a step failed), CC_ENOMEM; *values is NULL then.
 */
cc_err	reconcile_values(sqlite3 *db, const char *entity, const char *attr,
	    const char *file_id, char ***values, size_t *n);

/* One file's distinct values of one attribute (reconcile_values_all()). */
struct refvalues {
	char		*file_id;	/* owned */
	const char	*attr;		/* the caller's attrs[k] */
	char		**values;	/* sorted as reconcile_values() does;
					   owned, strings too */
	size_t		 n;		/* >= 1 */
};

/*
 * What reconcile_values() gives for every file and each of attrs[0 ..
 * nattrs - 1] (1 to 16 columns of stg_<entity>, quoted as SQL names: no
 * '"'), in one scan of the table instead of one per file and attribute.
 * *out: an array of *nout entries, one per (file, attribute) that has
 * values, in no particular order; a pair without values has none.  The
 * caller frees it with reconcile_values_free() (NULL and 0 allowed).
 * Errors: CC_EINVAL (nattrs out of range), CC_EDB (no such table or
 * column, a step failed), CC_ENOMEM; *out is NULL and *nout 0 then.
 */
cc_err	reconcile_values_all(sqlite3 *db, const char *entity,
	    const char *const *attrs, int nattrs, struct refvalues **out,
	    size_t *nout);
void	reconcile_values_free(struct refvalues *v, size_t n);

/*
 * A hash map of byte strings (any bytes, len of them; copied) to 64-bit
 * integers (core/keymap.c), for lookups whose size is bounded by what the
 * model holds (a dimension's keys, a file's order ids).  keymap_new():
 * NULL when out of memory; keymap_free() frees the keys too (NULL: no-op).
 * keymap_slot(): the value of key, inserted as 0 when absent; NULL when
 * out of memory.  keymap_get(): the value of key, NULL when absent.
 */
/*
 * Sets of work (HANDOFF_SETS of them, numbered from 0, filled in turn)
 * handed from the run's thread to a writer thread (core/handoff.c), so
 * that filling one overlaps writing another: the stage's rows
 * (core/stage.c), the load's facts (core/load.c).  write(arg, set,
 * discard) writes set (only empties it when discard: after an earlier
 * error) and returns CC_OK or its error; it runs on the writer thread,
 * or on the caller's without one.  handoff_start(): thread 0, or
 * pthread_create() failing, and every handoff_post() writes the set at
 * once.  handoff_post(): waits until the writer has taken the set handed
 * before (it may still be writing it), hands set; so with the sets
 * filled in turn, the one after set is free once this returns (the
 * writer is done with every set handed before the last).  Returns the
 * first error of the writes so far (later sets are then discarded), else
 * CC_OK.  handoff_end(): waits for the sets handed, stops the thread
 * (safe to call twice); returns the first error of the writes, else
 * CC_OK.  The writer's memory (what write() sets) is the caller's to
 * read after handoff_end().
 *
 * Three sets rather than two: with two, each side waits for the other
 * at every set whichever is slower at it (1M lines: each thread about
 * 13 % idle in the stage phase); the third lets the filling thread run a
 * set ahead.
 */
#define HANDOFF_SETS	3

typedef cc_err	(*handoff_write)(void *arg, int set, int discard);

struct handoff {
	handoff_write	 write;
	void		*arg;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 th;
	int		 on;		/* the thread runs */
	int		 pending;	/* the set handed, or -1 */
	int		 quit;
	cc_err		 err;
};

void	handoff_start(struct handoff *h, handoff_write write, void *arg,
	    int thread);
cc_err	handoff_post(struct handoff *h, int set);
cc_err	handoff_end(struct handoff *h);

struct keymap;
struct keymap	*keymap_new(void);
void		 keymap_free(struct keymap *m);
long long	*keymap_slot(struct keymap *m, const void *key, size_t len);
const long long	*keymap_get(const struct keymap *m, const void *key,
		    size_t len);

/*
 * The facts' INSERT (core/load.c): one order line into fact_sales; ?1
 * order id, ?2 line number, ?3-?5 order, ship and due date, ?6, ?7
 * customer and product surrogate key, ?8, ?9 their canonical ids, ?10
 * quantity, ?11 unit price, ?12 amount, ?13-?18 discount .. payment
 * method, ?19 file id, ?20 row, ?21 the list price of product ?7 as
 * dim_product stores it (NULL: none).  It applies the price and amount
 * rules: a missing or non-positive price derived from amount / quantity
 * (units of 10^-4, rounded half away from zero), a missing or
 * non-positive amount from quantity x price; then a price still missing
 * taken from the list price, and an amount still missing as quantity x
 * that price, both marking amount_derived (the rules of the two UPDATEs
 * of fact_sales that it replaces).  Steps to SQLITE_DONE.
 */
extern const char *const load_fact_sql;

/* An operand or a result of the facts' price and amount rules: NULL or
 * an integer (SQLITE_NULL, SQLITE_INTEGER). */
struct fact_num {
	int		 type;
	long long	 i;
};

/*
 * The price and amount rules of load_fact_sql computed in C, for
 * operands that are NULL or integers: q the quantity (?10), p the unit
 * price (?11), a the amount (?12), list the list price (?21).  Writes
 * what load_fact_sql stores: *price (unit_price), *amount, *derived
 * (amount_derived: 1, 0 or NULL, SQL's three-valued logic) and
 * *consistent (amount_consistent: 1, 0 or NULL).  Returns 1 when done;
 * 0, the outputs unset, when an operand is of another type or a product,
 * sum or doubling would overflow 64 bits (SQLite computes those in REAL):
 * the caller then inserts with load_fact_sql.  No allocation.
 */
int	load_fact_rules(const struct fact_num *q, const struct fact_num *p,
	    const struct fact_num *a, const struct fact_num *list,
	    struct fact_num *price, struct fact_num *amount,
	    struct fact_num *derived, struct fact_num *consistent);

/*
 * The facts' INSERT with the rules' results bound: the parameters of
 * load_fact_sql, except ?11 the unit price and ?12 the amount as
 * load_fact_rules() gives them, ?21 amount_derived and ?22
 * amount_consistent, and ?23 the date key when load_date_key() gives it
 * (NULL: the statement's CAST(replace(?3, '-', '') AS INTEGER), as
 * load_fact_sql's).  Steps to SQLITE_DONE.
 */
extern const char *const load_fact_plain_sql;

/*
 * The date key (dim_date's YYYYMMDD) of an order date as the facts'
 * INSERT computes it, CAST(replace(date, '-', '') AS INTEGER), without
 * SQL when the date is a TEXT (type: its SQLite storage class; s: its
 * len bytes, not necessarily terminated) of the form YYYY-MM-DD, ten
 * bytes, ASCII digits (ISO 8601's calendar date, as the cleaning writes
 * dates): returns 1, *key set.  Anything else returns 0 (*key untouched):
 * the statement computes it.  No allocation.
 */
int	load_date_key(int type, const char *s, int len, long long *key);

/*
 * The staged order lines (stg_order_line) in the order the facts are
 * loaded: ORDER BY order_id, line_number, rowid DESC (the first of an
 * order's line is its latest), without the sort when the table is in
 * sorted runs (core/load.c): a scan of the two keys in rowid order cuts
 * it into maximal runs of strictly increasing (order_id, line_number),
 * merged through a heap, each run read by its own rowid range; equal
 * keys of two runs, the later run first.  Keys that are REAL or BLOB,
 * more than max_runs runs, or max_runs 0: the lines come from the
 * ORDER BY statement.  Each line's columns: rowid, _file_id, _row,
 * order_id, line_number, order_date, ship_date, due_date, customer_id,
 * product_id, quantity, unit_price, amount, discount, tax,
 * shipping_cost, status, payment_status, payment_method.
 */
#define LINES_RUNS_MAX	64	/* runs merged; more: sorted by SQLite */
struct lines;

/* Opens the reader on db (*out: close with lines_close()).  Errors:
 * CC_EDB (no stg_order_line, or a statement fails), CC_ENOMEM. */
cc_err	lines_open(sqlite3 *db, size_t max_runs, struct lines **out);

/*
 * lines_open() in two steps: lines_plan() scans the keys and keeps the
 * runs (rowid ranges; n 0: the ORDER BY statement), lines_open_planned()
 * prepares the reader of those runs, on db or on another connection to
 * the same stg_order_line unchanged since (the reconcile phase's thread
 * finds them on its reader while the run resolves the dimensions:
 * struct run's lines_plan).  out->ok is 1 after a lines_plan() that
 * succeeded.  lines_plan_free() frees the runs (NULL is fine).  Errors
 * as lines_open()'s.
 */
struct lines_range {
	long long	 lo, hi;
};

struct lines_plan {
	struct lines_range	*runs;
	size_t			 n;
	int			 ok;
};

cc_err	lines_plan(sqlite3 *db, size_t max_runs, struct lines_plan *out);
cc_err	lines_open_planned(sqlite3 *db, const struct lines_plan *p,
	    struct lines **out);
void	lines_plan_free(struct lines_plan *p);

/* The next line: SQLITE_ROW with *st positioned on it (valid until the
 * next call; its columns as above), SQLITE_DONE (again on every later
 * call), or SQLite's error code.
 * A statement another statement bound columns of must be done with
 * before the next call. */
int	lines_next(struct lines *L, sqlite3_stmt **st);

/* A statement of the reader, for its columns' declared types. */
sqlite3_stmt *lines_stmt(const struct lines *L);

/* The runs merged (0: read through the ORDER BY statement). */
size_t	lines_runs(const struct lines *L);

/* Finalises the reader's statements and frees it (NULL is fine). */
void	lines_close(struct lines *L);

#endif /* CONCORD_PIPELINE_INT_H */
