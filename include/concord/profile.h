/*
 * concord/profile.h - column profiles of a source: inferred type, null and
 * blank counts, distinct count (exact up to a bound, estimated above),
 * min/max, most frequent values and examples.
 *
 * One streaming pass over a source (see concord/source.h) with memory
 * bounded per column, whatever the number of rows:
 *  - distinct values and their counts are kept exactly in a hash table up
 *    to PROFILE_EXACT_DISTINCT values or PROFILE_EXACT_BYTES bytes of
 *    values; beyond, the distinct count is a HyperLogLog estimate
 *    (Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis of a
 *    near-optimal cardinality estimation algorithm", AofA 2007; precision
 *    PROFILE_HLL_PRECISION, standard error 1.04 / sqrt(2^14) = 0.8%) and
 *    the most frequent values come from Space-Saving (Metwally, Agrawal,
 *    El Abbadi, "Efficient computation of frequent and top-k elements in
 *    data streams", ICDT 2005) with PROFILE_TOP_COUNTERS counters;
 *  - the histogram of a numeric column is built from a uniform sample of
 *    PROFILE_SAMPLE values (Vitter's Algorithm R, fixed seed, so a profile
 *    is reproducible), over the exact minimum and maximum.
 */
#ifndef CONCORD_PROFILE_H
#define CONCORD_PROFILE_H

#include <jansson.h>

#include "concord/error.h"
#include "concord/source.h"

/* The share of a column's values that must be numbers for it to be typed
 * integer, decimal or money (the others, at most 1 in 100, are values
 * the cleaner reports; more means a code with letters: text). */
#define PROFILE_NUMERIC_SHARE	0.99


#define PROFILE_EXACT_DISTINCT	100000	/* distinct values counted exactly */
#define PROFILE_EXACT_BYTES	(8UL * 1024 * 1024) /* ... and their bytes */
#define PROFILE_HLL_PRECISION	14	/* 2^14 HyperLogLog registers */
#define PROFILE_TOP_COUNTERS	1000	/* Space-Saving counters */
#define PROFILE_TOP		10	/* most frequent values reported */
#define PROFILE_EXAMPLES	5	/* examples reported */
#define PROFILE_SAMPLE		10000	/* reservoir for the histogram */
#define PROFILE_BINS		10	/* histogram bins */

/* Types a column (or one value) can have. */
enum profile_type {
	PROFILE_TYPE_EMPTY = 0,	/* no value, or only white space */
	PROFILE_TYPE_INTEGER,	/* -12, 0, 20101229 (no leading zero: "007"
				   is text, a code) */
	PROFILE_TYPE_DECIMAL,	/* 12.50, -.5, 1e3, and every number
				   clean_number() reads: 1,234.56, 1.234,56,
				   (123.45), 12.5% */
	PROFILE_TYPE_BOOLEAN,	/* true false yes no y n, any case */
	PROFILE_TYPE_DATE,	/* 2023-08-26, 2023/08/26, 7/24/2023 (US:
				   month first), 24.07.2023 (day first), and
				   every date clean_date() reads month-first
				   or day-first: 1 Jun 2024, 13/09/2024,
				   Jun 1, 2024, 5/6/23 */
	PROFILE_TYPE_TIMESTAMP,	/* ISO 8601 date, 'T' or ' ', hh:mm[:ss[.f]],
				   optional Z or +hh[:mm] */
	PROFILE_TYPE_EMAIL,	/* local@domain.tld */
	PROFILE_TYPE_MONEY,	/* a number with a currency: $29.95, USD 29.95,
				   29,95 EUR (a column of numbers of which
				   some carry one is money: 450.00, $29.95) */
	PROFILE_TYPE_TEXT,	/* anything else */
	PROFILE_TYPE__MAX
};

/* "integer", "decimal", ... as used in profiles; "text" if out of range. */
const char		*profile_type_name(enum profile_type t);

/*
 * The type of one value s[0, len) (need not be NUL-terminated), ignoring
 * leading and trailing ASCII white space.  "0" and "1" are integers;
 * dates must exist (2023-02-30 is text); an 8-digit number such as
 * 20101229 is an integer, not a date (as are epochs and spreadsheet
 * serials: the cleaners read integers as dates only when a column's
 * format says so).  Beyond the fast forms above, a value is recognised
 * by the cleaners themselves (clean_number(), clean_date(),
 * clean_timestamp() of concord/clean.h), so that the profile and the
 * stage phase agree on what is a number, money or a date.
 */
enum profile_type	 profile_classify(const char *s, size_t len);

/*
 * Profiles every column of the source at path (dialect *d, usually from
 * source_sniff()) in one streaming pass, checking the whole file on the
 * way.  On success *out is a new JSON object the caller must json_decref():
 *
 *  {"rows": N, "ragged_rows": n (CSV only), "columns": [{
 *    "ordinal": 1, "name": "...",
 *    "type": "integer|decimal|money|boolean|date|timestamp|email|text|empty",
 *    "type_confidence": share of the non-null, non-blank values that
 *        match the type (1 for text and empty), 4 decimals,
 *    "nulls": JSON null, missing key or empty string,
 *    "blanks": white space only,
 *    "distinct": distinct non-null values (blanks included),
 *    "distinct_exact": false when estimated,
 *    "min", "max": for integer and decimal numeric order, for date and
 *        timestamp chronological order (dates count as midnight in a
 *        timestamp column; a time without an offset as UTC), among the
 *        values of that type; otherwise code-point order among the
 *        non-blank values; the value as written; null if none,
 *    "min_length", "max_length": in characters, of non-null values; null
 *        if none,
 *    "top": [{"value": "...", "count": n}, ...] up to PROFILE_TOP, most
 *        frequent first, ties in code-point order of the value,
 *    "top_exact": false when the values come from Space-Saving; each
 *        count is then a lower bound (the counter minus its error, so a
 *        column of unique values shows counts of 1) and the true count
 *        exceeds it by at most rows / PROFILE_TOP_COUNTERS,
 *    "examples": up to PROFILE_EXAMPLES distinct non-blank values in order
 *        of first appearance,
 *    "histogram" (integer and decimal only): {"sampled": bool,
 *        "sample_size": n, "bins": [{"lo": x, "hi": y, "count": n}, ...]}
 *        PROFILE_BINS bins of equal width from min to max, the last one
 *        closed (a single bin when min equals max); counts are of the
 *        sample when sampled is true, of all numeric values otherwise
 *  }, ...]}
 *
 * Type: the first of integer, decimal, boolean, date, timestamp, email
 * matched by the largest share of the non-null, non-blank values, if that
 * share is at least one half; otherwise text.  Every integer is a decimal;
 * 0 and 1 count as booleans in a column that also holds true/false/yes/no
 * words; dates count as timestamps in a column that holds timestamps.
 *
 * Returns CC_OK; CC_EINVAL for a NULL argument; CC_ENOMEM; and whatever
 * source_open() and source_next() return for the file (CC_EIO, CC_EPARSE,
 * CC_EENCODING, CC_ETOOBIG) with diag at the first problem.
 */
cc_err			 profile_source(const char *path,
			    const struct source_dialect *d, json_t **out,
			    struct cc_diag *diag);

#endif /* CONCORD_PROFILE_H */
