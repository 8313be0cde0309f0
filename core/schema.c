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

#include <string.h>

#include "concord/schema.h"

#define A(name, type, role, ref, list, syn, desc) \
	{ name, SCHEMA_##type, SCHEMA_##role, ref, list, syn, desc }
#define N(arr) (sizeof(arr) / sizeof(arr[0]))

static const struct schema_attr customer[] = {
	A("customer_id", KEY, NATURAL_KEY, NULL, NULL,
	    "customer_id cust_id cst_id client_id client_reference customer_ref"
	    " cid id customer account_id",
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
	    " contact_name display_name",
	    "the whole name as one text"),
	A("email", EMAIL, ATTRIBUTE, NULL, NULL,
	    "email email_address contact_email e_mail mail",
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
	    " product item_code",
	    "the product's identifier in a source system"),
	A("product_number", KEY, ALTERNATE_KEY, NULL, NULL,
	    "product_number prd_id item_id item_no item_number",
	    "a second identifier of the product"),
	A("name", TEXT, ATTRIBUTE, NULL, NULL,
	    "name product_name prd_nm item_name title product_title",
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
	    " transaction_ref order_ref invoice_id invoice_number",
	    "the order's identifier"),
	A("line_number", INTEGER, NATURAL_KEY, NULL, NULL,
	    "line_number line_no order_line line_id",
	    "the line within the order (derived from source order if absent)"),
	A("order_date", DATE, EVENT_DATE, NULL, NULL,
	    "order_date sls_order_dt transaction_date order_datetime date"
	    " purchase_date sale_date order_dt",
	    "the day the order was placed (the fact's date)"),
	A("ship_date", DATE, ATTRIBUTE, NULL, NULL,
	    "ship_date sls_ship_dt shipped_date shipping_date ship_dt",
	    "the day it shipped"),
	A("due_date", DATE, ATTRIBUTE, NULL, NULL,
	    "due_date sls_due_dt due_dt delivery_date", "the day it was due"),
	A("customer_id", KEY, REFERENCE, "customer", NULL,
	    "customer_id sls_cust_id cust_id client_reference client_id"
	    " customer customer_ref",
	    "the ordering customer (a customer key)"),
	A("product_id", KEY, REFERENCE, "product", NULL,
	    "product_id sls_prd_key item_id item_reference sku product"
	    " product_key product_code",
	    "the product ordered (a product key)"),
	A("quantity", INTEGER, ATTRIBUTE, NULL, NULL,
	    "quantity sls_quantity qty quantity_ordered units",
	    "units ordered"),
	A("unit_price", MONEY, ATTRIBUTE, NULL, NULL,
	    "unit_price sls_price price unit_cost item_price",
	    "price of one unit"),
	A("amount", MONEY, ATTRIBUTE, NULL, NULL,
	    "amount sls_sales sales total_amount order_total total_value"
	    " line_total amount_paid total",
	    "quantity x unit price"),
	A("discount", MONEY, ATTRIBUTE, NULL, NULL,
	    "discount discount_applied discount_amount", "discount"),
	A("tax", MONEY, ATTRIBUTE, NULL, NULL, "tax tax_amount vat", "tax"),
	A("shipping_cost", MONEY, ATTRIBUTE, NULL, NULL,
	    "shipping_cost shipping_fee shipping freight", "shipping cost"),
	A("status", CODE, ATTRIBUTE, NULL, "order_status",
	    "status order_status delivery_status shipment_status",
	    "order status (code list order_status)"),
	A("payment_status", CODE, ATTRIBUTE, NULL, "payment_status",
	    "payment_status", "payment status"),
	A("payment_method", CODE, ATTRIBUTE, NULL, "payment_method",
	    "payment_method payment_mode payment_type", "payment method"),
	A("updated_at", TIMESTAMP, RECORD_DATE, NULL, NULL,
	    "updated_at last_modified_timestamp last_modified modified_at",
	    "when the source last changed the line"),
};

static const struct schema_entity entities[] = {
	{ "customer", "Customer", "customer customers cust cst client clients"
	  " crm cst_info cst_az12 contacts", customer, N(customer), 0,
	  "a person or company that buys" },
	{ "product_category", "Product category", "category categories cat"
	  " px_cat product_category", category, N(category), 0,
	  "a category of products" },
	{ "product", "Product", "product products prd item items catalog"
	  " catalogue prd_info", product, N(product), 0,
	  "something sold; versions valid over date ranges" },
	{ "location", "Location", "location locations loc store stores site"
	  " sites", location, N(location), 0, "a place" },
	{ "order_line", "Order line", "order orders sales sale sls"
	  " transactions transaction sales_details invoice lines",
	  order_line, N(order_line), 1, "one line of an order (fact grain)" },
};

const struct schema_entity *
schema_entities(size_t *n)
{
	*n = N(entities);
	return entities;
}

const struct schema_entity *
schema_entity(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < N(entities); i++)
		if (strcmp(entities[i].name, name) == 0)
			return &entities[i];
	return NULL;
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
	size_t i, k;

	for (i = 0; i < N(entities); i++) {
		const struct schema_entity *e = &entities[i];
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
			json_array_append_new(attrs, a);
		}
		json_array_append_new(doc, json_pack("{s:s, s:s, s:s, s:b,"
		    " s:o}", "name", e->name, "label", e->label,
		    "description", e->description, "fact", e->is_fact,
		    "attributes", attrs));
	}
	return doc;
}
