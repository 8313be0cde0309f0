/*
 * concord/match.h - probabilistic record linkage (deduplication) of one
 * table: blocking, comparison vectors, Fellegi-Sunter match weights with
 * m and u estimated by EM, a threshold on the posterior match
 * probability, and clusters.
 *
 * The pipeline of match_run():
 *
 *  1. Normalisation.  Every value is case-folded, stripped of accents and
 *     compatibility-mapped (utf8proc: CASEFOLD | STRIPMARK | COMPAT |
 *     LUMP), then shaped by its field kind (enum match_kind).  NULL, and a
 *     value that normalises to nothing, is missing.  A date or number that
 *     does not parse is missing too, and counted (unparsed).
 *
 *  2. Blocking.  Only candidate pairs are compared: pairs of records that
 *     agree on all keys of at least one blocking rule (rules are OR-ed,
 *     keys within a rule AND-ed; a record with a missing key is in no block
 *     of that rule).  A pair found by several rules is kept once, under the
 *     first rule that finds it.  No rule at all means every pair (for small
 *     inputs).  A block of more than max_block_size records is left out
 *     (counted in blocks_skipped: a very common key says little and costs
 *     its square), and each rule adds at most max_pairs / nrules pairs,
 *     its blocks taken smallest first (the blocks past its share are left
 *     out and counted too), so that the pairs grow about linearly with the
 *     records.  At most max_pairs candidates are kept (truncated is set).
 *     Blocking: P. Christen, "Data Matching", Springer 2012, ch. 4.
 *
 *  3. Comparison vector.  For each candidate pair and field, the first
 *     level of the field's kind that holds (levels below, strongest first;
 *     the last level, "else", always holds), or missing when either value
 *     is missing.
 *
 *  4. Model.  Fellegi & Sunter, "A theory for record linkage", JASA
 *     64(328), 1969: with M the matches and U the non-matches among candidates,
 *     m(f, l) = P(level l on field f | M), u(f, l) = P(l | U), fields
 *     conditionally independent given the class.  The match weight of a
 *     pair is sum over fields of log2(m/u) of its levels (a missing field
 *     adds 0).  u starts from the levels of random pairs of records
 *     (almost all of them non-matches), m from fixed start values,
 *     then EM over the candidate pairs estimates lambda = P(M), m and u
 *     (Winkler, "Using the EM algorithm for weight computation in the
 *     Fellegi-Sunter model of record linkage", ASA SRM 1988; Jaro 1989,
 *     JASA 84(406)), with add-one smoothing so that no level has
 *     probability 0 (a level no pair reached shows the ratio of the two
 *     smoothing terms as its weight).  Because the model is fitted on
 *     candidate pairs, a field used for blocking has a high u (the
 *     non-matches of a block agree on it) and so a small agreement
 *     weight: the weights describe candidates, which is what the decision
 *     is about.  fix_u keeps u at its random-pair estimate (then lambda
 *     and u describe different populations: an ablation, not a default).
 *     Optional term-frequency adjustment on exact agreement (Winkler,
 *     "Frequency-based matching in Fellegi-Sunter model of record
 *     linkage", ASA SRM 1989; US Census RR 2000/06): the weight of agreeing on value v gains
 *     log2(sum_w f_w^2 / f_v), f the value's share of the non-missing
 *     values; rare values count more, frequent ones less.
 *
 *  5. Decision.  The posterior match probability of a pair is
 *     P(M | gamma) = 1 / (1 + 2^-(w + log2(lambda / (1 - lambda)))), w its
 *     match weight; pairs with P >= threshold_probability (default 0.5:
 *     more likely a match than not under the fitted model) are accepted.
 *     Nothing is tuned to labels.
 *
 *  6. Clusters.  Connected components (union-find with path halving and
 *     union by size) over the accepted pairs, taken by descending weight;
 *     with max_cluster_size > 0 a pair that would join two clusters into
 *     one larger than that is left out (a guard against chaining).  Every
 *     record gets a cluster id, singletons included, numbered 0.. in the
 *     order of each cluster's first record.
 *
 * Results are deterministic: random pairs come from a fixed-seed
 * generator (splitmix64), ties are broken by record index, and the
 * floating-point sums run in a fixed order.
 *
 * Memory: about 12 bytes per candidate pair (its two records and its
 * pattern), a few bytes per distinct comparison vector, and the
 * normalised values (4 bytes per character); all bounded by max_pairs and
 * the input.
 */
#ifndef CONCORD_MATCH_H
#define CONCORD_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "concord/error.h"

#define MATCH_MAX_FIELDS	64	/* fields per record */
#define MATCH_MAX_LEVELS	8	/* comparison levels per field */
#define MATCH_MAX_KEYS		4	/* keys per blocking rule */
#define MATCH_MAX_RULES		64	/* blocking rules */
#define MATCH_LEVEL_MISSING	0xFF	/* comparison level: value missing */

/* Defaults taken when a struct match_config knob is 0. */
#define MATCH_DEFAULT_THRESHOLD		0.5
#define MATCH_DEFAULT_EM_ITERATIONS	200
#define MATCH_DEFAULT_EM_TOLERANCE	1e-6
#define MATCH_DEFAULT_MAX_PAIRS		5000000LL
#define MATCH_DEFAULT_U_SAMPLE		100000LL
#define MATCH_DEFAULT_MAX_BLOCK		1000	/* records of one block */

/*
 * Field kinds: how values are normalised and which comparison levels they
 * have, strongest first (JW = Jaro-Winkler, Winkler 1990; edits =
 * Levenshtein distance; concord/strsim.h).
 *
 *  MATCH_NAME      letters and digits, apostrophes dropped, other
 *                  characters one space.  exact / JW >= 0.92 / JW >= 0.80
 *                  / else.
 *  MATCH_TEXT      as NAME; adds "same words" (the same words in another
 *                  order).  exact / same words / JW >= 0.92 / JW >= 0.80 /
 *                  else.
 *  MATCH_CODE      letters and digits only (ids, phone numbers, short
 *                  codes).  exact / 1 edit / 2 edits / else.
 *  MATCH_DATE      YYYYMMDD or YYYY-MM-DD (also / or . between parts,
 *                  1- or 2-digit month and day, anything after a 'T' or a
 *                  space ignored); other values are missing and counted as
 *                  unparsed (clean dates first).  exact / day and month
 *                  transposed / 1 edit of the digits YYYYMMDD / years at
 *                  most 1 apart / years at most 10 apart / else (the
 *                  levels of Splink's DateOfBirthComparison, less its
 *                  "within a month": a decade typed wrong is a common
 *                  error of birth dates).
 *  MATCH_NUMBER    a decimal number (strtod, whole value).  exact /
 *                  within 1% / within 10% (of the larger magnitude) /
 *                  else.
 *  MATCH_POSTCODE  letters and digits only.  exact / 1 edit / same first 3
 *                  characters / else.
 *  MATCH_EMAIL     case-folded, spaces removed.  exact / same local part
 *                  (before the last '@') / JW >= 0.88 / else.
 *  MATCH_EXACT     letters and digits only (code-list values, country
 *                  codes, where a near spelling means another value).
 *                  exact / else.
 *  MATCH_CODES     a set of codes, one word each (model or part numbers:
 *                  match_codewords()), normalised as NAME.  exact / the
 *                  same codes in another order / a code in common (or one
 *                  code the start of the other's, both of at least 5
 *                  characters: "DSCH10" and "DSCH10B") / else.
 *  MATCH_LONGTEXT  as NAME (long text: titles, descriptions, author
 *                  lists).  exact / token-set cosine >= 0.9 / >= 0.7 /
 *                  >= 0.5 / else (distinct words, any order; Cohen et
 *                  al., IIWeb 2003).
 *
 * A field with swap_with set gains a level "swapped" (its value agrees
 * with the other field's value of the other record: JW >= 0.92 for the
 * JW kinds, at most 1 edit for CODE and POSTCODE), ranked just above the
 * kind's weakest level before else; for given name and surname, or two
 * address lines, entered the wrong way round.
 */
enum match_kind {
	MATCH_NAME,
	MATCH_TEXT,
	MATCH_CODE,
	MATCH_DATE,
	MATCH_NUMBER,
	MATCH_POSTCODE,
	MATCH_EMAIL,
	MATCH_EXACT,
	MATCH_LONGTEXT,
	MATCH_CODES,
	MATCH_KIND__MAX
};

/* Blocking key functions (of one field's normalised value). */
enum match_block_fn {
	MATCH_BLOCK_EXACT,	/* the whole value (a date: YYYYMMDD) */
	MATCH_BLOCK_FIRST3,	/* its first 3 characters */
	MATCH_BLOCK_SOUNDEX,	/* American Soundex (NARA); no ASCII letter:
				   missing */
	MATCH_BLOCK_YEAR,	/* the year (MATCH_DATE fields only) */
	MATCH_BLOCK_LOCAL,	/* the local part (MATCH_EMAIL fields only) */
	MATCH_BLOCK_CODEWORD,	/* the longest word with letters and digits,
				   or of 4 or more digits: a model or part
				   number in a name (NAME, TEXT, LONGTEXT);
				   none: missing */
	MATCH_BLOCK_WORDS,	/* each word of the value (a CODES field's
				   codes): a record joins one block per word
				   (rules of one key only) */
	MATCH_BLOCK_WORDS5,	/* each word of 5 or more characters, by its
				   first 5 ("WFW8300SWH" meets "WFW8300SW";
				   rules of one key only) */
	MATCH_BLOCK__MAX
};

struct match_field {
	const char	*name;		/* for the model and messages */
	enum match_kind	 kind;
	int		 tf_adjust;	/* 1: term-frequency adjustment on exact
					   agreement (not for DATE, NUMBER) */
	const char	*swap_with;	/* name of another field (not DATE,
					   NUMBER) or NULL; see above */
};

struct match_block_key {
	size_t			field;	/* index into match_config.fields */
	enum match_block_fn	fn;
};

/*
 * One blocking rule: records agree on all nkeys keys (1..MATCH_MAX_KEYS).
 * unordered (nkeys 2 only): the two keys are compared as a set, so that
 * records agree when their keys are equal in either order; for a given
 * name and surname entered the wrong way round ("Rowe Caleb" meets
 * "Caleb Rwoe" on the Soundex codes {C410, R000}).
 */
struct match_blocking {
	size_t			nkeys;
	struct match_block_key	keys[MATCH_MAX_KEYS];
	int			unordered;
};

/*
 * How the model is fitted (step 4).
 *
 *  MATCH_ESTIMATE_RULES       one EM session per blocking rule, over the
 *                             candidates it found and without its own
 *                             fields; m is their average weighted by each
 *                             session's expected matches plus a Dirichlet
 *                             prior of MATCH_PRIOR_MATCHES pseudo-matches
 *                             at the start values; u comes from random
 *                             pairs; lambda is the probability that two
 *                             random records match (the expected
 *                             matches, at least one,
 *                             over all pairs).  A pair's posterior is then
 *                             the same whichever block found it.  The
 *                             default (Splink's way of training, with the
 *                             prior).
 *  MATCH_ESTIMATE_CANDIDATES  one EM over all candidate pairs together,
 *                             m, u and lambda of candidates (fix_u keeps
 *                             u at random pairs): the earlier estimator,
 *                             kept for comparison.  A field used for
 *                             blocking then weighs little when it agrees
 *                             and much when it does not.
 */
enum match_estimator {
	MATCH_ESTIMATE_RULES = 0,
	MATCH_ESTIMATE_CANDIDATES,
};

/* Pseudo-matches of the prior on m (MATCH_ESTIMATE_RULES). */
#define MATCH_PRIOR_MATCHES	10.0

/*
 * What to match and how.  Numeric knobs left at 0 take the default named
 * after them; negative values are invalid.
 */
struct match_config {
	const struct match_field	*fields;	/* 1..MATCH_MAX_FIELDS */
	size_t				 nfields;
	const struct match_blocking	*rules;		/* 0..MATCH_MAX_RULES;
							   0: all pairs */
	size_t				 nrules;
	double	threshold_probability;	/* accept P(M|gamma) >= this, in
					   (0, 1); default 0.5 */
	int	em_iterations;		/* at most; default 200 */
	double	em_tolerance;		/* stop when no parameter moves more;
					   default 1e-6 */
	long long max_pairs;		/* candidate pairs kept, each rule its
					   share; default 5e6 */
	long long u_sample_pairs;	/* random pairs for u's start values
					   (all pairs when there are fewer);
					   default 1e5 */
	uint64_t seed;			/* random pairs' generator (0 is a seed
					   like any other) */
	int	fix_u;			/* 1: u stays at its random-pair value,
					   EM fits lambda and m only */
	size_t	max_cluster_size;	/* chaining guard; 0: none */
	size_t	max_block_size;		/* a block of more records than this
					   is left out (its records meet
					   through the other rules); default
					   MATCH_DEFAULT_MAX_BLOCK */
	enum match_estimator estimator;	/* how m, u and lambda are fitted;
					   default MATCH_ESTIMATE_RULES */
	int	threads;		/* 1: one thread; 0 (default) or more:
					   the comparison vectors of 4,096
					   pairs or more on two threads (the
					   same vectors, the same result) */
};

/* An accepted pair of records (i < j, 0-based). */
struct match_pair {
	size_t			 i, j;
	double			 weight;	/* match weight, bits (log2) */
	double			 probability;	/* posterior P(M | gamma) */
	const unsigned char	*gamma;		/* nfields levels (or
						   MATCH_LEVEL_MISSING);
						   owned by the result */
	size_t			 rule;		/* index of the blocking rule
						   that found it (the first
						   whose blocks hold both; 0
						   with no rules) */
};

struct match_level {
	const char	*label;		/* static, e.g. "exact", "jw>=0.92" */
	double		 m;		/* P(level | match) */
	double		 u;		/* P(level | non-match) */
	double		 u_random;	/* u among random pairs */
	double		 weight;	/* log2(m / u), bits */
	long long	 count;		/* candidate pairs at this level */
};

struct match_field_model {
	char			*name;		/* copy, owned by the result */
	enum match_kind		 kind;
	size_t			 nlevels;	/* last level is "else" */
	struct match_level	 levels[MATCH_MAX_LEVELS];
	long long		 missing;	/* candidate pairs missing it */
	size_t			 unparsed;	/* records whose value did not
						   parse (DATE, NUMBER) */
};

struct match_result {
	size_t			 nrec;
	size_t			 nfields;
	long long		 candidate_pairs;
	long long		 blocks_skipped[MATCH_MAX_RULES]; /* blocks
						   of each rule larger than
						   max_block_size, left out */
	long long		 rule_pairs[MATCH_MAX_RULES]; /* candidates by
						   the rule that found them
						   (a pair once, under the
						   first rule) */
	int			 truncated;	/* max_pairs reached */
	long long		 random_pairs;	/* compared for u */
	size_t			 patterns;	/* distinct comparison vectors */
	double			 lambda;	/* P(M) among candidates */
	double			 threshold_probability;
	double			 threshold_weight; /* the same as a match
						      weight: accepted when
						      weight >= this, bits */
	int			 em_iterations;	/* run */
	int			 em_converged;
	double			 em_loglik;	/* final log-likelihood, nats */
	struct match_field_model *fields;	/* nfields */
	struct match_pair	*pairs;		/* accepted, by (i, j) */
	size_t			 npairs;
	size_t			*cluster;	/* nrec cluster ids */
	size_t			 nclusters;	/* singletons included */
	size_t			 guard_rejected; /* accepted pairs the chaining
						    guard kept apart */
	unsigned char		*gamma_buf;	/* patterns * nfields: the
						   distinct comparison
						   vectors */
	double			*pattern_count;	/* patterns: candidate pairs
						   with each vector */
};

/*
 * Links the records to each other (deduplication).  records is row-major:
 * records[r * cfg->nfields + f] is field f of record r, a NUL-terminated
 * UTF-8 string or NULL (missing); nothing is copied, and the strings are
 * only read during the call.  nrec may be 0 or 1 (no pairs).  On success
 * *out holds the result, freed with match_result_free().
 *
 * Errors: CC_EINVAL (a NULL argument, a bad configuration: no or too many
 * fields, a level or key function that does not fit the kind, a rule with
 * no key, too many rules, an unknown field, a knob out of range),
 * CC_ETOOBIG (nrec above UINT32_MAX - 2, or more than 2^32 characters of
 * normalised values), CC_EENCODING (a value that is not UTF-8; diag->line is
 * the 1-based record, diag->column the 1-based field), CC_ENOMEM.  diag
 * (may be NULL) says why.
 */
cc_err	match_run(const struct match_config *cfg, const char *const *records,
	    size_t nrec, struct match_result **out, struct cc_diag *diag);

/* Frees r and everything it owns (NULL is fine). */
void	match_result_free(struct match_result *r);

/*
 * The fitted model as a new JSON object for reports, with the counts:
 * {"records", "candidate_pairs", "truncated", "random_pairs", "patterns",
 * "lambda", "threshold_probability", "threshold_weight",
 * "em": {"iterations", "converged", "loglik"}, "accepted_pairs",
 * "clusters", "guard_rejected", "fields": [{"name", "kind", "missing",
 * "unparsed", "levels": [{"label", "m", "u", "u_random", "weight",
 * "count"}]}]}.  The caller owns the reference (json_decref).  NULL when
 * out of memory.
 */
json_t	*match_result_model_json(const struct match_result *r);

/*
 * The candidate pairs of blocking alone (step 2 above), to measure or
 * preview a blocking design: *pairs gets 2 * *npairs record indices
 * (i0, j0, i1, j1, ... with i < j), sorted by (i, j), each pair once;
 * the caller frees it with free().  *truncated is set when max_pairs was
 * reached.  Errors as match_run().
 */
cc_err	match_candidates(const struct match_config *cfg,
	    const char *const *records, size_t nrec, size_t **pairs,
	    size_t *npairs, int *truncated, struct cc_diag *diag);

/*
 * The comparison level of two values a and b of one field of kind kind
 * (no swap level): 0 (exact) .. match_kind_nlevels(kind) - 1 (else), or
 * MATCH_LEVEL_MISSING.  Errors: CC_EINVAL (kind out of range, level
 * NULL), CC_EENCODING, CC_ENOMEM.
 */
cc_err	match_compare(enum match_kind kind, const char *a, const char *b,
	    int *level, struct cc_diag *diag);

/*
 * The code words of a text (a product's name and description): its words
 * (split at white space and at , ; ( ) [ ] " and ', a '/' or '-' at a
 * word's end dropped) with the hyphens, dots, slashes and underscores
 * inside them removed, upper-cased, that hold both an ASCII letter and a
 * digit and at least 4 characters, or 6 digits: "KX-TG9361B" gives KXTG9361B, "MB528LL/A"
 * MB528LLA, "010-10823-00" 0101082300 (a word of digits alone needs 6);
 * "2-1/2'", "Series" and "200" give none, and so do quantities with a
 * unit of measure (up to 5 digits and a unit: "5.8GHz", "500GB", "1080p",
 * "4x").  Model and part numbers
 * look like this; so do some specifications ("1080p", "32GB"), which a
 * caller that sees many records may drop by their frequency.
 *
 * text: UTF-8 or NULL (no code).  out: room for outsz bytes (> 0), gets
 * the distinct code words in order of appearance, one space apart,
 * NUL-terminated; words that do not fit are left out.  Returns the number
 * of code words written.  No allocation, no error.
 */
size_t	match_codewords(const char *text, char *out, size_t outsz);

/* Levels of a kind (no swap level), and their static labels; NULL for a
 * level or kind out of range. */
size_t	 match_kind_nlevels(enum match_kind kind);
const char *match_level_label(enum match_kind kind, size_t level);
const char *match_kind_name(enum match_kind kind);	/* "name", ... */

/*
 * EM for the two-class latent model on comparison vectors (step 4), on its
 * own: gamma holds npairs rows of nfields levels (< nlevels[f], or
 * MATCH_LEVEL_MISSING).  m and u are nfields * MATCH_MAX_LEVELS arrays
 * (m[f * MATCH_MAX_LEVELS + l]) holding start values in and estimates
 * out; *lambda likewise.  fix_u keeps u.  *iterations and *converged
 * (may be NULL) report the run.  Errors: CC_EINVAL (bad sizes or levels,
 * start values outside (0, 1)), CC_ENOMEM.
 */
cc_err	match_em(size_t nfields, const size_t *nlevels,
	    const unsigned char *gamma, size_t npairs, int max_iterations,
	    double tolerance, int fix_u, double *lambda, double *m, double *u,
	    int *iterations, int *converged, struct cc_diag *diag);

/*
 * Clusters of nrec records from npairs pairs (pairs[2k], pairs[2k+1]),
 * taken in the given order (put the strongest first): union-find; with
 * max_cluster_size > 0 a pair that would make a cluster larger is skipped
 * and counted in *rejected (may be NULL).  cluster gets nrec ids,
 * 0..*nclusters-1 in the order of each cluster's first record.  Errors:
 * CC_EINVAL (an index >= nrec), CC_ENOMEM.
 */
cc_err	match_clusters(size_t nrec, const size_t *pairs, size_t npairs,
	    size_t max_cluster_size, size_t *cluster, size_t *nclusters,
	    size_t *rejected);

/*
 * Clusters under constraints (the clusters of a run: entity resolution
 * in concord/pipeline.h).  Pairs (pairs[2k], pairs[2k+1]) are taken in the
 * given order (put the ones a person accepted first, then the strongest);
 * a pair is left out, and skipped[k] set to 1 (skipped may be NULL; else
 * npairs bytes, 0 for the pairs taken or already together), when joining
 * its two clusters would put in one cluster
 *  - two different values of a strong key: strong holds nrec * nstrong
 *    values (strong[r * nstrong + s], NULL when record r has none; only
 *    read during the call), compared byte for byte; a cluster carries the
 *    first value any of its records brought; or
 *  - both records of a cannot-link pair (cannot[2c], cannot[2c + 1]: a
 *    pair a person rejected); ncannot is expected to be small (each join
 *    checks every one).
 * cluster gets nrec ids, 0..*nclusters-1 in the order of each cluster's
 * first record.  Transitive: a cluster is a connected component of the
 * pairs taken.  Errors: CC_EINVAL (an index >= nrec, a NULL array with a
 * non-zero count), CC_ENOMEM.
 */
cc_err	match_clusters_constrained(size_t nrec, const size_t *pairs,
	    size_t npairs, const char *const *strong, size_t nstrong,
	    const size_t *cannot, size_t ncannot, size_t *cluster,
	    size_t *nclusters, unsigned char *skipped);

#endif /* CONCORD_MATCH_H */
