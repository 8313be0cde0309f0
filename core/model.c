/*
 * model.c - the star schema's tables (concord/model.h).  Staging tables
 * are generated from the target schema (concord/schema.h), so that the
 * two cannot drift; the dimensions and facts are fixed DDL.  Declared
 * column types (MONEY, DATE, TIMESTAMP, BOOLEAN) are kept in
 * table_columns for the read side.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/query.h"
#include "concord/schema.h"

static const char *const fixed_ddl =
	"CREATE TABLE IF NOT EXISTS dim_date ("
	" date_key INTEGER PRIMARY KEY, date DATE NOT NULL, year INTEGER,"
	" quarter INTEGER, month INTEGER, month_name TEXT, day INTEGER,"
	" day_of_week INTEGER, day_name TEXT, iso_week INTEGER,"
	" is_weekend BOOLEAN);"
	"CREATE TABLE IF NOT EXISTS dim_location ("
	" location_sk INTEGER PRIMARY KEY, country TEXT, state TEXT,"
	" city TEXT, postal_code TEXT, region TEXT);"
	/* the load phase finds a customer's location by all five (IS):
	 * without an index that is customers x locations */
	"CREATE INDEX IF NOT EXISTS dim_location_place ON dim_location"
	" (postal_code, city, country, state, region);"
	"CREATE TABLE IF NOT EXISTS dim_product_category ("
	" category_sk INTEGER PRIMARY KEY, canonical_id INTEGER NOT NULL,"
	" category_id TEXT, category TEXT, subcategory TEXT,"
	" maintenance BOOLEAN, sources TEXT);"
	"CREATE TABLE IF NOT EXISTS dim_customer ("
	" customer_sk INTEGER PRIMARY KEY, canonical_id INTEGER NOT NULL,"
	" natural_key TEXT, customer_id TEXT, customer_number TEXT,"
	" first_name TEXT, last_name TEXT, full_name TEXT, email TEXT,"
	" phone TEXT, gender TEXT, marital_status TEXT, birth_date DATE,"
	" address TEXT, city TEXT, state TEXT, postal_code TEXT,"
	" country TEXT, region TEXT, segment TEXT, status TEXT,"
	" created_date DATE, updated_at TIMESTAMP, location_sk INTEGER,"
	" valid_from DATE,"
	" valid_to DATE, is_current BOOLEAN NOT NULL, version INTEGER NOT NULL,"
	" sources TEXT);"
	"CREATE INDEX IF NOT EXISTS dim_customer_canonical"
	" ON dim_customer (canonical_id, valid_from);"
	"CREATE TABLE IF NOT EXISTS dim_product ("
	" product_sk INTEGER PRIMARY KEY, canonical_id INTEGER NOT NULL,"
	" natural_key TEXT, product_id TEXT, product_number TEXT, name TEXT,"
	" description TEXT, category_sk INTEGER, category_id TEXT,"
	" category TEXT, subcategory TEXT, brand TEXT, manufacturer TEXT,"
	" model_number TEXT,"
	" product_line TEXT, cost MONEY, price MONEY, color TEXT, size TEXT,"
	" weight REAL, created_date DATE, updated_at TIMESTAMP,"
	" valid_from DATE, valid_to DATE,"
	" is_current BOOLEAN NOT NULL, version INTEGER NOT NULL, sources TEXT);"
	"CREATE INDEX IF NOT EXISTS dim_product_canonical"
	" ON dim_product (canonical_id, valid_from);"
	"CREATE TABLE IF NOT EXISTS fact_sales ("
	" sales_sk INTEGER PRIMARY KEY, order_id TEXT NOT NULL,"
	" line_number INTEGER NOT NULL, date_key INTEGER, order_date DATE,"
	" ship_date DATE, due_date DATE, customer_sk INTEGER,"
	" product_sk INTEGER, customer_canonical_id INTEGER,"
	" product_canonical_id INTEGER, quantity INTEGER, unit_price MONEY,"
	" amount MONEY, discount MONEY, tax MONEY, shipping_cost MONEY,"
	" status TEXT, payment_status TEXT, payment_method TEXT,"
	" amount_derived BOOLEAN, amount_consistent BOOLEAN,"
	" _file_id TEXT NOT NULL, _row INTEGER NOT NULL,"
	" is_return BOOLEAN NOT NULL DEFAULT 0, original_order_id TEXT);"
	"CREATE TABLE IF NOT EXISTS quarantine ("
	" quarantine_id INTEGER PRIMARY KEY, run_id TEXT, entity TEXT NOT NULL,"
	" _file_id TEXT NOT NULL, _row INTEGER NOT NULL, reason TEXT NOT NULL,"
	" detail TEXT, column_name TEXT, raw_value TEXT, record TEXT);"
	"CREATE TABLE IF NOT EXISTS clean_issues ("
	" issue_id INTEGER PRIMARY KEY, _file_id TEXT NOT NULL,"
	" _row INTEGER NOT NULL, entity TEXT NOT NULL,"
	" column_name TEXT NOT NULL, raw_value TEXT, issue TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS clean_issues_file"
	" ON clean_issues (_file_id, column_name);"
	"CREATE TABLE IF NOT EXISTS clean_changes ("
	" _file_id TEXT NOT NULL, entity TEXT NOT NULL,"
	" column_name TEXT NOT NULL, rule TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (_file_id, entity, column_name, rule));"
	"CREATE TABLE IF NOT EXISTS clean_currencies ("
	" _file_id TEXT NOT NULL, entity TEXT NOT NULL,"
	" attribute TEXT NOT NULL, currency TEXT NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (_file_id, entity, attribute, currency));"
	"CREATE TABLE IF NOT EXISTS key_rules ("
	" run_id TEXT, entity TEXT NOT NULL, from_file TEXT,"
	" from_column TEXT, to_file TEXT, to_column TEXT, rule TEXT,"
	" coverage REAL, matched INTEGER);"
	/* WITHOUT ROWID: the ids by their key in one B-tree (not a table
	 * and its index); not a public table, so no reader needs a rowid */
	"CREATE TABLE IF NOT EXISTS canonical_ids ("
	" entity TEXT NOT NULL, natural_key TEXT NOT NULL,"
	" canonical_id INTEGER NOT NULL, PRIMARY KEY (entity, natural_key))"
	" WITHOUT ROWID;"
	/* entity resolution: every pair the matcher found at or above the
	 * review threshold, every pair a rule or a person decided, with the
	 * evidence (concord/pipeline.h) */
	"CREATE TABLE IF NOT EXISTS match_pairs ("
	" pair_id INTEGER PRIMARY KEY, run_id TEXT, entity TEXT NOT NULL,"
	" a_file_id TEXT NOT NULL, a_row INTEGER NOT NULL,"
	" b_file_id TEXT NOT NULL, b_row INTEGER NOT NULL,"
	" a_canonical_id INTEGER, b_canonical_id INTEGER,"
	" weight REAL, probability REAL, levels TEXT, blocking_rule TEXT,"
	" decision TEXT NOT NULL, decided_by TEXT NOT NULL, reason TEXT,"
	" compared TEXT);"
	"CREATE INDEX IF NOT EXISTS match_pairs_decision"
	" ON match_pairs (entity, decision, probability);"
	"CREATE TABLE IF NOT EXISTS match_models ("
	" entity TEXT PRIMARY KEY, run_id TEXT, model TEXT NOT NULL);"
	/* customer segments: RFM scores of every customer, from the facts
	 * (concord/segment.h segment_build(), the aggregate phase) */
	"CREATE TABLE IF NOT EXISTS customer_segment ("
	" canonical_id INTEGER PRIMARY KEY, last_order_date DATE,"
	" recency_days INTEGER, frequency INTEGER NOT NULL,"
	" monetary MONEY NOT NULL, r_score INTEGER, f_score INTEGER,"
	" m_score INTEGER, rfm TEXT, segment TEXT, as_of DATE);"
	"CREATE TABLE IF NOT EXISTS model_info ("
	" run_id TEXT NOT NULL, built_at TEXT NOT NULL);"
	/* the scale of money (concord/query.h QUERY_MONEY_DIGITS); a model
	 * without it holds cents (model_money_upgrade()) */
	"CREATE TABLE IF NOT EXISTS model_units (money_digits INTEGER NOT NULL);"
	"INSERT INTO model_units SELECT 4 WHERE NOT EXISTS"
	" (SELECT 1 FROM model_units);"
	"CREATE TABLE IF NOT EXISTS table_columns ("
	" table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
	" ordinal INTEGER NOT NULL, type TEXT NOT NULL, description TEXT,"
	" PRIMARY KEY (table_name, column_name));";

/* The facts' indexes (model_fact_indexes(), model_fact_index()). */
static const char *const fact_index_one[] = {
	"CREATE INDEX IF NOT EXISTS fact_sales_date ON fact_sales (date_key);",
	"CREATE INDEX IF NOT EXISTS fact_sales_customer"
	" ON fact_sales (customer_sk);",
	"CREATE INDEX IF NOT EXISTS fact_sales_product ON fact_sales (product_sk);",
};

static const char *const fact_index_ddl =
	"CREATE INDEX IF NOT EXISTS fact_sales_date ON fact_sales (date_key);"
	"CREATE INDEX IF NOT EXISTS fact_sales_customer"
	" ON fact_sales (customer_sk);"
	"CREATE INDEX IF NOT EXISTS fact_sales_product ON fact_sales (product_sk);";

static const char *const fact_index_drop =
	"DROP INDEX IF EXISTS fact_sales_date;"
	"DROP INDEX IF EXISTS fact_sales_customer;"
	"DROP INDEX IF EXISTS fact_sales_product;";

/*
 * The read side's aggregates, filled by the run's aggregate phase
 * (core/aggregate.c, dash_aggregate() in core/dashboard.c) from the
 * tables above, so that dashboards are answered without scanning facts.
 * agg_sales_order: the facts grouped by day, country, category, order
 * and customer (the keys of every sales filter and distinct count);
 * agg_sales_product: grouped by day, country, category and product;
 * agg_product_sales: per product, the products dashboard's top sellers'
 * figures (quantity, revenue, orders without the returns);
 * agg_dashboard: the unfiltered documents of the dashboards that read
 * the model only; agg_source_groups: the rows of the sources
 * dashboard's grouped statements, by statement.
 */
static const char *const agg_ddl =
	"CREATE TABLE IF NOT EXISTS agg_sales_order ("
	" day DATE, country TEXT, category TEXT, order_id TEXT,"
	" customer_canonical_id INTEGER, revenue MONEY, lines INTEGER NOT NULL,"
	" returns MONEY, return_lines INTEGER);"
	"CREATE TABLE IF NOT EXISTS agg_sales_product ("
	" day DATE, country TEXT, category TEXT, product_canonical_id INTEGER,"
	" revenue MONEY, quantity INTEGER, lines INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS agg_product_sales ("
	" product_canonical_id INTEGER, quantity INTEGER NOT NULL,"
	" revenue MONEY NOT NULL, orders INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS agg_dashboard ("
	" name TEXT PRIMARY KEY, document TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS agg_source_groups ("
	" stmt INTEGER NOT NULL, file_id, c1, c2);";

/* Tables the read side may serve (model_is_public_table()). */
static const char *const public_tables[] = {
	"dim_date", "dim_location", "dim_product_category", "dim_customer",
	"dim_product", "fact_sales", "quarantine", "clean_issues",
	"clean_changes", "key_rules", "match_pairs", "match_models",
	"stg_customer", "stg_product", "stg_product_category", "stg_location",
	"stg_order_line", "customer_segment",
};

int
model_is_public_table(const char *name)
{
	const struct schema_entity *es;
	size_t i, n;

	for (i = 0; name != NULL && i < sizeof(public_tables) /
	    sizeof(public_tables[0]); i++)
		if (strcmp(name, public_tables[i]) == 0)
			return 1;
	/* a user-defined entity's staging and dimension */
	es = schema_entities(&n);
	for (i = 0; name != NULL && i < n; i++)
		if (es[i].custom && (!strncmp(name, "stg_", 4) ||
		    !strncmp(name, "dim_", 4)) && !strcmp(name + 4, es[i].name))
			return 1;
	return 0;
}

/* The declared SQL type of an attribute in staging. */
static const char *
stg_type(enum schema_type t)
{
	switch (t) {
	case SCHEMA_INTEGER:	return "INTEGER";
	case SCHEMA_DECIMAL:	return "REAL";
	case SCHEMA_MONEY:	return "MONEY";
	case SCHEMA_DATE:	return "DATE";
	case SCHEMA_TIMESTAMP:	return "TIMESTAMP";
	case SCHEMA_BOOLEAN:	return "BOOLEAN";
	default:		return "TEXT";
	}
}

/* Appends to a growing string; returns -1 when out of memory. */
static int
cat(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	char *nb;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((nb = realloc(*buf, *cap)) == NULL)
			return -1;
		*buf = nb;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* Appends ', "attr" TYPE' for each attribute of e; -1 out of memory. */
static int
cat_attrs(char **sql, size_t *len, size_t *cap, const struct schema_entity *e)
{
	char part[256];
	size_t k;

	for (k = 0; k < e->nattrs; k++) {
		snprintf(part, sizeof(part), ", \"%s\" %s", e->attrs[k].name,
		    stg_type(e->attrs[k].type));
		if (cat(sql, len, cap, part) != 0)
			return -1;
	}
	return 0;
}

static cc_err
create_staging(sqlite3 *db, struct cc_diag *diag)
{
	const struct schema_entity *es;
	size_t ne, i, len, cap;
	char part[256], *sql;
	cc_err err = CC_OK;

	es = schema_entities(&ne);
	for (i = 0; i < ne && err == CC_OK; i++) {
		sql = NULL;
		len = cap = 0;
		/* Names come from the shipped schema, never from input; they
		 * are quoted all the same. */
		snprintf(part, sizeof(part), "CREATE TABLE IF NOT EXISTS"
		    " \"stg_%s\" (_file_id TEXT NOT NULL, _row INTEGER NOT NULL,"
		    " _line INTEGER", es[i].name);
		if (cat(&sql, &len, &cap, part) != 0)
			return CC_ENOMEM;
		if (cat_attrs(&sql, &len, &cap, &es[i]) != 0) {
			free(sql);
			return CC_ENOMEM;
		}
		snprintf(part, sizeof(part), ", _key TEXT, _extra TEXT,"
		    " PRIMARY KEY (_file_id, _row));");
		if (cat(&sql, &len, &cap, part) != 0) {
			free(sql);
			return CC_ENOMEM;
		}
		err = db_exec(db, sql, diag);
		free(sql);
	}
	return err;
}

/*
 * The dimension of each user-defined entity: dim_<name> with its
 * surrogate key <name>_sk, the canonical id, the natural key, the
 * attributes and the validity of the version (type 2, as dim_customer).
 */
static cc_err
create_custom_dims(sqlite3 *db, struct cc_diag *diag)
{
	const struct schema_entity *es;
	size_t ne, i, len, cap;
	char part[256], *sql;
	cc_err err = CC_OK;

	es = schema_entities(&ne);
	for (i = 0; i < ne && err == CC_OK; i++) {
		if (!es[i].custom)
			continue;
		sql = NULL;
		len = cap = 0;
		snprintf(part, sizeof(part), "CREATE TABLE IF NOT EXISTS"
		    " \"dim_%s\" (\"%s_sk\" INTEGER PRIMARY KEY, canonical_id"
		    " INTEGER NOT NULL, natural_key TEXT", es[i].name,
		    es[i].name);
		if (cat(&sql, &len, &cap, part) != 0)
			return CC_ENOMEM;
		if (cat_attrs(&sql, &len, &cap, &es[i]) != 0) {
			free(sql);
			return CC_ENOMEM;
		}
		snprintf(part, sizeof(part), ", valid_from DATE, valid_to DATE,"
		    " is_current BOOLEAN NOT NULL, version INTEGER NOT NULL,"
		    " sources TEXT); CREATE INDEX IF NOT EXISTS"
		    " \"dim_%s_canonical\" ON \"dim_%s\" (canonical_id,"
		    " valid_from);", es[i].name, es[i].name);
		if (cat(&sql, &len, &cap, part) != 0) {
			free(sql);
			return CC_ENOMEM;
		}
		err = db_exec(db, sql, diag);
		free(sql);
	}
	return err;
}

/* Fills table_columns from the declared types of the public tables. */
static cc_err
catalogue(sqlite3 *db, struct cc_diag *diag)
{
	sqlite3_stmt *info = NULL, *ins = NULL;
	const struct schema_entity *es;
	char sql[128], cname[64];
	size_t i, nes;
	int rc;

	es = schema_entities(&nes);

	if (db_exec(db, "DELETE FROM table_columns", diag) != CC_OK)
		return CC_EDB;
	if (sqlite3_prepare_v2(db, "INSERT INTO table_columns (table_name,"
	    " column_name, ordinal, type) VALUES (?1, ?2, ?3, ?4)", -1, &ins,
	    NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < sizeof(public_tables) / sizeof(public_tables[0]) +
	    2 * nes; i++) {
		const char *tn;
		if (i < sizeof(public_tables) / sizeof(public_tables[0]))
			tn = public_tables[i];
		else {
			size_t c = i - sizeof(public_tables) /
			    sizeof(public_tables[0]);
			if (!es[c / 2].custom)
				continue;
			snprintf(cname, sizeof(cname), "%s_%s", c % 2 ? "dim" :
			    "stg", es[c / 2].name);
			tn = cname;
		}
		snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", tn);
		if (sqlite3_prepare_v2(db, sql, -1, &info, NULL) != SQLITE_OK)
			goto fail;
		while ((rc = sqlite3_step(info)) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(info, 2);
			char type[16];
			size_t k;
			snprintf(type, sizeof(type), "%s", t != NULL ? t : "text");
			for (k = 0; type[k] != '\0'; k++)
				type[k] = (char)(type[k] >= 'A' && type[k] <= 'Z' ?
				    type[k] - 'A' + 'a' : type[k]);
			sqlite3_reset(ins);
			sqlite3_bind_text(ins, 1, tn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 2, (const char *)
			    sqlite3_column_text(info, 1), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(ins, 3, sqlite3_column_int(info, 0) + 1);
			sqlite3_bind_text(ins, 4, type, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(ins) != SQLITE_DONE)
				goto fail;
		}
		sqlite3_finalize(info);
		info = NULL;
		if (rc != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(ins);
	return CC_OK;
fail:
	cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
	sqlite3_finalize(info);
	sqlite3_finalize(ins);
	return CC_EDB;
}

cc_err
model_create(sqlite3 *db, struct cc_diag *diag)
{
	cc_err err;

	if ((err = create_staging(db, diag)) != CC_OK ||
	    (err = db_exec(db, fixed_ddl, diag)) != CC_OK ||
	    (err = db_exec(db, fact_index_ddl, diag)) != CC_OK ||
	    (err = create_custom_dims(db, diag)) != CC_OK ||
	    (err = db_exec(db, agg_ddl, diag)) != CC_OK)
		return err;
	return catalogue(db, diag);
}

cc_err
model_fact_indexes(sqlite3 *db, int create, struct cc_diag *diag)
{
	return db_exec(db, create ? fact_index_ddl : fact_index_drop, diag);
}

int
model_fact_index_count(void)
{
	return (int)(sizeof(fact_index_one) / sizeof(fact_index_one[0]));
}

cc_err
model_fact_index(sqlite3 *db, int i, struct cc_diag *diag)
{
	if (i < 0 || i >= model_fact_index_count())
		return cc_diag_set(diag, CC_EINVAL, "index", "no fact index %d",
		    i);
	return db_exec(db, fact_index_one[i], diag);
}

cc_err
model_money_upgrade(sqlite3 *db, const char *schema, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char sql[512];
	int rc, old;
	cc_err err = CC_OK;

	snprintf(sql, sizeof(sql), "SELECT EXISTS (SELECT 1 FROM"
	    " \"%s\".sqlite_schema WHERE name = 'table_columns') AND NOT EXISTS"
	    " (SELECT 1 FROM \"%s\".sqlite_schema WHERE name = 'model_units')",
	    schema, schema);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	old = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!old)
		return CC_OK;
	if ((err = db_exec(db, "BEGIN IMMEDIATE", diag)) != CC_OK)
		return err;
	snprintf(sql, sizeof(sql), "SELECT t.table_name, t.column_name FROM"
	    " \"%s\".table_columns t WHERE t.type = 'money' AND EXISTS (SELECT"
	    " 1 FROM \"%s\".sqlite_schema s WHERE s.type = 'table' AND s.name ="
	    " t.table_name)", schema, schema);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		err = CC_EDB;
	while (err == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		const char *c = (const char *)sqlite3_column_text(st, 1);
		char *q;

		/* cents to units: exact, integers only (a REAL there is
		 * not money the model wrote) */
		if ((q = sqlite3_mprintf("UPDATE \"%w\".\"%w\" SET \"%w\" ="
		    " \"%w\" * %d WHERE typeof(\"%w\") = 'integer'", schema, t,
		    c, c, (int)(QUERY_MONEY_UNIT / 100), c)) == NULL) {
			err = CC_ENOMEM;
			break;
		}
		if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
			err = CC_EDB;
		sqlite3_free(q);
	}
	sqlite3_finalize(st);
	if (err == CC_OK) {
		/* the aggregates are rebuilt by the next run: until then the
		 * dashboards read the facts */
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\".agg_dashboard"
		    " WHERE EXISTS (SELECT 1 FROM \"%s\".sqlite_schema WHERE"
		    " name = 'agg_dashboard'); CREATE TABLE \"%s\".model_units"
		    " (money_digits INTEGER NOT NULL); INSERT INTO"
		    " \"%s\".model_units VALUES (%d)", schema, schema, schema,
		    schema, QUERY_MONEY_DIGITS);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			err = CC_EDB;
	}
	if (err != CC_OK) {
		if (err == CC_EDB)
			cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return db_exec(db, "COMMIT", diag);
}
