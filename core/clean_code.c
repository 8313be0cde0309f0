/*
 * clean_code.c - code lists with synonyms, code keys for free-form codes,
 * countries (ISO 3166-1 from the iso-codes package) and US states
 * (concord/clean.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "concord/clean.h"
#include "clean_int.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Code lists                                                         */
/* ------------------------------------------------------------------ */

/* An entry: the matching key (clean_i_fold(): lower-case letters and
 * digits) and the canonical code. */
struct clean_code_entry {
	const char	*key;
	const char	*code;
};

/* HL7 v2 table 0001, Administrative Sex; ISO/IEC 5218 digits. */
static const struct clean_code_entry clean_gender[] = {
	{ "m", "M" },			/* male */
	{ "male", "M" },
	{ "man", "M" },
	{ "1", "M" },			/* ISO/IEC 5218: male */
	{ "f", "F" },			/* female */
	{ "female", "F" },
	{ "woman", "F" },
	{ "2", "F" },			/* ISO/IEC 5218: female */
	{ "o", "O" },			/* other */
	{ "other", "O" },
	{ "nonbinary", "O" },
	{ "u", "U" },			/* unknown */
	{ "unknown", "U" },
	{ "0", "U" },			/* ISO/IEC 5218: not known */
	{ "a", "A" },			/* ambiguous */
	{ "ambiguous", "A" },
	{ "n", "N" },			/* not applicable: the code itself */
	{ "notapplicable", "N" },
	{ "9", "N" },			/* ISO/IEC 5218: not applicable */
};

/* HL7 v2 table 0002, Marital Status. */
static const struct clean_code_entry clean_marital[] = {
	{ "m", "M" },			/* married */
	{ "married", "M" },
	{ "s", "S" },			/* single */
	{ "single", "S" },
	{ "nevermarried", "S" },
	{ "d", "D" },			/* divorced */
	{ "divorced", "D" },
	{ "w", "W" },			/* widowed */
	{ "widowed", "W" },
	{ "widow", "W" },
	{ "widower", "W" },
	{ "a", "A" },			/* separated */
	{ "separated", "A" },
	{ "p", "P" },			/* domestic partner */
	{ "domesticpartner", "P" },
	{ "u", "U" },			/* unknown */
	{ "unknown", "U" },
};

/* Account status of a customer. */
static const struct clean_code_entry clean_customer_status[] = {
	{ "active", "active" },
	{ "enabled", "active" },
	{ "inactive", "inactive" },
	{ "disabled", "inactive" },
	{ "deactivated", "inactive" },
	{ "pending", "pending" },
	{ "suspended", "suspended" },
	{ "closed", "closed" },
};

/* Life cycle of an order, a payment or a delivery. */
static const struct clean_code_entry clean_order_status[] = {
	{ "pending", "pending" },
	{ "processing", "processing" },
	{ "shipped", "shipped" },
	{ "dispatched", "shipped" },		/* British usage */
	{ "intransit", "in_transit" },
	{ "delivered", "delivered" },
	{ "cancelled", "cancelled" },
	{ "canceled", "cancelled" },		/* US spelling */
	{ "returned", "returned" },
	{ "completed", "completed" },
	{ "complete", "completed" },
	{ "failed", "failed" },
	{ "refunded", "refunded" },
	{ "onhold", "on_hold" },
};

/* How a customer paid. */
static const struct clean_code_entry clean_payment_method[] = {
	{ "creditcard", "credit_card" },
	{ "credit", "credit_card" },
	{ "debitcard", "debit_card" },
	{ "debit", "debit_card" },
	{ "banktransfer", "bank_transfer" },
	{ "wiretransfer", "bank_transfer" },
	{ "wire", "bank_transfer" },
	{ "paypal", "paypal" },
	{ "cash", "cash" },
	{ "cheque", "cheque" },
	{ "check", "cheque" },			/* US spelling */
	{ "giftcard", "gift_card" },
	{ "cashondelivery", "cash_on_delivery" },
	{ "cod", "cash_on_delivery" },
};

static const struct {
	const char			*name;
	const struct clean_code_entry	*v;
	size_t				 n;
} clean_lists[CLEAN_CODES__MAX] = {
	{ "generic", NULL, 0 },					/* GENERIC */
	{ "gender", clean_gender, NELEM(clean_gender) },	/* GENDER */
	{ "marital_status", clean_marital, NELEM(clean_marital) },
							/* MARITAL */
	{ "customer_status", clean_customer_status,
	    NELEM(clean_customer_status) },		/* CUSTOMER_STATUS */
	{ "order_status", clean_order_status,
	    NELEM(clean_order_status) },		/* ORDER_STATUS */
	{ "payment_method", clean_payment_method,
	    NELEM(clean_payment_method) },		/* PAYMENT_METHOD */
};

const char *
clean_codelist_name(enum clean_codelist list)
{
	if ((int)list < 0 || list >= CLEAN_CODES__MAX)
		return "unknown";
	return clean_lists[list].name;
}

cc_err
clean_codelist_by_name(const char *name, enum clean_codelist *list)
{
	size_t i;

	if (name == NULL || list == NULL)
		return CC_EINVAL;
	for (i = 0; i < CLEAN_CODES__MAX; i++)
		if (strcmp(name, clean_lists[i].name) == 0) {
			*list = (enum clean_codelist)i;
			return CC_OK;
		}
	return CC_ENOTFOUND;
}

/* Lower snake case of p[0..n) into out; -1 (not UTF-8), -2 (too long). */
static long
clean_snake(const char *p, size_t n, char *out, size_t outsize)
{
	size_t i = 0, o = 0;
	int sep = 0, k;
	int32_t cp;
	char tmp[4];

	while (i < n) {
		utf8proc_category_t cat;

		if ((k = clean_i_utf8(p + i, n - i, &cp)) < 0)
			return -1;
		i += (size_t)k;
		cat = cp < 0x80 ? UTF8PROC_CATEGORY_CN : utf8proc_category(cp);
		if ((cp < 0x80 && ((cp >= 'a' && cp <= 'z') ||
		    (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))) ||
		    (cp >= 0x80 && ((cat >= UTF8PROC_CATEGORY_LU &&
		    cat <= UTF8PROC_CATEGORY_MN) ||
		    (cat >= UTF8PROC_CATEGORY_ND &&
		    cat <= UTF8PROC_CATEGORY_NO)))) {
			if (sep && o > 0) {
				if (o + 1 >= outsize)
					return -2;
				out[o++] = '_';
			}
			sep = 0;
			cp = cp < 0x80 ? clean_i_lower(cp) :
			    utf8proc_tolower(cp);
			k = clean_i_encode(cp, tmp);
			if (o + (size_t)k >= outsize)
				return -2;
			memcpy(out + o, tmp, (size_t)k);
			o += (size_t)k;
		} else if (cp == '&') {
			/* the word "and", as the matching key reads it
			 * (clean_i_fold()), so that the kept form of an
			 * unknown code is read back as the same code */
			if (o + 5 >= outsize)
				return -2;
			if (o > 0)
				out[o++] = '_';
			memcpy(out + o, "and", 3);
			o += 3;
			sep = 1;
		} else if (cp != '\'' && cp != 0x2019)
			sep = 1;
	}
	out[o] = '\0';
	return (long)o;
}

/* Rule for a code that went from in[0..n) to out. */
static void
clean_code_rule(const char *in, size_t n, const char *out,
    struct clean_result *res)
{
	char a[128], b[128];
	size_t na, nb;

	if (strlen(out) == n && memcmp(in, out, n) == 0)
		return;
	na = clean_i_fold(in, n, a, sizeof(a));
	nb = clean_i_fold(out, strlen(out), b, sizeof(b));
	if (na != (size_t)-1 && na == nb && memcmp(a, b, na) == 0)
		clean_i_rule(res, CLEAN_RULE_CODE_NORMALISE);
	else
		clean_i_rule(res, CLEAN_RULE_CODE_SYNONYM);
}

cc_err
clean_code(const char *raw, enum clean_codelist list,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	struct clean_span s;
	char key[128];
	size_t i, kn;
	long r;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if ((int)list < 0 || list >= CLEAN_CODES__MAX)
		return CC_EINVAL;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	/* (size_t)-1: not UTF-8 (clean_snake() says so) or too long. */
	kn = clean_i_fold(s.p, s.n, key, sizeof(key));
	for (i = 0; kn != (size_t)-1 && i < clean_lists[list].n; i++) {
		const struct clean_code_entry *c = &clean_lists[list].v[i];

		if (strcmp(key, c->key) != 0)
			continue;
		if ((e = clean_i_put(c->code, strlen(c->code), out, outsize,
		    res)) != CC_OK)
			return e;
		clean_code_rule(s.p, s.n, out, res);
		return CC_OK;
	}
	r = clean_snake(s.p, s.n, out, outsize);
	if (r == -1)
		return clean_i_invalid(res, CLEAN_ISSUE_TEXT_INVALID_UTF8, out);
	if (r == -2)
		return clean_i_toobig(res, out);
	if (r == 0) {
		/* Punctuation only ("--", "@@"): not a code. */
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		out[0] = '\0';
		return CC_OK;
	}
	res->len = (size_t)r;
	clean_code_rule(s.p, s.n, out, res);
	if (list != CLEAN_CODES_GENERIC)
		res->issue = CLEAN_ISSUE_CODE_UNKNOWN;
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Code keys                                                          */
/* ------------------------------------------------------------------ */

static int
clean_cp_alnum(int32_t cp, int *upper, int *lower)
{
	utf8proc_category_t cat;

	*upper = *lower = 0;
	if (cp < 0x80) {
		*upper = cp >= 'A' && cp <= 'Z';
		*lower = cp >= 'a' && cp <= 'z';
		return *upper || *lower || (cp >= '0' && cp <= '9');
	}
	cat = utf8proc_category(cp);
	*upper = cat == UTF8PROC_CATEGORY_LU;
	*lower = cat == UTF8PROC_CATEGORY_LL;
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_MN) ||
	    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

cc_err
clean_code_key(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	int compact = opt != NULL && (opt->flags & CLEAN_F_CODE_COMPACT);
	int sep = 0, prevlower = 0, up, lo, k, k2, up2, lo2, changed_case = 0;
	size_t i, o = 0;
	int32_t cp, nx;
	char tmp[4];
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	for (i = 0; i < s.n; i += (size_t)k) {
		if ((k = clean_i_utf8(s.p + i, s.n - i, &cp)) < 0)
			return clean_i_invalid(res,
			    CLEAN_ISSUE_TEXT_INVALID_UTF8, out);
		if (cp == '\'' || cp == 0x2019 || clean_i_is_invisible(cp))
			continue;
		if (cp == '&') {
			if (o > 0 && !compact) {
				if (o + 1 >= outsize)
					return clean_i_toobig(res, out);
				out[o++] = ' ';
			}
			if (o + 3 >= outsize)
				return clean_i_toobig(res, out);
			memcpy(out + o, "AND", 3);
			o += 3;
			sep = 1;
			prevlower = 0;
			continue;
		}
		if (!clean_cp_alnum(cp, &up, &lo)) {
			sep = 1;
			prevlower = 0;
			continue;
		}
		/* A single capital closing a lower-case word: BrandA. */
		if (up && prevlower) {
			nx = 0;
			k2 = i + (size_t)k < s.n ? clean_i_utf8(s.p + i + k,
			    s.n - i - (size_t)k, &nx) : 0;
			if (k2 <= 0 || !clean_cp_alnum(nx, &up2, &lo2) ||
			    (!up2 && !lo2 && nx > 0x7f) ||
			    (nx >= '0' && nx <= '9'))
				sep = 1;
		}
		if (sep && o > 0 && !compact) {
			if (o + 1 >= outsize)
				return clean_i_toobig(res, out);
			out[o++] = ' ';
		}
		sep = 0;
		/* a lower-case letter without an upper-case form (the
		 * ligature U+FB01, sharp s) stays as it is in the key, and so
		 * opens no lower-case word: the key reads back the same */
		nx = cp < 0x80 ? clean_i_upper(cp) : utf8proc_toupper(cp);
		prevlower = lo && nx != cp;
		if (lo && nx != cp)
			changed_case = 1;
		cp = nx;
		k2 = clean_i_encode(cp, tmp);
		if (o + (size_t)k2 >= outsize)
			return clean_i_toobig(res, out);
		memcpy(out + o, tmp, (size_t)k2);
		o += (size_t)k2;
	}
	out[o] = '\0';
	if (o == 0) {
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		return CC_OK;
	}
	res->len = o;
	if (changed_case)
		clean_i_rule(res, CLEAN_RULE_UPPER_CASE);
	if (o != s.n || (!changed_case && memcmp(out, s.p, o) != 0) ||
	    (changed_case && clean_i_casecmp(s.p, s.n, out) != 0))
		clean_i_rule(res, CLEAN_RULE_CODE_NORMALISE);
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Countries                                                          */
/* ------------------------------------------------------------------ */

/* What users write for countries, beyond the ISO names (folded keys). */
static const struct {
	const char	*key;
	const char	*a2;
} clean_country_aliases[] = {
	{ "america", "US" },		/* colloquial */
	{ "unitedstatesamerica", "US" },/* "United States, America" */
	{ "uk", "GB" },			/* exceptionally reserved for GB */
	{ "greatbritain", "GB" },	/* the island, used for the state */
	{ "britain", "GB" },
	{ "england", "GB" },		/* constituent countries of GB */
	{ "scotland", "GB" },		/* (ISO 3166-2:GB) */
	{ "wales", "GB" },
	{ "northernireland", "GB" },
	{ "deutschland", "DE" },	/* endonym */
	{ "holland", "NL" },		/* colloquial */
	{ "nederland", "NL" },		/* endonym */
	{ "russia", "RU" },		/* short name */
	{ "turkey", "TR" },		/* name before 2022 */
	{ "ivorycoast", "CI" },		/* English name */
	{ "burma", "MM" },		/* former name */
	{ "swaziland", "SZ" },		/* name before 2018 */
	{ "capeverde", "CV" },		/* name before 2013 */
	{ "macedonia", "MK" },		/* name before 2019 */
	{ "vatican", "VA" },
	{ "vaticancity", "VA" },
	{ "palestine", "PS" },
	{ "drc", "CD" },		/* Democratic Republic of the Congo */
	{ "drcongo", "CD" },
	{ "congokinshasa", "CD" },
	{ "congobrazzaville", "CG" },
	{ "czechia", "CZ" },		/* the ISO name too: kept for clarity */
	{ "uae", "AE" },		/* United Arab Emirates */
	{ "ksa", "SA" },		/* Kingdom of Saudi Arabia */
	{ "prc", "CN" },		/* People's Republic of China */
	{ "el", "GR" },			/* the EU's code for Greece */
	{ "hellas", "GR" },		/* endonym */
	{ "espana", "ES" },		/* endonym (España) */
	{ "italia", "IT" },		/* endonym */
	{ "osterreich", "AT" },		/* endonym (Österreich) */
	{ "schweiz", "CH" },		/* endonyms of Switzerland */
	{ "suisse", "CH" },
	{ "svizzera", "CH" },
	{ "belgique", "BE" },		/* endonyms of Belgium */
	{ "belgie", "BE" },
	{ "danmark", "DK" },		/* endonym */
	{ "sverige", "SE" },		/* endonym */
	{ "norge", "NO" },		/* endonym */
	{ "suomi", "FI" },		/* endonym */
	{ "polska", "PL" },		/* endonym */
	{ "eire", "IE" },		/* endonym */
	{ "brasil", "BR" },		/* endonym */
};

/* Kinds of keys, in order of precedence (also the rule applied). */
enum clean_ckind { CK_ALPHA2, CK_ALPHA3, CK_NAME, CK_ALIAS };

struct clean_ckey {
	char		 key[96];
	char		 a2[3];
	unsigned char	 kind;
};

static struct {
	struct clean_ckey	*v;
	size_t			 n, cap;
	int			 tried;		/* lazy load attempted */
	cc_err			 err;		/* its result */
} clean_cdb;

void
clean_free(void)
{
	free(clean_cdb.v);
	memset(&clean_cdb, 0, sizeof(clean_cdb));
}

static int
clean_ckey_cmp(const void *a, const void *b)
{
	const struct clean_ckey *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (int)x->kind - (int)y->kind;
}

/* Adds the folded key of p[0..n) (and its variant without a leading
 * "the"). */
static cc_err
clean_cdb_add(const char *p, size_t n, const char *a2, enum clean_ckind kind)
{
	struct clean_ckey *k;
	size_t kn;

	if (clean_cdb.n + 2 > clean_cdb.cap) {
		size_t cap = clean_cdb.cap ? clean_cdb.cap * 2 : 1024;

		k = realloc(clean_cdb.v, cap * sizeof(*k));
		if (k == NULL)
			return CC_ENOMEM;
		clean_cdb.v = k;
		clean_cdb.cap = cap;
	}
	k = &clean_cdb.v[clean_cdb.n];
	kn = clean_i_fold(p, n, k->key, sizeof(k->key));
	if (kn == (size_t)-1 || kn == 0)
		return CC_OK;
	memcpy(k->a2, a2, 2);
	k->a2[2] = '\0';
	k->kind = (unsigned char)kind;
	clean_cdb.n++;
	if (kind == CK_NAME && kn > 3 && strncmp(k->key, "the", 3) == 0) {
		k[1] = k[0];
		memmove(k[1].key, k[0].key + 3, kn - 3 + 1);
		clean_cdb.n++;
	}
	return CC_OK;
}

/* Adds a name with its variants: "X (Y)" also as "X", "X, Y" also as
 * "Y X". */
static cc_err
clean_cdb_name(const char *name, const char *a2)
{
	const char *paren = strchr(name, '('), *comma = strstr(name, ", ");
	char buf[256];
	cc_err e;

	if ((e = clean_cdb_add(name, strlen(name), a2, CK_NAME)) != CC_OK)
		return e;
	if (paren != NULL && (e = clean_cdb_add(name, (size_t)(paren - name),
	    a2, CK_NAME)) != CC_OK)
		return e;
	if (comma != NULL && strlen(name) < sizeof(buf) - 2) {
		size_t a = (size_t)(comma - name), b = strlen(comma + 2);

		memcpy(buf, comma + 2, b);
		buf[b] = ' ';
		memcpy(buf + b + 1, name, a);
		if ((e = clean_cdb_add(buf, a + b + 1, a2, CK_NAME)) != CC_OK)
			return e;
	}
	return CC_OK;
}

static const char *
clean_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

cc_err
clean_init(const char *path, struct cc_diag *diag)
{
	json_error_t jerr;
	json_t *root, *arr, *e;
	size_t i, j;
	cc_err err = CC_OK;

	if (path == NULL)
		path = CLEAN_ISO3166_PATH;
	clean_free();
	clean_cdb.tried = 1;
	if (access(path, R_OK) != 0) {
		clean_cdb.err = CC_EIO;
		return cc_diag_set(diag, CC_EIO, "clean_iso3166_unreadable",
		    "cannot read %s: %s (install the iso-codes package)",
		    path, strerror(errno));
	}
	if ((root = json_load_file(path, 0, &jerr)) == NULL) {
		clean_cdb.err = CC_EPARSE;
		if (diag != NULL)
			diag->line = jerr.line;
		return cc_diag_set(diag, CC_EPARSE, "clean_iso3166_json",
		    "%s: %s", path, jerr.text);
	}
	arr = json_object_get(root, "3166-1");
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		json_decref(root);
		clean_cdb.err = CC_EPARSE;
		return cc_diag_set(diag, CC_EPARSE, "clean_iso3166_shape",
		    "%s: no \"3166-1\" array", path);
	}
	json_array_foreach(arr, i, e) {
		const char *a2 = clean_jstr(e, "alpha_2");
		const char *a3 = clean_jstr(e, "alpha_3");
		const char *nm[3];

		if (a2 == NULL || strlen(a2) != 2)
			continue;
		nm[0] = clean_jstr(e, "name");
		nm[1] = clean_jstr(e, "official_name");
		nm[2] = clean_jstr(e, "common_name");
		if ((err = clean_cdb_add(a2, 2, a2, CK_ALPHA2)) != CC_OK)
			break;
		if (a3 != NULL && (err = clean_cdb_add(a3, strlen(a3), a2,
		    CK_ALPHA3)) != CC_OK)
			break;
		for (j = 0; j < 3 && err == CC_OK; j++)
			if (nm[j] != NULL)
				err = clean_cdb_name(nm[j], a2);
		if (err != CC_OK)
			break;
	}
	json_decref(root);
	for (i = 0; err == CC_OK && i < NELEM(clean_country_aliases); i++)
		err = clean_cdb_add(clean_country_aliases[i].key,
		    strlen(clean_country_aliases[i].key),
		    clean_country_aliases[i].a2, CK_ALIAS);
	if (err != CC_OK) {
		clean_free();
		clean_cdb.tried = 1;
		clean_cdb.err = err;
		return cc_diag_set(diag, err, "clean_iso3166_nomem",
		    "out of memory loading %s", path);
	}
	qsort(clean_cdb.v, clean_cdb.n, sizeof(*clean_cdb.v), clean_ckey_cmp);
	/* Keep the first (highest precedence) of equal keys. */
	for (i = j = 0; i < clean_cdb.n; i++)
		if (j == 0 || strcmp(clean_cdb.v[j - 1].key,
		    clean_cdb.v[i].key) != 0)
			clean_cdb.v[j++] = clean_cdb.v[i];
	clean_cdb.n = j;
	clean_cdb.err = CC_OK;
	return CC_OK;
}

/*
 * A null token with a character other than a letter ("n/a", "-", "?"):
 * never a place, and its letters alone could be one ("n/a" folds to
 * "na", Namibia).  Tokens of letters only ("NA", "none") are looked up
 * first and are null only when they name nothing.
 */
static int
clean_null_token_punct(const struct clean_span *s,
    const struct clean_opts *opt)
{
	size_t i;

	if (!clean_i_null_token(s->p, s->n, opt))
		return 0;
	for (i = 0; i < s->n; i++)
		if (!((s->p[i] >= 'a' && s->p[i] <= 'z') ||
		    (s->p[i] >= 'A' && s->p[i] <= 'Z')))
			return 1;
	return 0;
}

static int
clean_ckey_cmp_key(const void *a, const void *b)
{
	return strcmp(a, ((const struct clean_ckey *)b)->key);
}

/* The entry of a folded key, or NULL; also tries without a leading
 * "the" ("The Netherlands"). */
static const struct clean_ckey *
clean_cdb_find(const char *key)
{
	const struct clean_ckey *k;

	k = bsearch(key, clean_cdb.v, clean_cdb.n, sizeof(*clean_cdb.v),
	    clean_ckey_cmp_key);
	if (k == NULL && strncmp(key, "the", 3) == 0 && key[3] != '\0')
		k = bsearch(key + 3, clean_cdb.v, clean_cdb.n,
		    sizeof(*clean_cdb.v), clean_ckey_cmp_key);
	return k;
}

static const enum clean_rule clean_ckind_rule[] = {
	CLEAN_RULE_COUNTRY_CODE,	/* CK_ALPHA2 */
	CLEAN_RULE_COUNTRY_ALPHA3,	/* CK_ALPHA3 */
	CLEAN_RULE_COUNTRY_NAME,	/* CK_NAME */
	CLEAN_RULE_COUNTRY_ALIAS,	/* CK_ALIAS */
};

cc_err
clean_country(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	const struct clean_ckey *k;
	struct clean_span s;
	char key[96];
	size_t kn;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_cdb.tried)
		(void)clean_init(NULL, NULL);
	if (clean_cdb.err != CC_OK) {
		clean_i_invalid(res, CLEAN_ISSUE_COUNTRY_UNKNOWN, out);
		return clean_cdb.err;
	}
	if (!clean_i_prep(raw, opt, 0, &s, res))
		return CC_OK;
	if (clean_null_token_punct(&s, opt)) {
		clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
		return CC_OK;
	}
	kn = clean_i_fold(s.p, s.n, key, sizeof(key));
	k = kn == (size_t)-1 ? NULL : clean_cdb_find(key);
	if (k == NULL) {
		if (clean_i_null_token(s.p, s.n, opt)) {
			clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
			return CC_OK;
		}
		if (kn == 0) {
			/* Punctuation only: "--", "..." */
			clean_i_null(res, CLEAN_RULE_NULL_BLANK);
			return CC_OK;
		}
		return clean_i_invalid(res, CLEAN_ISSUE_COUNTRY_UNKNOWN, out);
	}
	if (s.n != 2 || memcmp(s.p, k->a2, 2) != 0)
		clean_i_rule(res, clean_ckind_rule[k->kind]);
	return clean_i_put(k->a2, 2, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* US states                                                          */
/* ------------------------------------------------------------------ */

/* USPS Publication 28, appendix B: states, DC, territories, freely
 * associated states and military "states"; keys folded. */
static const struct {
	const char	*key;
	const char	*code;
} clean_states[] = {
	{ "alabama", "AL" }, { "alaska", "AK" }, { "arizona", "AZ" },
	{ "arkansas", "AR" }, { "california", "CA" }, { "colorado", "CO" },
	{ "connecticut", "CT" }, { "delaware", "DE" },
	{ "districtofcolumbia", "DC" }, { "washingtondc", "DC" },
	{ "florida", "FL" }, { "georgia", "GA" }, { "hawaii", "HI" },
	{ "idaho", "ID" }, { "illinois", "IL" }, { "indiana", "IN" },
	{ "iowa", "IA" }, { "kansas", "KS" }, { "kentucky", "KY" },
	{ "louisiana", "LA" }, { "maine", "ME" }, { "maryland", "MD" },
	{ "massachusetts", "MA" }, { "michigan", "MI" },
	{ "minnesota", "MN" }, { "mississippi", "MS" }, { "missouri", "MO" },
	{ "montana", "MT" }, { "nebraska", "NE" }, { "nevada", "NV" },
	{ "newhampshire", "NH" }, { "newjersey", "NJ" },
	{ "newmexico", "NM" }, { "newyork", "NY" },
	{ "northcarolina", "NC" }, { "northdakota", "ND" }, { "ohio", "OH" },
	{ "oklahoma", "OK" }, { "oregon", "OR" }, { "pennsylvania", "PA" },
	{ "rhodeisland", "RI" }, { "southcarolina", "SC" },
	{ "southdakota", "SD" }, { "tennessee", "TN" }, { "texas", "TX" },
	{ "utah", "UT" }, { "vermont", "VT" }, { "virginia", "VA" },
	{ "washington", "WA" }, { "westvirginia", "WV" },
	{ "wisconsin", "WI" }, { "wyoming", "WY" },
	/* Territories */
	{ "americansamoa", "AS" }, { "guam", "GU" },
	{ "northernmarianaislands", "MP" }, { "puertorico", "PR" },
	{ "virginislands", "VI" }, { "usvirginislands", "VI" },
	/* Freely associated states */
	{ "federatedstatesofmicronesia", "FM" },
	{ "marshallislands", "MH" }, { "palau", "PW" },
	/* Armed forces */
	{ "armedforcesamericas", "AA" }, { "armedforceseurope", "AE" },
	{ "armedforcespacific", "AP" },
};

cc_err
clean_state(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	char key[64];
	size_t i, kn;
	cc_err e;

	if (opt != NULL && opt->country != NULL &&
	    clean_i_casecmp(opt->country, strlen(opt->country), "US") != 0)
		return clean_text(raw, opt, out, outsize, res);
	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 0, &s, res))
		return CC_OK;
	if (clean_null_token_punct(&s, opt)) {
		clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
		return CC_OK;
	}
	kn = clean_i_fold(s.p, s.n, key, sizeof(key));
	for (i = 0; kn != (size_t)-1 && i < NELEM(clean_states); i++) {
		const char *c = clean_states[i].code;

		if (kn == 2 ? clean_i_casecmp(key, 2, c) != 0 :
		    strcmp(key, clean_states[i].key) != 0)
			continue;
		if (s.n != 2 || memcmp(s.p, c, 2) != 0)
			clean_i_rule(res, kn == 2 ? CLEAN_RULE_STATE_CODE :
			    CLEAN_RULE_STATE_NAME);
		return clean_i_put(c, 2, out, outsize, res);
	}
	if (clean_i_null_token(s.p, s.n, opt)) {
		clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
		return CC_OK;
	}
	return clean_i_invalid(res, CLEAN_ISSUE_STATE_UNKNOWN, out);
}
