/*
 * map.c - the heuristic mapper (concord/map.h).
 *
 * Scores every (source column, target attribute) pair from name evidence
 * and value evidence, chooses the entities the source feeds, then assigns
 * columns.  Deterministic: the same profile and name give the same
 * mapping, whatever the order of hash tables (there are none).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concord/map.h"
#include "concord/schema.h"

#define NAME_MAX_LEN	128

/* Abbreviations found in source column names, and what they stand for. */
static const struct { const char *abbr, *word; } abbrevs[] = {
	{ "cst", "customer" }, { "cust", "customer" }, { "cus", "customer" },
	{ "clt", "client" }, { "prd", "product" }, { "prod", "product" },
	{ "sls", "sales" }, { "dt", "date" }, { "nm", "name" },
	{ "qty", "quantity" }, { "cntry", "country" }, { "ctry", "country" },
	{ "gen", "gender" }, { "gndr", "gender" }, { "bdate", "birth_date" },
	{ "dob", "birth_date" }, { "num", "number" }, { "no", "number" },
	{ "nbr", "number" }, { "ord", "order" }, { "txn", "transaction" },
	{ "trx", "transaction" }, { "amt", "amount" }, { "addr", "address" },
	{ "tel", "phone" }, { "cat", "category" }, { "subcat", "subcategory" },
	{ "desc", "description" }, { "ref", "reference" }, { "ln", "line" },
	{ "fname", "first_name" }, { "lname", "last_name" },
	{ "pcode", "postal_code" }, { "zip", "zip" }, { "mkt", "market" },
	{ "cid", "customer_id" }, { "pid", "product_id" },
};

/* Words that only say which entity a column belongs to. */
static const char *const entity_words[] = {
	"customer", "client", "product", "item", "sales", "order", "category",
	"buyer", "billing", "lineitem",
};

char *
map_normalise_name(const char *name, int expand, char *out, size_t size)
{
	char tmp[NAME_MAX_LEN * 2], tok[NAME_MAX_LEN], *save = NULL, *t;
	size_t o = 0, i, k, n = 0;
	unsigned char c, prev = 0;

	if (size == 0)
		return out;
	for (i = 0; name[i] != '\0' && o + 2 < sizeof(tmp); i++) {
		c = (unsigned char)name[i];
		if (isupper(c) && islower(prev) && o > 0 && tmp[o - 1] != '_')
			tmp[o++] = '_';		/* camelCase boundary */
		if (isalnum(c) || c >= 0x80)
			tmp[o++] = (char)tolower(c);
		else if (o > 0 && tmp[o - 1] != '_')
			tmp[o++] = '_';
		prev = c;
	}
	while (o > 0 && tmp[o - 1] == '_')
		o--;
	tmp[o] = '\0';
	out[0] = '\0';
	for (t = strtok_r(tmp, "_", &save); t != NULL;
	    t = strtok_r(NULL, "_", &save)) {
		const char *w = t;
		if (expand)
			for (k = 0; k < sizeof(abbrevs) / sizeof(abbrevs[0]); k++)
				if (strcmp(t, abbrevs[k].abbr) == 0)
					w = abbrevs[k].word;
		snprintf(tok, sizeof(tok), "%s%s", n > 0 ? "_" : "", w);
		if (strlen(out) + strlen(tok) + 1 > size)
			break;
		strcat(out, tok);
		n++;
	}
	return out;
}

/* Removes '_' (so "firstname" meets "first_name"). */
static void
squash(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++)
		if (*in != '_')
			out[o++] = *in;
	out[o] = '\0';
}

/* Drops leading entity words ("customer_first_name" -> "first_name"). */
static const char *
strip_entity_words(const char *s)
{
	size_t k, n;
	int again = 1;

	while (again) {
		again = 0;
		for (k = 0; k < sizeof(entity_words) / sizeof(entity_words[0]);
		    k++) {
			n = strlen(entity_words[k]);
			if (strncmp(s, entity_words[k], n) == 0 && s[n] == '_' &&
			    s[n + 1] != '\0') {
				s += n + 1;
				again = 1;
			}
		}
	}
	return s;
}

/* Words too common in column names to be evidence on their own. */
static const char *const generic_words[] = {
	"id", "number", "code", "name", "date", "key", "line", "type", "no",
	"value", "total", "amount", "time", "at", "mode", "method", "status",
};

static int
generic(const char *w)
{
	size_t k;

	for (k = 0; k < sizeof(generic_words) / sizeof(generic_words[0]); k++)
		if (strcmp(w, generic_words[k]) == 0)
			return 1;
	return 0;
}

static int
entity_word(const char *w)
{
	size_t k;

	for (k = 0; k < sizeof(entity_words) / sizeof(entity_words[0]); k++)
		if (strcmp(w, entity_words[k]) == 0)
			return 1;
	return 0;
}

/*
 * Dice coefficient of the '_' separated token sets of a and b (Dice
 * 1945), 0 when the only words in common are generic or entity words ("id" does not
 * make supplier_id a product_id).
 */
static double
token_dice(const char *a, const char *b)
{
	char ta[NAME_MAX_LEN], tb[NAME_MAX_LEN], *sa = NULL, *sb = NULL, *x, *y;
	int na = 0, nb = 0, common = 0, specific = 0;

	snprintf(ta, sizeof(ta), "%s", a);
	for (x = strtok_r(ta, "_", &sa); x != NULL; x = strtok_r(NULL, "_", &sa)) {
		na++;
		snprintf(tb, sizeof(tb), "%s", b);
		sb = NULL;
		for (y = strtok_r(tb, "_", &sb); y != NULL;
		    y = strtok_r(NULL, "_", &sb))
			if (strcmp(x, y) == 0) {
				common++;
				specific += !generic(x) && !entity_word(x);
				break;
			}
	}
	if (specific == 0)
		return 0.0;
	snprintf(tb, sizeof(tb), "%s", b);
	sb = NULL;
	for (y = strtok_r(tb, "_", &sb); y != NULL; y = strtok_r(NULL, "_", &sb))
		nb++;
	return na + nb > 0 ? 2.0 * common / (na + nb) : 0.0;
}

/* Dice coefficient of character bigrams (Dice 1945), for near spellings. */
static double
bigram_dice(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, common = 0;
	char used[NAME_MAX_LEN] = { 0 };

	if (la < 2 || lb < 2 || lb > sizeof(used))
		return 0.0;
	for (i = 0; i + 1 < la; i++)
		for (j = 0; j + 1 < lb; j++)
			if (!used[j] && a[i] == b[j] && a[i + 1] == b[j + 1]) {
				used[j] = 1;
				common++;
				break;
			}
	return 2.0 * (double)common / (double)(la - 1 + lb - 1);
}

/*
 * Name evidence of a column for one candidate name (an attribute's name
 * or synonym, already normalised).  Writes why into why.
 */
static double
name_score_one(const char *raw, const char *exp, const char *cand,
    char *why, size_t size)
{
	char sq1[NAME_MAX_LEN], sq2[NAME_MAX_LEN], cexp[NAME_MAX_LEN];
	const char *core, *ccore;
	double d;

	if (strcmp(raw, cand) == 0) {
		snprintf(why, size, "name '%s' is a known name", cand);
		return 1.0;
	}
	map_normalise_name(cand, 1, cexp, sizeof(cexp));
	if (strcmp(exp, cexp) == 0) {
		snprintf(why, size, "name expands to '%s'", cexp);
		return 0.95;
	}
	/* "customer_first_name" meets "first_name"; but "product_line" is
	 * not "order_line": a generic word left alone is no evidence. */
	core = strip_entity_words(exp);
	if (generic(core))
		core = exp;
	ccore = strip_entity_words(cexp);
	if (generic(ccore))
		ccore = cexp;
	squash(core, sq1, sizeof(sq1));
	squash(ccore, sq2, sizeof(sq2));
	if (strcmp(sq1, sq2) == 0) {
		snprintf(why, size, "name '%s' matches '%s'", exp, cand);
		return 0.9;
	}
	d = token_dice(core, ccore);
	if (d >= 0.5) {
		snprintf(why, size, "name shares words with '%s'", cand);
		return 0.5 + 0.3 * d;
	}
	d = bigram_dice(sq1, sq2);
	if (d >= 0.75) {
		snprintf(why, size, "name '%s' is spelled like '%s'", exp, cand);
		return 0.75 * d;
	}
	return 0.0;
}

static double
name_score(const char *raw, const char *exp, const struct schema_attr *a,
    char *why, size_t size)
{
	char syn[1024], w[160], *save = NULL, *s;
	double best, sc;

	best = name_score_one(raw, exp, a->name, why, size);
	snprintf(syn, sizeof(syn), "%s", a->synonyms != NULL ? a->synonyms : "");
	for (s = strtok_r(syn, " ", &save); s != NULL && best < 1.0;
	    s = strtok_r(NULL, " ", &save))
		if ((sc = name_score_one(raw, exp, s, w, sizeof(w))) > best) {
			best = sc;
			snprintf(why, size, "%s", w);
		}
	return best;
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Share of the column's top values (by count) found in vocab. */
static double
vocabulary_share(const json_t *col, const char *const *vocab)
{
	long long hit = 0, all = 0, n;
	const json_t *top = json_object_get(col, "top"), *v;
	const char *s;
	char t[64];
	size_t i, k, j;

	json_array_foreach(top, i, v) {
		s = jstr(v, "value");
		n = jint(v, "count");
		if (s == NULL)
			continue;
		for (j = 0; s[j] == ' '; j++)
			;
		snprintf(t, sizeof(t), "%s", s + j);
		for (k = strlen(t); k > 0 && t[k - 1] == ' '; k--)
			t[k - 1] = '\0';
		all += n;
		for (k = 0; vocab[k] != NULL; k++)
			if (strcasecmp(t, vocab[k]) == 0) {
				hit += n;
				break;
			}
	}
	return all > 0 ? (double)hit / (double)all : 0.0;
}

/*
 * Share (by count) of the most frequent values that are words: two or more
 * runs of letters separated by spaces, with no digit ("Quinn Dubois",
 * "Desk Lamp").  Identifiers are rarely written so; names and item
 * descriptions are.
 */
static double
words_share(const json_t *col)
{
	long long hit = 0, all = 0, n;
	const json_t *top = json_object_get(col, "top"), *v;
	const char *s, *c;
	size_t i;

	json_array_foreach(top, i, v) {
		int letters = 0, spaced = 0, digit = 0, inword = 0, words = 0;
		if ((s = jstr(v, "value")) == NULL)
			continue;
		n = jint(v, "count");
		for (c = s; *c != '\0'; c++) {
			int alpha = ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') ||
			    (unsigned char)*c >= 0x80;
			if (*c >= '0' && *c <= '9')
				digit = 1;
			if (alpha && !inword)
				words++;
			inword = alpha || *c == '\'' || *c == '-';
			letters |= alpha;
			spaced |= *c == ' ';
		}
		all += n;
		if (letters && spaced && !digit && words >= 2)
			hit += n;
	}
	return all > 0 ? (double)hit / (double)all : 0.0;
}

static const char *const v_gender[] = { "m", "f", "male", "female", "other",
	"o", "u", "unknown", "n/a", "", NULL };
static const char *const v_marital[] = { "m", "s", "married", "single",
	"divorced", "widowed", "d", "w", "", NULL };
static const char *const v_bool[] = { "yes", "no", "true", "false", "y",
	"n", "1", "0", "", NULL };

/* 1 if the column's min and max look like YYYYMMDD integers. */
static int
yyyymmdd_like(const json_t *col)
{
	const char *mx = jstr(col, "max");

	return mx != NULL && strlen(mx) == 8 && (mx[0] == '1' || mx[0] == '2');
}

/*
 * Value evidence: how well the profiled values fit the attribute's type,
 * in [0, 1], with a reason.
 */
static double
value_fit(const json_t *col, const struct schema_attr *a, char *why,
    size_t size)
{
	const char *t = jstr(col, "type");
	long long rows_nonnull, distinct = jint(col, "distinct");
	double f = 0.3;

	rows_nonnull = jint(col, "_rows") - jint(col, "nulls") -
	    jint(col, "blanks");
	if (t == NULL || strcmp(t, "empty") == 0) {
		snprintf(why, size, "no values to judge");
		return 0.5;
	}
	switch (a->type) {
	case SCHEMA_KEY:
		f = !strcmp(t, "integer") || !strcmp(t, "text") ? 0.9 :
		    !strcmp(t, "email") ? 0.5 : 0.2;
		if (a->role == SCHEMA_NATURAL_KEY && rows_nonnull > 0 &&
		    distinct * 10 >= rows_nonnull * 9)
			f = 1.0;
		/* a date is never an identifier (InvoiceDate is no
		 * invoice number) */
		if (!strcmp(t, "date") || !strcmp(t, "timestamp")) {
			snprintf(why, size, "values are %ss, not identifiers",
			    t);
			return 0.05;
		}
		if (words_share(col) >= 0.5) {
			snprintf(why, size, "values are words (%s), not"
			    " identifiers", jstr(json_array_get(json_object_get(
			    col, "top"), 0), "value"));
			return 0.25;
		}
		break;
	case SCHEMA_DATE:
		f = !strcmp(t, "date") ? 1.0 : !strcmp(t, "timestamp") ? 0.85 :
		    !strcmp(t, "integer") ? (yyyymmdd_like(col) ? 0.8 : 0.15) :
		    !strcmp(t, "text") ? 0.4 : 0.1;
		break;
	case SCHEMA_TIMESTAMP:
		f = !strcmp(t, "timestamp") ? 1.0 : !strcmp(t, "date") ? 0.8 :
		    !strcmp(t, "text") ? 0.4 : 0.2;
		break;
	case SCHEMA_MONEY:
		f = !strcmp(t, "money") || !strcmp(t, "decimal") ? 1.0 :
		    !strcmp(t, "integer") ? 0.85 : !strcmp(t, "text") ? 0.35 :
		    0.1;
		break;
	case SCHEMA_DECIMAL:
		f = !strcmp(t, "decimal") ? 1.0 : !strcmp(t, "integer") ? 0.85 :
		    !strcmp(t, "money") ? 0.8 : !strcmp(t, "text") ? 0.35 :
		    0.1;
		break;
	case SCHEMA_INTEGER:
		f = !strcmp(t, "integer") ? 1.0 : !strcmp(t, "decimal") ? 0.6 :
		    !strcmp(t, "money") ? 0.5 : !strcmp(t, "text") ? 0.3 : 0.1;
		break;
	case SCHEMA_BOOLEAN:
		f = !strcmp(t, "boolean") ? 1.0 : vocabulary_share(col, v_bool);
		break;
	case SCHEMA_EMAIL:
		f = !strcmp(t, "email") ? 1.0 : !strcmp(t, "text") ? 0.35 : 0.05;
		break;
	case SCHEMA_CODE:
		if (a->code_list != NULL && !strcmp(a->code_list, "gender"))
			f = vocabulary_share(col, v_gender);
		else if (a->code_list != NULL &&
		    !strcmp(a->code_list, "marital_status"))
			f = vocabulary_share(col, v_marital);
		else
			f = distinct <= 60 ? 1.0 : !strcmp(t, "text") ? 0.5 : 0.3;
		break;
	case SCHEMA_NAME:
	case SCHEMA_TEXT:
		f = !strcmp(t, "text") ? 1.0 : !strcmp(t, "email") ? 0.6 : 0.3;
		break;
	case SCHEMA_PHONE:
		f = !strcmp(t, "text") ? 0.9 : !strcmp(t, "integer") ? 0.7 : 0.1;
		break;
	case SCHEMA_POSTAL:
		f = !strcmp(t, "text") || !strcmp(t, "integer") ? 1.0 : 0.2;
		break;
	case SCHEMA_COUNTRY:
	case SCHEMA_STATE:
		f = !strcmp(t, "text") ? 1.0 : 0.2;
		break;
	default:
		break;
	}
	snprintf(why, size, "values are %s (fit %.2f for %s)", t, f,
	    schema_type_name(a->type));
	return f;
}

struct cand {
	const struct schema_entity	*e;
	const struct schema_attr	*a;
	double				 conf;
	char				 name_why[160];
	char				 value_why[96];
};

struct colinfo {
	const json_t	*col;
	const char	*name;
	struct cand	*cands;		/* sorted by conf, descending */
	size_t		 ncands;
	const struct cand *chosen;
	const char	*paired_with;
	struct cand	 alt;		/* a target not among cands */
};

static int
cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->conf != b->conf)
		return a->conf < b->conf ? 1 : -1;
	/* ties: schema order, which is stable */
	if (a->e != b->e)
		return a->e < b->e ? -1 : 1;
	return a->a < b->a ? -1 : (a->a > b->a);
}

/* 1 if a normalised name ends in an identifier word ("supplier_id"). */
static int
id_like(const char *exp)
{
	const char *last = strrchr(exp, '_');

	last = last != NULL ? last + 1 : exp;
	return !strcmp(last, "id") || !strcmp(last, "key") ||
	    !strcmp(last, "code") || !strcmp(last, "number") ||
	    !strcmp(last, "reference");
}

/* 1 if the '_' separated words of exp include one of words. */
static int
has_word(const char *exp, const char *const *words)
{
	char t[NAME_MAX_LEN], *save = NULL, *w;
	size_t k;

	snprintf(t, sizeof(t), "%s", exp);
	for (w = strtok_r(t, "_", &save); w != NULL; w = strtok_r(NULL, "_",
	    &save))
		for (k = 0; words[k] != NULL; k++)
			if (strcmp(w, words[k]) == 0)
				return 1;
	return 0;
}

/*
 * What a column's own words settle whatever an attribute's synonyms say
 * (names of real sales exports: tests/bench/data/sales_headers):
 *  - a part of an address (street, address, city, zip, postcode,
 *    province, state, region, country) names that part: the customer's,
 *    or after ship / shipping / delivery / recipient the ship-to
 *    location's (an alternative, never fed on its own), or nobody's
 *    after another party's word (tax, item, seller, warehouse, merchant,
 *    origin: "Tax Zip", "Item Country");
 *    such a column is that part and nothing else ("Shipping City" is no
 *    shipping cost, "Purchase Address" no date, "shipping_address" no
 *    e-mail address);
 *  - the ship-to words make the rest no attribute of the customer
 *    ("Shipping Name", "shipping_first_name": the recipient);
 *  - a word of time (at, time, timestamp, datetime, on) names a moment,
 *    and a word of manner (mode, method, service, provider, option,
 *    name, status, type, reference, rate, pct, percent, percentage,
 *    requires, program, phone, telephone, description, note, message,
 *    zone): neither is money ("Paid at", "Shipping Method", "Shipping
 *    Phone"), manner is no date ("Ship Mode", "Delivery Option"), and
 *    neither time nor a date word (date, day) is a key
 *    ("transaction_time", "Invoice Date" whatever its values);
 *  - a word of money (price, cost, fee, discount, tax, subtotal, total,
 *    amount) is no key ("SKU Seller Discount" is no SKU);
 * unless the name is the attribute's own or a synonym (score >= 0.95).
 */
static double
word_rules(const char *exp, const struct schema_entity *e,
    const struct schema_attr *a, double ns, char *why, size_t size)
{
	static const char *const ship[] = { "ship", "shipping", "delivery",
	    "recipient", NULL };
	static const char *const others[] = { "tax", "item", "seller",
	    "warehouse", "merchant", "origin", NULL };
	static const char *const time_w[] = { "at", "time", "timestamp",
	    "datetime", "on", NULL };
	static const char *const date_w[] = { "date", "day", NULL };
	static const char *const manner[] = { "mode", "method", "service",
	    "provider", "option", "name", "status", "type", "reference",
	    "rate", "pct", "percent", "percentage", "requires", "program",
	    "phone", "telephone", "description", "note", "message", "zone",
	    NULL };
	static const char *const money_w[] = { "price", "cost", "fee",
	    "discount", "tax", "subtotal", "total", "amount", NULL };
	static const struct { const char *w, *part; } parts[] = {
		{ "street", "address" }, { "address", "address" },
		{ "address1", "address" }, { "city", "city" },
		{ "zip", "postal_code" }, { "zipcode", "postal_code" },
		{ "postcode", "postal_code" }, { "postal", "postal_code" },
		{ "province", "state" }, { "state", "state" },
		{ "region", "region" }, { "country", "country" },
	};
	const char *part = NULL, *one[2] = { NULL, NULL };
	int money = a->type == SCHEMA_MONEY, date = a->type == SCHEMA_DATE ||
	    a->type == SCHEMA_TIMESTAMP, to_ship = has_word(exp, ship);
	size_t k;

	if (ns >= 0.95)
		return ns;
	for (k = 0; k < sizeof(parts) / sizeof(parts[0]) && part == NULL; k++) {
		one[0] = parts[k].w;
		if (has_word(exp, one))
			part = parts[k].part;
	}
	if (part != NULL) {
		if (strcmp(a->name, part) != 0 || has_word(exp, others))
			return 0.0;
		if ((to_ship && !strcmp(e->name, "location")) || (!to_ship &&
		    !strcmp(e->name, "customer"))) {
			snprintf(why, size, "name is the %s of %s", part,
			    to_ship ? "the ship-to place" : "the customer");
			/* the ship-to place stays below the certainty that
			 * feeds an entity on its own: no order line refers to
			 * a location (dim_location holds customers' places) */
			if (to_ship)
				return ns > 0.85 ? ns : 0.85;
			return ns > 0.9 ? ns : 0.9;
		}
		return to_ship ? ns * 0.8 : ns;
	}
	if ((to_ship && !strcmp(e->name, "customer")) ||
	    (money && (has_word(exp, time_w) || has_word(exp, manner))) ||
	    (date && has_word(exp, manner)) ||
	    (a->type == SCHEMA_KEY && (has_word(exp, money_w) ||
	    has_word(exp, time_w) || has_word(exp, date_w))))
		return 0.0;
	return ns;
}

/* Scores every attribute of every entity for one column. */
static int
score_column(struct colinfo *ci, long long rows)
{
	char raw[NAME_MAX_LEN], exp[NAME_MAX_LEN], why[160];
	const struct schema_entity *es;
	size_t ne, i, k, n = 0, total = 0;
	json_t *col = (json_t *)ci->col;
	double ns, vf;

	json_object_set_new(col, "_rows", json_integer(rows));
	map_normalise_name(ci->name, 0, raw, sizeof(raw));
	map_normalise_name(ci->name, 1, exp, sizeof(exp));
	es = schema_entities(&ne);
	for (i = 0; i < ne; i++)
		total += es[i].nattrs;
	if ((ci->cands = calloc(total, sizeof(*ci->cands))) == NULL)
		return -1;
	for (i = 0; i < ne; i++) {
		for (k = 0; k < es[i].nattrs; k++) {
			const struct schema_attr *a = &es[i].attrs[k];
			struct cand *c = &ci->cands[n];
			ns = name_score(raw, exp, a, why, sizeof(why));
			ns = word_rules(exp, &es[i], a, ns, why, sizeof(why));
			/* "supplier_id" names an identifier: not a text. */
			if (ns > 0.0 && ns < 0.9 && a->type != SCHEMA_KEY &&
			    id_like(exp))
				ns *= 0.5;
			vf = value_fit(col, a, c->value_why,
			    sizeof(c->value_why));
			/* An e-mail column is an e-mail whatever its name. */
			if (ns == 0.0 && a->type == SCHEMA_EMAIL && vf >= 1.0) {
				ns = 0.6;
				snprintf(why, sizeof(why), "values are e-mail"
				    " addresses");
			}
			if (ns == 0.0)
				continue;
			c->e = &es[i];
			c->a = a;
			c->conf = ns * (0.55 + 0.45 * vf);
			snprintf(c->name_why, sizeof(c->name_why), "%s", why);
			n++;
		}
	}
	json_object_del(col, "_rows");
	qsort(ci->cands, n, sizeof(*ci->cands), cand_cmp);
	ci->ncands = n;
	return 0;
}

/* 1 if the file name holds one of the entity's hint words. */
static int
file_hint(const struct schema_entity *e, const char *file_name)
{
	char fn[NAME_MAX_LEN], syn[512], *save = NULL, *w, *save2 = NULL, *t;
	char copy[NAME_MAX_LEN];

	if (file_name == NULL)
		return 0;
	map_normalise_name(file_name, 0, fn, sizeof(fn));
	snprintf(syn, sizeof(syn), "%s", e->synonyms);
	for (w = strtok_r(syn, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (strcmp(fn, w) == 0)
			return 1;
		snprintf(copy, sizeof(copy), "%s", fn);
		save2 = NULL;
		for (t = strtok_r(copy, "_", &save2); t != NULL;
		    t = strtok_r(NULL, "_", &save2))
			if (strcmp(t, w) == 0)
				return 1;
	}
	return 0;
}

/* Best candidate of ci within entity e, or NULL. */
static const struct cand *
best_in(const struct colinfo *ci, const struct schema_entity *e)
{
	size_t i;

	for (i = 0; i < ci->ncands; i++)
		if (ci->cands[i].e == e)
			return &ci->cands[i];
	return NULL;
}

static json_t *
strings(const char *a, const char *b)
{
	json_t *arr = json_array();

	if (a != NULL && *a != '\0')
		json_array_append_new(arr, json_string(a));
	if (b != NULL && *b != '\0')
		json_array_append_new(arr, json_string(b));
	return arr;
}

static double
round3(double x)
{
	return floor(x * 1000.0 + 0.5) / 1000.0;
}

/*
 * Gives a second key column of an entity the entity's alternate key when
 * no other column holds it.  Returns 1 if it did.
 */
static int
take_alternate_key(struct colinfo *ci, size_t ncol, struct colinfo *weak)
{
	const struct schema_entity *e = weak->chosen->e;
	const struct schema_attr *alt = NULL;
	size_t k, m;

	for (k = 0; k < e->nattrs; k++)
		if (e->attrs[k].role == SCHEMA_ALTERNATE_KEY)
			alt = &e->attrs[k];
	if (alt == NULL)
		return 0;
	for (m = 0; m < ncol; m++)
		if (ci[m].chosen != NULL && ci[m].chosen->a == alt)
			return 0;
	weak->alt = *weak->chosen;
	weak->alt.a = alt;
	weak->alt.conf = weak->chosen->conf * 0.9;
	snprintf(weak->alt.name_why, sizeof(weak->alt.name_why),
	    "a second identifier of the %s: its alternate key", e->name);
	weak->chosen = &weak->alt;
	return 1;
}

cc_err
map_propose_heuristic(const json_t *profile, const char *file_name,
    json_t **out, struct cc_diag *diag)
{
	const json_t *cols = json_object_get(profile, "columns");
	const struct schema_entity *es, *primary = NULL;
	double escore[16] = { 0 }, best = -1.0;
	int chosen[16] = { 0 }, by_value[16] = { 0 };
	struct colinfo *ci = NULL;
	size_t ncol, ne, i, j, k;
	json_t *doc = NULL, *jcols, *jents, *alts;
	char ev[16][200];
	long long rows = jint(profile, "rows");
	cc_err err = CC_ENOMEM;

	if (!json_is_array(cols) || (ncol = json_array_size(cols)) == 0)
		return cc_diag_set(diag, CC_EINVAL, "profile_empty",
		    "the source has no columns to map");
	es = schema_entities(&ne);
	if ((ci = calloc(ncol, sizeof(*ci))) == NULL)
		return CC_ENOMEM;
	for (i = 0; i < ncol; i++) {
		ci[i].col = json_array_get(cols, i);
		ci[i].name = jstr(ci[i].col, "name");
		if (ci[i].name == NULL)
			ci[i].name = "";
		if (score_column(&ci[i], rows) != 0)
			goto out;
	}

	/* Entity scores: the columns each entity explains, its key, the
	 * file name. */
	for (j = 0; j < ne; j++) {
		int keyed = 0, nattr = 0;
		for (i = 0; i < ncol; i++) {
			const struct cand *c = best_in(&ci[i], &es[j]);
			if (c == NULL || c->conf < MAP_THRESHOLD)
				continue;
			escore[j] += c->conf;
			nattr++;
			if (c->a->role == SCHEMA_NATURAL_KEY && c->conf >= 0.8)
				keyed = 1;
		}
		if (keyed)
			escore[j] += 0.5;
		if (file_hint(&es[j], file_name))
			escore[j] += 0.6;
		snprintf(ev[j], sizeof(ev[j]), "%d column%s fit%s%s%s", nattr,
		    nattr == 1 ? "" : "s", nattr == 1 ? "s" : "",
		    keyed ? "; its key is present" : "",
		    file_hint(&es[j], file_name) ? "; the file name says so" :
		    "");
		if (escore[j] > best) {
			best = escore[j];
			primary = &es[j];
		}
	}
	/* The grain wins: a file whose columns hold a fact's key and one of
	 * its measures (an order id and a quantity, a price or an amount)
	 * is a file of that fact, however many customer columns it also
	 * carries (a store's export names the buyer's address in six). */
	for (j = 0; j < ne; j++) {
		int key = 0, measure = 0;
		if (!es[j].is_fact)
			continue;
		for (i = 0; i < ncol; i++) {
			const struct cand *c = best_in(&ci[i], &es[j]);
			if (c == NULL || c->conf < MAP_THRESHOLD)
				continue;
			key |= c->a->role == SCHEMA_NATURAL_KEY &&
			    c->a->type == SCHEMA_KEY;
			measure |= c->a->type == SCHEMA_MONEY ||
			    (c->a->type == SCHEMA_INTEGER &&
			    c->a->role == SCHEMA_ATTRIBUTE);
		}
		if (key && measure && primary != &es[j]) {
			primary = &es[j];
			best = escore[j];
			snprintf(ev[j] + strlen(ev[j]), sizeof(ev[j]) -
			    strlen(ev[j]), "; its key and a measure: the grain");
		}
	}
	chosen[primary - es] = 1;
	/* Other entities the source describes too: those a column of the
	 * primary entity references (a sales export naming its customers),
	 * when two attributes of their own fit better there (one, beside a
	 * fact: an order line's country is its customer's); and, beside a
	 * fact, those it names by two attributes of their own, one of them
	 * an identity (a name, an e-mail): the load phase resolves a line
	 * to the member inferred from its own row. */
	for (j = 0; j < ne; j++) {
		int own = 0, key = 0, identity = 0;
		if (chosen[j])
			continue;
		for (i = 0; i < ncol; i++) {
			const struct cand *c = best_in(&ci[i], &es[j]),
			    *p = best_in(&ci[i], primary);
			if (p != NULL && p->conf >= 0.6 &&
			    p->a->role == SCHEMA_REFERENCE && p->a->ref != NULL &&
			    !strcmp(p->a->ref, es[j].name))
				key = 1;
			if (c == NULL || c->conf < 0.6 ||
			    c->a->role == SCHEMA_NATURAL_KEY)
				continue;
			if (p == NULL || p->conf + 0.05 < c->conf) {
				own++;
				identity |= !strcmp(c->a->name, "full_name") ||
				    !strcmp(c->a->name, "email") ||
				    !strcmp(c->a->name, "first_name") ||
				    !strcmp(c->a->name, "last_name");
			}
		}
		if ((key && own >= 2) || (primary->is_fact && identity &&
		    own >= 2) || (primary->is_fact && key && own >= 1))
			chosen[j] = 1;
	}

	/* Assign columns: best target within the chosen entities, the
	 * primary entity first among equals. */
	for (i = 0; i < ncol; i++) {
		const struct cand *p = best_in(&ci[i], primary),
		    *top = ci[i].ncands > 0 ? &ci[i].cands[0] : NULL;
		/* a weak fit never wins over a near-certain one elsewhere
		 * (a customer's name is not the order's customer key) */
		int sure = top != NULL && top->conf >= 0.9 &&
		    top->a->role != SCHEMA_NATURAL_KEY &&
		    top->a->role != SCHEMA_ALTERNATE_KEY;
		if (p != NULL && p->conf >= 0.3 && p->conf >= ci[i].cands[0].conf) {
			ci[i].chosen = p;
			continue;
		}
		for (k = 0; k < ci[i].ncands; k++) {
			const struct cand *c = &ci[i].cands[k];
			if (!chosen[c->e - es] || c->conf < 0.3 ||
			    (sure && c->conf < MAP_THRESHOLD))
				continue;
			/* a secondary entity's key comes through the primary
			 * entity's reference: do not take it twice */
			if (c->e != primary && c->a->role == SCHEMA_NATURAL_KEY &&
			    best_in(&ci[i], primary) != NULL &&
			    best_in(&ci[i], primary)->a->role ==
			    SCHEMA_REFERENCE)
				continue;
			ci[i].chosen = c;
			break;
		}
	}
	/* A column left without a target whose best attribute fits
	 * strongly (an e-mail column, a country) takes it, and its entity
	 * is fed too: a proposal never keeps a column unmapped beside an
	 * alternative it rates near certain.  Keys are not taken this way:
	 * an entity's identity comes through its key or a reference. */
	for (i = 0; i < ncol; i++) {
		const struct cand *c = ci[i].ncands > 0 ? &ci[i].cands[0] :
		    NULL;
		if (ci[i].chosen != NULL || c == NULL || c->conf < 0.9 ||
		    c->a->role == SCHEMA_NATURAL_KEY ||
		    c->a->role == SCHEMA_ALTERNATE_KEY)
			continue;
		ci[i].chosen = c;
		if (!chosen[c->e - es]) {
			chosen[c->e - es] = 1;
			by_value[c->e - es] = 1;
			snprintf(ev[c->e - es], sizeof(ev[0]), "column '%.60s'"
			    " fits %s.%s", ci[i].name, c->e->name, c->a->name);
		}
	}
	/* A description with no name beside it is the name: a product
	 * is known by it ("Description" of a store's export). */
	for (i = 0; i < ncol; i++) {
		const struct cand *c = ci[i].chosen, *alt = NULL;
		size_t q;
		int named = 0;
		if (c == NULL || strcmp(c->a->name, "description") != 0)
			continue;
		for (q = 0; q < ncol; q++)
			named |= ci[q].chosen != NULL && ci[q].chosen->e == c->e &&
			    !strcmp(ci[q].chosen->a->name, "name");
		for (k = 0; k < ci[i].ncands && !named; k++)
			if (ci[i].cands[k].e == c->e &&
			    !strcmp(ci[i].cands[k].a->name, "name") &&
			    ci[i].cands[k].conf >= MAP_THRESHOLD)
				alt = &ci[i].cands[k];
		if (alt != NULL)
			ci[i].chosen = alt;
	}
	/* Two columns, one attribute.  A second identifier takes the
	 * entity's free alternate key; a weak one (below the threshold) lets
	 * go; otherwise both are kept as a pair the run reconciles. */
	for (i = 0; i < ncol; i++) {
		for (j = 0; j < i; j++) {
			const struct cand *a = ci[i].chosen, *b = ci[j].chosen;
			struct colinfo *weak, *strong;
			if (a == NULL || b == NULL || a->a != b->a ||
			    ci[i].paired_with != NULL || ci[j].paired_with != NULL)
				continue;
			weak = a->conf <= b->conf ? &ci[i] : &ci[j];
			strong = weak == &ci[i] ? &ci[j] : &ci[i];
			if (weak->chosen->a->role == SCHEMA_NATURAL_KEY &&
			    take_alternate_key(ci, ncol, weak))
				continue;
			if (weak->chosen->conf < MAP_THRESHOLD) {
				weak->chosen = NULL;
				continue;
			}
			weak->paired_with = strong->name;
		}
	}

	jents = json_array();
	json_array_append_new(jents, json_pack("{s:s, s:f, s:o}", "name",
	    primary->name, "confidence", round3(fmin(1.0, best / 3.0)),
	    "evidence", strings(ev[primary - es], NULL)));
	for (j = 0; j < ne; j++)
		if (chosen[j] && &es[j] != primary)
			json_array_append_new(jents, json_pack("{s:s, s:f, s:o}",
			    "name", es[j].name, "confidence",
			    round3(fmin(1.0, escore[j] / 3.0)), "evidence",
			    strings(ev[j], by_value[j] ? NULL : "its key comes"
			    " with the primary entity's reference")));
	jcols = json_array();
	for (i = 0; i < ncol; i++) {
		const struct cand *c = ci[i].chosen;
		char target[160];
		json_t *jc;
		alts = json_array();
		for (k = 0; k < ci[i].ncands && json_array_size(alts) < 3; k++) {
			const struct cand *o = &ci[i].cands[k];
			if (o == c || o->conf < 0.3)
				continue;
			snprintf(target, sizeof(target), "%s.%s", o->e->name,
			    o->a->name);
			json_array_append_new(alts, json_pack("{s:s, s:f}",
			    "target", target, "confidence", round3(o->conf)));
		}
		if (c != NULL) {
			snprintf(target, sizeof(target), "%s.%s", c->e->name,
			    c->a->name);
			jc = json_pack("{s:I, s:s, s:s, s:f, s:o, s:o}",
			    "ordinal", (json_int_t)(i + 1), "source", ci[i].name,
			    "target", target, "confidence", round3(c->conf),
			    "evidence", strings(c->name_why, c->value_why),
			    "alternatives", alts);
		} else if (json_array_size(alts) > 0) {
			/* Never "nothing fits" beside a listed alternative. */
			const json_t *a0 = json_array_get(alts, 0);
			char why[256];
			snprintf(why, sizeof(why), "kept in staging as an extra"
			    " column: the best fit, %s (%.0f %%), is an"
			    " attribute of an entity this file is not read as;"
			    " choose it to feed that entity too",
			    jstr(a0, "target"), 100.0 * json_number_value(
			    json_object_get(a0, "confidence")));
			jc = json_pack("{s:I, s:s, s:n, s:f, s:o, s:o}",
			    "ordinal", (json_int_t)(i + 1), "source",
			    ci[i].name, "target", "confidence", 0.0,
			    "evidence", strings(why, NULL), "alternatives",
			    alts);
		} else
			jc = json_pack("{s:I, s:s, s:n, s:f, s:o, s:o}",
			    "ordinal", (json_int_t)(i + 1), "source", ci[i].name,
			    "target", "confidence", 0.0, "evidence",
			    strings("no attribute of the target schema fits:"
			    " kept in staging as an extra column", NULL),
			    "alternatives", alts);
		if (ci[i].paired_with != NULL)
			json_object_set_new(jc, "paired_with",
			    json_string(ci[i].paired_with));
		json_array_append_new(jcols, jc);
	}
	doc = json_pack("{s:s, s:s, s:f, s:o, s:o}", "mapper", "heuristic",
	    "state", "proposed", "threshold", MAP_THRESHOLD, "entities", jents,
	    "columns", jcols);
	err = doc != NULL ? CC_OK : CC_ENOMEM;
	*out = doc;
out:
	for (i = 0; ci != NULL && i < ncol; i++)
		free(ci[i].cands);
	free(ci);
	return err;
}

cc_err
map_validate(const json_t *doc, const json_t *profile, json_t **out,
    json_t **errors, struct cc_diag *diag)
{
	const json_t *cols = json_object_get(doc, "columns"),
	    *pcols = json_object_get(profile, "columns"), *c, *pc;
	json_t *errs = json_array(), *ncols = json_array(), *ents = json_array();
	const struct schema_entity *e;
	const struct schema_attr *a;
	const char *src, *target;
	size_t i, k;
	int found;

	if (!json_is_object(doc) || !json_is_array(cols)) {
		json_array_append_new(errs, json_pack("{s:s, s:s}", "code",
		    "mapping_shape", "detail", "send {\"columns\": [{\"source\":"
		    " ..., \"target\": \"entity.attribute\" | null}]}"));
	} else {
		json_array_foreach(cols, i, c) {
			src = jstr(c, "source");
			target = jstr(c, "target");
			found = 0;
			json_array_foreach(pcols, k, pc)
				if (src != NULL && jstr(pc, "name") != NULL &&
				    strcmp(src, jstr(pc, "name")) == 0)
					found = (int)k + 1;
			if (!found) {
				json_array_append_new(errs, json_pack(
				    "{s:s, s:s, s:s?}", "code", "unknown_column",
				    "detail", "not a column of this file",
				    "column", src));
				continue;
			}
			if (json_object_get(c, "target") != NULL &&
			    !json_is_null(json_object_get(c, "target")) &&
			    (target == NULL ||
			    (a = schema_lookup(target, &e)) == NULL)) {
				json_array_append_new(errs, json_pack(
				    "{s:s, s:s, s:s}", "code", "unknown_target",
				    "detail", "target must be \"entity.attribute\""
				    " of the target schema, or null", "column",
				    src));
				continue;
			}
			json_array_append_new(ncols, json_pack(
			    "{s:i, s:s, s:s?, s:f, s:[s]}", "ordinal", found,
			    "source", src, "target", target, "confidence", 1.0,
			    "evidence", "confirmed by a person"));
			if (target != NULL) {
				char name[64];
				size_t n = strcspn(target, ".");
				int dup = 0;
				json_t *x;
				snprintf(name, sizeof(name), "%.*s", (int)n,
				    target);
				json_array_foreach(ents, k, x)
					if (!strcmp(jstr(x, "name"), name))
						dup = 1;
				if (!dup)
					json_array_append_new(ents, json_pack(
					    "{s:s, s:f, s:[s]}", "name", name,
					    "confidence", 1.0, "evidence",
					    "confirmed by a person"));
			}
		}
	}
	if (json_array_size(errs) > 0) {
		json_decref(ncols);
		json_decref(ents);
		cc_diag_set(diag, CC_EINVALID, jstr(json_array_get(errs, 0),
		    "code"), "%s", jstr(json_array_get(errs, 0), "detail"));
		if (errors != NULL)
			*errors = errs;
		else
			json_decref(errs);
		return CC_EINVALID;
	}
	json_decref(errs);
	*out = json_pack("{s:s, s:s, s:f, s:o, s:o}", "mapper", "user",
	    "state", "confirmed", "threshold", MAP_THRESHOLD, "entities", ents,
	    "columns", ncols);
	return *out != NULL ? CC_OK : CC_ENOMEM;
}

static cc_err
heuristic_propose(void *ctx, const json_t *profile, const char *file_name,
    json_t **out, struct cc_diag *diag)
{
	(void)ctx;
	return map_propose_heuristic(profile, file_name, out, diag);
}

const struct map_mapper map_heuristic = {
	"heuristic", heuristic_propose, NULL,
};

cc_err
map_propose(const struct map_mapper *const *chain, size_t n,
    const json_t *profile, const char *file_name, json_t **out,
    struct cc_diag *diag)
{
	json_t *fallbacks = json_array();
	struct cc_diag d;
	cc_err err = CC_EINVAL;
	size_t i;

	for (i = 0; i < n; i++) {
		cc_diag_clear(&d);
		err = chain[i]->propose(chain[i]->ctx, profile, file_name, out,
		    &d);
		if (err == CC_OK) {
			if (json_array_size(fallbacks) > 0)
				json_object_set(*out, "fallbacks", fallbacks);
			json_decref(fallbacks);
			return CC_OK;
		}
		json_array_append_new(fallbacks, json_pack("{s:s, s:s}",
		    "mapper", chain[i]->name, "reason", d.message[0] != '\0' ?
		    d.message : cc_strerror(err)));
		if (diag != NULL)
			*diag = d;
	}
	json_decref(fallbacks);
	return err;
}

cc_err
map_propose_advised(const struct map_mapper *const *chain, size_t n,
    const struct map_adviser *const *advisers, size_t na,
    const json_t *profile, const char *file_name, json_t **out,
    struct cc_diag *diag)
{
	struct cc_diag d;
	json_t *fb;
	cc_err err;
	size_t i;

	if ((err = map_propose(chain, n, profile, file_name, out, diag)) !=
	    CC_OK)
		return err;
	for (i = 0; i < na; i++) {
		cc_diag_clear(&d);
		if ((err = advisers[i]->advise(advisers[i]->ctx, profile,
		    file_name, *out, &d)) == CC_OK)
			continue;
		if ((fb = json_object_get(*out, "fallbacks")) == NULL) {
			fb = json_array();
			json_object_set_new(*out, "fallbacks", fb);
		}
		json_array_append_new(fb, json_pack("{s:s, s:s, s:s}", "mapper",
		    advisers[i]->name, "code", d.code[0] != '\0' ? d.code :
		    "failed", "reason", d.message[0] != '\0' ? d.message :
		    cc_strerror(err)));
	}
	return CC_OK;
}

/* 1 if column c of a mapping document takes part in a run. */
static int
effective(const json_t *doc, const json_t *c)
{
	const char *state = jstr(doc, "state");
	double th = json_number_value(json_object_get(doc, "threshold"));

	if (jstr(c, "target") == NULL)
		return 0;
	if (state != NULL && !strcmp(state, "confirmed"))
		return 1;
	return json_number_value(json_object_get(c, "confidence")) >=
	    (th > 0.0 ? th : MAP_THRESHOLD);
}

/* 1 if target ("entity.attr") is entity's or is the attribute ref. */
static int
in_entity(const char *target, const char *entity, const char *ref)
{
	size_t n = strlen(entity);

	return target != NULL && ((!strncmp(target, entity, n) &&
	    target[n] == '.') || (ref != NULL && !strcmp(target, ref)));
}

/*
 * The column of doc best suited to feed entity (through its name
 * attribute name_attr, or the reference ref), judged by the proposal's
 * targets and alternatives (doc's own when proposal is NULL): a column
 * whose alternatives name the name attribute first, then one that names
 * a key or the reference (never another attribute: a price column is no
 * product).  NULL when none.
 */
static const char *
candidate(const json_t *doc, const json_t *proposal, const char *entity,
    const char *name_attr, const char *ref)
{
	const json_t *cols = json_object_get(proposal != NULL ? proposal : doc,
	    "columns"), *c, *a, *alts;
	const char *best = NULL, *src, *t;
	double bestw = 0.0, w, conf;
	size_t i, k;

	json_array_foreach(cols, i, c) {
		src = jstr(c, "source");
		alts = json_object_get(c, "alternatives");
		for (k = 0; k <= json_array_size(alts); k++) {
			a = k == 0 ? c : json_array_get(alts, k - 1);
			t = jstr(a, "target");
			conf = json_number_value(json_object_get(a,
			    "confidence"));
			if (!in_entity(t, entity, ref) || conf < 0.3)
				continue;
			/* for the grain only the attribute itself will do */
			if (!strcmp(name_attr, ref) && strcmp(t, ref) != 0)
				continue;
			/* the name, else a key or the reference: a price is
			 * no product */
			if (!strcmp(t, name_attr))
				w = 3.0;
			else if (!strcmp(t, ref) || strstr(t, "_id") != NULL ||
			    strstr(t, "_number") != NULL)
				w = 2.0;
			else
				continue;
			w += conf;
			if (w > bestw) {
				bestw = w;
				best = src;
			}
		}
	}
	return best;
}

cc_err
map_check(const json_t *doc, const json_t *proposal, json_t **out)
{
	static const struct {
		const char	*entity, *ref, *name_attr, *reason, *words;
	} refs[] = {
		{ "customer", "order_line.customer_id", "customer.full_name",
		  "customer_missing", "no customer" },
		{ "product", "order_line.product_id", "product.name",
		  "product_missing", "no product" },
	};
	const json_t *cols = json_object_get(doc, "columns"), *c;
	json_t *w;
	int fact = 0, grain = 0, fed[2] = { 0, 0 };
	const char *t, *col;
	char detail[512];
	size_t i, k;

	if (out == NULL)
		return CC_EINVAL;
	*out = NULL;
	if (!json_is_object(doc) || !json_is_array(cols))
		return CC_EINVAL;
	json_array_foreach(cols, i, c) {
		if (!effective(doc, c))
			continue;
		t = jstr(c, "target");
		fact |= in_entity(t, "order_line", NULL);
		grain |= !strcmp(t, "order_line.order_id");
		for (k = 0; k < 2; k++)
			fed[k] |= in_entity(t, refs[k].entity, refs[k].ref);
	}
	if ((w = json_array()) == NULL)
		return CC_ENOMEM;
	if (fact && !grain) {
		col = candidate(doc, proposal, "order_line",
		    "order_line.order_id", "order_line.order_id");
		snprintf(detail, sizeof(detail), "no column is mapped to"
		    " order_line.order_id, the order lines' grain: every line"
		    " will be quarantined (no order id) — map %s%s%s to"
		    " order_line.order_id", col != NULL ? "'" : "",
		    col != NULL ? col : "the order number column",
		    col != NULL ? "'" : "");
		json_array_append_new(w, json_pack("{s:s, s:s, s:s, s:s?}",
		    "code", "grain_unmapped", "detail", detail, "attribute",
		    "order_line.order_id", "column", col));
	}
	for (k = 0; fact && k < 2; k++) {
		if (fed[k])
			continue;
		col = candidate(doc, proposal, refs[k].entity,
		    refs[k].name_attr, refs[k].ref);
		if (col != NULL)
			snprintf(detail, sizeof(detail), "no column names the"
			    " line's %s: every line will be quarantined (%s) —"
			    " upload a %s file or map '%s' to %s",
			    refs[k].entity, refs[k].words, refs[k].entity, col,
			    refs[k].name_attr);
		else
			snprintf(detail, sizeof(detail), "no column names the"
			    " line's %s: every line will be quarantined (%s) —"
			    " map a column to %s (the key of a %s file) or to %s",
			    refs[k].entity, refs[k].words, refs[k].ref,
			    refs[k].entity, refs[k].name_attr);
		json_array_append_new(w, json_pack("{s:s, s:s, s:s, s:s?,"
		    " s:s, s:s}", "code", "reference_unmapped", "detail",
		    detail, "attribute", refs[k].ref, "column", col, "suggest",
		    refs[k].name_attr, "reason", refs[k].reason));
	}
	*out = w;
	return CC_OK;
}

const char *
map_candidate_column(const json_t *doc, const json_t *proposal,
    const char *entity, const char *name_attr, const char *ref)
{
	if (doc == NULL || entity == NULL || name_attr == NULL || ref == NULL)
		return NULL;
	return candidate(doc, proposal, entity, name_attr, ref);
}
