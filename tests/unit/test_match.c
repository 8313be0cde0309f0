/*
 * test_match.c - string similarity (concord/strsim.h) and record linkage
 * (concord/match.h): published Jaro-Winkler and Soundex values,
 * Levenshtein, comparison levels, blocking, EM on data with known m and
 * u, clusters, missing values, empty input, one record, bad
 * configurations, and FEBRL dataset1 against its true pairs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/match.h"
#include "concord/strsim.h"

/* ---- Jaro-Winkler ---------------------------------------------------- */

/*
 * The examples of Winkler 1990 as tabulated by later papers (and the
 * Wikipedia table), each computed by hand here.
 *
 * MARTHA / MARHTA: lengths 6 and 6, window max(6,6)/2 - 1 = 2.  Matches:
 * M-M, A-A, R-R, T (a[3]) - T (b[4]), H (a[4]) - H (b[3]), A-A: m = 6.
 * In order a gives MARTHA, b gives MARHTA: T/H and H/T differ, 2 half
 * transpositions, t = 1.  Jaro = (6/6 + 6/6 + 5/6) / 3 = 0.9444.  Common
 * prefix MAR, l = 3: JW = 0.9444 + 3 * 0.1 * (1 - 0.9444) = 0.9611.
 *
 * DWAYNE / DUANE: lengths 6 and 5, window 6/2 - 1 = 2.  D-D (0,0); W: no
 * W in b; A (a[2]) - A (b[2]); Y: none; N (a[4]) - N (b[3]); E (a[5]) - E
 * (b[4]): m = 4, both orders DANE, t = 0.  Jaro = (4/6 + 4/5 + 4/4) / 3 =
 * 0.8222.  Prefix D, l = 1: JW = 0.8222 + 0.1 * 0.1778 = 0.8400.
 *
 * DIXON / DICKSONX: lengths 5 and 8, window 8/2 - 1 = 3.  D-D, I-I; X
 * (a[2]): b's X is at 7, 5 away, no match; O (a[3]) - O (b[5]); N (a[4])
 * - N (b[6]): m = 4, both orders DION, t = 0.  Jaro = (4/5 + 4/8 + 4/4) /
 * 3 = 0.7667.  Prefix DI, l = 2: JW = 0.7667 + 0.2 * 0.2333 = 0.8133.
 */
static void
test_jaro_winkler_published(void **state)
{
	(void)state;
	assert_true(fabs(strsim_jaro_utf8("MARTHA", "MARHTA") - 0.9444) <
	    0.0001);
	assert_true(fabs(strsim_jaro_winkler_utf8("MARTHA", "MARHTA") -
	    0.9611) < 0.0001);
	assert_true(fabs(strsim_jaro_utf8("DWAYNE", "DUANE") - 0.8222) <
	    0.0001);
	assert_true(fabs(strsim_jaro_winkler_utf8("DWAYNE", "DUANE") -
	    0.8400) < 0.0001);
	assert_true(fabs(strsim_jaro_utf8("DIXON", "DICKSONX") - 0.7667) <
	    0.0001);
	assert_true(fabs(strsim_jaro_winkler_utf8("DIXON", "DICKSONX") -
	    0.8133) < 0.0001);
	/* symmetric */
	assert_true(fabs(strsim_jaro_winkler_utf8("MARHTA", "MARTHA") -
	    strsim_jaro_winkler_utf8("MARTHA", "MARHTA")) < 1e-12);
}

static void
test_jaro_winkler_edges(void **state)
{
	char a[400], b[400];

	(void)state;
	assert_true(strsim_jaro_winkler_utf8("", "") == 1.0);
	assert_true(strsim_jaro_winkler_utf8("abc", "") == 0.0);
	assert_true(strsim_jaro_winkler_utf8("abc", "xyz") == 0.0);
	assert_true(strsim_jaro_winkler_utf8("same", "same") == 1.0);
	/* one character, window 0 */
	assert_true(strsim_jaro_winkler_utf8("a", "a") == 1.0);
	/* no boost at or below Jaro 0.7: ABCD/ABXY share 2 of 4, Jaro
	 * (2/4 + 2/4 + 1) / 3 = 0.6667, JW equal */
	assert_true(fabs(strsim_jaro_winkler_utf8("ABCD", "ABXY") -
	    2.0 / 3.0) < 1e-9);
	/* code points, not bytes: ü is one character */
	assert_true(strsim_jaro_winkler_utf8("müller", "müller") == 1.0);
	assert_true(fabs(strsim_jaro_utf8("müller", "mueller") -
	    strsim_jaro_utf8("xyller", "xzeller")) < 1e-12);
	/* long strings (> 64, the bit-mask path) agree with short logic */
	memset(a, 'a', 100);
	a[100] = '\0';
	memcpy(b, a, 101);
	b[50] = 'b';
	assert_true(fabs(strsim_jaro_utf8(a, b) - (99.0 / 100 * 2 + 1) / 3) <
	    1e-9);
}

/* ---- Levenshtein ----------------------------------------------------- */

static void
test_levenshtein(void **state)
{
	uint32_t a[8], b[8];
	size_t na, nb;

	(void)state;
	assert_int_equal(strsim_levenshtein_utf8("kitten", "sitting"), 3);
	assert_int_equal(strsim_levenshtein_utf8("flaw", "lawn"), 2);
	assert_int_equal(strsim_levenshtein_utf8("", "abc"), 3);
	assert_int_equal(strsim_levenshtein_utf8("abc", ""), 3);
	assert_int_equal(strsim_levenshtein_utf8("", ""), 0);
	assert_int_equal(strsim_levenshtein_utf8("4011", "4011"), 0);
	assert_int_equal(strsim_levenshtein_utf8("4011", "4101"), 2);
	assert_int_equal(strsim_levenshtein_utf8("müller", "muller"), 1);
	/* bounded: max + 1 once the distance is known to exceed max */
	na = strsim_utf8_decode("kitten", a, 8);
	nb = strsim_utf8_decode("sitting", b, 8);
	assert_int_equal(strsim_levenshtein(a, na, b, nb, 1), 2);
	assert_int_equal(strsim_levenshtein(a, na, b, nb, 3), 3);
	na = strsim_utf8_decode("a", a, 8);
	nb = strsim_utf8_decode("abcdef", b, 8);
	assert_int_equal(strsim_levenshtein(a, na, b, nb, 2), 3);
}

/* ---- Soundex --------------------------------------------------------- */

static void
test_soundex_nara(void **state)
{
	/* US National Archives, "The Soundex Indexing System" */
	static const char *const cases[][2] = {
		{ "Robert", "R163" },
		{ "Rupert", "R163" },
		{ "Rubin", "R150" },
		{ "Tymczak", "T522" },	/* C and Z adjacent: one 2 */
		{ "Pfister", "P236" },	/* F coded as the first letter's P */
		{ "Ashcraft", "A261" },	/* S and C across H: one 2 */
		{ "Ashcroft", "A261" },
		{ "Jackson", "J250" },
		{ "Honeyman", "H555" },	/* N, M, N apart by vowels: coded */
		{ "Lee", "L000" },
		{ "Washington", "W252" },
		{ "o'Brien", "O165" },
		{ "Van Dyke", "V532" },	/* prefixes kept (no special case) */
	};
	char out[5];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		assert_int_equal(strsim_soundex_utf8(cases[k][0], out), 1);
		assert_string_equal(out, cases[k][1]);
	}
	assert_int_equal(strsim_soundex_utf8("", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(strsim_soundex_utf8("1234", out), 0);
}

/* ---- comparison levels ----------------------------------------------- */

static int
level(enum match_kind k, const char *a, const char *b)
{
	struct cc_diag d;
	int l = -1;

	assert_int_equal(match_compare(k, a, b, &l, &d), CC_OK);
	return l;
}

static void
test_compare_levels(void **state)
{
	(void)state;
	/* names: case, accents and punctuation fold away */
	assert_int_equal(level(MATCH_NAME, "Müller", "MULLER"), 0);
	assert_int_equal(level(MATCH_NAME, "O'Brien", "obrien"), 0);
	assert_int_equal(level(MATCH_NAME, "MARTHA", "MARHTA"), 1);
	assert_int_equal(level(MATCH_NAME, "DWAYNE", "DUANE"), 2);
	assert_int_equal(level(MATCH_NAME, "john", "mary"), 3);
	assert_int_equal(level(MATCH_NAME, "john", NULL),
	    MATCH_LEVEL_MISSING);
	assert_int_equal(level(MATCH_NAME, "  ", "john"),
	    MATCH_LEVEL_MISSING);
	assert_int_equal(level(MATCH_NAME, "", ""), MATCH_LEVEL_MISSING);
	/* text: the same words in another order */
	assert_int_equal(level(MATCH_TEXT, "southern cross drive",
	    "drive southern cross"), 1);
	/* codes: edits */
	assert_int_equal(level(MATCH_CODE, "6988048", "6988-048"), 0);
	assert_int_equal(level(MATCH_CODE, "6988048", "6988049"), 1);
	assert_int_equal(level(MATCH_CODE, "6988048", "9688048"), 2);	/* swap */
	assert_int_equal(level(MATCH_CODE, "6988048", "1234567"), 3);
	/* dates: exact, transposed day/month, one digit, year +-1, +-10 */
	assert_int_equal(level(MATCH_DATE, "19710624", "1971-06-24"), 0);
	assert_int_equal(level(MATCH_DATE, "1971-06-12", "1971-12-06"), 1);
	assert_int_equal(level(MATCH_DATE, "1971-06-24", "1971-05-24"), 2);
	assert_int_equal(level(MATCH_DATE, "1971-06-24", "1972-01-03"), 3);
	assert_int_equal(level(MATCH_DATE, "1971-06-24", "1981-06-22"), 4);
	assert_int_equal(level(MATCH_DATE, "1971-06-24", "1961-01-03"), 4);
	assert_int_equal(level(MATCH_DATE, "1971-06-24", "1991-01-03"), 5);
	assert_int_equal(level(MATCH_DATE, "1971-6-4T00:00:00Z",
	    "19710604"), 0);
	assert_int_equal(level(MATCH_DATE, "24/06/1971", "19710624"),
	    MATCH_LEVEL_MISSING);	/* not ISO: unparsed */
	/* numbers */
	assert_int_equal(level(MATCH_NUMBER, "100", "100.0"), 0);
	assert_int_equal(level(MATCH_NUMBER, "100", "100.5"), 1);
	assert_int_equal(level(MATCH_NUMBER, "100", "95"), 2);
	assert_int_equal(level(MATCH_NUMBER, "100", "50"), 3);
	assert_int_equal(level(MATCH_NUMBER, "100", "n/a"),
	    MATCH_LEVEL_MISSING);
	/* postcodes */
	assert_int_equal(level(MATCH_POSTCODE, "SW1A 1AA", "sw1a1aa"), 0);
	assert_int_equal(level(MATCH_POSTCODE, "4011", "4012"), 1);
	assert_int_equal(level(MATCH_POSTCODE, "4011", "4019"), 1);
	assert_int_equal(level(MATCH_POSTCODE, "40110", "40199"), 2);
	/* e-mail */
	assert_int_equal(level(MATCH_EMAIL, "Robert255@Smith.net",
	    "robert255@smith.net"), 0);
	assert_int_equal(level(MATCH_EMAIL, "robert255@smith.net",
	    "robert255@jones.com"), 1);
	assert_int_equal(level(MATCH_EMAIL, "robert255@smith.net",
	    "roberta25@smith.net"), 2);
	assert_int_equal(level(MATCH_EMAIL, "robert255@smith.net",
	    "x@y.org"), 3);
	/* codes: the same set, in another order, one in common (or one
	 * the start of the other, both of 5 or more), else */
	assert_int_equal(level(MATCH_CODES, "KXTG9361B", "kxtg9361b"), 0);
	assert_int_equal(level(MATCH_CODES, "A1234 B5678", "B5678 A1234"), 1);
	assert_int_equal(level(MATCH_CODES, "S320 3880001", "3880001"), 2);
	assert_int_equal(level(MATCH_CODES, "DSCH10", "DSCH10B"), 2);
	assert_int_equal(level(MATCH_CODES, "CL51", "CL512"), 3);	/* < 5 */
	assert_int_equal(level(MATCH_CODES, "VMPL3B", "VMPR1B"), 3);
	assert_int_equal(level(MATCH_CODES, "VMPL3B", NULL),
	    MATCH_LEVEL_MISSING);
	assert_string_equal(match_level_label(MATCH_CODES, 2),
	    "a code in common");
	assert_string_equal(match_level_label(MATCH_DATE, 1),
	    "day/month transposed");
	assert_string_equal(match_level_label(MATCH_DATE, 4),
	    "years 10 apart");
	assert_null(match_level_label(MATCH_DATE, 6));
	assert_int_equal(match_kind_nlevels(MATCH_TEXT), 5);
}

/* The code words of product names (match.h's examples and the Abt-Buy
 * names they come from), worked by hand. */
static void
test_codewords(void **state)
{
	static const char *const cases[][2] = {
		{ "Panasonic KX-TG9361B Expandable Digital Cordless Phone",
		    "KXTG9361B" },
		{ "Sony Cyber-shot DSC-H10 Digital Camera - Black - DSCH10/B",
		    "DSCH10 DSCH10B" },
		{ "Garmin Suction Cup Mount - 010-10823-00", "0101082300" },
		{ "Apple iPod touch 8GB - MB528LL/A", "MB528LLA" },
		{ "Bose Acoustimass 5 Series III - AM53BK/ 2 Dual Cube AM53BK",
		    "AM53BK" },
		/* quantities, fractions, short numbers, plain words: none */
		{ "5.8GHz 500GB 1080p 4x 2-1/2' Series 200 12345", "" },
		{ "Weber Performer 22-1/2' Charcoal Grill - 848001", "848001" },
		{ "(Black) [VGPPRSZ1]; \"GEX-P920XM\"", "VGPPRSZ1 GEXP920XM" },
		{ "", "" },
	};
	char out[64], small[10];
	size_t k, n;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		n = match_codewords(cases[k][0], out, sizeof(out));
		assert_string_equal(out, cases[k][1]);
		assert_int_equal(n, cases[k][1][0] == '\0' ? 0 :
		    1 + (strchr(cases[k][1], ' ') != NULL));
	}
	assert_int_equal(match_codewords(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* a code that does not fit is left out, the rest stays whole */
	assert_int_equal(match_codewords("AB12 KXTG9361B CD34", small,
	    sizeof(small)), 2);
	assert_string_equal(small, "AB12 CD34");
	assert_int_equal(match_codewords("AB12", small, 0), 0);
}

/* ---- blocking -------------------------------------------------------- */

static const struct match_field people_fields[] = {
	{ "given", MATCH_NAME, 0, "surname" },
	{ "surname", MATCH_NAME, 0, "given" },
	{ "dob", MATCH_DATE, 0, NULL },
	{ "postcode", MATCH_POSTCODE, 0, NULL },
};

static const struct match_blocking people_rules[] = {
	{ 1, { { 3, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { 1, MATCH_BLOCK_SOUNDEX }, { 2, MATCH_BLOCK_YEAR } }, 0 },
	{ 1, { { 0, MATCH_BLOCK_FIRST3 } }, 0 },
};

/* Pairs that blocking must find, each once: the rules above by hand. */
static void
test_blocking_each_pair_once(void **state)
{
	static const char *const recs[] = {
		/* 0 */ "anna", "smith", "1980-01-02", "4000",
		/* 1 */ "annabel", "smyth", "1980-05-05", "4000",
		/* 2 */ "bob", "jones", "1970-01-01", "4000",
		/* 3 */ "rob", "jonas", "1970-12-12", "5000",
		/* 4 */ "zed", NULL, "1970-01-01", "6000",
		/* 5 */ "zeb", "smith", NULL, NULL,
		/* 6 */ "ann", "smith", "1980-07-07", NULL,
	};
	struct match_config cfg;
	struct cc_diag d;
	size_t *pairs, n, k;
	int trunc;
	/* by hand: postcode 4000 {0,1,2}; soundex S530+1980 {0,1,6},
	 * J520+1970 {2,3}; first3 ann {0,1,6}, zed {4}, zeb {5} */
	static const size_t want[][2] = {
		{ 0, 1 }, { 0, 2 }, { 0, 6 }, { 1, 2 }, { 1, 6 }, { 2, 3 },
	};

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = people_fields;
	cfg.nfields = 4;
	cfg.rules = people_rules;
	cfg.nrules = 3;
	assert_int_equal(match_candidates(&cfg, recs, 7, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(trunc, 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (k = 0; k < n; k++) {
		assert_int_equal(pairs[2 * k], want[k][0]);
		assert_int_equal(pairs[2 * k + 1], want[k][1]);
	}
	free(pairs);

	/* no rule: every pair; max_pairs truncates */
	cfg.nrules = 0;
	assert_int_equal(match_candidates(&cfg, recs, 7, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(n, 21);
	assert_int_equal(trunc, 0);
	free(pairs);
	cfg.max_pairs = 5;
	assert_int_equal(match_candidates(&cfg, recs, 7, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(n, 5);
	assert_int_equal(trunc, 1);
	free(pairs);
}

/* An unordered rule: the two keys in either order.  By hand (Soundex,
 * NARA): caleb C410, rowe/rwoe R000, ross R200, dana D500, adam A350. */
static void
test_blocking_unordered(void **state)
{
	static const char *const recs[] = {
		/* 0 */ "caleb", "rowe", NULL, NULL,
		/* 1 */ "rwoe", "caleb", NULL, NULL,
		/* 2 */ "caleb", "ross", NULL, NULL,
		/* 3 */ "ross", "caleb", NULL, NULL,
		/* 4 */ "dana", "adam", NULL, NULL,
		/* 5 */ "adam", NULL, NULL, NULL,
		/* 6 */ "adam", "dana", NULL, NULL,
	};
	struct match_blocking rule = { 2, { { 0, MATCH_BLOCK_SOUNDEX },
	    { 1, MATCH_BLOCK_SOUNDEX } }, 1 };
	static const size_t want[][2] = { { 0, 1 }, { 2, 3 }, { 4, 6 } };
	struct match_config cfg;
	struct cc_diag d;
	size_t *pairs, n, k;
	int trunc;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = people_fields;
	cfg.nfields = 4;
	cfg.rules = &rule;
	cfg.nrules = 1;
	assert_int_equal(match_candidates(&cfg, recs, 7, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (k = 0; k < n; k++) {
		assert_int_equal(pairs[2 * k], want[k][0]);
		assert_int_equal(pairs[2 * k + 1], want[k][1]);
	}
	free(pairs);
	/* ordered, the same rule finds no pair: every swap is a swap */
	rule.unordered = 0;
	assert_int_equal(match_candidates(&cfg, recs, 7, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(n, 0);
	free(pairs);
}

/* Multi-key rules: a record joins one block per word (words) or per
 * first 5 characters of its words of 5 or more (words5).  By hand. */
static void
test_blocking_words(void **state)
{
	static const struct match_field f[] = {
		{ "model", MATCH_CODES, 0, NULL },
	};
	static const char *const recs[] = {
		/* 0 */ "WFW8300SWH KX11",
		/* 1 */ "WFW8300SW",
		/* 2 */ "KX11 PG50",
		/* 3 */ "PG50 KX11",	/* shares two words with 2 */
		/* 4 */ "ZZ99",
	};
	struct match_blocking rules[] = {
		{ 1, { { 0, MATCH_BLOCK_WORDS } }, 0 },
		{ 1, { { 0, MATCH_BLOCK_WORDS5 } }, 0 },
	};
	/* words: kx11 {0, 2, 3}, pg50 {2, 3}; words5: wfw83 {0, 1} */
	static const size_t want[][2] = { { 0, 1 }, { 0, 2 }, { 0, 3 },
	    { 2, 3 } };
	static const unsigned char want_rule[] = { 1, 0, 0, 0 };
	struct match_config cfg;
	struct match_result *m;
	struct cc_diag d;
	size_t *pairs, n, k;
	int trunc;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = f;
	cfg.nfields = 1;
	cfg.rules = rules;
	cfg.nrules = 2;
	assert_int_equal(match_candidates(&cfg, recs, 5, &pairs, &n, &trunc,
	    &d), CC_OK);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));	/* once each */
	for (k = 0; k < n; k++) {
		assert_int_equal(pairs[2 * k], want[k][0]);
		assert_int_equal(pairs[2 * k + 1], want[k][1]);
	}
	free(pairs);
	/* the rule that found each pair: the first that holds both */
	cfg.threshold_probability = 1e-9;
	assert_int_equal(match_run(&cfg, recs, 5, &m, &d), CC_OK);
	assert_int_equal(m->candidate_pairs, 4);
	assert_int_equal(m->rule_pairs[0], 3);
	assert_int_equal(m->rule_pairs[1], 1);
	for (k = 0; k < m->npairs; k++) {
		size_t q;
		for (q = 0; q < 4; q++)
			if (m->pairs[k].i == want[q][0] &&
			    m->pairs[k].j == want[q][1])
				assert_int_equal(m->pairs[k].rule,
				    want_rule[q]);
	}
	match_result_free(m);
}

/* ---- synthetic data -------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double
rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

/* A level drawn from probabilities p[0..n-1]. */
static unsigned char
draw(const double *p, size_t n)
{
	double x = rng_unit(), c = 0;
	size_t l;

	for (l = 0; l + 1 < n; l++) {
		c += p[l];
		if (x < c)
			break;
	}
	return (unsigned char)l;
}

/*
 * EM recovers lambda, m and u from comparison vectors generated with
 * known values under conditional independence (the model's assumption),
 * 5% of the values missing, from generic start values.
 */
static void
test_em_recovers_m_u(void **state)
{
	enum { NF = 3, NP = 40000 };
	static const size_t nlev[NF] = { 3, 4, 2 };
	static const double tm[NF][4] = {
		{ 0.85, 0.10, 0.05 }, { 0.70, 0.15, 0.10, 0.05 },
		{ 0.95, 0.05 },
	};
	static const double tu[NF][4] = {
		{ 0.05, 0.15, 0.80 }, { 0.02, 0.08, 0.20, 0.70 },
		{ 0.30, 0.70 },
	};
	const double tl = 0.2;
	double m[NF * MATCH_MAX_LEVELS], u[NF * MATCH_MAX_LEVELS], lam;
	unsigned char *g;
	struct cc_diag d;
	size_t k, f, l;
	int it, conv, match;

	(void)state;
	rng_state = 42;
	g = malloc(NP * NF);
	assert_non_null(g);
	for (k = 0; k < NP; k++) {
		match = rng_unit() < tl;
		for (f = 0; f < NF; f++)
			g[k * NF + f] = rng_unit() < 0.05 ?
			    MATCH_LEVEL_MISSING :
			    draw(match ? tm[f] : tu[f], nlev[f]);
	}
	for (f = 0; f < NF; f++)
		for (l = 0; l < nlev[f]; l++) {
			/* generic start: m favours level 0, u uniform */
			m[f * MATCH_MAX_LEVELS + l] = l == 0 ? 0.6 :
			    0.4 / (double)(nlev[f] - 1);
			u[f * MATCH_MAX_LEVELS + l] = 1.0 / (double)nlev[f];
		}
	lam = 0.5;
	assert_int_equal(match_em(NF, nlev, g, NP, 500, 1e-8, 0, &lam, m, u,
	    &it, &conv, &d), CC_OK);
	assert_true(conv);
	assert_true(fabs(lam - tl) < 0.01);
	for (f = 0; f < NF; f++)
		for (l = 0; l < nlev[f]; l++) {
			assert_true(fabs(m[f * MATCH_MAX_LEVELS + l] -
			    tm[f][l]) < 0.02);
			assert_true(fabs(u[f * MATCH_MAX_LEVELS + l] -
			    tu[f][l]) < 0.02);
		}

	/* failure twins: a level out of range, a start value of 0 */
	g[1] = 7;
	lam = 0.5;
	assert_int_equal(match_em(NF, nlev, g, NP, 10, 1e-8, 0, &lam, m, u,
	    NULL, NULL, &d), CC_EINVAL);
	g[1] = 0;
	m[0] = 0;
	assert_int_equal(match_em(NF, nlev, g, NP, 10, 1e-8, 0, &lam, m, u,
	    NULL, NULL, &d), CC_EINVAL);
	free(g);
}

/* ---- clusters -------------------------------------------------------- */


/*
 * One EM iteration on four pairs of one agree/else field, worked by hand:
 * lambda = 0.5, m = (0.9, 0.1), u = (0.2, 0.8).  E step: an agreeing pair
 * is a match with 0.45 / (0.45 + 0.10) = 9/11, a disagreeing one with
 * 0.05 / (0.05 + 0.40) = 1/9.  M step: lambda = (2 * 9/11 + 2 * 1/9) / 4
 * = 46/99; with add-one smoothing m(agree) = (18/11 + 1) / (18/11 + 2/9
 * + 2) = 0.683246, u(agree) = (4/11 + 1) / (4/11 + 16/9 + 2) = 0.329268.
 */
static void
test_em_hand_worked(void **state)
{
	static const size_t nlev[1] = { 2 };
	static const unsigned char g[4] = { 0, 0, 1, 1 };
	double m[MATCH_MAX_LEVELS] = { 0.9, 0.1 }, u[MATCH_MAX_LEVELS] =
	    { 0.2, 0.8 }, lam = 0.5;
	struct cc_diag d;
	int it, conv;

	(void)state;
	assert_int_equal(match_em(1, nlev, g, 4, 1, 1e-12, 0, &lam, m, u, &it,
	    &conv, &d), CC_OK);
	assert_int_equal(it, 1);
	assert_true(fabs(lam - 46.0 / 99.0) < 1e-9);
	assert_true(fabs(m[0] - 0.683246073) < 1e-6);
	assert_true(fabs(m[1] - 0.316753927) < 1e-6);
	assert_true(fabs(u[0] - 0.329268293) < 1e-6);
	assert_true(fabs(u[1] - 0.670731707) < 1e-6);
	/* fix_u: u stays, m and lambda move as above */
	m[0] = 0.9, m[1] = 0.1, u[0] = 0.2, u[1] = 0.8, lam = 0.5;
	assert_int_equal(match_em(1, nlev, g, 4, 1, 1e-12, 1, &lam, m, u, &it,
	    &conv, &d), CC_OK);
	assert_true(fabs(u[0] - 0.2) < 1e-12);
	assert_true(fabs(m[0] - 0.683246073) < 1e-6);
}

/* Clusters under constraints: strong keys and cannot-link pairs. */
static void
test_clusters_constrained(void **state)
{
	/* 0-1, 1-2, 2-3 in that order; 3 and 0 carry different strong keys,
	 * so 2-3 would join them and is left out; a cannot-link 4-5 keeps the
	 * pair 4-5 apart; 6-7 joins (7 has no key). */
	static const size_t pairs[] = { 0, 1, 1, 2, 2, 3, 4, 5, 6, 7 };
	static const size_t cannot[] = { 5, 4 };
	const char *strong[8] = { "A", NULL, NULL, "B", NULL, NULL, "C", NULL };
	unsigned char skipped[5];
	size_t cl[8], n;

	(void)state;
	assert_int_equal(match_clusters_constrained(8, pairs, 5, strong, 1,
	    cannot, 1, cl, &n, skipped), CC_OK);
	assert_int_equal(cl[0], cl[1]);
	assert_int_equal(cl[1], cl[2]);
	assert_true(cl[3] != cl[0]);
	assert_true(cl[4] != cl[5]);
	assert_int_equal(cl[6], cl[7]);
	assert_int_equal(n, 5);		/* {0,1,2} {3} {4} {5} {6,7} */
	assert_int_equal(skipped[0], 0);
	assert_int_equal(skipped[1], 0);
	assert_int_equal(skipped[2], 1);
	assert_int_equal(skipped[3], 1);
	assert_int_equal(skipped[4], 0);
	/* transitive through a cannot-link: 0-1 then 1-2 with 0 and 2 not to
	 * be linked: the second pair is left out */
	{
		static const size_t p2[] = { 0, 1, 1, 2 };
		static const size_t c2[] = { 0, 2 };
		assert_int_equal(match_clusters_constrained(3, p2, 2, NULL, 0,
		    c2, 1, cl, &n, skipped), CC_OK);
		assert_int_equal(n, 2);
		assert_int_equal(skipped[1], 1);
	}
	/* failure twins: an index out of range; strong values missing */
	assert_int_equal(match_clusters_constrained(3, pairs, 5, NULL, 0, NULL,
	    0, cl, &n, NULL), CC_EINVAL);
	assert_int_equal(match_clusters_constrained(8, pairs, 5, NULL, 1, NULL,
	    0, cl, &n, NULL), CC_EINVAL);
}

/*
 * MATCH_LONGTEXT: token-set cosine |A and B| / sqrt(|A| |B|) of the
 * distinct words, worked by hand: the same words in another order 1.0;
 * "alpha beta gamma" and "alpha beta delta" 2 / 3; five of six words
 * (a title with one word dropped) 5 / sqrt(30) = 0.913; a repeated word
 * counts once.
 */
static void
test_compare_longtext_cosine(void **state)
{
	struct cc_diag d;
	int lv;

	(void)state;
	assert_int_equal(match_kind_nlevels(MATCH_LONGTEXT), 5);
	assert_int_equal(match_compare(MATCH_LONGTEXT, "Entity Resolution",
	    "entity resolution", &lv, &d), CC_OK);
	assert_int_equal(lv, 0);				/* exact */
	assert_int_equal(match_compare(MATCH_LONGTEXT, "a. smith, b. chen",
	    "B. Chen, A. Smith", &lv, &d), CC_OK);
	assert_int_equal(lv, 1);				/* cosine 1 */
	assert_string_equal(match_level_label(MATCH_LONGTEXT, 1),
	    "cosine>=0.9");
	assert_int_equal(match_compare(MATCH_LONGTEXT,
	    "adaptive query processing over data streams",
	    "adaptive query processing data streams", &lv, &d), CC_OK);
	assert_int_equal(lv, 1);				/* 0.913 */
	assert_int_equal(match_compare(MATCH_LONGTEXT, "alpha beta gamma",
	    "alpha beta delta", &lv, &d), CC_OK);
	assert_int_equal(lv, 3);				/* 0.667 */
	assert_int_equal(match_compare(MATCH_LONGTEXT, "alpha alpha beta",
	    "beta alpha", &lv, &d), CC_OK);
	assert_int_equal(lv, 1);				/* repeats once */
	assert_int_equal(match_compare(MATCH_LONGTEXT, "one two", "three four",
	    &lv, &d), CC_OK);
	assert_int_equal(lv, 4);				/* else */
}

/*
 * Six records, one duplicate (a typo in the first name, the same e-mail,
 * birth date and city): a handful of candidate pairs leaves every EM
 * session nearly empty, and the prior of at least one expected match
 * still lets the duplicate through, and nothing else.
 */
static void
test_run_small_file(void **state)
{
	static const struct match_field f[] = {
		{ "first", MATCH_NAME, 0, "last" },
		{ "last", MATCH_NAME, 0, "first" },
		{ "email", MATCH_EMAIL, 0, NULL },
		{ "dob", MATCH_DATE, 0, NULL },
		{ "city", MATCH_NAME, 0, NULL },
	};
	static const struct match_blocking rules[] = {
		{ 1, { { 2, MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { 4, MATCH_BLOCK_EXACT } }, 0 },
	};
	static const char *const rec[] = {
		"Ann", "Lee", "ann.lee@example.com", "1980-01-02", "Oslo",
		"Bob", "Stone", "bob@example.com", "1975-03-04", "Bergen",
		"Cara", "Diaz", "cara@example.com", "1990-05-06", "Oslo",
		"Dan", "Ek", "dan@example.com", "1985-07-08", "Trondheim",
		"Anne", "Lee", "ann.lee@example.com", "1980-01-02", "Oslo",
		"Eva", "Holm", "eva@example.com", "1970-09-10", "Bergen",
	};
	struct match_config cfg;
	struct match_result *r;
	struct cc_diag d;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = f;
	cfg.nfields = 5;
	cfg.rules = rules;
	cfg.nrules = 2;
	assert_int_equal(match_run(&cfg, rec, 6, &r, &d), CC_OK);
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].i, 0);
	assert_int_equal(r->pairs[0].j, 4);
	assert_true(r->pairs[0].probability > 0.9);
	/* one expected match among the 15 pairs of six records */
	assert_true(r->lambda >= 1.0 / 15 - 1e-12);
	match_result_free(r);
}

/* MATCH_EXACT: a near spelling of a code is another code. */
static void
test_compare_exact_kind(void **state)
{
	struct cc_diag d;
	int lv;

	(void)state;
	assert_int_equal(match_kind_nlevels(MATCH_EXACT), 2);
	assert_int_equal(match_compare(MATCH_EXACT, "US", "us", &lv, &d), CC_OK);
	assert_int_equal(lv, 0);
	assert_int_equal(match_compare(MATCH_EXACT, "US", "UA", &lv, &d), CC_OK);
	assert_int_equal(lv, 1);
	assert_int_equal(match_compare(MATCH_EXACT, NULL, "UA", &lv, &d), CC_OK);
	assert_int_equal(lv, MATCH_LEVEL_MISSING);
	assert_string_equal(match_kind_name(MATCH_EXACT), "exact");
}

/*
 * The per-rule estimator against look-alikes: 300 people who share ten
 * names (as NexusFlow's customers do), each with their own e-mail and
 * city, and three coincidences of one phone number between two different
 * people.  Blocking on the name and on the phone finds thousands of
 * same-name pairs and the three phone pairs, none a match; one true
 * duplicate (same name, e-mail, phone and city) is added.  The per-rule
 * estimator accepts exactly the duplicate; the estimator over all
 * candidates together takes the phone coincidences for matches (its u of
 * "name differs" among candidates is tiny, so disagreeing on the name
 * weighs for a match).
 */
static void
test_run_lookalikes(void **state)
{
	enum { N = 301 };
	static const struct match_field f[] = {
		{ "name", MATCH_NAME, 0, NULL },
		{ "email", MATCH_EMAIL, 0, NULL },
		{ "phone", MATCH_CODE, 0, NULL },
		{ "city", MATCH_NAME, 0, NULL },
	};
	static const struct match_blocking rules[] = {
		{ 1, { { 0, MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { 2, MATCH_BLOCK_EXACT } }, 0 },
	};
	static const char *const names[] = { "john smith", "jane doe",
	    "bob wilson", "alice johnson", "eve white", "frank miller",
	    "grace lee", "henry davis", "diana prince", "charlie brown" };
	static char buf[N][4][40];
	const char *rec[N * 4];
	struct match_config cfg;
	struct match_result *r;
	struct cc_diag d;
	size_t i, k;

	(void)state;
	for (i = 0; i < N - 1; i++) {
		snprintf(buf[i][0], 40, "%s", names[(i * 7) % 10]);
		snprintf(buf[i][1], 40, "customer%zu@example.com", i);
		/* phones unique but for three coincidences */
		snprintf(buf[i][2], 40, "555%04zu", i < 6 ? i / 2 : 1000 + i);
		snprintf(buf[i][3], 40, "city %zu", (i * 13) % 97);
	}
	memcpy(buf[N - 1], buf[42], sizeof(buf[42]));	/* the duplicate */
	for (i = 0; i < N; i++)
		for (k = 0; k < 4; k++)
			rec[i * 4 + k] = buf[i][k];
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = f;
	cfg.nfields = 4;
	cfg.rules = rules;
	cfg.nrules = 2;
	assert_int_equal(match_run(&cfg, rec, N, &r, &d), CC_OK);
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].i, 42);
	assert_int_equal(r->pairs[0].j, N - 1);
	assert_int_equal(r->rule_pairs[1], 3 + (42 < 6 ? 1 : 0));
	assert_true(r->lambda < 1e-3);
	match_result_free(r);
	cfg.estimator = MATCH_ESTIMATE_CANDIDATES;
	assert_int_equal(match_run(&cfg, rec, N, &r, &d), CC_OK);
	assert_true(r->npairs > 1);		/* the coincidences too */
	match_result_free(r);
}

static void
test_clusters_union_find(void **state)
{
	static const size_t pairs[] = { 1, 2, 4, 3, 0, 1, 6, 5 };
	size_t cl[8], n, rej;

	(void)state;
	/* 0-1-2 chain into one cluster; 3-4; 5-6; 7 alone */
	assert_int_equal(match_clusters(8, pairs, 4, 0, cl, &n, &rej), CC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(rej, 0);
	assert_int_equal(cl[0], 0);
	assert_int_equal(cl[1], 0);
	assert_int_equal(cl[2], 0);
	assert_int_equal(cl[3], 1);
	assert_int_equal(cl[4], 1);
	assert_int_equal(cl[5], 2);
	assert_int_equal(cl[6], 2);
	assert_int_equal(cl[7], 3);
	/* the guard: clusters of at most 2 keep 1-2 and leave 0-1 out */
	assert_int_equal(match_clusters(8, pairs, 4, 2, cl, &n, &rej), CC_OK);
	assert_int_equal(rej, 1);
	assert_int_equal(n, 5);
	assert_int_equal(cl[0], 0);
	assert_int_equal(cl[1], 1);
	assert_int_equal(cl[2], 1);
	/* failure twin: an index out of range */
	assert_int_equal(match_clusters(3, pairs, 4, 0, cl, &n, NULL),
	    CC_EINVAL);
	/* no records, no pairs */
	assert_int_equal(match_clusters(0, NULL, 0, 0, NULL, &n, NULL), CC_OK);
	assert_int_equal(n, 0);
}

/* ---- match_run on generated people ----------------------------------- */

static const char *const given_names[] = {
	"james", "mary", "robert", "patricia", "john", "jennifer", "michael",
	"linda", "david", "elizabeth", "william", "barbara", "richard",
	"susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
	"olivia", "noah", "amelia", "oliver", "isla", "jack", "ava", "leo",
};
static const char *const surnames[] = {
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller",
	"davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez",
	"wilson", "anderson", "taylor", "moore", "jackson", "martin", "lee",
	"perez", "thompson", "white", "harris", "sanchez", "clark", "lewis",
	"robinson", "walker", "young", "allen", "king", "wright", "scott",
};

#define NPEOPLE	300

struct people {
	char	 buf[NPEOPLE * 3][4][24];
	const char *recs[NPEOPLE * 3 * 4];
	int	 who[NPEOPLE * 3];
	size_t	 n;
};

/* Swaps two adjacent letters of s (a typo). */
static void
typo(char *s)
{
	size_t n = strlen(s), i;
	char t;

	if (n < 3)
		return;
	i = 1 + (size_t)(rng() % (n - 2));
	t = s[i];
	s[i] = s[i + 1];
	s[i + 1] = t;
}

/* NPEOPLE people, about half with one or two duplicates carrying typos
 * and missing values (NULL, or blank).  Deterministic. */
static void
make_people(struct people *p)
{
	size_t k, c, copies;
	int y, mo, dd, pc;
	char (*r)[24];

	memset(p, 0, sizeof(*p));
	rng_state = 7;
	for (k = 0; k < NPEOPLE; k++) {
		const char *gn = given_names[rng() % 28];
		const char *sn = surnames[rng() % 34];

		y = 1930 + (int)(rng() % 70);
		mo = 1 + (int)(rng() % 12);
		dd = 1 + (int)(rng() % 28);
		pc = 2000 + (int)(rng() % 40);
		copies = 1 + (rng() % 2 == 0 ? 1 + rng() % 2 : 0);
		for (c = 0; c < copies; c++) {
			r = p->buf[p->n];
			snprintf(r[0], 24, "%s", gn);
			snprintf(r[1], 24, "%s", sn);
			snprintf(r[2], 24, "%04d-%02d-%02d", y, mo, dd);
			snprintf(r[3], 24, "%d", pc);
			p->who[p->n] = (int)k;
			p->recs[p->n * 4 + 0] = r[0];
			p->recs[p->n * 4 + 1] = r[1];
			p->recs[p->n * 4 + 2] = r[2];
			p->recs[p->n * 4 + 3] = r[3];
			if (c > 0) {
				switch (rng() % 4) {
				case 0:
					typo(r[0]);
					break;
				case 1:
					typo(r[1]);
					break;
				case 2:
					p->recs[p->n * 4 + 3] = NULL;
					break;
				default:
					snprintf(r[0], 24, "  ");
					break;
				}
			}
			p->n++;
		}
	}
}

static void
people_config(struct match_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->fields = people_fields;
	cfg->nfields = 4;
	cfg->rules = people_rules;
	cfg->nrules = 3;
}

/* Missing values add nothing: a pair's weight is the sum of the level
 * weights of its present fields, and its gamma says missing. */
static void
test_run_missing_values(void **state)
{
	static struct people p;
	struct match_config cfg;
	struct match_result *res;
	struct cc_diag d;
	const struct match_pair *mp;
	size_t k, f, seen = 0, good = 0;
	double w;
	json_t *js;

	(void)state;
	make_people(&p);
	people_config(&cfg);
	assert_int_equal(match_run(&cfg, p.recs, p.n, &res, &d), CC_OK);
	assert_true(res->npairs > 0);
	for (k = 0; k < res->npairs; k++) {
		mp = &res->pairs[k];
		assert_true(mp->i < mp->j);
		assert_true(mp->probability >= 0.5);
		w = 0;
		for (f = 0; f < 4; f++) {
			if (mp->gamma[f] == MATCH_LEVEL_MISSING)
				continue;
			assert_true(mp->gamma[f] < res->fields[f].nlevels);
			w += res->fields[f].levels[mp->gamma[f]].weight;
		}
		assert_true(fabs(w - mp->weight) < 1e-9);
		if ((p.recs[mp->i * 4 + 3] == NULL ||
		    p.recs[mp->j * 4 + 3] == NULL) ||
		    strcmp(p.recs[mp->i * 4], "  ") == 0 ||
		    strcmp(p.recs[mp->j * 4], "  ") == 0) {
			seen++;
			assert_true(mp->gamma[0] == MATCH_LEVEL_MISSING ||
			    mp->gamma[3] == MATCH_LEVEL_MISSING);
		}
		good += p.who[mp->i] == p.who[mp->j];
	}
	assert_true(seen > 0);		/* pairs with missing values linked */
	assert_true(good * 100 >= res->npairs * 95);
	/* the model's probabilities are distributions */
	for (f = 0; f < 4; f++) {
		double sm = 0, su = 0;

		for (k = 0; k < res->fields[f].nlevels; k++) {
			sm += res->fields[f].levels[k].m;
			su += res->fields[f].levels[k].u;
		}
		assert_true(fabs(sm - 1) < 1e-9 && fabs(su - 1) < 1e-9);
	}
	assert_true(res->fields[0].missing > 0);
	/* the model for reports */
	js = match_result_model_json(res);
	assert_non_null(js);
	assert_int_equal(json_array_size(json_object_get(js, "fields")), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(js, "fields"), 0),
	    "levels"), 2), "label")), "swapped");
	assert_int_equal(json_integer_value(json_object_get(js,
	    "accepted_pairs")), (json_int_t)res->npairs);
	json_decref(js);
	match_result_free(res);
}

/* Without blocking rules every pair is a candidate, and with fewer pairs
 * than the sample, u comes from all of them. */
static void
test_run_all_pairs(void **state)
{
	static struct people p;
	struct match_config cfg;
	struct match_result *res;
	struct cc_diag d;
	size_t n = 80, k, good = 0;

	(void)state;
	make_people(&p);
	people_config(&cfg);
	cfg.nrules = 0;
	assert_int_equal(match_run(&cfg, p.recs, n, &res, &d), CC_OK);
	assert_int_equal(res->candidate_pairs, (long long)(n * (n - 1) / 2));
	assert_int_equal(res->random_pairs, (long long)(n * (n - 1) / 2));
	assert_int_equal(res->truncated, 0);
	for (k = 0; k < res->npairs; k++)
		good += p.who[res->pairs[k].i] == p.who[res->pairs[k].j];
	assert_true(res->npairs > 0);
	assert_true(good * 100 >= res->npairs * 95);
	match_result_free(res);
}

/* Same input, same output, bit for bit. */
static void
test_run_deterministic(void **state)
{
	static struct people p;
	struct match_config cfg;
	struct match_result *a, *b;
	struct cc_diag d;
	size_t k;

	(void)state;
	make_people(&p);
	people_config(&cfg);
	assert_int_equal(match_run(&cfg, p.recs, p.n, &a, &d), CC_OK);
	assert_int_equal(match_run(&cfg, p.recs, p.n, &b, &d), CC_OK);
	assert_int_equal(a->npairs, b->npairs);
	assert_int_equal(a->nclusters, b->nclusters);
	assert_true(a->lambda == b->lambda);
	for (k = 0; k < a->npairs; k++) {
		assert_int_equal(a->pairs[k].i, b->pairs[k].i);
		assert_int_equal(a->pairs[k].j, b->pairs[k].j);
		assert_true(a->pairs[k].weight == b->pairs[k].weight);
		if (k > 0)	/* sorted by (i, j) */
			assert_true(a->pairs[k - 1].i < a->pairs[k].i ||
			    (a->pairs[k - 1].i == a->pairs[k].i &&
			    a->pairs[k - 1].j < a->pairs[k].j));
	}
	assert_memory_equal(a->cluster, b->cluster, p.n * sizeof(size_t));
	match_result_free(a);
	match_result_free(b);
}

static void
test_run_empty_and_one(void **state)
{
	static const char *const one[] = { "anna", "smith", "1980-01-02",
	    "4000" };
	struct match_config cfg;
	struct match_result *res;
	struct cc_diag d;
	json_t *js;

	(void)state;
	people_config(&cfg);
	assert_int_equal(match_run(&cfg, NULL, 0, &res, &d), CC_OK);
	assert_int_equal(res->candidate_pairs, 0);
	assert_int_equal(res->npairs, 0);
	assert_int_equal(res->nclusters, 0);
	js = match_result_model_json(res);
	assert_non_null(js);
	assert_int_equal(json_integer_value(json_object_get(js, "records")),
	    0);
	json_decref(js);
	match_result_free(res);

	assert_int_equal(match_run(&cfg, one, 1, &res, &d), CC_OK);
	assert_int_equal(res->candidate_pairs, 0);
	assert_int_equal(res->npairs, 0);
	assert_int_equal(res->nclusters, 1);
	assert_int_equal(res->cluster[0], 0);
	match_result_free(res);
	match_result_free(NULL);
}

static void
test_run_bad_input(void **state)
{
	static const char *const bad[] = { "anna", ("sm\xff" "ith"),
	    "1980-01-02", "4000" };
	struct match_field fields[4];
	struct match_blocking rule;
	struct match_config cfg;
	struct match_result *res = NULL;
	struct cc_diag d;

	(void)state;
	people_config(&cfg);
	assert_int_equal(match_run(&cfg, bad, 1, &res, &d), CC_EENCODING);
	assert_null(res);
	assert_int_equal(d.line, 1);
	assert_int_equal(d.column, 2);

	memcpy(fields, people_fields, sizeof(fields));
	cfg.fields = fields;
	fields[0].swap_with = "nope";
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	fields[0].swap_with = "dob";		/* dates do not swap */
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	fields[0].swap_with = NULL;
	fields[2].tf_adjust = 1;		/* no tf on dates */
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	fields[2].tf_adjust = 0;
	fields[1].kind = MATCH_KIND__MAX;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	fields[1].kind = MATCH_NAME;

	memset(&rule, 0, sizeof(rule));
	rule.nkeys = 1;
	rule.keys[0].field = 0;
	rule.keys[0].fn = MATCH_BLOCK_YEAR;	/* a name has no year */
	cfg.rules = &rule;
	cfg.nrules = 1;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	rule.keys[0].field = 9;			/* no such field */
	rule.keys[0].fn = MATCH_BLOCK_EXACT;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	rule.nkeys = 0;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);

	people_config(&cfg);
	cfg.threshold_probability = 1.0;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	cfg.threshold_probability = 0;
	cfg.nfields = 0;
	assert_int_equal(match_run(&cfg, bad, 0, &res, &d), CC_EINVAL);
	people_config(&cfg);
	assert_int_equal(match_run(NULL, bad, 0, &res, &d), CC_EINVAL);
	assert_int_equal(match_run(&cfg, NULL, 3, &res, &d), CC_EINVAL);
	assert_int_equal(match_run(&cfg, bad, 0, NULL, &d), CC_EINVAL);
	assert_null(res);
}

/* ---- FEBRL dataset1 -------------------------------------------------- */

/*
 * The FEBRL configuration of tests/bench/match_eval.c, on dataset1 (1,000
 * records, 500 true pairs); precision and recall counted here from
 * dataset1_true_pairs.csv.  Measured: P = R = F1 = 1.000 (README in
 * tests/bench); the floor below leaves room for harmless changes.
 */
#define FEBRL_F1_FLOOR	0.99

static const struct match_field febrl_fields[] = {
	{ "given_name", MATCH_NAME, 1, "surname" },
	{ "surname", MATCH_NAME, 1, "given_name" },
	{ "street_number", MATCH_CODE, 0, NULL },
	{ "address_1", MATCH_TEXT, 0, "address_2" },
	{ "address_2", MATCH_TEXT, 0, "address_1" },
	{ "suburb", MATCH_TEXT, 1, NULL },
	{ "postcode", MATCH_POSTCODE, 0, NULL },
	{ "state", MATCH_CODE, 0, NULL },
	{ "date_of_birth", MATCH_DATE, 0, NULL },
	{ "soc_sec_id", MATCH_CODE, 0, NULL },
};

static const struct match_blocking febrl_rules[] = {
	{ 1, { { 6, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { 1, MATCH_BLOCK_SOUNDEX }, { 8, MATCH_BLOCK_YEAR } }, 0 },
	{ 2, { { 0, MATCH_BLOCK_EXACT }, { 5, MATCH_BLOCK_EXACT } }, 0 },
	{ 1, { { 9, MATCH_BLOCK_EXACT } }, 0 },
	{ 1, { { 8, MATCH_BLOCK_EXACT } }, 0 },
};

static char *
slurp(const char *path)
{
	FILE *fp;
	long n;
	char *s;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s != NULL && fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s != NULL)
		s[n] = '\0';
	fclose(fp);
	return s;
}

/* Splits line on ',' into at most max trimmed fields; returns the count. */
static size_t
split(char *line, char **out, size_t max)
{
	size_t n = 0;
	char *p = line, *e;

	while (p != NULL && n < max) {
		out[n] = p;
		if ((p = strchr(p, ',')) != NULL)
			*p++ = '\0';
		while (*out[n] == ' ')
			out[n]++;
		e = out[n] + strlen(out[n]);
		while (e > out[n] && (e[-1] == ' ' || e[-1] == '\r'))
			*--e = '\0';
		n++;
	}
	return n;
}

static void
test_febrl_dataset1(void **state)
{
	char dir[1024], path[1100], *data, *truth, *line, *next, *f[12];
	const char *env = getenv("CONCORD_SHARED");
	const char **recs;
	char **ids;
	struct match_config cfg;
	struct match_result *res;
	struct cc_diag d;
	size_t nrec = 0, ntrue = 0, tp = 0, k, a, b, n;
	double p, r, f1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/data/entity-resolution/febrl",
	    env != NULL ? env : SRCDIR "/../shared");
	snprintf(path, sizeof(path), "%s/dataset1.csv", dir);
	if ((data = slurp(path)) == NULL) {
		print_message("# %s not found: set CONCORD_SHARED\n", path);
		skip();
	}
	snprintf(path, sizeof(path), "%s/dataset1_true_pairs.csv", dir);
	truth = slurp(path);
	assert_non_null(truth);
	recs = calloc(1000 * 10, sizeof(*recs));
	ids = calloc(1000, sizeof(*ids));
	assert_non_null(recs);
	assert_non_null(ids);
	/* rec_id, given_name, ..., soc_sec_id: 11 columns; "" missing */
	line = strchr(data, '\n') + 1;
	for (; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (split(line, f, 12) != 11)
			continue;
		assert_true(nrec < 1000);
		ids[nrec] = f[0];
		for (k = 0; k < 10; k++)
			recs[nrec * 10 + k] = *f[k + 1] != '\0' ? f[k + 1] :
			    NULL;
		nrec++;
	}
	assert_int_equal(nrec, 1000);

	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = febrl_fields;
	cfg.nfields = 10;
	cfg.rules = febrl_rules;
	cfg.nrules = 5;
	assert_int_equal(match_run(&cfg, recs, nrec, &res, &d), CC_OK);

	/* count accepted pairs listed in the true-pairs file */
	line = strchr(truth, '\n') + 1;
	for (; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (split(line, f, 3) != 2)
			continue;
		ntrue++;
		for (a = 0; a < nrec && strcmp(ids[a], f[0]) != 0; a++)
			continue;
		for (b = 0; b < nrec && strcmp(ids[b], f[1]) != 0; b++)
			continue;
		assert_true(a < nrec && b < nrec);
		if (a > b) {
			n = a;
			a = b;
			b = n;
		}
		for (k = 0; k < res->npairs; k++)
			if (res->pairs[k].i == a && res->pairs[k].j == b) {
				tp++;
				break;
			}
	}
	assert_int_equal(ntrue, 500);
	p = res->npairs ? (double)tp / (double)res->npairs : 0;
	r = (double)tp / (double)ntrue;
	f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
	print_message("# dataset1: %zu accepted, P %.4f R %.4f F1 %.4f\n",
	    res->npairs, p, r, f1);
	assert_true(f1 >= FEBRL_F1_FLOOR);
	match_result_free(res);
	free(recs);
	free(ids);
	free(data);
	free(truth);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jaro_winkler_published),
		cmocka_unit_test(test_jaro_winkler_edges),
		cmocka_unit_test(test_levenshtein),
		cmocka_unit_test(test_soundex_nara),
		cmocka_unit_test(test_blocking_unordered),
		cmocka_unit_test(test_codewords),
		cmocka_unit_test(test_blocking_words),
		cmocka_unit_test(test_compare_levels),
		cmocka_unit_test(test_blocking_each_pair_once),
		cmocka_unit_test(test_em_recovers_m_u),
		cmocka_unit_test(test_clusters_union_find),
		cmocka_unit_test(test_em_hand_worked),
		cmocka_unit_test(test_clusters_constrained),
		cmocka_unit_test(test_compare_exact_kind),
		cmocka_unit_test(test_run_small_file),
		cmocka_unit_test(test_compare_longtext_cosine),
		cmocka_unit_test(test_run_lookalikes),
		cmocka_unit_test(test_run_missing_values),
		cmocka_unit_test(test_run_all_pairs),
		cmocka_unit_test(test_run_deterministic),
		cmocka_unit_test(test_run_empty_and_one),
		cmocka_unit_test(test_run_bad_input),
		cmocka_unit_test(test_febrl_dataset1),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
