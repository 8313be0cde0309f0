/*
 * schema.c - the target schema (concord/schema.h).
 *
 * Synonyms are source column names after the mapper's normalisation
 * (lower case, words joined by '_', abbreviations kept: the mapper also
 * expands them).  They come from the systems Concord replaces (see
 * conf/demo/samples/PROVENANCE.md) and from common practice; they are
 * evidence, not rules: the mapper weighs them with value evidence.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/schema.h"

#define A(name, type, role, ref, list, syn, desc) \
	{ name, SCHEMA_##type, SCHEMA_##role, ref, list, syn, desc, NULL, 0 }
#define N(arr) (sizeof(arr) / sizeof(arr[0]))

static const struct schema_attr customer[] = {
	A("customer_id", KEY, NATURAL_KEY, NULL, NULL,
	    "customer_id cust_id cst_id client_id client_reference customer_ref"
	    " cid id customer account_id user_id buyer_id household_key",
	    "the customer's identifier in a source system"),
	A("customer_number", KEY, ALTERNATE_KEY, NULL, NULL,
	    "customer_number customer_key cst_key cust_key customer_no"
	    " account_number customer_code",
	    "a second identifier some systems use (an account number)"),
	A("first_name", NAME, ATTRIBUTE, NULL, NULL,
	    "first_name firstname cst_firstname given_name forename fname",
	    "given name"),
	A("last_name", NAME, ATTRIBUTE, NULL, NULL,
	    "last_name lastname cst_lastname surname family_name lname",
	    "family name"),
	A("full_name", NAME, ATTRIBUTE, NULL, NULL,
	    "full_name customer_name name full_customer_name client_name"
	    " contact_name display_name buyer_name billing_name",
	    "the whole name as one text"),
	A("email", EMAIL, ATTRIBUTE, NULL, NULL,
	    "email email_address contact_email e_mail mail buyer_email",
	    "e-mail address"),
	A("phone", PHONE, ATTRIBUTE, NULL, NULL,
	    "phone phone_number telephone tel mobile contact_phone",
	    "telephone number"),
	A("gender", CODE, ATTRIBUTE, NULL, "gender",
	    "gender gen gndr cst_gndr sex", "gender (code list gender)"),
	A("marital_status", CODE, ATTRIBUTE, NULL, "marital_status",
	    "marital_status cst_marital_status marital maritalstatus",
	    "marital status (code list marital_status)"),
	A("birth_date", DATE, ATTRIBUTE, NULL, NULL,
	    "birth_date bdate date_of_birth dob birthdate birthday",
	    "date of birth"),
	A("address", TEXT, ATTRIBUTE, NULL, NULL,
	    "address street street_address address_line address_1",
	    "street address"),
	A("city", TEXT, ATTRIBUTE, NULL, NULL, "city town suburb", "city"),
	A("state", STATE, ATTRIBUTE, NULL, NULL,
	    "state province region_code", "state or province"),
	A("postal_code", POSTAL, ATTRIBUTE, NULL, NULL,
	    "postal_code zip zip_code postcode post_code", "postal code"),
	A("country", COUNTRY, ATTRIBUTE, NULL, NULL,
	    "country cntry country_code nation", "country (ISO 3166-1)"),
	A("status", CODE, ATTRIBUTE, NULL, "customer_status",
	    "status customer_status account_status",
	    "customer status (code list customer_status)"),
	A("region", CODE, ATTRIBUTE, NULL, "region",
	    "region sales_region territory area", "sales region"),
	A("segment", CODE, ATTRIBUTE, NULL, "segment",
	    "segment customer_segment tier customer_tier", "customer segment"),
	A("created_date", DATE, RECORD_DATE, NULL, NULL,
	    "created_date cst_create_date create_date registration_date"
	    " reg_date signup_date created_at customer_since",
	    "when the customer record was created"),
	A("updated_at", TIMESTAMP, RECORD_DATE, NULL, NULL,
	    "updated_at last_modified_timestamp last_modified last_updated"
	    " modified_at update_date",
	    "when the source last changed the record"),
};

static const struct schema_attr product[] = {
	A("product_id", KEY, NATURAL_KEY, NULL, NULL,
	    "product_id prd_key product_key item_reference sku product_code"
	    " product item_code stock_code stockcode article_number"
	    " article_no part_number",
	    "the product's identifier in a source system"),
	A("product_number", KEY, ALTERNATE_KEY, NULL, NULL,
	    "product_number prd_id item_id item_no item_number",
	    "a second identifier of the product"),
	A("name", TEXT, ATTRIBUTE, NULL, NULL,
	    "name product_name prd_nm item_name title product_title item"
	    " product item_description item_title product_detail item_desc",
	    "product name"),
	A("description", TEXT, ATTRIBUTE, NULL, NULL,
	    "description product_description desc details", "description"),
	A("category_id", KEY, REFERENCE, "product_category", NULL,
	    "category_id cat_id category_code cat_key",
	    "the product's category (a product_category key)"),
	A("category", TEXT, ATTRIBUTE, NULL, NULL,
	    "category product_category cat category_name product_line_name",
	    "category name"),
	A("subcategory", TEXT, ATTRIBUTE, NULL, NULL,
	    "subcategory subcat sub_category", "subcategory name"),
	A("brand", CODE, ATTRIBUTE, NULL, "brand",
	    "brand brand_name make", "brand"),
	A("manufacturer", CODE, ATTRIBUTE, NULL, "brand",
	    "manufacturer maker vendor supplier_name", "manufacturer"),
	A("model_number", CODE, ATTRIBUTE, NULL, NULL,
	    "model_number model model_no mpn part_number manufacturer_part_number",
	    "the manufacturer's model or part number (matching takes it from"
	    " the name and description when it is not mapped)"),
	A("product_line", CODE, ATTRIBUTE, NULL, "product_line",
	    "product_line prd_line line", "product line code"),
	A("cost", MONEY, ATTRIBUTE, NULL, NULL,
	    "cost prd_cost unit_cost standard_cost", "unit cost"),
	A("price", MONEY, ATTRIBUTE, NULL, NULL,
	    "price list_price unit_price sale_price retail_price",
	    "list price"),
	A("color", TEXT, ATTRIBUTE, NULL, NULL, "color colour", "colour"),
	A("size", TEXT, ATTRIBUTE, NULL, NULL, "size", "size"),
	A("weight", DECIMAL, ATTRIBUTE, NULL, NULL, "weight", "weight"),
	A("valid_from", DATE, EFFECTIVE_FROM, NULL, NULL,
	    "valid_from prd_start_dt start_date start_dt effective_date"
	    " effective_from",
	    "first day this version of the product is valid"),
	A("valid_to", DATE, EFFECTIVE_TO, NULL, NULL,
	    "valid_to prd_end_dt end_date end_dt effective_to expiry_date",
	    "last day this version is valid (NULL: still valid)"),
	A("created_date", DATE, RECORD_DATE, NULL, NULL,
	    "created_date create_date created_at", "record creation date"),
	A("updated_at", TIMESTAMP, RECORD_DATE, NULL, NULL,
	    "updated_at last_updated last_modified modified_at",
	    "when the source last changed the record"),
};

static const struct schema_attr category[] = {
	A("category_id", KEY, NATURAL_KEY, NULL, NULL,
	    "category_id id cat_id category_code code",
	    "the category's identifier"),
	A("category", TEXT, ATTRIBUTE, NULL, NULL,
	    "category cat category_name", "category name"),
	A("subcategory", TEXT, ATTRIBUTE, NULL, NULL,
	    "subcategory subcat sub_category", "subcategory name"),
	A("maintenance", BOOLEAN, ATTRIBUTE, NULL, NULL,
	    "maintenance needs_maintenance", "whether the category needs"
	    " maintenance"),
};

static const struct schema_attr location[] = {
	A("location_id", KEY, NATURAL_KEY, NULL, NULL,
	    "location_id store_id site_id branch_id loc_id",
	    "the location's identifier"),
	A("name", TEXT, ATTRIBUTE, NULL, NULL,
	    "location_name store_name site_name branch_name", "name"),
	A("address", TEXT, ATTRIBUTE, NULL, NULL, "address street", "street"),
	A("city", TEXT, ATTRIBUTE, NULL, NULL, "city town", "city"),
	A("state", STATE, ATTRIBUTE, NULL, NULL, "state province", "state"),
	A("postal_code", POSTAL, ATTRIBUTE, NULL, NULL,
	    "postal_code zip zip_code postcode", "postal code"),
	A("country", COUNTRY, ATTRIBUTE, NULL, NULL, "country cntry",
	    "country (ISO 3166-1)"),
	A("region", CODE, ATTRIBUTE, NULL, "region", "region sales_region"
	    " territory area", "sales region"),
};

static const struct schema_attr order_line[] = {
	A("order_id", KEY, NATURAL_KEY, NULL, NULL,
	    "order_id sls_ord_num ord_id order_number order_no transaction_id"
	    " transaction_ref order_ref invoice_id invoice_number invoice_no"
	    " invoiceno invoice basket_id receipt_id receipt_number"
	    " sales_order_number unique_order_id",
	    "the order's identifier"),
	A("line_number", INTEGER, NATURAL_KEY, NULL, NULL,
	    "line_number line_no order_line line_id",
	    "the line within the order (derived from source order if absent)"),
	A("order_date", DATE, EVENT_DATE, NULL, NULL,
	    "order_date sls_order_dt transaction_date order_datetime date"
	    " purchase_date sale_date order_dt invoice_date invoicedate"
	    " transaction_datetime sales_date created_at created_on"
	    " order_created order_submitted_date date_time date_key",
	    "the day the order was placed (the fact's date)"),
	A("ship_date", DATE, ATTRIBUTE, NULL, NULL,
	    "ship_date sls_ship_dt shipped_date shipping_date ship_dt",
	    "the day it shipped"),
	A("due_date", DATE, ATTRIBUTE, NULL, NULL,
	    "due_date sls_due_dt due_dt delivery_date", "the day it was due"),
	A("customer_id", KEY, REFERENCE, "customer", NULL,
	    "customer_id sls_cust_id cust_id client_reference client_id"
	    " customer customer_ref customer_key user_id buyer_id"
	    " household_key",
	    "the ordering customer (a customer key)"),
	A("product_id", KEY, REFERENCE, "product", NULL,
	    "product_id sls_prd_key item_id item_reference sku product"
	    " product_key product_code stock_code stockcode item_code"
	    " article_number part_number item_number item_sku product_sku"
	    " sku_id",
	    "the product ordered (a product key)"),
	A("quantity", INTEGER, ATTRIBUTE, NULL, NULL,
	    "quantity sls_quantity qty quantity_ordered units units_sold"
	    " order_quantity transaction_qty",
	    "units ordered"),
	A("unit_price", MONEY, ATTRIBUTE, NULL, NULL,
	    "unit_price sls_price price unit_cost item_price price_each"
	    " price_per_unit sold_for",
	    "price of one unit"),
	A("amount", MONEY, ATTRIBUTE, NULL, NULL,
	    "amount sls_sales sales total_amount order_total total_value"
	    " line_total amount_paid total sales_value sales_amount"
	    " total_sales revenue item_total line_amount total_price",
	    "quantity x unit price"),
	A("discount", MONEY, ATTRIBUTE, NULL, NULL,
	    "discount discount_applied discount_amount", "discount"),
	A("tax", MONEY, ATTRIBUTE, NULL, NULL,
	    "tax tax_amount vat taxes sales_tax tax_total", "tax"),
	A("shipping_cost", MONEY, ATTRIBUTE, NULL, NULL,
	    "shipping_cost shipping_fee shipping freight freight_value"
	    " delivery_fee delivery_charge shipping_price shipping_amount"
	    " shipping_and_handling", "shipping cost"),
	A("status", CODE, ATTRIBUTE, NULL, "order_status",
	    "status order_status delivery_status shipment_status",
	    "order status (code list order_status)"),
	A("payment_status", CODE, ATTRIBUTE, NULL, "payment_status",
	    "payment_status financial_status", "payment status"),
	A("payment_method", CODE, ATTRIBUTE, NULL, "payment_method",
	    "payment_method payment_mode payment_type payment", "payment method"),
	A("updated_at", TIMESTAMP, RECORD_DATE, NULL, NULL,
	    "updated_at last_modified_timestamp last_modified modified_at",
	    "when the source last changed the line"),
};

static const struct schema_entity entities[] = {
	{ "customer", "Customer", "customer customers cust cst client clients"
	  " crm cst_info cst_az12 contacts", customer, N(customer), 0,
	  "a person or company that buys", 0, 0, NULL },
	{ "product_category", "Product category", "category categories cat"
	  " px_cat product_category", category, N(category), 0,
	  "a category of products", 0, 0, NULL },
	{ "product", "Product", "product products prd item items catalog"
	  " catalogue prd_info", product, N(product), 0,
	  "something sold; versions valid over date ranges", 0, 0, NULL },
	{ "location", "Location", "location locations loc store stores site"
	  " sites", location, N(location), 0, "a place", 0, 0, NULL },
	{ "order_line", "Order line", "order orders sales sale sls"
	  " transactions transaction sales_details invoice lines",
	  order_line, N(order_line), 1, "one line of an order (fact grain)", 0, 0, NULL },
};

/*
 * The schema in force: the built-in entities, then the workspace's own
 * (schema_custom_set()) before the fact.
 */
static struct {
	struct schema_entity	*all;		/* NULL: the built-ins only */
	size_t			 n;
	struct schema_attr	*attrs;		/* of the custom entities */
	char			**strs;		/* owned strings */
	size_t			 nstrs;
	const char		**rules;	/* blocking rules, NULL-ended
						   per entity */
	json_t			*defs;
} cur;

const struct schema_entity *
schema_entities(size_t *n)
{
	if (cur.all != NULL) {
		*n = cur.n;
		return cur.all;
	}
	*n = N(entities);
	return entities;
}

const struct schema_entity *
schema_entity(const char *name)
{
	const struct schema_entity *es;
	size_t i, n;

	es = schema_entities(&n);
	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(es[i].name, name) == 0)
			return &es[i];
	return NULL;
}

/* ---- user-defined entities ------------------------------------------ */

static int
snake(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (i > 31 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int
type_of(const char *s)
{
	int t;

	for (t = 0; s != NULL && t < SCHEMA__TYPE_MAX; t++)
		if (!strcmp(schema_type_name((enum schema_type)t), s))
			return t;
	return -1;
}

static const char *const compares[] = { "name", "text", "longtext", "code",
    "exact", "date", "number", "postcode", "email", "codes", "none", NULL };

/* The comparison a type gets when the definition names none. */
static const char *
compare_default(enum schema_type t)
{
	switch (t) {
	case SCHEMA_NAME:	return "name";
	case SCHEMA_TEXT:	return "text";
	case SCHEMA_INTEGER:
	case SCHEMA_DECIMAL:
	case SCHEMA_MONEY:	return "number";
	case SCHEMA_DATE:	return "date";
	case SCHEMA_EMAIL:	return "email";
	case SCHEMA_PHONE:	return "code";
	case SCHEMA_POSTAL:	return "postcode";
	case SCHEMA_BOOLEAN:
	case SCHEMA_COUNTRY:
	case SCHEMA_STATE:	return "exact";
	default:		return "none";	/* keys, timestamps */
	}
}

/* 1 if comparison c fits type t. */
static int
compare_fits(const char *c, enum schema_type t)
{
	int num = t == SCHEMA_INTEGER || t == SCHEMA_DECIMAL ||
	    t == SCHEMA_MONEY;

	if (!strcmp(c, "none"))
		return 1;
	if (!strcmp(c, "number"))
		return num;
	if (!strcmp(c, "date"))
		return t == SCHEMA_DATE;
	if (num || t == SCHEMA_DATE || t == SCHEMA_TIMESTAMP)
		return !strcmp(c, "exact");
	return 1;
}

static int problem(json_t *, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends {"code", "detail", "field"} to errors (may be NULL); returns 1. */
static int
problem(json_t *errors, const char *code, const char *field,
    const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (errors != NULL)
		json_array_append_new(errors, json_pack("{s:s, s:s, s:s}",
		    "code", code, "detail", detail, "field", field));
	return 1;
}

static const char *
attr_name(const json_t *attrs, size_t j)
{
	const char *s = json_string_value(json_object_get(json_array_get(attrs,
	    j), "name"));

	return s != NULL ? s : "";
}

/* One blocking rule "attr[:fn][+attr[:fn]]" or "attr[:fn]~attr[:fn]" (the
 * two keys in either order) over attrs: 1 if valid. */
static int
rule_ok(const char *rs, const json_t *attrs)
{
	char buf[200], *tok, *save, *c;
	size_t j, n = 0;
	int ok;

	if (rs == NULL || strlen(rs) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", rs);
	ok = 1;
	if (strchr(buf, '~') != NULL && strchr(buf, '+') != NULL)
		return 0;
	for (tok = strtok_r(buf, "+~", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, "+~", &save)) {
		int found = 0;
		if ((c = strchr(tok, ':')) != NULL) {
			*c++ = '\0';
			ok = !strcmp(c, "first3") || !strcmp(c, "soundex") ||
			    !strcmp(c, "year") || !strcmp(c, "local") ||
			    !strcmp(c, "codeword") || !strcmp(c, "exact") ||
			    ((!strcmp(c, "words") || !strcmp(c, "words5")) &&
			    strchr(rs, '+') == NULL && strchr(rs, '~') ==
			    NULL);
		}
		for (j = 0; j < json_array_size(attrs); j++)
			found |= !strcmp(attr_name(attrs, j), tok);
		ok = ok && found && ++n <= 2;
	}
	return ok && n > 0;
}

int
schema_custom_validate(const json_t *def, json_t *errors)
{
	const json_t *attrs, *a, *v, *rules;
	const char *name;
	char field[64];
	size_t i, j, n, nk = 0;
	int bad = 0;

	if (!json_is_object(def))
		return problem(errors, "not_an_object", "", "an entity is a"
		    " JSON object");
	name = json_string_value(json_object_get(def, "name"));
	if (!snake(name))
		bad += problem(errors, "bad_name", "name", "the entity needs a"
		    " name in snake_case of at most 32 characters");
	else
		for (i = 0; i < N(entities); i++)
			if (!strcmp(entities[i].name, name))
				bad += problem(errors, "builtin_name", "name",
				    "%s is a built-in entity", name);
	v = json_object_get(def, "label");
	if (v != NULL && (!json_is_string(v) || json_string_length(v) > 80))
		bad += problem(errors, "bad_label", "label", "label: a string"
		    " of at most 80 characters");
	v = json_object_get(def, "description");
	if (v != NULL && (!json_is_string(v) || json_string_length(v) > 500))
		bad += problem(errors, "bad_description", "description",
		    "description: a string of at most 500 characters");
	v = json_object_get(def, "linkage");
	if (v != NULL && (!json_is_string(v) || (strcmp(json_string_value(v),
	    "dedupe") && strcmp(json_string_value(v), "one_to_one"))))
		bad += problem(errors, "bad_linkage", "linkage", "linkage is"
		    " \"dedupe\" or \"one_to_one\"");
	attrs = json_object_get(def, "attributes");
	if (!json_is_array(attrs) || (n = json_array_size(attrs)) == 0)
		return bad + problem(errors, "no_attributes", "attributes",
		    "attributes: a non-empty array");
	if (n > SCHEMA_CUSTOM_MAX_ATTRS) {
		char lim[16];
		snprintf(lim, sizeof(lim), "%d", SCHEMA_CUSTOM_MAX_ATTRS);
		return bad + problem(errors, "too_many_attributes",
		    "attributes", "at most %s attributes", lim);
	}
	json_array_foreach(attrs, i, a) {
		const char *an = json_string_value(json_object_get(a, "name")),
		    *tn = json_string_value(json_object_get(a, "type")),
		    *rn = json_string_value(json_object_get(a, "role")),
		    *cn = json_string_value(json_object_get(a, "compare"));
		int t;
		snprintf(field, sizeof(field), "attributes[%zu]", i);
		if (!json_is_object(a)) {
			bad += problem(errors, "not_an_object", field, "an"
			    " attribute is a JSON object");
			continue;
		}
		if (!snake(an))
			bad += problem(errors, "bad_name", field, "an attribute"
			    " needs a name in snake_case");
		else
			for (j = 0; j < i; j++)
				if (!strcmp(an, attr_name(attrs, j)))
					bad += problem(errors, "duplicate_name",
					    field, "attribute %s is defined"
					    " twice", an);
		if ((t = type_of(tn)) < 0)
			bad += problem(errors, "unknown_type", field, "unknown"
			    " type %s (text, name, integer, decimal, money,"
			    " date, timestamp, boolean, email, phone, country,"
			    " state, postal_code, key)", tn != NULL ? tn : "");
		else if (t == SCHEMA_CODE)
			bad += problem(errors, "unknown_type", field, "type code"
			    " needs a shipped code list; use text");
		if (rn != NULL && strcmp(rn, "attribute") &&
		    strcmp(rn, "natural_key") && strcmp(rn, "alternate_key") &&
		    strcmp(rn, "record_date"))
			bad += problem(errors, "bad_role", field, "unknown role"
			    " %s (attribute, natural_key, alternate_key,"
			    " record_date)", rn);
		if (rn != NULL && !strcmp(rn, "natural_key")) {
			nk++;
			if (t >= 0 && t != SCHEMA_KEY)
				bad += problem(errors, "bad_key", field, "the"
				    " natural key is of type key");
		}
		if (rn != NULL && !strcmp(rn, "alternate_key") && t >= 0 &&
		    t != SCHEMA_KEY)
			bad += problem(errors, "bad_key", field, "an alternate"
			    " key is of type key");
		if (rn != NULL && !strcmp(rn, "record_date") && t >= 0 &&
		    t != SCHEMA_DATE && t != SCHEMA_TIMESTAMP)
			bad += problem(errors, "bad_role", field, "a record date"
			    " is a date or a timestamp");
		if (cn != NULL) {
			for (j = 0; compares[j] != NULL &&
			    strcmp(compares[j], cn); j++)
				;
			if (compares[j] == NULL)
				bad += problem(errors, "bad_compare", field,
				    "unknown comparison %s", cn);
			else if (t >= 0 && !compare_fits(cn,
			    (enum schema_type)t))
				bad += problem(errors, "bad_compare", field,
				    "comparison %s does not fit the type", cn);
		}
		v = json_object_get(a, "strong");
		if (v != NULL && !json_is_boolean(v))
			bad += problem(errors, "bad_strong", field, "strong is"
			    " true or false");
		v = json_object_get(a, "synonyms");
		if (v != NULL) {
			const json_t *sy;
			size_t k;
			int ok = json_is_array(v) && json_array_size(v) <= 20;
			json_array_foreach(v, k, sy)
				ok = ok && json_is_string(sy) &&
				    json_string_length(sy) <= 64;
			if (!ok)
				bad += problem(errors, "bad_synonyms", field,
				    "synonyms: at most 20 strings of at most 64"
				    " characters");
		}
		v = json_object_get(a, "description");
		if (v != NULL && (!json_is_string(v) ||
		    json_string_length(v) > 500))
			bad += problem(errors, "bad_description", field,
			    "description: a string of at most 500"
			    " characters");
	}
	if (nk != 1)
		bad += problem(errors, "natural_key", "attributes", "exactly"
		    " one attribute has the role natural_key");
	rules = json_object_get(def, "blocking");
	if (rules != NULL) {
		const json_t *r;
		if (!json_is_array(rules) ||
		    json_array_size(rules) > SCHEMA_CUSTOM_MAX_RULES)
			bad += problem(errors, "bad_blocking", "blocking",
			    "blocking: an array of at most 8 rules");
		else
			json_array_foreach(rules, i, r) {
				snprintf(field, sizeof(field), "blocking[%zu]",
				    i);
				if (!rule_ok(json_string_value(r), attrs))
					bad += problem(errors, "bad_blocking",
					    field, "a rule is attr[:fn] or"
					    " attr[:fn]+attr[:fn] over the"
					    " entity's attributes, or"
					    " attr[:fn]~attr[:fn] for the two"
					    " keys in either order (fn exact,"
					    " first3, soundex, year, local,"
					    " codeword; words and words5 alone)");
			}
	}
	return bad;
}

static const char *
keep(char *d)
{
	char **ns;

	if ((ns = realloc(cur.strs, (cur.nstrs + 1) * sizeof(*ns))) == NULL) {
		free(d);
		return NULL;
	}
	cur.strs = ns;
	cur.strs[cur.nstrs++] = d;
	return d;
}

static void
custom_clear(void)
{
	size_t i;

	for (i = 0; i < cur.nstrs; i++)
		free(cur.strs[i]);
	free(cur.strs);
	free(cur.all);
	free(cur.attrs);
	free(cur.rules);
	json_decref(cur.defs);
	memset(&cur, 0, sizeof(cur));
}

/* The mapper's synonyms of attribute a: its name and its synonyms,
 * lower case, words joined by '_' (a new string). */
static char *
synonyms_of(const json_t *a, const char *name)
{
	const json_t *sy;
	size_t q, len = strlen(name) + 2;
	char *syn, *p;
	const char *c;

	json_array_foreach(json_object_get(a, "synonyms"), q, sy)
		len += json_string_length(sy) + 1;
	if ((syn = malloc(len)) == NULL)
		return NULL;
	p = syn + snprintf(syn, len, "%s", name);
	json_array_foreach(json_object_get(a, "synonyms"), q, sy) {
		*p++ = ' ';
		for (c = json_string_value(sy); *c != '\0'; c++)
			*p++ = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' :
			    *c == ' ' || *c == '-' ? '_' : *c);
		*p = '\0';
	}
	return syn;
}

static unsigned long long custom_stamp;

unsigned long long
schema_custom_stamp(void)
{
	return custom_stamp;
}

cc_err
schema_custom_set(json_t *defs)
{
	const json_t *d, *a, *r;
	size_t nd = 0, na = 0, nr = 0, i, j, k, ai = 0, ri = 0, fact;

	custom_stamp++;
	custom_clear();
	if (defs == NULL || !json_is_array(defs))
		return CC_OK;
	json_array_foreach(defs, i, d)
		if (nd < SCHEMA_CUSTOM_MAX_ENTITIES &&
		    schema_custom_validate(d, NULL) == 0) {
			nd++;
			na += json_array_size(json_object_get(d, "attributes"));
			nr += json_array_size(json_object_get(d, "blocking")) + 1;
		}
	if (nd == 0)
		return CC_OK;
	cur.n = N(entities) + nd;
	if ((cur.all = calloc(cur.n, sizeof(*cur.all))) == NULL ||
	    (cur.attrs = calloc(na, sizeof(*cur.attrs))) == NULL ||
	    (cur.rules = calloc(nr, sizeof(*cur.rules))) == NULL)
		goto nomem;
	cur.defs = json_incref(defs);
	/* the built-in dimensions, the custom ones, the fact */
	for (fact = 0; fact < N(entities) && !entities[fact].is_fact; fact++)
		;
	memcpy(cur.all, entities, fact * sizeof(*cur.all));
	memcpy(cur.all + fact + nd, entities + fact,
	    (N(entities) - fact) * sizeof(*cur.all));
	k = fact;
	json_array_foreach(defs, i, d) {
		struct schema_entity *e;
		const char *s;
		if (k >= fact + nd || schema_custom_validate(d, NULL) != 0)
			continue;
		e = &cur.all[k++];
		e->name = json_string_value(json_object_get(d, "name"));
		s = json_string_value(json_object_get(d, "label"));
		e->label = s != NULL ? s : e->name;
		s = json_string_value(json_object_get(d, "description"));
		e->description = s != NULL ? s : "";
		e->synonyms = e->name;
		e->custom = 1;
		s = json_string_value(json_object_get(d, "linkage"));
		e->one_to_one = s != NULL && !strcmp(s, "one_to_one");
		e->attrs = &cur.attrs[ai];
		json_array_foreach(json_object_get(d, "attributes"), j, a) {
			struct schema_attr *at = &cur.attrs[ai++];
			const char *rn = json_string_value(json_object_get(a,
			    "role")), *cn = json_string_value(json_object_get(a,
			    "compare"));
			char *syn;
			at->name = json_string_value(json_object_get(a, "name"));
			at->type = (enum schema_type)type_of(json_string_value(
			    json_object_get(a, "type")));
			at->role = rn == NULL || !strcmp(rn, "attribute") ?
			    SCHEMA_ATTRIBUTE : !strcmp(rn, "natural_key") ?
			    SCHEMA_NATURAL_KEY : !strcmp(rn, "alternate_key") ?
			    SCHEMA_ALTERNATE_KEY : SCHEMA_RECORD_DATE;
			at->compare = cn != NULL ? cn :
			    compare_default(at->type);
			at->strong = json_is_true(json_object_get(a, "strong"));
			s = json_string_value(json_object_get(a, "description"));
			at->description = s != NULL ? s : "";
			if ((syn = synonyms_of(a, at->name)) == NULL ||
			    (at->synonyms = keep(syn)) == NULL)
				goto nomem;
			e->nattrs++;
		}
		if (json_object_get(d, "blocking") != NULL) {
			e->blocking = &cur.rules[ri];
			json_array_foreach(json_object_get(d, "blocking"), j, r)
				cur.rules[ri++] = json_string_value(r);
			cur.rules[ri++] = NULL;
		}
	}
	return CC_OK;
nomem:
	custom_clear();
	return CC_ENOMEM;
}

const struct schema_attr *
schema_attr(const struct schema_entity *e, const char *name)
{
	size_t i;

	for (i = 0; e != NULL && name != NULL && i < e->nattrs; i++)
		if (strcmp(e->attrs[i].name, name) == 0)
			return &e->attrs[i];
	return NULL;
}

const struct schema_attr *
schema_lookup(const char *qualified, const struct schema_entity **e)
{
	const struct schema_entity *ent;
	const char *dot;
	char name[64];
	size_t n;

	if (qualified == NULL || (dot = strchr(qualified, '.')) == NULL ||
	    (n = (size_t)(dot - qualified)) >= sizeof(name))
		return NULL;
	memcpy(name, qualified, n);
	name[n] = '\0';
	if ((ent = schema_entity(name)) == NULL)
		return NULL;
	if (e != NULL)
		*e = ent;
	return schema_attr(ent, dot + 1);
}

const char *
schema_type_name(enum schema_type t)
{
	static const char *const names[SCHEMA__TYPE_MAX] = {
		"text", "name", "integer", "decimal", "money", "date",
		"timestamp", "boolean", "code", "email", "phone", "country",
		"state", "postal_code", "key",
	};

	return (unsigned)t < SCHEMA__TYPE_MAX ? names[t] : "unknown";
}

const char *
schema_role_name(enum schema_role r)
{
	static const char *const names[SCHEMA__ROLE_MAX] = {
		"attribute", "natural_key", "alternate_key", "reference",
		"effective_from", "effective_to", "event_date", "record_date",
	};

	return (unsigned)r < SCHEMA__ROLE_MAX ? names[r] : "unknown";
}

json_t *
schema_json(void)
{
	json_t *doc = json_array(), *attrs, *a;
	const struct schema_entity *es;
	size_t i, k, n;

	es = schema_entities(&n);
	for (i = 0; i < n; i++) {
		const struct schema_entity *e = &es[i];
		attrs = json_array();
		for (k = 0; k < e->nattrs; k++) {
			const struct schema_attr *at = &e->attrs[k];
			a = json_pack("{s:s, s:s, s:s, s:s}", "name", at->name,
			    "type", schema_type_name(at->type), "role",
			    schema_role_name(at->role), "description",
			    at->description);
			if (at->ref != NULL)
				json_object_set_new(a, "references",
				    json_string(at->ref));
			if (at->code_list != NULL)
				json_object_set_new(a, "code_list",
				    json_string(at->code_list));
			if (e->custom) {
				json_object_set_new(a, "compare",
				    json_string(at->compare));
				json_object_set_new(a, "strong",
				    json_boolean(at->strong));
			}
			json_array_append_new(attrs, a);
		}
		a = json_pack("{s:s, s:s, s:s, s:b, s:o, s:b}", "name",
		    e->name, "label", e->label, "description", e->description,
		    "fact", e->is_fact, "attributes", attrs, "custom",
		    e->custom);
		if (e->custom)
			json_object_set_new(a, "linkage", json_string(
			    e->one_to_one ? "one_to_one" : "dedupe"));
		json_array_append_new(doc, a);
	}
	return doc;
}

const json_t *
schema_custom_defs(void)
{
	return cur.all != NULL ? cur.defs : NULL;
}
