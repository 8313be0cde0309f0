/*
 * concord/model.h - the star schema a run loads into a workspace, and the
 * tables that report on it (Kimball & Ross, The Data Warehouse Toolkit,
 * 3rd ed.: dimensions, facts, grain, surrogate keys, type-2 slowly
 * changing dimensions).
 *
 * Conventions of every table below:
 *  - money is an INTEGER of units of 10^-4 (QUERY_MONEY_DIGITS,
 *    concord/query.h: 0.001 is 10, 12.50 is 125000), so that sub-cent
 *    prices keep their value and sums stay exact; table_columns says
 *    which columns are money so that exports print the exact decimal
 *    strings ("12.50", "0.001"), never binary floats; model_units holds
 *    the scale (a model without it, built before, holds cents);
 *  - dates are TEXT 'YYYY-MM-DD', timestamps TEXT RFC 3339 UTC;
 *  - *_sk columns are surrogate keys of one row (one version of a
 *    dimension member); canonical_id is the durable id of a resolved
 *    entity (one customer, whatever its duplicates and versions), stable
 *    across runs (table canonical_ids);
 *  - lineage: every staging and fact row carries _file_id and _row (the
 *    1-based record number in that file); a dimension row carries
 *    "sources", a JSON array of {"file_id", "row"} it was built from.
 *
 * Tables (created by model_create()):
 *   stg_customer, stg_product, stg_product_category, stg_location,
 *   stg_order_line   cleaned rows of each entity, one per source record
 *                    (_file_id, _row, _line, the entity's attributes,
 *                    _key = canonical join key, _extra = JSON of the
 *                    source's unmapped columns)
 *   dim_date          date_key INTEGER (YYYYMMDD) PK, date, year, quarter,
 *                     month, month_name, day, day_of_week (1 = Monday,
 *                     ISO 8601), day_name, iso_week, is_weekend
 *   dim_location      location_sk PK, country, state, city, postal_code,
 *                     region
 *   dim_product_category  category_sk PK, canonical_id, category_id,
 *                     category, subcategory, maintenance, sources
 *   dim_customer      customer_sk PK, canonical_id, natural_key,
 *                     customer_id, customer_number, first_name, last_name,
 *                     full_name, email, phone, gender, marital_status,
 *                     birth_date, address, city, state, postal_code,
 *                     country, region, segment, status, created_date,
 *                     updated_at, location_sk, valid_from, valid_to, is_current,
 *                     version, sources   (type 2: a new version when an
 *                     attribute changes between runs)
 *   dim_product       product_sk PK, canonical_id, natural_key,
 *                     product_id, product_number, name, description,
 *                     category_sk, category_id, category, subcategory,
 *                     brand, manufacturer, product_line, cost (money),
 *                     price (money), color, size, weight, created_date,
 *                     updated_at, valid_from,
 *                     valid_to, is_current, version, sources   (type 2 from
 *                     the sources' effective dates)
 *   fact_sales        grain: one order line.  sales_sk PK, order_id,
 *                     line_number, date_key, order_date, ship_date,
 *                     due_date, customer_sk, product_sk,
 *                     customer_canonical_id, product_canonical_id,
 *                     quantity, unit_price, amount, discount, tax,
 *                     shipping_cost (money), status, payment_status,
 *                     payment_method, amount_derived (0/1: amount or
 *                     price was derived), amount_consistent (0/1/NULL),
 *                     _file_id, _row
 *   quarantine        run_id, entity, _file_id, _row, reason (code),
 *                     detail, column_name, raw_value, record (JSON)
 *   clean_issues      _file_id, _row, entity, column_name, raw_value,
 *                     issue (code)
 *   clean_changes     _file_id, entity, column_name, rule, count
 *   clean_currencies  _file_id, entity, attribute, currency (ISO 4217
 *                     code written in the values: "$", "USD"), count
 *   key_rules         run_id, entity, from_file, from_column, to_file,
 *                     to_column, rule (JSON), coverage, matched
 *   canonical_ids     entity, natural_key, canonical_id (persistent)
 *   customer_segment  canonical_id PK (a customer with a line in
 *                     fact_sales), last_order_date, recency_days,
 *                     frequency, monetary (money: net amount), r_score,
 *                     f_score, m_score (1-5), rfm ("545"), segment, as_of
 *                     (the model's last order date): RFM segments, filled
 *                     by the aggregate phase (concord/segment.h)
 *   model_info        run_id, built_at: the run that built this model
 *                     (the read side's provenance)
 *   agg_sales_order   the read side's aggregates (a run's aggregate
 *   agg_sales_product phase, concord/dashboard.h dash_aggregate()):
 *   agg_product_sales facts grouped by day, country, category, order and
 *   agg_dashboard     customer; by day, country, category and product;
 *   agg_source_groups by product (quantity, revenue, orders: the top
 *                     sellers' figures); the unfiltered dashboard
 *                     documents; the sources dashboard's grouped counts.
 *                     Not public tables.
 *   table_columns     table_name, column_name, ordinal, type (text,
 *                     integer, money, date, timestamp, boolean, real),
 *                     description — the read side's catalogue of the
 *                     tables above (exports, filters, the UI)
 */
#ifndef CONCORD_MODEL_H
#define CONCORD_MODEL_H

#include <sqlite3.h>

#include "concord/error.h"

/*
 * Creates every table above that does not exist yet, and fills
 * table_columns.  Run inside the caller's transaction (a run creates the
 * star schema and loads it in one).  Errors: CC_EDB with diag.
 */
cc_err	model_create(sqlite3 *db, struct cc_diag *diag);

/*
 * Drops (create 0) or creates again (create 1) fact_sales' indexes
 * (fact_sales_date, _customer, _product: the same definitions as
 * model_create()'s), so that a bulk load inserts the facts first and
 * builds each index once, by sorting, instead of updating three B-trees
 * per row (SQLite's advice: https://www.sqlite.org/faq.html#q19 and
 * lang_createindex.html).  Run inside the caller's transaction.
 * Errors: CC_EDB with diag.
 */
cc_err	model_fact_indexes(sqlite3 *db, int create, struct cc_diag *diag);

/*
 * The same indexes one at a time: model_fact_index_count() of them (3),
 * model_fact_index(db, i) creates index i (0 <= i < count; in
 * model_fact_indexes()'s order) if it does not exist.  Errors: CC_EINVAL
 * (i out of range), CC_EDB with diag.
 */
int	model_fact_index_count(void);
cc_err	model_fact_index(sqlite3 *db, int i, struct cc_diag *diag);

/*
 * 1 if name is a table of the model the read side may serve (star schema,
 * staging, quarantine, clean_issues, clean_changes, key_rules,
 * customer_segment), else 0.
 * The read side never serves another table, whatever the request says.
 */
int	model_is_public_table(const char *name);

/*
 * A model built before money had four decimals (no model_units table:
 * its money columns hold cents) is brought to the current scale in
 * place: every money column of table_columns multiplied by 100 (exact),
 * the stored dashboards dropped (read from the facts until the next
 * run), model_units created; one transaction.  schema is the name the
 * model is attached as ("model") or "main".  Nothing to do (CC_OK) for a
 * current model or a database without one.  Errors: CC_EDB (also when
 * SQLite is busy: the next open tries again), CC_ENOMEM; nothing is
 * changed then.
 */
cc_err	model_money_upgrade(sqlite3 *db, const char *schema,
	    struct cc_diag *diag);

#endif /* CONCORD_MODEL_H */
