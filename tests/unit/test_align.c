/*
 * test_align.c - key alignment (core/align.c): the canonical form of one
 * key, rules learned from the real seed files (crm-erp, nexusflow) and
 * from small synthetic columns, failure cases, JSON shape and speed.
 *
 * Expected numbers are computed here, from the files, with a direct
 * method (sorted arrays and bsearch over a hand-written transformation
 * of each key), never taken from the learner; each test also says the
 * figure it was checked against beforehand with python3's csv and json
 * modules.
 *
 * The seed files are found under $CONCORD_SHARED/data/seeds, else
 * SRCDIR/../shared/data/seeds, else ../shared/data/seeds; the tests that
 * need them are skipped when they are missing.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strdup, clock_gettime under -std=c11 */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "concord/align.h"

/* One column of a seed file: n values, each a NUL-terminated string. */
struct column {
	char	**v;
	size_t	  n;
	char	 *text;		/* CSV: the file, cut in place */
	int	  owned;	/* JSON: each v[i] is malloc'ed */
};

/* A sorted set of distinct non-empty strings, for the expectations. */
struct sset {
	const char	**v;
	size_t		  n;
};

static const char *
seeds_dir(void)
{
	static char dir[1024];
	const char *shared = getenv("CONCORD_SHARED");

	if (shared != NULL && shared[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/data/seeds", shared);
	else
#ifdef SRCDIR
		snprintf(dir, sizeof(dir), "%s/../shared/data/seeds", SRCDIR);
#else
		snprintf(dir, sizeof(dir), "../shared/data/seeds");
#endif
	return dir;
}

/* Reads the whole of seeds/rel into a new NUL-terminated buffer, or NULL
 * when the file cannot be opened. */
static char *
slurp(const char *rel, size_t *len)
{
	char path[1400];
	FILE *fp;
	char *buf;
	long size;

	snprintf(path, sizeof(path), "%s/%s", seeds_dir(), rel);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	assert_true(size >= 0);
	rewind(fp);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/*
 * Column name of the CSV file seeds/rel, with a tiny splitter: lines on
 * "\n" (a trailing "\r" dropped), fields on ",".  That is only right for
 * files without quoting, which is checked: none of the seed files used
 * here holds a '"' at all.  Returns 0, or -1 (and skips) when the file
 * is missing.
 */
static int
csv_column(const char *rel, const char *name, struct column *c)
{
	char *line, *next, *field, *end;
	size_t len, cap = 1024, i;
	long ci = -1, k;

	memset(c, 0, sizeof(*c));
	if ((c->text = slurp(rel, &len)) == NULL)
		return -1;
	assert_null(memchr(c->text, '"', len));
	c->v = malloc(cap * sizeof(*c->v));
	assert_non_null(c->v);
	for (line = c->text, i = 0; line != NULL; line = next, i++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((end = strchr(line, '\r')) != NULL)
			*end = '\0';
		if (line[0] == '\0')
			continue;
		for (k = 0, field = line; field != NULL; k++) {
			if ((end = strchr(field, ',')) != NULL)
				*end++ = '\0';
			if (i == 0 && strcmp(field, name) == 0)
				ci = k;
			if (i > 0 && k == ci) {
				if (c->n == cap) {
					cap *= 2;
					c->v = realloc(c->v,
					    cap * sizeof(*c->v));
					assert_non_null(c->v);
				}
				c->v[c->n++] = field;
			}
			field = end;
		}
		assert_true(ci >= 0);
	}
	return 0;
}

/* Field name of every object of the JSON array in seeds/rel, as text
 * (integers printed in decimal; null and missing fields give NULL).
 * Returns 0, or -1 when the file is missing. */
static int
json_column(const char *rel, const char *name, struct column *c)
{
	char path[1400], num[32];
	json_error_t jerr;
	json_t *root, *o, *f;
	size_t i;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s", seeds_dir(), rel);
	if ((root = json_load_file(path, 0, &jerr)) == NULL)
		return -1;
	assert_true(json_is_array(root));
	c->owned = 1;
	c->n = json_array_size(root);
	c->v = calloc(c->n + 1, sizeof(*c->v));
	assert_non_null(c->v);
	json_array_foreach(root, i, o) {
		f = json_object_get(o, name);
		if (json_is_string(f))
			c->v[i] = strdup(json_string_value(f));
		else if (json_is_integer(f)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(f));
			c->v[i] = strdup(num);
		}
	}
	json_decref(root);
	return 0;
}

static void
column_free(struct column *c)
{
	size_t i;

	if (c->owned)
		for (i = 0; i < c->n; i++)
			free(c->v[i]);
	free(c->v);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct non-empty values of c, sorted. */
static void
sset_build(struct sset *s, const struct column *c)
{
	size_t i, w = 0;

	s->v = malloc((c->n + 1) * sizeof(*s->v));
	assert_non_null(s->v);
	for (i = 0; i < c->n; i++)
		if (c->v[i] != NULL && c->v[i][0] != '\0')
			s->v[w++] = c->v[i];
	qsort(s->v, w, sizeof(*s->v), cmp_str);
	s->n = 0;
	for (i = 0; i < w; i++)
		if (s->n == 0 || strcmp(s->v[s->n - 1], s->v[i]) != 0)
			s->v[s->n++] = s->v[i];
}

static int
sset_has(const struct sset *s, const char *key)
{
	return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static void
sset_free(struct sset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

#define VALS(c)	((const char *const *)(c).v)

/* Loads a CSV column or skips the test. */
#define CSV_OR_SKIP(rel, name, col) do {				\
	if (csv_column((rel), (name), (col)) != 0) {			\
		print_message("# seed %s missing under %s\n", (rel),	\
		    seeds_dir());					\
		skip();							\
	}								\
} while (0)

#define JSON_OR_SKIP(rel, name, col) do {				\
	if (json_column((rel), (name), (col)) != 0) {			\
		print_message("# seed %s missing under %s\n", (rel),	\
		    seeds_dir());					\
		skip();							\
	}								\
} while (0)

#define AZ12	"crm-erp/source_erp/CST_AZ12.csv"
#define LOC	"crm-erp/source_erp/LOC_A101.csv"
#define CATS	"crm-erp/source_erp/PX_CAT_G1V2.csv"
#define CUST	"crm-erp/source_crm/cst_info.csv"
#define PRD	"crm-erp/source_crm/prd_info.csv"
#define SALES	"crm-erp/source_crm/sales_details.csv"
#define RECON	"nexusflow/reconciliation_challenge_data.csv"
#define NCUST	"nexusflow/customers_messy_data.json"
#define NPROD	"nexusflow/products_inconsistent_data.json"

/* The canonical form of key under side, in a static buffer. */
static const char *
canon(const struct align_side *side, const char *key)
{
	static char buf[2][256];
	static int which;

	which = !which;
	align_canon(side, key, buf[which], sizeof(buf[which]));
	return buf[which];
}

/* The digits after the last '_' of key as a number, or -1. */
static long
num_after_underscore(const char *key)
{
	const char *p = strrchr(key, '_');
	char *end;
	long n;

	if (p == NULL || p[1] == '\0')
		return -1;
	n = strtol(p + 1, &end, 10);
	return *end == '\0' ? n : -1;
}

/* ------------------------------------------------- one key: align_canon */

static void
test_canon_slices(void **state)
{
	struct align_side s;
	char out[64];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.slice = ALIGN_SLICE_STRIP_PREFIX;
	strcpy(s.affix, "NAS");
	assert_string_equal(canon(&s, "NASAW00011000"), "AW00011000");
	assert_string_equal(canon(&s, "AW00011000"), "AW00011000");
	assert_int_equal(align_canon(&s, "NAS", out, sizeof(out)), 0);

	s.slice = ALIGN_SLICE_STRIP_SUFFIX;
	strcpy(s.affix, "-US");
	assert_string_equal(canon(&s, "1001-US"), "1001");
	assert_string_equal(canon(&s, "1001-DE"), "1001-DE");

	memset(s.affix, 0, sizeof(s.affix));
	s.slice = ALIGN_SLICE_TAKE_TOKENS;
	s.n = 2;
	assert_string_equal(canon(&s, "CO-RF-FR-R92B-58"), "CO-RF");
	assert_string_equal(canon(&s, "CO_RF"), "CO_RF");
	assert_string_equal(canon(&s, "CO"), "CO");

	s.slice = ALIGN_SLICE_DROP_TOKENS;
	assert_string_equal(canon(&s, "CO-RF-FR-R92B-58"), "FR-R92B-58");
	assert_string_equal(canon(&s, "a.b/c d"), "c d");
	assert_int_equal(align_canon(&s, "AB-CD", out, sizeof(out)), 0);
	assert_int_equal(align_canon(&s, "AB-CD-", out, sizeof(out)), 0);

	s.slice = ALIGN_SLICE_TAKE_CHARS;
	s.n = 5;
	assert_string_equal(canon(&s, "CO-RF-FR-R92B-58"), "CO-RF");
	assert_string_equal(canon(&s, "AB"), "AB");
	s.n = 2;	/* characters, not bytes: "\xc3\xbc" is one */
	assert_string_equal(canon(&s, "M\xc3\xbcller"), "M\xc3\xbc");

	s.slice = ALIGN_SLICE_DROP_CHARS;
	s.n = 3;
	assert_string_equal(canon(&s, "NASAW00011000"), "AW00011000");
	assert_string_equal(canon(&s, "\xc3\xa9t\xc3\xa9s"), "s");
	assert_int_equal(align_canon(&s, "abc", out, sizeof(out)), 0);
}

static void
test_canon_norms(void **state)
{
	struct align_side s;
	char out[4];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_string_equal(canon(&s, " ab-12 "), " ab-12 ");
	s.norm = ALIGN_NORM_CASEFOLD;
	assert_string_equal(canon(&s, "ab-12 M\xc3\xbc"), "AB-12 M\xc3\xbc");
	s.norm = ALIGN_NORM_ALNUM;
	assert_string_equal(canon(&s, " co_rf.x/y z\t-"), "CORFXYZ");
	assert_string_equal(canon(&s, "AW-00011000"), "AW00011000");
	assert_int_equal(align_canon(&s, "-_./ ", out, sizeof(out)), 0);
	s.norm = ALIGN_NORM_DIGITS;
	assert_string_equal(canon(&s, "ITM_076"), "76");
	assert_string_equal(canon(&s, "CUST_0280"), "280");
	assert_string_equal(canon(&s, "000"), "0");
	assert_string_equal(canon(&s, "12-34"), "1234");
	assert_int_equal(align_canon(&s, "abc", out, sizeof(out)), 0);

	/* snprintf-like: the full length back, a truncated NUL-ended copy. */
	s.norm = ALIGN_NORM_EXACT;
	assert_int_equal(align_canon(&s, "AW00011000", out, sizeof(out)), 10);
	assert_string_equal(out, "AW0");
	assert_int_equal(align_canon(&s, "AW00011000", NULL, 0), 10);
}

/* Failure twins: what must yield nothing, does. */
static void
test_canon_bad_arguments(void **state)
{
	struct align_side s;
	char out[16] = "x";

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(align_canon(&s, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(align_canon(NULL, "abc", out, sizeof(out)), 0);
	assert_int_equal(align_canon(&s, "", out, sizeof(out)), 0);
	s.slice = ALIGN_SLICE__MAX;
	assert_int_equal(align_canon(&s, "abc", out, sizeof(out)), 0);
	s.slice = ALIGN_SLICE_NONE;
	s.norm = ALIGN_NORM__MAX;
	assert_int_equal(align_canon(&s, "abc", out, sizeof(out)), 0);
	assert_string_equal(align_slice_name(ALIGN_SLICE__MAX), "?");
	assert_string_equal(align_norm_name(ALIGN_NORM_ALNUM), "alnum");
}

/* ------------------------------------------------------------- crm-erp */

/*
 * ERP CST_AZ12.CID -> CRM cst_info.cst_key: 11,042 of the 18,484 ERP ids
 * carry "NAS" ("NASAW00011000"), the others are written as in the CRM.
 * Expected: every CID, with "NAS" removed when it starts with it, is a
 * cst_key: 18,484 of 18,484 (python3: same count).
 */
static void
test_crm_erp_customer_ids(void **state)
{
	struct column f, t;
	struct sset ts;
	struct align_rule r;
	struct cc_diag d;
	long long expect = 0, distinct;
	struct sset fs;
	size_t i;
	const char *k;

	(void)state;
	CSV_OR_SKIP(AZ12, "CID", &f);
	CSV_OR_SKIP(CUST, "cst_key", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		k = strncmp(fs.v[i], "NAS", 3) == 0 ? fs.v[i] + 3 : fs.v[i];
		expect += sset_has(&ts, k);
	}
	distinct = (long long)fs.n;
	assert_int_equal(distinct, 18484);

	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, &d),
	    CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_STRIP_PREFIX);
	assert_string_equal(r.from.affix, "NAS");
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.from_distinct, distinct);
	assert_int_equal(r.to_distinct, (long long)ts.n);
	assert_int_equal(r.matched, expect);
	assert_true(r.coverage > 0.999);
	assert_true(r.one_to_one > 0.999);
	assert_int_equal(r.found, 1);
	assert_non_null(strstr(r.description, "'NAS'"));
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* The symmetric direction: the affix is on the T side.  Expected matched:
 * the cst_keys that appear as a CID with or without "NAS": 18,484 of the
 * 18,488 distinct keys (the 4 others are junk: "A01Ass", "13451235",
 * "SF566", "PO25"; python3: same). */
static void
test_crm_customer_keys_reverse(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	char buf[64];
	long long expect = 0;
	size_t i;

	(void)state;
	CSV_OR_SKIP(CUST, "cst_key", &f);
	CSV_OR_SKIP(AZ12, "CID", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		snprintf(buf, sizeof(buf), "NAS%s", fs.v[i]);
		expect += sset_has(&ts, fs.v[i]) || sset_has(&ts, buf);
	}
	assert_int_equal(expect, 18484);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.to.slice, ALIGN_SLICE_STRIP_PREFIX);
	assert_string_equal(r.to.affix, "NAS");
	assert_int_equal(r.matched, expect);
	assert_int_equal(r.from_distinct, (long long)fs.n);
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* ERP LOC_A101.CID "AW-00011000" -> cst_key "AW00011000": separators.
 * Expected: CIDs that are a cst_key once '-' is removed: 18,484 of 18,484
 * (python3: same). */
static void
test_crm_location_ids(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	char buf[64];
	long long expect = 0;
	size_t i, j, w;

	(void)state;
	CSV_OR_SKIP(LOC, "CID", &f);
	CSV_OR_SKIP(CUST, "cst_key", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		for (j = w = 0; fs.v[i][j] != '\0' && w + 1 < sizeof(buf);
		    j++)
			if (fs.v[i][j] != '-')
				buf[w++] = fs.v[i][j];
		buf[w] = '\0';
		expect += sset_has(&ts, buf);
	}
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.from.norm, ALIGN_NORM_ALNUM);
	assert_int_equal(r.to.norm, ALIGN_NORM_ALNUM);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.matched, expect);
	assert_int_equal(r.matched, 18484);
	assert_true(r.one_to_one > 0.999);
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* sales_details.sls_prd_key "FR-R92B-58" -> prd_info.prd_key
 * "CO-RF-FR-R92B-58": the T key embeds the F key after 2 tokens (6
 * characters).  Expected: the 130 distinct sales keys each equal the part
 * of some prd_key after its second '-' (python3: 130 of 130). */
static void
test_crm_sales_products(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	const char *p;
	long long expect = 0;
	size_t i, j;

	(void)state;
	CSV_OR_SKIP(SALES, "sls_prd_key", &f);
	CSV_OR_SKIP(PRD, "prd_key", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		for (j = 0; j < ts.n; j++) {
			p = strchr(ts.v[j], '-');
			p = p != NULL ? strchr(p + 1, '-') : NULL;
			if (p != NULL && strcmp(p + 1, fs.v[i]) == 0)
				break;
		}
		expect += j < ts.n;
	}
	assert_int_equal(expect, 130);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_true((r.to.slice == ALIGN_SLICE_DROP_TOKENS && r.to.n == 2) ||
	    (r.to.slice == ALIGN_SLICE_DROP_CHARS && r.to.n == 6));
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.from_distinct, (long long)fs.n);
	assert_int_equal(r.matched, expect);
	assert_true(r.one_to_one > 0.999);
	assert_string_equal(canon(&r.to, "CO-RF-FR-R92B-58"), "FR-R92B-58");
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/*
 * prd_info.prd_key "CO-RF-FR-R92B-58" -> PX_CAT_G1V2.ID "CO_RF": the
 * category is the first 2 tokens (5 characters), written with '_'.
 * Checked by hand (python3): of the 295 distinct product keys, the 7 with
 * category "CO-PE" have no ERP category (the ERP has "CO_PD" instead,
 * which no product uses):
 *   CO-PE-PD-M282 CO-PE-PD-M340 CO-PE-PD-M562 CO-PE-PD-R347
 *   CO-PE-PD-R563 CO-PE-PD-R853 CO-PE-PD-T852
 * so 288 of 295 product keys and 36 of 37 categories are matched.
 */
static void
test_crm_product_categories(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	long long *idx, expect = 0, unmatched = 0;
	char buf[8];
	size_t i, j;

	(void)state;
	CSV_OR_SKIP(PRD, "prd_key", &f);
	CSV_OR_SKIP(CATS, "ID", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		snprintf(buf, sizeof(buf), "%.5s", fs.v[i]);
		for (j = 0; buf[j] != '\0'; j++)
			if (buf[j] == '-')
				buf[j] = '_';
		expect += sset_has(&ts, buf);
	}
	assert_int_equal(expect, 288);

	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_true((r.from.slice == ALIGN_SLICE_TAKE_TOKENS &&
	    r.from.n == 2) ||
	    (r.from.slice == ALIGN_SLICE_TAKE_CHARS && r.from.n == 5));
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from.norm, ALIGN_NORM_ALNUM);
	assert_int_equal(r.from_distinct, 295);
	assert_int_equal(r.matched, expect);
	assert_int_equal(r.to_matched, 36);
	assert_true(r.one_to_one > 0.999);

	/* The unmatched keys, through align_match(): the CO-PE ones. */
	idx = calloc(fs.n, sizeof(*idx));
	assert_non_null(idx);
	assert_int_equal(align_match(&r, fs.v, fs.n, VALS(t), t.n, idx, NULL),
	    CC_OK);
	for (i = 0; i < fs.n; i++) {
		if (idx[i] == ALIGN_NOMATCH) {
			unmatched++;
			assert_memory_equal(fs.v[i], "CO-PE-", 6);
		} else {
			assert_true(idx[i] >= 0 && (size_t)idx[i] < t.n);
			assert_memory_equal(t.v[idx[i]], fs.v[i], 2);
			assert_int_equal(t.v[idx[i]][2], '_');
			assert_memory_equal(t.v[idx[i]] + 3, fs.v[i] + 3, 2);
		}
	}
	assert_int_equal(unmatched, 7);
	free(idx);
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* sales_details.sls_cust_id -> cst_info.cst_id: same spelling.  Expected:
 * 18,484 distinct customer ids on sales lines, all of them in cst_info
 * (python3: same). */
static void
test_crm_sales_customers(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	long long expect = 0;
	size_t i;

	(void)state;
	CSV_OR_SKIP(SALES, "sls_cust_id", &f);
	CSV_OR_SKIP(CUST, "cst_id", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++)
		expect += sset_has(&ts, fs.v[i]);
	assert_int_equal(expect, 18484);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.matched, expect);
	assert_int_equal(r.from_distinct, (long long)fs.n);
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* Reverse of test_crm_sales_products: most products are never sold, so
 * F (products) is not the referencing side.  The right rule is still the
 * best one reported, with found = 0 (coverage 130 / 295 < 0.5), and the
 * digits-only rule, which "matches" a few more products by folding
 * distinct keys, does not win. */
static void
test_crm_products_to_sales_not_a_reference(void **state)
{
	struct column f, t;
	struct align_rule r;
	struct cc_diag d;

	(void)state;
	CSV_OR_SKIP(PRD, "prd_key", &f);
	CSV_OR_SKIP(SALES, "sls_prd_key", &t);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, &d),
	    CC_ENOTFOUND);
	assert_string_equal(d.code, "align_no_rule");
	assert_int_equal(r.found, 0);
	assert_int_equal(r.from.slice, ALIGN_SLICE_DROP_TOKENS);
	assert_int_equal(r.from.n, 2);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.matched, 130);
	column_free(&f);
	column_free(&t);
}

/* ----------------------------------------------------------- nexusflow */

/* Common check of a learned nexusflow rule: coverage, one-to-one, and
 * that the rule joins the given pair and not its neighbour. */
static void
check_pair(const struct align_rule *r, const char *fkey, const char *tkey,
    const char *tother)
{
	char a[64], b[64], c[64];

	assert_true(align_canon(&r->from, fkey, a, sizeof(a)) > 0);
	assert_true(align_canon(&r->to, tkey, b, sizeof(b)) > 0);
	assert_true(align_canon(&r->to, tother, c, sizeof(c)) > 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_true(r->one_to_one > 0.99);
}

/* reconciliation client_reference "CLI_0280" -> customers cust_id
 * "CUST_0280": swapped prefix.  Expected: the 222 distinct references
 * whose number is the number of a cust_id: 222 (python3: same). */
static void
test_nexus_clients(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	long long expect = 0;
	size_t i, j;

	(void)state;
	CSV_OR_SKIP(RECON, "client_reference", &f);
	JSON_OR_SKIP(NCUST, "cust_id", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		for (j = 0; j < ts.n; j++)
			if (num_after_underscore(fs.v[i]) ==
			    num_after_underscore(ts.v[j]))
				break;
		expect += j < ts.n;
	}
	assert_int_equal(expect, 222);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.matched, expect);
	assert_int_equal(r.from_distinct, 222);
	assert_int_equal(r.to_distinct, 500);
	check_pair(&r, "CLI_0280", "CUST_0280", "CUST_0281");
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* item_reference "ITM_076" -> products product_id "PROD_076".  Expected:
 * 160 distinct references, all of them a product's number (python3:
 * same). */
static void
test_nexus_items_products(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	long long expect = 0;
	size_t i, j;

	(void)state;
	CSV_OR_SKIP(RECON, "item_reference", &f);
	JSON_OR_SKIP(NPROD, "product_id", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		for (j = 0; j < ts.n; j++)
			if (num_after_underscore(fs.v[i]) ==
			    num_after_underscore(ts.v[j]))
				break;
		expect += j < ts.n;
	}
	assert_int_equal(expect, 160);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.matched, expect);
	check_pair(&r, "ITM_076", "PROD_076", "PROD_077");
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* item_reference "ITM_076" -> products item_id 76 (a JSON integer): zero
 * padding and a prefix on one side only, so digits it is.  Expected: 160
 * of 160 (python3: same). */
static void
test_nexus_items_item_ids(void **state)
{
	struct column f, t;
	struct sset fs, ts;
	struct align_rule r;
	char buf[32];
	long long expect = 0;
	size_t i;

	(void)state;
	CSV_OR_SKIP(RECON, "item_reference", &f);
	JSON_OR_SKIP(NPROD, "item_id", &t);
	sset_build(&fs, &f);
	sset_build(&ts, &t);
	for (i = 0; i < fs.n; i++) {
		snprintf(buf, sizeof(buf), "%ld",
		    num_after_underscore(fs.v[i]));
		expect += sset_has(&ts, buf);
	}
	assert_int_equal(expect, 160);
	assert_int_equal(align_learn(VALS(f), f.n, VALS(t), t.n, &r, NULL),
	    CC_OK);
	assert_int_equal(r.from.norm, ALIGN_NORM_DIGITS);
	assert_int_equal(r.matched, expect);
	check_pair(&r, "ITM_076", "76", "77");
	sset_free(&fs);
	sset_free(&ts);
	column_free(&f);
	column_free(&t);
}

/* ----------------------------------------------------------- synthetic */

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_synth_zero_padding(void **state)
{
	const char *f[] = { "7", "12", "305", "4410", "9" };
	const char *t[] = { "0007", "0012", "0305", "4410", "0009", "0100" };
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.from.norm, ALIGN_NORM_DIGITS);
	assert_int_equal(r.matched, 5);
	assert_true(r.coverage == 1.0);
	assert_true(r.one_to_one == 1.0);
	assert_int_equal(r.to_matched, 5);
}

static void
test_synth_case(void **state)
{
	const char *f[] = { "ab12", "cd34", "ef56", "gh78", "ab12" };
	const char *t[] = { "AB12", "CD34", "EF56", "GH78", "IJ90" };
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	/* CASEFOLD costs less than ALNUM and DIGITS, which also match. */
	assert_int_equal(r.from.norm, ALIGN_NORM_CASEFOLD);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from_distinct, 4);
	assert_int_equal(r.matched, 4);
}

static void
test_synth_suffix(void **state)
{
	const char *f[] = { "1001-US", "1002-US", "1003-US", "1004-US" };
	const char *t[] = { "1001", "1002", "1003", "1004", "1005" };
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	/* Ties at cost 2 with "take 1 token" break on the kind order. */
	assert_int_equal(r.from.slice, ALIGN_SLICE_STRIP_SUFFIX);
	assert_string_equal(r.from.affix, "-US");
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.matched, 4);
}

/* Mixed suffixes: no constant affix explains them, the first token does. */
static void
test_synth_mixed_suffixes(void **state)
{
	const char *f[] = { "1001-US", "1002-US", "1003-DE", "1004-FR" };
	const char *t[] = { "1001", "1002", "1003", "1004" };
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_TAKE_TOKENS);
	assert_int_equal(r.from.n, 1);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.matched, 4);
}

/*
 * More F values than T values, every T value met one to one: a pair that
 * meets all of T's values can at most tie with the best on its scores
 * (align_cannot_beat()'s T bound), so the cheapest such pair must still
 * win.  F: "NAS" + each of T's 40 ids (one written "nas"), and 4 ids
 * of no T value ("QX9041"...).  Expected by hand: strip the prefix "NAS"
 * (cost 2) meets only the 39 upper-case ones, whatever the normalisation
 * (affixes are compared before it); "drop the first 3 characters" meets
 * all 40 under EXACT (cost 3), ahead of DIGITS (40, cost 5): 40 one to
 * one, the 4 others unmatched.
 */
static void
test_synth_more_from_than_to(void **state)
{
	char fbuf[44][16], tbuf[40][16];
	const char *f[44], *t[40];
	struct align_rule r;
	size_t k;

	(void)state;
	for (k = 0; k < 40; k++) {
		snprintf(tbuf[k], sizeof(tbuf[k]), "%zu", 1001 + k);
		snprintf(fbuf[k], sizeof(fbuf[k]), "%s%zu", k == 7 ? "nas" :
		    "NAS", 1001 + k);
		t[k] = tbuf[k];
		f[k] = fbuf[k];
	}
	for (k = 40; k < 44; k++) {
		snprintf(fbuf[k], sizeof(fbuf[k]), "QX%zu", 9001 + k);
		f[k] = fbuf[k];
	}
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.from_distinct, 44);
	assert_int_equal(r.to_distinct, 40);
	assert_int_equal(r.matched, 40);
	assert_int_equal(r.matched_one_to_one, 40);
	assert_int_equal(r.to_matched, 40);
	assert_int_equal(r.from.slice, ALIGN_SLICE_DROP_CHARS);
	assert_int_equal(r.from.n, 3);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
}

static void
test_synth_no_relation(void **state)
{
	const char *f[] = { "apple", "banana", "cherry", "damson", "elder" };
	const char *t[] = { "Q-17", "R-22", "S-39", "T-41" };
	struct align_rule r;
	struct cc_diag d;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, &d),
	    CC_ENOTFOUND);
	assert_string_equal(d.code, "align_no_rule");
	assert_int_equal(r.found, 0);
	assert_int_equal(r.matched, 0);
	assert_int_equal(r.from_distinct, 5);
	assert_int_equal(r.to_distinct, 4);
}

/*
 * Digits only would fold distinct keys onto one ("A1", "B1", "C1" -> "1"
 * = "X1"): full coverage, but not a one-to-one rule, so nothing is found;
 * the best rule reported is not a good one-to-one rule with coverage
 * either (the only one-to-one candidate, "strip A / strip X", explains 1
 * value of 3).
 */
static void
test_synth_digits_trap(void **state)
{
	const char *f[] = { "A1", "B1", "C1" };
	const char *t[] = { "X1" };
	const char *f2[] = { "A1", "B1", "C1", "A2", "B2", "C2" };
	const char *t2[] = { "X1", "X2" };
	long long idx[N(f)];
	struct align_rule r, digits;
	struct cc_diag d;

	(void)state;
	/* The trap is real: under DIGITS all three join X1. */
	memset(&digits, 0, sizeof(digits));
	digits.from.norm = digits.to.norm = ALIGN_NORM_DIGITS;
	assert_int_equal(align_match(&digits, f, N(f), t, N(t), idx, NULL),
	    CC_OK);
	assert_true(idx[0] == 0 && idx[1] == 0 && idx[2] == 0);

	assert_int_equal(align_learn(f, N(f), t, N(t), &r, &d),
	    CC_ENOTFOUND);
	assert_string_equal(d.code, "align_no_rule");
	assert_int_equal(r.found, 0);
	assert_false(r.coverage >= ALIGN_MIN_COVERAGE &&
	    r.one_to_one >= ALIGN_MIN_ONE_TO_ONE);
	assert_int_equal(align_learn(f2, N(f2), t2, N(t2), &r, &d),
	    CC_ENOTFOUND);
	assert_int_equal(r.found, 0);
	assert_false(r.coverage >= ALIGN_MIN_COVERAGE &&
	    r.one_to_one >= ALIGN_MIN_ONE_TO_ONE);
}

/* The same letters-and-digits keys with a real relation: the learner
 * must prefer the rule that keeps them apart over digits. */
static void
test_synth_digits_trap_twin(void **state)
{
	const char *f[] = { "A1", "B1", "C1", "A2", "B2", "C2" };
	const char *t[] = { "a1", "b1", "c1", "a2", "b2", "c2", "d1" };
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.from.norm, ALIGN_NORM_CASEFOLD);
	assert_int_equal(r.matched, 6);
	assert_true(r.one_to_one == 1.0);
}

/*
 * Prepared columns (align_column_new()) paired with several partners,
 * both ways, with DIGITS usable (cst_key with CST_AZ12.CID) and not
 * (cst_key with the category names, which hold no digit), must answer
 * exactly as align_learn() on the raw values; and the first pair's rule
 * is the one derived by hand in test_crm_customer_keys_reverse().
 */
static void
test_columns_reused(void **state)
{
	struct column k, cid, cat;
	struct align_column *ck = NULL, *ccid = NULL, *ccat = NULL;
	struct align_rule a, b;
	struct sset ks, ts;
	char buf[64];
	long long expect = 0;
	size_t i;
	int round;

	(void)state;
	CSV_OR_SKIP(CUST, "cst_key", &k);
	CSV_OR_SKIP(AZ12, "CID", &cid);
	CSV_OR_SKIP(CATS, "CAT", &cat);
	sset_build(&ks, &k);
	sset_build(&ts, &cid);
	for (i = 0; i < ks.n; i++) {
		snprintf(buf, sizeof(buf), "NAS%s", ks.v[i]);
		expect += sset_has(&ts, ks.v[i]) || sset_has(&ts, buf);
	}
	assert_int_equal(align_column_new(VALS(k), k.n, &ck, NULL), CC_OK);
	assert_int_equal(align_column_new(VALS(cid), cid.n, &ccid, NULL),
	    CC_OK);
	assert_int_equal(align_column_new(VALS(cat), cat.n, &ccat, NULL),
	    CC_OK);
	/* Twice: the second round uses the indexes the first one built. */
	for (round = 0; round < 2; round++) {
		assert_int_equal(align_learn_columns(ck, ccid, &a, NULL), CC_OK);
		assert_int_equal(a.to.slice, ALIGN_SLICE_STRIP_PREFIX);
		assert_string_equal(a.to.affix, "NAS");
		assert_int_equal(a.matched, expect);
		assert_int_equal(align_learn(VALS(k), k.n, VALS(cid), cid.n,
		    &b, NULL), CC_OK);
		assert_memory_equal(&a, &b, sizeof(a));

		assert_int_equal(align_learn_columns(ccid, ck, &a, NULL), CC_OK);
		assert_int_equal(align_learn(VALS(cid), cid.n, VALS(k), k.n,
		    &b, NULL), CC_OK);
		assert_memory_equal(&a, &b, sizeof(a));

		assert_int_equal(align_learn_columns(ck, ccat, &a, NULL),
		    CC_ENOTFOUND);
		assert_int_equal(align_learn(VALS(k), k.n, VALS(cat), cat.n,
		    &b, NULL), CC_ENOTFOUND);
		assert_memory_equal(&a, &b, sizeof(a));

		/* A column with itself: every key meets itself. */
		assert_int_equal(align_learn_columns(ck, ck, &a, NULL), CC_OK);
		assert_int_equal(a.matched, (long long)ks.n);
		assert_int_equal(a.from.slice, ALIGN_SLICE_NONE);
		assert_int_equal(a.to.slice, ALIGN_SLICE_NONE);
	}
	align_column_free(ck);
	align_column_free(ccid);
	align_column_free(ccat);
	sset_free(&ks);
	sset_free(&ts);
	column_free(&k);
	column_free(&cid);
	column_free(&cat);
}

/*
 * A small F side (five customer ids) against all 18,484 cst_ids: F is
 * scored first (align_score_small()).  Expected by hand: every one is a
 * cst_id, compared exactly, each met once (to_matched 5).
 */
static void
test_small_from_side(void **state)
{
	const char *f[] = { "11000", "11001", "11002", "11003", "11004" };
	struct column t;
	struct sset ts;
	struct align_rule r;
	size_t i;

	(void)state;
	CSV_OR_SKIP(CUST, "cst_id", &t);
	sset_build(&ts, &t);
	assert_true(ts.n >= 8 * N(f));
	for (i = 0; i < N(f); i++)
		assert_true(sset_has(&ts, f[i]));
	assert_int_equal(align_learn(f, N(f), VALS(t), t.n, &r, NULL), CC_OK);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.to.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(r.matched, 5);
	assert_int_equal(r.matched_one_to_one, 5);
	assert_int_equal(r.to_matched, 5);
	sset_free(&ts);
	column_free(&t);
}

/* align_column_new() and align_learn_columns(): bad arguments, empty
 * columns. */
static void
test_columns_bad_arguments(void **state)
{
	const char *t[] = { "A", "B" };
	const char *blank[] = { NULL, "" };
	struct align_column *ct = NULL, *cb = NULL;
	struct align_rule r;
	struct cc_diag d;

	(void)state;
	assert_int_equal(align_column_new(t, N(t), NULL, &d), CC_EINVAL);
	assert_string_equal(d.code, "align_invalid");
	assert_int_equal(align_column_new(NULL, 3, &ct, NULL), CC_EINVAL);
	assert_null(ct);
	assert_int_equal(align_column_new(t, N(t), &ct, NULL), CC_OK);
	assert_int_equal(align_column_new(blank, N(blank), &cb, NULL), CC_OK);
	assert_int_equal(align_learn_columns(NULL, ct, &r, &d), CC_EINVAL);
	assert_int_equal(align_learn_columns(ct, NULL, &r, &d), CC_EINVAL);
	assert_int_equal(align_learn_columns(ct, ct, NULL, &d), CC_EINVAL);
	assert_int_equal(align_learn_columns(cb, ct, &r, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "align_empty");
	assert_int_equal(r.from_distinct, 0);
	assert_int_equal(r.to_distinct, 2);
	assert_int_equal(align_learn_columns(ct, cb, &r, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "align_empty");
	align_column_free(ct);
	align_column_free(cb);
	align_column_free(NULL);
}

static void
test_empty_inputs(void **state)
{
	const char *t[] = { "A", "B" };
	const char *blank[] = { NULL, "", NULL };
	struct align_rule r;
	struct cc_diag d;

	(void)state;
	assert_int_equal(align_learn(NULL, 0, t, N(t), &r, &d),
	    CC_ENOTFOUND);
	assert_string_equal(d.code, "align_empty");
	assert_int_equal(r.from_distinct, 0);
	assert_int_equal(r.to_distinct, 2);
	assert_int_equal(align_learn(t, N(t), NULL, 0, &r, &d),
	    CC_ENOTFOUND);
	assert_string_equal(d.code, "align_empty");
	assert_int_equal(align_learn(blank, N(blank), t, N(t), &r, &d),
	    CC_ENOTFOUND);
	assert_int_equal(align_learn(t, N(t), blank, N(blank), &r, NULL),
	    CC_ENOTFOUND);

	/* Failure twins of the arguments. */
	assert_int_equal(align_learn(t, N(t), t, N(t), NULL, &d), CC_EINVAL);
	assert_int_equal(align_learn(NULL, 3, t, N(t), &r, &d), CC_EINVAL);
	assert_int_equal(align_learn(t, N(t), NULL, 3, &r, NULL), CC_EINVAL);
}

static void
test_nulls_ignored(void **state)
{
	const char *f[] = { NULL, "7", "", "12", NULL, "305", "7" };
	const char *t[] = { "0007", NULL, "0012", "", "0305" };
	long long idx[N(f)];
	struct align_rule r;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.from_distinct, 3);
	assert_int_equal(r.to_distinct, 3);
	assert_int_equal(r.matched, 3);
	assert_int_equal(align_match(&r, f, N(f), t, N(t), idx, NULL), CC_OK);
	assert_int_equal(idx[0], ALIGN_NOMATCH);
	assert_int_equal(idx[1], 0);
	assert_int_equal(idx[2], ALIGN_NOMATCH);
	assert_int_equal(idx[3], 2);
	assert_int_equal(idx[5], 4);
	assert_int_equal(idx[6], 0);
}

/* 10 KB keys: no crash, and equal huge keys still join. */
static void
test_huge_keys(void **state)
{
	enum { BIG = 10 * 1024 };
	char *big[4], *bigt[4];
	const char *f[6], *t[6];
	struct align_rule r;
	char small[8];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		big[i] = malloc(BIG + 1);
		bigt[i] = malloc(BIG + 4);
		assert_non_null(big[i]);
		assert_non_null(bigt[i]);
		memset(big[i], 'a' + (int)i, BIG);
		big[i][BIG] = '\0';
		big[i][BIG / 2] = '-';
		snprintf(bigt[i], BIG + 4, "%s", big[i]);
		f[i] = big[i];
		t[i] = bigt[i];
	}
	f[4] = "k1";
	t[4] = "k1";
	f[5] = NULL;
	t[5] = "k2";
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.matched, 5);
	assert_int_equal(r.from.slice, ALIGN_SLICE_NONE);
	assert_int_equal(r.from.norm, ALIGN_NORM_EXACT);
	assert_int_equal(align_canon(&r.from, f[0], small, sizeof(small)),
	    BIG);
	assert_int_equal(strlen(small), sizeof(small) - 1);

	/* Huge keys on one side only, nothing in common. */
	assert_int_equal(align_learn(f, 4, (const char *[]){ "x", "y" }, 2,
	    &r, NULL), CC_ENOTFOUND);
	for (i = 0; i < 4; i++) {
		free(big[i]);
		free(bigt[i]);
	}
}

/* Long affixes on both sides: a strip on each side, and a description
 * cut with "..." that stays within its buffer. */
static void
test_long_affixes(void **state)
{
	const char *f[] = {
		"ALPHAALPHAALPHAALPHA-ABCDEFGHI_1",
		"ALPHAALPHAALPHAALPHA-ABCDEFGHI_2",
		"ALPHAALPHAALPHAALPHA-ABCDEFGHI_3",
		"ALPHAALPHAALPHAALPHA-ABCDEFGHI_4" };
	const char *t[] = {
		"1 OMEGAOMEGAOMEGAOMEGA.ZYXWVUTSR",
		"2 OMEGAOMEGAOMEGAOMEGA.ZYXWVUTSR",
		"3 OMEGAOMEGAOMEGAOMEGA.ZYXWVUTSR",
		"4 OMEGAOMEGAOMEGAOMEGA.ZYXWVUTSR" };
	struct align_rule r;
	size_t len;
	json_t *j;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	assert_int_equal(r.matched, 4);
	assert_string_equal(canon(&r.from, f[2]), canon(&r.to, t[2]));
	assert_string_not_equal(canon(&r.from, f[2]), canon(&r.to, t[1]));
	/* The two affixes alone take 62 of the 159 characters: cut. */
	len = strlen(r.description);
	assert_true(len < sizeof(r.description) && len > 3);
	assert_string_equal(r.description + len - 3, "...");
	j = align_rule_json(&r);
	assert_non_null(j);
	json_decref(j);
}

/* Input order (and so hash-table order) does not change the rule. */
static void
test_deterministic(void **state)
{
	const char *f[] = { "AW-001", "AW-002", "aw-003", "AW-004", "BX-9" };
	const char *t[] = { "AW001", "AW002", "AW003", "AW004", "BX9" };
	const char *fr[N(f)], *tr[N(t)];
	struct align_rule a, b;
	struct column cf, ct;
	const char **rev;
	size_t i;

	(void)state;
	for (i = 0; i < N(f); i++) {
		fr[i] = f[N(f) - 1 - i];
		tr[i] = t[N(t) - 1 - i];
	}
	assert_int_equal(align_learn(f, N(f), t, N(t), &a, NULL), CC_OK);
	assert_int_equal(align_learn(fr, N(fr), tr, N(tr), &b, NULL), CC_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.from.norm, ALIGN_NORM_ALNUM);

	/* The same on the real ERP ids, reversed. */
	CSV_OR_SKIP(AZ12, "CID", &cf);
	CSV_OR_SKIP(CUST, "cst_key", &ct);
	rev = malloc(cf.n * sizeof(*rev));
	assert_non_null(rev);
	for (i = 0; i < cf.n; i++)
		rev[i] = cf.v[cf.n - 1 - i];
	assert_int_equal(align_learn(VALS(cf), cf.n, VALS(ct), ct.n, &a,
	    NULL), CC_OK);
	assert_int_equal(align_learn(rev, cf.n, VALS(ct), ct.n, &b, NULL),
	    CC_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	free(rev);
	column_free(&cf);
	column_free(&ct);
}

static void
test_rule_json(void **state)
{
	const char *f[] = { "NASX1", "NASX2", "X3", "NASX4" };
	const char *t[] = { "X1", "X2", "X3", "X4" };
	struct align_rule r;
	json_t *j, *side;

	(void)state;
	assert_int_equal(align_learn(f, N(f), t, N(t), &r, NULL), CC_OK);
	j = align_rule_json(&r);
	assert_non_null(j);
	side = json_object_get(j, "from");
	assert_string_equal(json_string_value(json_object_get(side, "slice")),
	    "strip_prefix");
	assert_string_equal(json_string_value(json_object_get(side, "affix")),
	    "NAS");
	assert_true(json_is_null(json_object_get(side, "n")));
	assert_string_equal(json_string_value(json_object_get(side,
	    "normalisation")), "exact");
	side = json_object_get(j, "to");
	assert_string_equal(json_string_value(json_object_get(side, "slice")),
	    "none");
	assert_true(json_is_null(json_object_get(side, "affix")));
	assert_int_equal(json_integer_value(json_object_get(j, "matched")), 4);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "from_distinct")), 4);
	assert_true(json_real_value(json_object_get(j, "coverage")) == 1.0);
	assert_true(json_real_value(json_object_get(j, "one_to_one")) == 1.0);
	assert_true(json_is_true(json_object_get(j, "found")));
	assert_string_equal(json_string_value(json_object_get(j,
	    "description")), r.description);
	json_decref(j);

	/* n for the count kinds; failure twins: NULL, bad kind, bad UTF-8. */
	r.from.slice = ALIGN_SLICE_DROP_TOKENS;
	r.from.n = 2;
	j = align_rule_json(&r);
	assert_non_null(j);
	side = json_object_get(j, "from");
	assert_int_equal(json_integer_value(json_object_get(side, "n")), 2);
	assert_true(json_is_null(json_object_get(side, "affix")));
	json_decref(j);
	assert_null(align_rule_json(NULL));
	r.to.norm = ALIGN_NORM__MAX;
	assert_null(align_rule_json(&r));
	r.to.norm = ALIGN_NORM_EXACT;
	r.from.slice = ALIGN_SLICE_STRIP_PREFIX;
	strcpy(r.from.affix, "\xff");
	assert_null(align_rule_json(&r));
}

static void
test_match_ambiguous(void **state)
{
	const char *f[] = { "A1", "Q7", NULL, "A2" };
	const char *t[] = { "X1", "Y1", "X1", "Z2" };
	long long idx[N(f)];
	struct align_rule r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.from.norm = r.to.norm = ALIGN_NORM_DIGITS;
	assert_int_equal(align_match(&r, f, N(f), t, N(t), idx, NULL), CC_OK);
	assert_int_equal(idx[0], ALIGN_AMBIGUOUS);	/* X1 and Y1 */
	assert_int_equal(idx[1], ALIGN_NOMATCH);
	assert_int_equal(idx[2], ALIGN_NOMATCH);
	assert_int_equal(idx[3], 3);
	assert_int_equal(align_match(NULL, f, N(f), t, N(t), idx, NULL),
	    CC_EINVAL);
	assert_int_equal(align_match(&r, f, N(f), t, N(t), NULL, NULL),
	    CC_EINVAL);
}

/* --------------------------------------------------------------- speed */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Learns f -> t and returns the wall time in ms (best of 3). */
static double
time_learn(const struct column *f, const struct column *t)
{
	struct align_rule r;
	double best = 1e12, t0, ms;
	int k;

	for (k = 0; k < 3; k++) {
		t0 = now_ms();
		assert_int_equal(align_learn(VALS(*f), f->n, VALS(*t), t->n,
		    &r, NULL), CC_OK);
		ms = now_ms() - t0;
		if (ms < best)
			best = ms;
	}
	return best;
}

/* 60,398 sales lines x 18,494 customers, and 18,484 x 18,494 ERP ids:
 * learned on the real sizes; the time is printed, not asserted (speed is
 * measured by tests/bench, where a loaded machine cannot fail a test). */
static void
test_speed(void **state)
{
	struct column sales, cst_id, cid, cst_key;
	double a, b;

	(void)state;
	CSV_OR_SKIP(SALES, "sls_cust_id", &sales);
	CSV_OR_SKIP(CUST, "cst_id", &cst_id);
	CSV_OR_SKIP(AZ12, "CID", &cid);
	CSV_OR_SKIP(CUST, "cst_key", &cst_key);
	a = time_learn(&sales, &cst_id);
	b = time_learn(&cid, &cst_key);
	print_message("# align_learn: %zu x %zu values in %.1f ms, "
	    "%zu x %zu in %.1f ms\n", sales.n, cst_id.n, a, cid.n,
	    cst_key.n, b);
	column_free(&sales);
	column_free(&cst_id);
	column_free(&cid);
	column_free(&cst_key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_slices),
		cmocka_unit_test(test_canon_norms),
		cmocka_unit_test(test_canon_bad_arguments),
		cmocka_unit_test(test_crm_erp_customer_ids),
		cmocka_unit_test(test_crm_customer_keys_reverse),
		cmocka_unit_test(test_crm_location_ids),
		cmocka_unit_test(test_crm_sales_products),
		cmocka_unit_test(test_crm_product_categories),
		cmocka_unit_test(test_crm_sales_customers),
		cmocka_unit_test(test_crm_products_to_sales_not_a_reference),
		cmocka_unit_test(test_nexus_clients),
		cmocka_unit_test(test_nexus_items_products),
		cmocka_unit_test(test_nexus_items_item_ids),
		cmocka_unit_test(test_synth_zero_padding),
		cmocka_unit_test(test_synth_case),
		cmocka_unit_test(test_synth_suffix),
		cmocka_unit_test(test_synth_mixed_suffixes),
		cmocka_unit_test(test_synth_more_from_than_to),
		cmocka_unit_test(test_synth_no_relation),
		cmocka_unit_test(test_synth_digits_trap),
		cmocka_unit_test(test_synth_digits_trap_twin),
		cmocka_unit_test(test_columns_reused),
		cmocka_unit_test(test_small_from_side),
		cmocka_unit_test(test_columns_bad_arguments),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_nulls_ignored),
		cmocka_unit_test(test_huge_keys),
		cmocka_unit_test(test_long_affixes),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_rule_json),
		cmocka_unit_test(test_match_ambiguous),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests_name("align", tests, NULL, NULL);
}
