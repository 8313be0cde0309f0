/*
 * test_map.c - the heuristic mapper on hand-made profiles: name
 * normalisation, abbreviations, value evidence, pairs, alternate keys,
 * secondary entities, validation of confirmed mappings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "concord/map.h"

/* A profile of columns given as "name:type:distinct" items. */
static json_t *
profile(long long rows, const char *const *cols)
{
	json_t *arr = json_array();
	char name[64], type[32];
	long long distinct;
	size_t i;

	for (i = 0; cols[i] != NULL; i++) {
		distinct = 0;
		if (sscanf(cols[i], "%63[^:]:%31[^:]:%lld", name, type, &distinct) < 2)
			fail();
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:I,"
		    " s:I, s:[]}", "ordinal", (json_int_t)i + 1, "name", name,
		    "type", type, "nulls", (json_int_t)0, "blanks", (json_int_t)0,
		    "distinct", (json_int_t)distinct, "top"));
	}
	return json_pack("{s:I, s:o}", "rows", (json_int_t)rows, "columns", arr);
}

static const json_t *
column(const json_t *doc, const char *source)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(doc, "columns"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "source")), source))
			return c;
	fail_msg("no column %s", source);
	return NULL;
}

static const char *
target(const json_t *doc, const char *source)
{
	return json_string_value(json_object_get(column(doc, source), "target"));
}

/*
 * A store's export as real ones are written (tests/bench/data/
 * sales_headers): the fact's key and a measure make it an order-line
 * file whatever the customer columns; billing parts are the customer's,
 * shipping parts the ship-to place's and never the shipping cost; a
 * moment ("Paid at") is no money, a manner ("Ship Mode") no date; a
 * money word is no key; the line's country is the customer's; a date
 * column is never a key, nor are two columns put onto one target
 * without saying so.
 */
static void
test_store_export_words(void **state)
{
	static const char *const cols[] = { "Order ID:text:300",
	    "Order Date:date:90", "Ship Mode:text:4", "Customer ID:text:80",
	    "Billing Name:text:80", "Billing City:text:40",
	    "Billing Zip:text:60", "Shipping City:text:40",
	    "Shipping Country:text:5", "Shipping Method:text:3",
	    "Shipping:money:20", "Paid at:timestamp:300",
	    "Lineitem quantity:integer:10", "Lineitem price:money:50",
	    "SKU Seller Discount:money:12", "Country:text:5",
	    "InvoiceDate:date:90", NULL };
	json_t *p = profile(300, cols), *doc = NULL, *c, *seen;
	size_t i;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "orders_export.csv", &doc,
	    NULL), CC_OK);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(doc, "entities"), 0), "name")), "order_line");
	assert_string_equal(target(doc, "Billing City"), "customer.city");
	assert_string_equal(target(doc, "Billing Zip"),
	    "customer.postal_code");
	assert_string_equal(target(doc, "Shipping"),
	    "order_line.shipping_cost");
	assert_string_equal(target(doc, "Lineitem quantity"),
	    "order_line.quantity");
	assert_string_equal(target(doc, "Lineitem price"),
	    "order_line.unit_price");
	assert_string_equal(target(doc, "Country"), "customer.country");
	for (i = 0; i < 4; i++) {
		static const char *const notcost[] = { "Shipping City",
		    "Shipping Country", "Shipping Method", "Paid at" };
		const char *t = target(doc, notcost[i]);
		if (t != NULL && (!strcmp(t, "order_line.shipping_cost") ||
		    !strcmp(t, "order_line.amount")))
			fail_msg("%s -> %s", notcost[i], t);
	}
	assert_true(target(doc, "Ship Mode") == NULL ||
	    strcmp(target(doc, "Ship Mode"), "order_line.ship_date") != 0);
	assert_true(target(doc, "SKU Seller Discount") == NULL ||
	    strcmp(target(doc, "SKU Seller Discount"),
	    "order_line.product_id") != 0);
	assert_true(target(doc, "InvoiceDate") == NULL ||
	    strcmp(target(doc, "InvoiceDate"), "order_line.order_id") != 0);
	/* one target, one column, unless paired_with says so */
	seen = json_object();
	json_array_foreach(json_object_get(doc, "columns"), i, c) {
		const char *t = json_string_value(json_object_get(c, "target"));
		if (t == NULL)
			continue;
		if (json_object_get(seen, t) != NULL &&
		    json_object_get(c, "paired_with") == NULL &&
		    json_object_get(json_object_get(seen, t), "paired_with") ==
		    NULL)
			fail_msg("two columns onto %s unsaid", t);
		json_object_set(seen, t, c);
	}
	json_decref(seen);
	json_decref(p);
	json_decref(doc);
}

static void
test_normalise(void **state)
{
	char out[128];

	(void)state;
	assert_string_equal(map_normalise_name("sls_ord_num", 1, out,
	    sizeof(out)), "sales_order_number");
	assert_string_equal(map_normalise_name("cstFirstName", 1, out,
	    sizeof(out)), "customer_first_name");
	assert_string_equal(map_normalise_name("  Customer  ID ", 0, out,
	    sizeof(out)), "customer_id");
	assert_string_equal(map_normalise_name("BDATE", 1, out, sizeof(out)),
	    "birth_date");
	assert_string_equal(map_normalise_name("", 1, out, sizeof(out)), "");
}

static void
test_crm_style_headers(void **state)
{
	static const char *const cols[] = { "cst_id:integer:18000",
	    "cst_key:text:18000", "cst_firstname:text:5000",
	    "cst_lastname:text:5000", "cst_gndr:text:3",
	    "cst_create_date:date:300", "notes:text:40", NULL };
	json_t *p = profile(18000, cols), *doc = NULL;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "cst_info.csv", &doc, NULL),
	    CC_OK);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(doc, "entities"), 0), "name")), "customer");
	assert_string_equal(target(doc, "cst_id"), "customer.customer_id");
	assert_string_equal(target(doc, "cst_key"), "customer.customer_number");
	assert_string_equal(target(doc, "cst_firstname"), "customer.first_name");
	assert_string_equal(target(doc, "cst_gndr"), "customer.gender");
	assert_string_equal(target(doc, "cst_create_date"),
	    "customer.created_date");
	/* no attribute fits: kept in staging, never dropped */
	assert_null(target(doc, "notes"));
	assert_true(json_array_size(json_object_get(column(doc, "notes"),
	    "evidence")) > 0);
	json_decref(p);
	json_decref(doc);
}

/* A sales export naming its customers feeds both entities; the pair of
 * amount columns is kept as a pair. */
static void
test_secondary_entity_and_pairs(void **state)
{
	static const char *const cols[] = { "transaction_ref:text:300",
	    "client_reference:text:200", "full_customer_name:text:200",
	    "contact_email:email:200", "customer_segment:text:4",
	    "transaction_date:date:200", "amount_paid:decimal:300",
	    "total_value:decimal:300", "quantity_ordered:integer:10", NULL };
	json_t *p = profile(300, cols), *doc = NULL;
	const json_t *ents;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "challenge.csv", &doc, NULL),
	    CC_OK);
	ents = json_object_get(doc, "entities");
	assert_int_equal(json_array_size(ents), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ents, 0), "name")), "order_line");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ents, 1), "name")), "customer");
	assert_string_equal(target(doc, "client_reference"),
	    "order_line.customer_id");
	assert_string_equal(target(doc, "contact_email"), "customer.email");
	assert_string_equal(target(doc, "amount_paid"), "order_line.amount");
	assert_string_equal(target(doc, "total_value"), "order_line.amount");
	assert_string_equal(json_string_value(json_object_get(column(doc,
	    "total_value"), "paired_with")), "amount_paid");
	json_decref(p);
	json_decref(doc);
}

/* Value evidence: an e-mail column is an e-mail whatever its name; a
 * YYYYMMDD integer column fits a date; generic words are no evidence. */
static void
test_value_evidence(void **state)
{
	static const char *const cols[] = { "customer_id:integer:100",
	    "contact:email:100", "supplier_id:text:10", NULL };
	json_t *p = profile(100, cols), *doc = NULL;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "people.csv", &doc, NULL),
	    CC_OK);
	assert_string_equal(target(doc, "contact"), "customer.email");
	assert_null(target(doc, "supplier_id"));
	json_decref(p);
	json_decref(doc);
}

/* Two identifier columns of one entity: the second takes the alternate
 * key. */
static void
test_alternate_key(void **state)
{
	static const char *const cols[] = { "customer_id:integer:500",
	    "cust_id:text:500", "email:email:500", NULL };
	json_t *p = profile(500, cols), *doc = NULL;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "customers.json", &doc, NULL),
	    CC_OK);
	assert_string_equal(target(doc, "customer_id"), "customer.customer_id");
	assert_string_equal(target(doc, "cust_id"), "customer.customer_number");
	json_decref(p);
	json_decref(doc);
}

static void
test_deterministic(void **state)
{
	static const char *const cols[] = { "order_id:text:10",
	    "ord_id:integer:10", "qty:integer:5", "quantity:integer:5", NULL };
	json_t *p = profile(10, cols), *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "o.csv", &a, NULL), CC_OK);
	assert_int_equal(map_propose_heuristic(p, "o.csv", &b, NULL), CC_OK);
	assert_true(json_equal(a, b));
	json_decref(p);
	json_decref(a);
	json_decref(b);
}

static void
test_empty_profile(void **state)
{
	json_t *p = json_pack("{s:i, s:[]}", "rows", 0, "columns"), *doc = NULL;
	struct cc_diag d;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "x.csv", &doc, &d),
	    CC_EINVAL);
	json_decref(p);
}

static void
test_validate(void **state)
{
	static const char *const cols[] = { "a:text:1", "b:text:1", NULL };
	json_t *p = profile(1, cols), *out = NULL, *errs = NULL, *sent;
	struct cc_diag d;

	(void)state;
	sent = json_loads("{\"columns\": [{\"source\": \"a\", \"target\":"
	    " \"customer.email\"}, {\"source\": \"b\", \"target\": null}]}", 0,
	    NULL);
	assert_int_equal(map_validate(sent, p, &out, &errs, &d), CC_OK);
	assert_string_equal(json_string_value(json_object_get(out, "state")),
	    "confirmed");
	json_decref(sent);
	json_decref(out);
	sent = json_loads("{\"columns\": [{\"source\": \"zz\", \"target\":"
	    " \"customer.email\"}, {\"source\": \"a\", \"target\": \"x.y\"},"
	    " {\"source\": \"b\", \"target\": 5}]}", 0, NULL);
	assert_int_equal(map_validate(sent, p, &out, &errs, &d), CC_EINVALID);
	assert_int_equal(json_array_size(errs), 3);
	assert_string_equal(d.code, "unknown_column");
	json_decref(errs);
	json_decref(sent);
	json_decref(p);
}

/* A mapper that fails, then the heuristic: the proposal comes from the
 * heuristic and says why the first one did not answer. */
static cc_err
failing_propose(void *ctx, const json_t *profile, const char *file_name,
    json_t **out, struct cc_diag *diag)
{
	(void)ctx;
	(void)profile;
	(void)file_name;
	(void)out;
	return cc_diag_set(diag, CC_EIO, "llm_timeout", "the model timed out");
}

static void
test_chain_falls_back(void **state)
{
	static const struct map_mapper failing = { "llm", failing_propose,
	    NULL };
	static const struct map_mapper *const chain[] = { &failing,
	    &map_heuristic };
	static const char *const cols[] = { "email:email:10", NULL };
	json_t *p = profile(10, cols), *doc = NULL, *fb;
	struct cc_diag d;

	(void)state;
	assert_int_equal(map_propose(chain, 2, p, "x.csv", &doc, &d), CC_OK);
	assert_string_equal(json_string_value(json_object_get(doc, "mapper")),
	    "heuristic");
	fb = json_object_get(doc, "fallbacks");
	assert_int_equal(json_array_size(fb), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    fb, 0), "reason")), "the model timed out");
	json_decref(doc);
	assert_int_equal(map_propose(chain, 1, p, "x.csv", &doc, &d), CC_EIO);
	json_decref(p);
}

/*
 * An orders export: an e-mail and a country column, fit near certain for
 * the customer, are proposed for it (never "kept unmapped" beside a 100 %
 * alternative); a column left without a target never says "nothing
 * fits" while it lists an alternative.
 */
static void
test_never_unmapped_beside_certain(void **state)
{
	static const char *const cols[] = { "Order #:integer:500",
	    "Cust Name:text:8", "E-mail:email:8", "Order Date:date:300",
	    "Item:text:5", "Qty:integer:5", "Unit Price:money:4",
	    "Country:text:4", NULL };
	json_t *p = profile(500, cols), *doc = NULL, *c;
	size_t i;

	(void)state;
	assert_int_equal(map_propose_heuristic(p, "orders_export.csv", &doc,
	    NULL), CC_OK);
	assert_string_equal(target(doc, "E-mail"), "customer.email");
	assert_string_equal(target(doc, "Country"), "customer.country");
	assert_string_equal(target(doc, "Unit Price"), "order_line.unit_price");
	json_array_foreach(json_object_get(doc, "columns"), i, c) {
		const char *ev = json_string_value(json_array_get(
		    json_object_get(c, "evidence"), 0));
		if (json_array_size(json_object_get(c, "alternatives")) > 0 &&
		    ev != NULL && strstr(ev, "no attribute") != NULL)
			fail_msg("%s: \"%s\" beside an alternative",
			    json_string_value(json_object_get(c, "source")), ev);
	}
	json_decref(doc);
	json_decref(p);
}

/* map_check(): the grain and the references of order lines. */
static void
test_check(void **state)
{
	json_t *doc, *w = NULL;

	(void)state;
	assert_int_equal(map_check(NULL, NULL, &w), CC_EINVAL);
	{
		json_t *empty = json_object();
		assert_int_equal(map_check(empty, NULL, NULL), CC_EINVAL);
		json_decref(empty);
	}
	/* order lines with neither order id, customer nor product */
	doc = json_loads("{\"state\": \"confirmed\", \"columns\": ["
	    "{\"ordinal\": 1, \"source\": \"When\", \"target\":"
	    " \"order_line.order_date\"},"
	    "{\"ordinal\": 2, \"source\": \"No\", \"target\": null}]}", 0,
	    NULL);
	assert_int_equal(map_check(doc, NULL, &w), CC_OK);
	assert_int_equal(json_array_size(w), 3);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(w, 0), "code")), "grain_unmapped");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(w, 1), "attribute")), "order_line.customer_id");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(w, 2), "reason")), "product_missing");
	json_decref(w);
	json_decref(doc);
	/* order id and customer reference mapped; the product named by a
	 * product attribute of the same file: nothing to say */
	doc = json_loads("{\"state\": \"confirmed\", \"columns\": ["
	    "{\"ordinal\": 1, \"source\": \"o\", \"target\":"
	    " \"order_line.order_id\"},"
	    "{\"ordinal\": 2, \"source\": \"c\", \"target\":"
	    " \"order_line.customer_id\"},"
	    "{\"ordinal\": 3, \"source\": \"p\", \"target\":"
	    " \"product.name\"}]}", 0, NULL);
	assert_int_equal(map_check(doc, NULL, &w), CC_OK);
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
	json_decref(doc);
	/* a proposal counts only columns at or above its threshold; a file
	 * of customers needs no order-line check */
	doc = json_loads("{\"state\": \"proposed\", \"threshold\": 0.5,"
	    " \"columns\": [{\"ordinal\": 1, \"source\": \"id\","
	    " \"target\": \"order_line.order_id\", \"confidence\": 0.4,"
	    " \"alternatives\": []}, {\"ordinal\": 2, \"source\": \"d\","
	    " \"target\": \"order_line.order_date\", \"confidence\": 0.9,"
	    " \"alternatives\": []}]}", 0, NULL);
	assert_int_equal(map_check(doc, NULL, &w), CC_OK);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(w, 0), "code")), "grain_unmapped");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(w, 0), "column")), "id");
	json_decref(w);
	json_decref(doc);
	doc = json_loads("{\"state\": \"confirmed\", \"columns\": ["
	    "{\"ordinal\": 1, \"source\": \"id\", \"target\":"
	    " \"customer.customer_id\"}]}", 0, NULL);
	assert_int_equal(map_check(doc, NULL, &w), CC_OK);
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_store_export_words),
		cmocka_unit_test(test_crm_style_headers),
		cmocka_unit_test(test_secondary_entity_and_pairs),
		cmocka_unit_test(test_value_evidence),
		cmocka_unit_test(test_alternate_key),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_empty_profile),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_chain_falls_back),
		cmocka_unit_test(test_never_unmapped_beside_certain),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
