/*
 * concord/align.h - key alignment: learn from the data how one system
 * writes another system's key.
 *
 * Two columns of key values are given: the referencing side F ("from",
 * e.g. an ERP customer id "NASAW00011000") and the referenced side T ("to",
 * e.g. the CRM customer key "AW00011000").  align_learn() chooses the rule
 * that maps F values onto T values with the highest one-to-one overlap and
 * reports it with its coverage.  Nothing about a particular data set is
 * built in: affix strings, character offsets and token counts are learned.
 *
 * Rule model.  A rule is a pair of small pipelines, one per side; each
 * turns a key into a canonical join form and two keys join when their
 * canonical forms are equal byte for byte:
 *
 *   canonical(key) = normalise(slice(key))
 *
 * slice (enum align_slice) cuts a substring out of the key:
 *   NONE          the whole key
 *   STRIP_PREFIX  remove the constant prefix `affix` when the key starts
 *                 with it; keys without it pass unchanged ("NASAW00011000"
 *                 and "AW00011000" both give "AW00011000")
 *   STRIP_SUFFIX  the same at the end ("1001-US" -> "1001")
 *   TAKE_CHARS    the first n characters (the whole key if shorter)
 *   TAKE_TOKENS   the first n tokens: everything before the n-th
 *                 separator (the whole key if it has fewer separators);
 *                 "CO-RF-FR-R92B-58", n = 2 -> "CO-RF"
 *   DROP_CHARS    all but the first n characters (nothing if the key has
 *                 n characters or fewer)
 *   DROP_TOKENS   everything after the n-th separator (nothing if the key
 *                 has fewer than n separators); n = 2 -> "FR-R92B-58"
 * Characters are UTF-8 code points (bytes that are not continuation bytes
 * 0x80-0xBF are counted; invalid UTF-8 is cut safely, never past the end).
 * Separators are the bytes - _ . / space and tab; a token is a maximal run
 * between separators (so "A--B" has the tokens "A", "" and "B").  Affixes
 * are compared byte for byte, before normalisation.
 *
 * normalise (enum align_norm):
 *   EXACT     the bytes as they are
 *   CASEFOLD  ASCII letters upper-cased (other bytes unchanged; no
 *             Unicode case folding)
 *   ALNUM     ASCII letters upper-cased and the separators (see above)
 *             and all ASCII white space dropped: "AW-00011000" ->
 *             "AW00011000", "co_rf" -> "CORF"
 *   DIGITS    the ASCII digits only, leading zeros dropped ("ITM_076" ->
 *             "76", "000" -> "0"); a key without digits gives nothing.
 *             The learner only tries it when at least 80 % of the distinct
 *             values of both sides contain a digit.
 * A key whose canonical form is empty ("yields nothing") joins nothing.
 *
 * Learning (align_learn) - evidence-driven candidate generation followed
 * by exact scoring.  It belongs to instance-based schema matching (Rahm
 * and Bernstein, "A survey of approaches to automatic schema matching",
 * VLDB Journal 10(4), 2001: instance-level matchers) and to
 * (approximate) inclusion dependency discovery (Bauckmann et al.,
 * "Efficiently detecting inclusion dependencies", ICDE 2007; De Marchi et
 * al., "Unary and n-ary inclusion dependency discovery in relational
 * databases", JIIS 32, 2009), with the dependency sought under a closed
 * grammar of key transformations instead of plain equality:
 *
 *  1. Both columns are reduced to their distinct non-empty values (NULL
 *     and "" are ignored, duplicates count once), kept in order of first
 *     appearance.  Each side's sample is every k-th distinct value, at
 *     most ALIGN_SAMPLE_MAX of them.
 *  2. Self slices.  For each side, a few slices are read off the side's
 *     own shape (on its sample): none; drop the first 1, 2 or 3 tokens
 *     when at least half of the values have that many separators with
 *     something after them; strip the most frequent leading token with
 *     its separator ("CUST_"), the most frequent leading run of non-digits
 *     before a digit ("AW"), and the most frequent last separator with its
 *     token ("-US"), each when at least half of the values carry it.
 *  3. Index.  For each side, the 64-bit hashes of the canonical forms of
 *     all its distinct values under every (self slice, normalisation) go
 *     into one hash map, each hash to the set of (self slice,
 *     normalisation) pairs that make its form (a form several pairs make
 *     is one entry).  Two forms with one hash (a 64-bit collision) can
 *     only add a vote, never take one away.
 *  4. Votes.  Each sampled F value of at most ALIGN_ENUM_MAXLEN bytes is
 *     cut at every character position both ways: the key itself, the key
 *     without its first i characters, and its first j characters.  Each
 *     piece is normalised and looked up in T's index; a hit under T's
 *     self slice sT supports the pairs (F slice giving the piece, sT): for
 *     the key without its first i characters "strip prefix <them>", "drop
 *     i characters" and, when the cut follows a separator, "drop k
 *     tokens"; for the first j characters "strip suffix <the rest>",
 *     "take k tokens" when a separator follows, and "take j characters"
 *     when the cut falls on a boundary (see "unit" below).  A cut that
 *     does not change the normalised key (dropping "ITM_0" under DIGITS)
 *     supports nothing.  A sampled value votes at most once per pair.  The
 *     same is done with T's sample against F's index (the symmetric
 *     direction: T carries the affix, F does not).
 *  5. Scoring.  The pair (none, none) under every usable normalisation,
 *     and the ALIGN_CAND_MAX most voted pairs (none with fewer than 1 % of
 *     the top pair's votes, nor with a single vote unless a sample has
 *     fewer than 10 values) under each normalisation that voted for them,
 *     are scored exactly on the full distinct sets.  Once a scored pair
 *     passes the guard and meets, one to one, as many values as a pair
 *     can (every F value; or every T value, for a pair whose F slice is
 *     not a TAKE: each of its one-to-one forms holds one T unit), a pair
 *     is scored only when its cost and sides could still rank it first
 *     (see Order), and a pair that cannot meet as many is not scored:
 *     skipping them changes no answer.  When no value of either column has a lower case letter
 *     (for ALNUM: nor a separator or space), CASEFOLD (ALNUM) makes the
 *     EXACT forms: it casts EXACT's votes and a pair scores under it as
 *     under EXACT at a higher cost, so it neither votes nor is scored.  When F has at most an eighth as many distinct values as
 *     T, a pair is scored F first: T's values are only looked up among
 *     F's forms (the counts are the same; the guard's chance test, which
 *     needs all of T's forms, is made only when it decides the guard).
 *  Cost: O(S * L * (L + s)) for the votes (S sampled values, L key
 *  length, s self slices), O(c * (|F| + |T|) * L) for the scoring (c
 *  scored pairs, typically 10 to 40); memory O((|F| + |T|) * s * 4)
 *  hashes.  Measured (gcc -O2, one core of a shared 2-core machine, best
 *  of 10): 18,484 x 18,494 customer keys in 0.10-0.14 s, 60,398 x 18,494
 *  sales lines in 0.04-0.07 s.
 *
 * Scores of a rule, on distinct values:
 *   matched      F values whose canonical form is the canonical form of
 *                some T value;
 *   coverage     matched / from_distinct;
 *   one_to_one   the share of the canonical forms hit by both sides that
 *                come from exactly one F unit and exactly one T unit.  A
 *                unit is a distinct raw value, except that under a TAKE
 *                slice a piece cut on a boundary - at a separator or
 *                where the key changes between letters, digits and other
 *                characters ("CO-RF|-FR", "AW|00011000") - is the unit:
 *                extracting an embedded key from many longer keys is the
 *                rule's purpose.  A piece cut inside a run ("CLI_028|0")
 *                is a truncation and its raw value stays the unit, and so
 *                does every key a normalisation folds: "A1", "B1", "C1"
 *                -> "1" under DIGITS are three units on one form, which
 *                scores 0;
 *   matched_one_to_one  F values matched through one-to-one forms;
 *   cost         simplicity: slice costs none 0, strip prefix/suffix 2,
 *                take/drop tokens 2, take/drop characters 3; normalisation
 *                costs exact 0, casefold 1, alnum 2, digits 5 (the
 *                lossiest); a rule costs its two slices plus its
 *                normalisation.
 *
 * Guard.  A rule is found when one_to_one >= ALIGN_MIN_ONE_TO_ONE,
 * matched >= min(ALIGN_MIN_MATCHED, from_distinct) and coverage >=
 * ALIGN_MIN_COVERAGE; when its forms are dense - their mean length holds
 * fewer than ALIGN_CHANCE_ROOM times as many values as T has forms (10
 * symbols a character under DIGITS, else 36), so that an F value finds a
 * partner by chance - one_to_one must reach ALIGN_DENSE_ONE_TO_ONE
 * ("drop the first 4 characters" of five-digit ids leaves one digit).  F is meant to be the referencing side: learning
 * products -> sales lines (most products never sold) reports the right
 * rule with found = 0.
 *
 * Order (total and deterministic: nothing depends on hash order): rules
 * that pass the guard first; then more matched_one_to_one; then higher
 * coverage; then higher one_to_one (exact fractions); then lower cost;
 * then the fields in declaration order (from slice kind, n, affix by
 * strcmp, normalisation, then the same for to).  Ranking one-to-one
 * matches before raw coverage keeps a folding rule from winning on a
 * handful of extra, ambiguous matches: products -> sales lines under
 * DIGITS "matches" 133 products with one-to-one 0.51, "drop the first 2
 * tokens" 130 with one-to-one 1.
 */
#ifndef CONCORD_ALIGN_H
#define CONCORD_ALIGN_H

#include <stddef.h>

#include <jansson.h>

#include "concord/error.h"

#define ALIGN_AFFIX_MAX		32	/* bytes of an affix, with its NUL */
#define ALIGN_SAMPLE_MAX	2000	/* distinct values cut per side */
#define ALIGN_ENUM_MAXLEN	64	/* longer values are scored, not cut */
#define ALIGN_CAND_MAX		32	/* voted pairs scored in full */
/* The version of align_learn()'s answers: bump it whenever a change to
 * this module can change a learned rule (runs keep rules by it). */
#define ALIGN_RULES_VERSION	2
#define ALIGN_MIN_MATCHED	3	/* guard: matched values (or all) */
#define ALIGN_MIN_COVERAGE	0.5	/* guard: and this coverage */
#define ALIGN_MIN_ONE_TO_ONE	0.5	/* guard: and this one-to-one */
#define ALIGN_CHANCE_ROOM	10.0	/* guard: forms dense below this */
#define ALIGN_DENSE_ONE_TO_ONE	0.9	/* guard: one-to-one when dense */

/* align_match() results that are not an index into `to`. */
#define ALIGN_NOMATCH		(-1LL)	/* no T value has the form */
#define ALIGN_AMBIGUOUS		(-2LL)	/* several distinct T values have it */

enum align_slice {
	ALIGN_SLICE_NONE = 0,
	ALIGN_SLICE_STRIP_PREFIX,	/* affix */
	ALIGN_SLICE_STRIP_SUFFIX,	/* affix */
	ALIGN_SLICE_TAKE_CHARS,		/* n >= 1 */
	ALIGN_SLICE_TAKE_TOKENS,	/* n >= 1 */
	ALIGN_SLICE_DROP_CHARS,		/* n >= 1 */
	ALIGN_SLICE_DROP_TOKENS,	/* n >= 1 */
	ALIGN_SLICE__MAX
};

enum align_norm {
	ALIGN_NORM_EXACT = 0,
	ALIGN_NORM_CASEFOLD,
	ALIGN_NORM_ALNUM,
	ALIGN_NORM_DIGITS,
	ALIGN_NORM__MAX
};

/* One side's pipeline.  affix is NUL-terminated and used by the STRIP
 * kinds only ("" otherwise); n by the TAKE and DROP kinds only (0
 * otherwise).  A zeroed struct is "whole key, exact". */
struct align_side {
	enum align_slice	slice;
	unsigned		n;
	char			affix[ALIGN_AFFIX_MAX];
	enum align_norm		norm;
};

/* A learned rule and its scores (see the top of this file). */
struct align_rule {
	struct align_side	from, to;	/* learned: same norm on both */
	long long		from_distinct;	/* distinct non-empty F values */
	long long		to_distinct;	/* distinct non-empty T values */
	long long		matched;	/* distinct F values matched */
	long long		matched_one_to_one; /* ... via one-to-one forms */
	long long		to_matched;	/* distinct T values matched */
	double			coverage;	/* matched / from_distinct */
	double			one_to_one;	/* 0..1 */
	int			found;		/* 1 if the guard passed */
	char			description[160]; /* for people, UTF-8; cut
						     with "..." if longer */
};

/*
 * Learns the rule that maps the values of `from` onto the values of `to`.
 * from[0..nfrom) and to[0..nto) are NUL-terminated strings the caller
 * owns; they are only read, and only during the call.  NULL and ""
 * entries are ignored; duplicates count once.  Keys of any length are
 * accepted (values longer than ALIGN_ENUM_MAXLEN bytes take part in the
 * scoring only).
 *
 * On CC_OK *out holds the best rule (out->found = 1).  On CC_ENOTFOUND
 * *out holds the best rule that was scored, for the report, with found = 0
 * (when a side has no value at all, only from_distinct and to_distinct are
 * set and the rest is zero).  Reentrant: no global state; all memory is
 * the function's own and freed before it returns.
 *
 * Errors: CC_EINVAL (out NULL, or from/to NULL with a non-zero count);
 * CC_ENOTFOUND (a side is empty, or no rule passes the guard;
 * diag code "align_empty" or "align_no_rule"); CC_ENOMEM.  diag may be
 * NULL.
 */
cc_err	 align_learn(const char *const *from, size_t nfrom,
	     const char *const *to, size_t nto, struct align_rule *out,
	     struct cc_diag *diag);

/*
 * A key column prepared for learning, to be paired with many others:
 * align_learn(a, b) for several b's (or both directions) reads and
 * indexes a's values once instead of once per pair, and answers exactly
 * as align_learn() does.  Opaque.
 */
struct align_column;

/*
 * Prepares the column vals[0..n) (NUL-terminated strings; NULL and ""
 * ignored, duplicates count once): its distinct values, sample and self
 * slices (steps 1 and 2 above); its index (step 3) is built at the first
 * pair that needs it and kept.  The column points into vals' strings,
 * which the caller keeps unchanged until align_column_free().  *out is
 * the caller's.  align_learn_columns() may use a column on several
 * threads at once (the index is built under the column's lock); its
 * creation and align_column_free() may not overlap any other use.
 * Errors: CC_EINVAL (out NULL, or vals NULL with n > 0); CC_ENOMEM.
 */
cc_err	 align_column_new(const char *const *vals, size_t n,
	     struct align_column **out, struct cc_diag *diag);

/* Frees col (NULL is ignored); the strings it points to are the
 * caller's. */
void	 align_column_free(struct align_column *col);

/*
 * align_learn() of the column from onto the column to (both from
 * align_column_new(); they may be the same column): the same *out, the
 * same errors and diag codes (CC_EINVAL also when from or to is NULL).
 * Thread-safe: two threads may learn pairs sharing a column at once.
 */
cc_err	 align_learn_columns(struct align_column *from,
	     struct align_column *to, struct align_rule *out,
	     struct cc_diag *diag);

/*
 * Writes the canonical join form of key under side into out, like
 * snprintf: at most outsize - 1 bytes and a NUL (nothing when outsize is
 * 0).  Returns the full length of the canonical form (> outsize - 1 means
 * truncated); 0 when the key yields nothing (NULL, empty after slicing or
 * normalising).  The canonical form is never longer than the key.
 */
size_t	 align_canon(const struct align_side *side, const char *key,
	     char *out, size_t outsize);

/*
 * Applies rule r: for each from[i], out_index[i] (nfrom entries the caller
 * provides) receives the index in `to` of the first T value whose
 * canonical form equals from[i]'s, ALIGN_AMBIGUOUS when two or more
 * distinct T values have that form, or ALIGN_NOMATCH (also for NULL, ""
 * and keys that yield nothing).  Arguments as for align_learn().
 * Errors: CC_EINVAL, CC_ENOMEM.
 */
cc_err	 align_match(const struct align_rule *r, const char *const *from,
	     size_t nfrom, const char *const *to, size_t nto,
	     long long *out_index, struct cc_diag *diag);

/*
 * Returns a new JSON object (the caller owns the reference) describing r
 * for the run report:
 *   {"from": SIDE, "to": SIDE, "from_distinct": int, "to_distinct": int,
 *    "matched": int, "matched_one_to_one": int, "to_matched": int,
 *    "coverage": real, "one_to_one": real, "found": bool,
 *    "description": string}
 * SIDE = {"slice": "none" | "strip_prefix" | "strip_suffix" |
 *         "take_chars" | "take_tokens" | "drop_chars" | "drop_tokens",
 *         "affix": string or null (STRIP kinds only),
 *         "n": int or null (TAKE and DROP kinds only),
 *         "normalisation": "exact" | "casefold" | "alnum" | "digits"}
 * Returns NULL when r is NULL, holds out-of-range kinds, holds an affix or
 * description that is not valid UTF-8, or memory runs out.
 */
json_t	*align_rule_json(const struct align_rule *r);

/* Static names of the kinds ("strip_prefix", "alnum"); "?" if out of
 * range. */
const char	*align_slice_name(enum align_slice s);
const char	*align_norm_name(enum align_norm n);

#endif /* CONCORD_ALIGN_H */
