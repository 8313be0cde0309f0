/*
 * concord/clean.h - standardisers: pure functions that turn one raw text
 * value of a column into its canonical form (dates, numbers, money,
 * booleans, names, code lists, countries, e-mail, phones, postal codes,
 * keys), with column-level inference where the right reading depends on
 * the whole column (date field order, decimal separator, a timestamp
 * column's hidden UTC offset).
 *
 * Sources: core/clean.c (common steps, text, names, keys, e-mail, phones,
 * postal codes, booleans), core/clean_date.c (dates and timestamps),
 * core/clean_number.c (numbers and money), core/clean_code.c (code lists,
 * code keys, countries, US states); cities are in core/clean.c with the
 * names they share their casing rules with; core/clean_int.h is private.
 *
 * ---------------------------------------------------------------------
 * The common shape
 * ---------------------------------------------------------------------
 *
 *	cc_err clean_X(const char *raw, [const struct clean_X_format *fmt,]
 *	    const struct clean_opts *opt, char *out, size_t outsize,
 *	    struct clean_result *res);
 *
 * raw	 the value as read, NUL-terminated UTF-8; NULL stands for a
 *	 missing value (JSON null, SQL NULL).  Not modified, not kept.
 * fmt	 the column's learned format (dates, numbers), see below.
 * opt	 options; NULL means the defaults of clean_opts_init().
 * out	 caller's buffer of outsize bytes (outsize >= 1); always
 *	 NUL-terminated on return; "" unless res->status is CLEAN_VALUE.
 * res	 the outcome (struct clean_result), always filled.
 *
 * Every function returns CC_OK when it produced an outcome, whatever the
 * outcome: a value that is invalid is data, not an error.  Other returns:
 *	CC_EINVAL	out or res is NULL, outsize is 0, or a format or an
 *			option is out of its documented range;
 *	CC_ETOOBIG	the cleaned value does not fit in outsize bytes
 *			(res->status CLEAN_INVALID, res->issue
 *			CLEAN_ISSUE_VALUE_TOO_LONG, out "");
 *	CC_ENOMEM	clean_text() on non-ASCII text of more than 1,024
 *			code points, or whose decomposed form does not fit in
 *			out before NFC (the one path that allocates);
 *	CC_EIO, CC_EPARSE, CC_ENOMEM	clean_country() when the ISO
 *			3166 reference file cannot be loaded (see clean_init());
 *			res is then CLEAN_INVALID with country_unknown.
 *
 * Outcomes (res->status):
 *	CLEAN_VALUE	out holds the value, cleaned (possibly unchanged).
 *			res->issue may still be set for a kept-but-flagged
 *			value: CLEAN_ISSUE_CODE_UNKNOWN,
 *			CLEAN_ISSUE_PHONE_INCOMPLETE.
 *	CLEAN_NULL	the value is missing: raw was NULL, empty, white
 *			space only, or a null token (see below).  Not an issue.
 *	CLEAN_INVALID	the value cannot be read as the column's type; the
 *			cleaned value is NULL and res->issue says why.
 *
 * Rules (res->rule, res->rules) name the changes made, so that a
 * pipeline can count every change per column and rule: res->rules has
 * the bit CLEAN_RULE_BIT(r) of every rule applied, res->rule is the most
 * specific of them (the highest in enum clean_rule), CLEAN_RULE_NONE when
 * the value came out byte for byte as it went in.
 *
 * Hot path: the standardisers do not allocate (except clean_text() as
 * said above) and read no clock and no file, except the one lazy load of
 * the ISO 3166 file by the first clean_country() call; the locale is read
 * only by strtod() for res->f64.  On one core of the development machine
 * (AMD EPYC, -O2) clean_date runs at about 10 million values a second,
 * clean_number at 2 million, clean_name at 3 million.
 * They are not thread-safe only because of that lazy load: call
 * clean_init() first to use them from several threads.
 *
 * Null tokens.  After trimming, a value equal (ASCII case-insensitive)
 * to one of opt->null_tokens is CLEAN_NULL with rule
 * CLEAN_RULE_NULL_TOKEN.  The default list, clean_null_tokens_default[]:
 *	"null"	  SQL and JSON spelled as text
 *	"none"	  Python's None written out by pandas and csv
 *	"nil"	  Ruby, Lisp, Go
 *	"(null)"  glibc printf("%s", NULL)
 *	"n/a"	  "not applicable", forms and spreadsheets
 *	"#n/a"	  the spreadsheet lookup-failure value
 *	"na"	  R's NA and pandas' na_values
 *	"nan"	  IEEE 754 not-a-number printed by pandas and numpy
 *	"-"	  the placeholder dash of reports
 *	"?"	  the missing-value marker of ARFF/Weka and of surveys
 * "NA" can be a real value (Namibia's ISO 3166 code, "North America"):
 * pass your own list when a column may hold it (opt->null_tokens, with
 * n_null_tokens 0 for none).  clean_country() and clean_state() look a
 * token of letters only up first and only then test the null tokens, so
 * "NA" is Namibia while "n/a" (whose letters fold to "na" too) is null.
 * clean_bool() likewise reads "n" as false before the tokens.
 *
 * Trimming removes, at both ends, ASCII white space, the Unicode
 * White_Space characters (NBSP U+00A0, U+1680, U+2000..U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000, U+0085) and the invisible format
 * characters BOM/ZWNBSP U+FEFF, ZWSP U+200B, ZWNJ U+200C, ZWJ U+200D,
 * WORD JOINER U+2060 and SOFT HYPHEN U+00AD.
 *
 * ---------------------------------------------------------------------
 * Issue codes (enum clean_issue; clean_issue_name() gives the stable
 * snake_case string stored by the pipeline)
 * ---------------------------------------------------------------------
 *	value_too_long		out too small (see CC_ETOOBIG)
 *	text_invalid_utf8	raw is not well-formed UTF-8 (RFC 3629); text,
 *				names, keys, codes
 *	name_invalid		no letter left in a person name ("123", "@@")
 *	date_invalid		not a date or timestamp in any supported form
 *	date_impossible		read, but no such calendar day or time of day
 *				("2023-02-30", "2023-13-01", "25:00")
 *	date_order_unknown	a day/month numeric date ("3/4/2023") in a
 *				column whose field order is unknown
 *	date_order_conflict	a numeric date that is only valid in the other
 *				field order than its column's ("24/7/2023" in
 *				an MDY column)
 *	date_out_of_range	clean_date_check_range(): before min or
 *				after max
 *	date_in_future		clean_date_check_range(): after the
 *				caller's today
 *	date_end_before_start	clean_date_check_order()
 *	number_invalid		not a number in the column's format
 *	number_out_of_range	money beyond int64 minor units, exponent beyond
 *				+-60, more than 64 significant digits, or
 *				more than 64 digits before the point once
 *				written out (10^64 and above)
 *	bool_invalid		not one of the boolean tokens
 *	code_unknown		a code not in its list: kept in its
 *				normalised form (status CLEAN_VALUE) so
 *				that nothing is lost
 *	country_unknown		not an ISO 3166-1 code, name or known alias
 *	state_unknown		not a USPS state or territory code or name
 *	email_invalid		not a practical RFC 5322 addr-spec (see
 *				clean_email)
 *	phone_invalid		not a telephone number
 *	phone_incomplete	too few digits, or no country, for E.164:
 *				the digits are kept (status CLEAN_VALUE),
 *				never padded
 *	postal_invalid		not a postal code of the column's country
 *
 * ---------------------------------------------------------------------
 * Rules (enum clean_rule, clean_rule_name()), from the least specific
 * ---------------------------------------------------------------------
 *	trim, collapse_space, strip_control, strip_invisible, unicode_nfc,
 *	strip_quotes				text steps
 *	null_empty, null_blank, null_token	"" / white space only / token
 *	lower_case, upper_case, title_case	case changes
 *	name_username, name_strip_digits, name_from_email, name_last_first
 *	date_iso (reformatted ISO-like Y-M-D: padding, separators),
 *	date_us_mdy, date_eu_dmy, date_yyyymmdd, date_month_name,
 *	date_two_digit_year, date_epoch, date_serial, date_from_timestamp,
 *	date_local_offset
 *	ts_reformat (separator, zero fraction, case of T/Z, "UTC"),
 *	ts_truncate_fraction, ts_assume_utc, ts_zone_to_utc, ts_from_date
 *	num_canonical (leading/trailing zeros), num_plus_sign, num_thousands,
 *	num_decimal_comma, num_currency, num_parens_negative, num_percent,
 *	num_exponent, money_scale, money_round
 *	bool_token
 *	code_normalise (case and separators only), code_synonym
 *	country_code, country_alpha3, country_name, country_alias
 *	state_code, state_name, city_alias
 *	email_extract, email_lower
 *	phone_extension, phone_e164, phone_digits
 *	postal_format, zip_plus4_hyphen, zip_zero_pad
 */
#ifndef CONCORD_CLEAN_H
#define CONCORD_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "concord/error.h"

/* Output buffer sizes, with the NUL. */
#define CLEAN_DATE_SIZE		11	/* "YYYY-MM-DD" */
#define CLEAN_TIMESTAMP_SIZE	21	/* "YYYY-MM-DDTHH:MM:SSZ" */

/* Default location of the Debian iso-codes package's ISO 3166-1 file. */
#ifndef CLEAN_ISO3166_PATH
#define CLEAN_ISO3166_PATH	"/usr/share/iso-codes/json/iso_3166-1.json"
#endif

enum clean_status {
	CLEAN_VALUE = 0,	/* out holds the cleaned value */
	CLEAN_NULL,		/* missing value (NULL, blank, null token) */
	CLEAN_INVALID		/* unreadable: NULL with res->issue */
};

enum clean_issue {
	CLEAN_ISSUE_NONE = 0,
	CLEAN_ISSUE_VALUE_TOO_LONG,
	CLEAN_ISSUE_TEXT_INVALID_UTF8,
	CLEAN_ISSUE_NAME_INVALID,
	CLEAN_ISSUE_DATE_INVALID,
	CLEAN_ISSUE_DATE_IMPOSSIBLE,
	CLEAN_ISSUE_DATE_ORDER_UNKNOWN,
	CLEAN_ISSUE_DATE_ORDER_CONFLICT,
	CLEAN_ISSUE_DATE_OUT_OF_RANGE,
	CLEAN_ISSUE_DATE_IN_FUTURE,
	CLEAN_ISSUE_DATE_END_BEFORE_START,
	CLEAN_ISSUE_NUMBER_INVALID,
	CLEAN_ISSUE_NUMBER_OUT_OF_RANGE,
	CLEAN_ISSUE_BOOL_INVALID,
	CLEAN_ISSUE_CODE_UNKNOWN,
	CLEAN_ISSUE_COUNTRY_UNKNOWN,
	CLEAN_ISSUE_STATE_UNKNOWN,
	CLEAN_ISSUE_EMAIL_INVALID,
	CLEAN_ISSUE_PHONE_INVALID,
	CLEAN_ISSUE_PHONE_INCOMPLETE,
	CLEAN_ISSUE_POSTAL_INVALID,
	CLEAN_ISSUE__MAX
};

/* In order of specificity: res->rule is the highest one applied. */
enum clean_rule {
	CLEAN_RULE_NONE = 0,
	CLEAN_RULE_TRIM,
	CLEAN_RULE_COLLAPSE_SPACE,
	CLEAN_RULE_STRIP_CONTROL,
	CLEAN_RULE_STRIP_INVISIBLE,
	CLEAN_RULE_UNICODE_NFC,
	CLEAN_RULE_STRIP_QUOTES,
	CLEAN_RULE_NULL_EMPTY,
	CLEAN_RULE_NULL_BLANK,
	CLEAN_RULE_NULL_TOKEN,
	CLEAN_RULE_LOWER_CASE,
	CLEAN_RULE_UPPER_CASE,
	CLEAN_RULE_TITLE_CASE,
	CLEAN_RULE_NAME_USERNAME,
	CLEAN_RULE_NAME_STRIP_DIGITS,
	CLEAN_RULE_NAME_FROM_EMAIL,
	CLEAN_RULE_NAME_LAST_FIRST,
	CLEAN_RULE_DATE_ISO,
	CLEAN_RULE_DATE_US_MDY,
	CLEAN_RULE_DATE_EU_DMY,
	CLEAN_RULE_DATE_YYYYMMDD,
	CLEAN_RULE_DATE_MONTH_NAME,
	CLEAN_RULE_DATE_TWO_DIGIT_YEAR,
	CLEAN_RULE_DATE_EPOCH,
	CLEAN_RULE_DATE_SERIAL,
	CLEAN_RULE_DATE_FROM_TIMESTAMP,
	CLEAN_RULE_DATE_LOCAL_OFFSET,
	CLEAN_RULE_TS_REFORMAT,
	CLEAN_RULE_TS_TRUNCATE_FRACTION,
	CLEAN_RULE_TS_ASSUME_UTC,
	CLEAN_RULE_TS_ZONE_TO_UTC,
	CLEAN_RULE_TS_FROM_DATE,
	CLEAN_RULE_NUM_CANONICAL,
	CLEAN_RULE_NUM_PLUS_SIGN,
	CLEAN_RULE_NUM_THOUSANDS,
	CLEAN_RULE_NUM_DECIMAL_COMMA,
	CLEAN_RULE_NUM_CURRENCY,
	CLEAN_RULE_NUM_PARENS_NEGATIVE,
	CLEAN_RULE_NUM_PERCENT,
	CLEAN_RULE_NUM_EXPONENT,
	CLEAN_RULE_MONEY_SCALE,
	CLEAN_RULE_MONEY_ROUND,
	CLEAN_RULE_BOOL_TOKEN,
	CLEAN_RULE_CODE_NORMALISE,
	CLEAN_RULE_CODE_SYNONYM,
	CLEAN_RULE_COUNTRY_CODE,
	CLEAN_RULE_COUNTRY_ALPHA3,
	CLEAN_RULE_COUNTRY_NAME,
	CLEAN_RULE_COUNTRY_ALIAS,
	CLEAN_RULE_STATE_CODE,
	CLEAN_RULE_STATE_NAME,
	CLEAN_RULE_CITY_ALIAS,
	CLEAN_RULE_EMAIL_EXTRACT,
	CLEAN_RULE_EMAIL_LOWER,
	CLEAN_RULE_PHONE_EXTENSION,
	CLEAN_RULE_PHONE_E164,
	CLEAN_RULE_PHONE_DIGITS,
	CLEAN_RULE_POSTAL_FORMAT,
	CLEAN_RULE_ZIP_PLUS4_HYPHEN,
	CLEAN_RULE_ZIP_ZERO_PAD,
	CLEAN_RULE__MAX			/* at most 64: rules is a uint64_t */
};

#define CLEAN_RULE_BIT(r)	(UINT64_C(1) << (r))

/*
 * The outcome of one standardiser call.  Filled completely by every call
 * (the caller need not clear it).
 */
struct clean_result {
	enum clean_status status;
	enum clean_issue  issue;	/* CLEAN_ISSUE_NONE unless flagged */
	enum clean_rule	  rule;		/* most specific rule applied */
	uint64_t	  rules;	/* CLEAN_RULE_BIT() of every rule */
	size_t		  len;		/* strlen(out) */
	int		  has_i64;	/* i64 holds a value */
	int64_t		  i64;		/* numbers: the integer value when the
					   number is integral and fits;
					   money: the amount in units of
					   10^-max(minor_digits, unit_digits)
					   (cents by default; 10^-4 in runs);
					   booleans: 1 or 0 */
	double		  f64;		/* numbers and money: the value as a
					   double (strtod of out; assumes the
					   "C" LC_NUMERIC); else 0 */
	char		  currency[4];	/* numbers and money: the ISO 4217
					   code of a currency symbol or code
					   in the value ("USD"), or "" */
};

/* Flags of struct clean_opts. */
#define CLEAN_F_PERCENT_FRACTION	0x01u	/* clean_number: "12.5%" is
						   0.125, not 12.5 */
#define CLEAN_F_EMAIL_KEEP_LOCAL_CASE	0x02u	/* clean_email: do not lower-
						   case the local part */
#define CLEAN_F_CODE_COMPACT		0x04u	/* clean_code_key: no spaces */
#define CLEAN_F_KEY_UPPER		0x08u	/* clean_key: upper-case */
#define CLEAN_F_KEY_LOWER		0x10u	/* clean_key: lower-case */
#define CLEAN_F_KEEP_NEWLINES		0x20u	/* clean_text: keep line
						   breaks (as "\n") */

struct clean_opts {
	const char *const *null_tokens;	/* NULL: clean_null_tokens_default */
	size_t		   n_null_tokens; /* entries of null_tokens */
	const char	  *country;	/* default country for phones, postal
					   codes and states: ISO 3166-1
					   alpha-2 ("US"), or NULL for none */
	int		   minor_digits; /* money: digits after the point,
					   0..18 (ISO 4217 minor unit); start
					   from clean_opts_init(): a zeroed
					   struct means 0 digits */
	int		   unit_digits;	/* money: decimals kept (res->i64 in
					   units of 10^-unit_digits), 0..18;
					   0 or less than minor_digits: the
					   same as minor_digits */
	unsigned	   flags;	/* CLEAN_F_* */
};

/* The default null tokens (see above); NULL-terminated for convenience. */
extern const char *const clean_null_tokens_default[];
extern const size_t clean_n_null_tokens_default;

/* Sets the defaults: default null tokens, no country, 2 minor digits,
 * no flags. */
void		 clean_opts_init(struct clean_opts *opt);

/* Static snake_case names; "unknown" for out-of-range values. */
const char	*clean_issue_name(enum clean_issue issue);
const char	*clean_rule_name(enum clean_rule rule);

/*
 * Loads the ISO 3166-1 reference (Debian iso-codes JSON: alpha_2,
 * alpha_3, name, official_name, common_name of every entry) from path,
 * or CLEAN_ISO3166_PATH when path is NULL, and builds the country index
 * with the built-in alias table.  Optional: clean_country() loads the
 * default path on first use.  Calling it again reloads.
 * Errors: CC_EIO (cannot read), CC_EPARSE (not JSON, or not the expected
 * shape), CC_ENOMEM; diag (may be NULL) says which and where.
 */
cc_err		 clean_init(const char *path, struct cc_diag *diag);

/* Frees the reference data; the next clean_country() reloads it. */
void		 clean_free(void);

/* 1 when raw is NULL, empty, white space only or a null token of opt. */
int		 clean_is_null(const char *raw, const struct clean_opts *opt);

/* ------------------------------------------------------------------ */
/* Text                                                               */
/* ------------------------------------------------------------------ */

/*
 * Free text: trims; drops C0/C1 control characters (rule strip_control)
 * and the invisible characters listed above (strip_invisible); turns
 * every run of white space (tab, line breaks, NBSP...) into one space
 * (collapse_space; with CLEAN_F_KEEP_NEWLINES line breaks are kept as
 * "\n" and only horizontal runs are collapsed); normalises to Unicode NFC
 * (UAX #15; utf8proc decompose with UTF8PROC_COMPOSE | UTF8PROC_STABLE,
 * rule unicode_nfc).  Ill-formed UTF-8 is CLEAN_INVALID with
 * text_invalid_utf8 (the reader is where other encodings are converted).
 */
cc_err		 clean_text(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

enum clean_case {
	CLEAN_CASE_LOWER,	/* per code point, utf8proc_tolower() */
	CLEAN_CASE_UPPER,	/* per code point, utf8proc_toupper() */
	CLEAN_CASE_TITLE	/* first letter of each word title case, the
				   rest lower; words split at white space and
				   hyphens (for names use clean_name) */
};

/*
 * Case mapping of the UTF-8 string in (utf8proc_tolower, _toupper,
 * _totitle per code point: ÉMILE -> émile).  Writes out (outsize bytes,
 * NUL-terminated).  Errors: CC_EINVAL (NULL argument, outsize 0),
 * CC_EENCODING (in is not UTF-8), CC_ETOOBIG (out too small).
 */
cc_err		 clean_case(const char *in, enum clean_case c, char *out,
		     size_t outsize);

/*
 * Identifiers and keys: trims, strips matching surrounding quotes ('x',
 * "x", `x`, and pairs nested in them: "'x'"; rule strip_quotes), removes control and
 * invisible characters (BOM, zero-width), turns NBSP and other Unicode
 * spaces inside the key into a plain space (a person sees a space there),
 * and upper- or lower-cases with CLEAN_F_KEY_UPPER / CLEAN_F_KEY_LOWER.
 * No other change: the key-alignment module learns prefixes and padding.
 * The null tokens apply (pass an empty list if "NA" is a key).
 */
cc_err		 clean_key(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/* ------------------------------------------------------------------ */
/* Person names                                                       */
/* ------------------------------------------------------------------ */

/*
 * A full person name, as "First [Middle] Last", after clean_text():
 *  - an e-mail address used as a name keeps its local part
 *    ("alice.johnson@email.com" -> "Alice Johnson"; name_from_email);
 *  - user-name styles are split into words: "_" always, and "." and "-"
 *    in a single all-lower-case token ("jane_doe", "diana.prince",
 *    "frank-miller"; name_username); "Smith-Jones" keeps its hyphen;
 *  - digits are dropped ("henry.davis123"; name_strip_digits);
 *  - "Last, First" becomes "First Last" unless what follows the comma is
 *    a suffix (Jr, Sr, II..VIII, PhD, MD) (name_last_first);
 *  - every word written all upper or all lower case is re-cased
 *    (title_case); words in mixed case are trusted as written ("DeVito",
 *    "McDonald", "van Gogh"):
 *      Mc + capital (McDonald); Mac + capital before one of the
 *      consonants b d f g l m n p r s t v w, for names of 6 letters or
 *      more (so Machado, Mackie, Maczynski stay as they are), with a small
 *      exception table (Macron, Macbeth) and an inclusion table
 *      (MacArthur, MacIntyre, MacInnes...; not Mackenzie, also a given
 *      name): a heuristic, not a rule;
 *      a capital after an apostrophe that follows one letter (O'Brien,
 *      D'Angelo; also U+2019); each part of a hyphenated name
 *      (Smith-Jones); the particles van, von, de, der, den, del, della,
 *      des, da, das, do, dos, di, du, le, la, ter, ten stay lower case
 *      between two words and are capitalised first or last ("Maria de
 *      Souza", "De la Cruz", "John Le"); roman numerals II..VIII stay
 *      upper case; case maps per code point with utf8proc (Müller,
 *      ÉMILE -> Émile).
 * No letter left: CLEAN_INVALID name_invalid.  Values over 1,024 bytes
 * are name_invalid too.
 */
cc_err		 clean_name(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * One part of a name (a first-name or a last-name column): like
 * clean_name() but "-" and "." are kept, there is no e-mail or
 * "Last, First" reading, and a leading particle is capitalised ("VAN DER
 * BERG" -> "Van der Berg").  "_" still becomes a space, digits are dropped.
 */
cc_err		 clean_name_part(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * Splits a full name (cleaned as clean_name()) into first (all words but
 * the last name) and last: the last word, with the particles before it
 * ("Ludwig van Beethoven" -> "Ludwig" / "van Beethoven") and with the
 * word before a trailing suffix ("John Smith Jr." -> "John" / "Smith
 * Jr.").  A single word is a first name; last is then "".  Both buffers
 * are NUL-terminated; res->len is strlen(first).  Errors as above
 * (CC_ETOOBIG when either part does not fit).
 */
cc_err		 clean_name_split(const char *raw, const struct clean_opts *opt,
		     char *first, size_t firstsize, char *last, size_t lastsize,
		     struct clean_result *res);

/*
 * Joins a first and a last name column into "First Last", each part
 * cleaned with clean_name_part(); either may be NULL or blank.  Both
 * missing: CLEAN_NULL.  A part without letters: name_invalid.
 */
cc_err		 clean_name_join(const char *first, const char *last,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/* ------------------------------------------------------------------ */
/* Dates and timestamps                                               */
/* ------------------------------------------------------------------ */

/*
 * Output: dates "YYYY-MM-DD" (ISO 8601 extended calendar date), years
 * 0001..9999; timestamps RFC 3339 in UTC, "YYYY-MM-DDTHH:MM:SSZ", whole
 * seconds: a fraction is dropped (truncated, never rounded into the next
 * second or day; rule ts_truncate_fraction when it was not zero), so
 * that every value of a column has one length and sorts as text.
 *
 * Input forms (white space trimmed; month names in English, any case,
 * full or 3-letter, "Sept" too; a leading weekday name is ignored):
 *	ISO 8601	2023-08-26, 2023-8-6, 2023/08/26, 2023.08.26
 *	numeric D/M	7/24/2023, 24/7/2023, 24.07.2023, 24-07-23: the field
 *			order comes from the column format, never from the
 *			value (see clean_date_infer())
 *	YYYYMMDD	20101229 (ISO 8601 basic format): any other integer is
 *			date_invalid ("0", "32154", "5489") unless the column
 *			is told it holds epochs or serial numbers
 *	month names	12 Jan 2023, 12-JAN-23, January 12, 2023, Jan-12-2023,
 *			Jan 12th 2023, 2023-Jan-12, Thu, 12 Jan 2023
 *	timestamps	any date above, then "T", "t" or white space, then
 *			HH:MM[:SS[.fraction]] [AM|PM] [zone]; zone is Z, z,
 *			UTC, GMT, +-HH:MM, +-HHMM or +-HH (ISO 8601, RFC
 *			3339).  No zone: the time is taken as UTC (rule
 *			ts_assume_utc): the project stores UTC and a missing
 *			zone most often means a UTC export; the caller can
 *			shift a column it knows to be local.  24:00:00 is the
 *			next day's 00:00:00 (ISO 8601); second 60 (a leap
 *			second, RFC 3339) is kept.
 *	epochs		integers (optionally with a fraction) when fmt->ints is
 *			CLEAN_DATE_INT_EPOCH_S or _EPOCH_MS: Unix time
 *	serials		when fmt->ints is CLEAN_DATE_INT_SERIAL_1900:
 *			spreadsheet day numbers of the 1900 date system,
 *			where day 1 is 1900-01-01 and day 60 is the
 *			non-existent 1900-02-29 kept by Lotus 1-2-3 and
 *			Excel (date_impossible); day 61 is 1900-03-01; a
 *			fraction is the time of day
 * Two-digit years: yy < fmt->pivot is 20yy, else 19yy; the default pivot
 * 69 is POSIX strptime("%y"): 69..99 -> 1969..1999, 00..68 -> 2000..2068.
 * Calendar: proleptic Gregorian; Feb 29 only in years divisible by 4 and
 * not by 100 unless by 400.
 */

enum clean_date_order {
	CLEAN_ORDER_UNKNOWN = 0,	/* numeric D/M dates are not read */
	CLEAN_ORDER_MDY,		/* month first (US) */
	CLEAN_ORDER_DMY			/* day first (most of the world) */
};

enum clean_date_int {
	CLEAN_DATE_INT_YYYYMMDD = 0,	/* 8-digit integers only (default) */
	CLEAN_DATE_INT_EPOCH_S,		/* Unix seconds */
	CLEAN_DATE_INT_EPOCH_MS,	/* Unix milliseconds */
	CLEAN_DATE_INT_SERIAL_1900	/* spreadsheet serial day numbers */
};

/* Bits of clean_date_format.forms: the forms seen in a sample. */
#define CLEAN_DATE_FORM_ISO		0x01u	/* Y-M-D */
#define CLEAN_DATE_FORM_NUMERIC		0x02u	/* D/M/Y or M/D/Y */
#define CLEAN_DATE_FORM_YYYYMMDD	0x04u
#define CLEAN_DATE_FORM_MONTH_NAME	0x08u
#define CLEAN_DATE_FORM_TIMESTAMP	0x10u	/* has a time of day */
#define CLEAN_DATE_FORM_EPOCH		0x20u
#define CLEAN_DATE_FORM_SERIAL		0x40u

/*
 * A column's date format: set by clean_date_infer() from a sample, or by
 * clean_date_format_init() and the caller.  The counters and evidence are
 * filled by clean_date_infer() only, for people and logs.
 */
struct clean_date_format {
	enum clean_date_order order;	/* field order of numeric D/M dates */
	double		 confidence;	/* of order, 0..1 */
	enum clean_date_int ints;	/* how integer values are read; never
					   inferred: the caller says */
	int		 pivot;		/* two-digit years, 0..100
					   (default 69) */
	int		 has_local_offset; /* see below */
	int		 local_offset;	/* minutes east of UTC, -720..+840 */
	double		 offset_share;	/* share of zoned timestamps at the
					   learned time of day, 0..1 */
	unsigned	 forms;		/* CLEAN_DATE_FORM_* seen */
	size_t		 n_values;	/* values in the sample */
	size_t		 n_null;	/* of which missing */
	size_t		 n_invalid;	/* of which unreadable in any order */
	size_t		 n_mdy;		/* numeric dates whose second field is
					   > 12: only month-first reads them */
	size_t		 n_dmy;		/* numeric dates whose first field is
					   > 12: only day-first reads them */
	size_t		 n_ambiguous;	/* numeric dates both ways valid */
	size_t		 n_zoned;	/* timestamps with a zone */
	char		 evidence[320];	/* one or two sentences */
};

/* Order UNKNOWN, confidence 0, ints YYYYMMDD, pivot 69, no offset. */
void		 clean_date_format_init(struct clean_date_format *fmt);

/*
 * Learns a column's date format from a sample of its raw values (values:
 * n pointers, NULL entries are missing values; not kept).
 *
 * Field order: a numeric date whose first field is > 12 (and second
 * <= 12) proves day-first; one whose second field is > 12 proves
 * month-first; the order with more proofs wins, with confidence
 * (wins + 1) / (wins + losses + 2) (Laplace's rule of succession).  A
 * column whose numeric dates are all ambiguous (both fields <= 12) gets
 * MDY with confidence 0.5 (the seed systems are US systems; set
 * out->order to override); a column without numeric dates keeps
 * CLEAN_ORDER_UNKNOWN (confidence 0).
 *
 * Local-midnight offset: when at least 5 timestamps carry a zone, and at
 * least 95% of them sit at one UTC time of day t other than 00:00 with
 * zero seconds, and t is a whole quarter hour, the column is taken to
 * hold local midnights stored as UTC: has_local_offset is set and
 * local_offset is -t when t <= 12:00 (zones west of UTC) and 24:00 - t
 * otherwise (east: 18:30 -> +05:30 = 330).  clean_date() then returns
 * the local calendar date of zoned timestamps (2023-06-01T18:30:00.000Z
 * -> 2023-06-02).  The offset is learned from the data, never assumed.
 *
 * out->ints and out->pivot are kept as the caller set them (call
 * clean_date_format_init() first); everything else is overwritten.
 * Runs at about 15 million values a second.
 * Errors: CC_EINVAL (out NULL, values NULL with n > 0, or the caller's
 * ints or pivot out of range).
 */
cc_err		 clean_date_infer(const char *const *values, size_t n,
		     struct clean_date_format *out);

/*
 * A date: writes "YYYY-MM-DD" (outsize >= CLEAN_DATE_SIZE for every
 * value to fit).  fmt NULL reads like clean_date_format_init()'s format,
 * that is, numeric D/M dates are date_order_unknown.  A timestamp gives
 * its date as written (date_from_timestamp), or with a learned
 * local offset the local date of the instant (date_local_offset).
 * Issues: date_invalid, date_impossible, date_order_unknown,
 * date_order_conflict.  opt: only its null tokens are used.
 * Errors (beside the common ones): CC_EINVAL when fmt's order, ints,
 * pivot or local_offset is out of range.
 */
cc_err		 clean_date(const char *raw,
		     const struct clean_date_format *fmt,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/*
 * A timestamp: writes "YYYY-MM-DDTHH:MM:SSZ" in UTC (outsize >=
 * CLEAN_TIMESTAMP_SIZE), converting zones (ts_zone_to_utc); a date
 * alone is its midnight UTC (ts_from_date).  The learned local offset is
 * not applied: the instant is right as stored.  Issues as clean_date().
 */
cc_err		 clean_timestamp(const char *raw,
		     const struct clean_date_format *fmt,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/*
 * Plausibility of a cleaned date or timestamp (the outputs above).  value
 * NULL: nothing to check (CLEAN_ISSUE_NONE).  min, max and today may be
 * NULL (no bound); today is the caller's current date: nothing here reads
 * a clock.  Timestamps and dates compare on their dates when one side is
 * a date.  *issue: date_in_future when value is after today (checked
 * first), else date_out_of_range when before min or after max, else none.
 * Errors: CC_EINVAL (issue NULL, or a string that is not a canonical
 * date or timestamp).
 */
cc_err		 clean_date_check_range(const char *value, const char *min,
		     const char *max, const char *today,
		     enum clean_issue *issue);

/*
 * End not before start (cleaned dates or timestamps; either NULL: no
 * check): *issue date_end_before_start or none.  Errors: CC_EINVAL.
 */
cc_err		 clean_date_check_order(const char *start, const char *end,
		     enum clean_issue *issue);

/* ------------------------------------------------------------------ */
/* Numbers and money                                                  */
/* ------------------------------------------------------------------ */

/*
 * A column's number format.  decimal is '.' or ','; group is the other
 * one.  White space (also NBSP U+00A0, U+202F, U+2009) and the apostrophe
 * (Swiss 1'234.50) are always accepted as group separators, and every
 * group separator must stand between groups of exactly three digits.
 */
struct clean_number_format {
	char		 decimal;	/* '.' or ',' */
	char		 group;		/* ',' or '.' */
	double		 confidence;	/* of decimal, 0..1 */
	size_t		 n_values, n_null;
	size_t		 n_dot;		/* values only '.'-as-decimal reads */
	size_t		 n_comma;	/* values only ','-as-decimal reads */
	size_t		 n_ambiguous;	/* "1,234": a group or a decimal */
	char		 evidence[256];
};

/* decimal '.', group ',', confidence 0. */
void		 clean_number_format_init(struct clean_number_format *fmt);

/*
 * Learns the decimal separator from a sample (as clean_date_infer()):
 * a value with both '.' and ',' has its decimal separator last
 * ("1.234,56"); a separator that occurs twice is a group separator
 * ("1,234,567"); one separator followed by other than exactly 3 digits,
 * or after a lone 0, is a decimal separator ("381.29", "0,5", "0,125");
 * "1,234" proves nothing.  More proofs win, with
 * confidence (wins + 1) / (wins + losses + 2); none: '.', 0.5.
 * Errors: CC_EINVAL.
 */
cc_err		 clean_number_infer(const char *const *values, size_t n,
		     struct clean_number_format *out);

/*
 * A number, written as a canonical decimal: optional "-", no leading
 * zeros, no exponent, no trailing fractional zeros ("0012.50" -> "12.5",
 * "-0" -> "0").  Accepted around it: a currency symbol ($ US$ C$ A$ R$
 * € £ ¥ ₹ ₩ ₽ ₺ ₫ ₪ ₱ ₦; a bare "$" is taken as USD) or ISO 4217 code
 * (USD, EUR... from a built-in table of 27, any case) before or after,
 * with or without space (res->currency, num_currency);
 * a leading "-", U+2212 or "+" (num_plus_sign); parentheses for negatives
 * ("(123.45)" -> "-123.45", one pair); a trailing "%" (num_percent: the
 * value stays in percent unless CLEAN_F_PERCENT_FRACTION, then "12.5%" ->
 * "0.125", shifted in decimal text, exactly); scientific notation
 * ("1.5e3" -> "1500", exponent -60..60, num_exponent).  The digits are
 * handled as text: no binary rounding.  res->f64 is the value; res->i64
 * too when it is an integer that fits int64 (has_i64).  fmt NULL: '.'
 * decimal.  Issues: number_invalid ("abc", "1.2.3", "$-", "((5))"),
 * number_out_of_range (exponent, or more than 64 digits).  "$-" (the
 * spreadsheet accounting format's zero) is not read as 0: invalid.
 * Errors: CC_EINVAL when fmt's separators are not '.'/',' (group also
 * ' ' or '\'') or are equal.
 */
cc_err		 clean_number(const char *raw,
		     const struct clean_number_format *fmt,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/*
 * An amount of money, read like clean_number() (no percent), kept to
 * u = max(opt->minor_digits, opt->unit_digits) decimals and written with
 * at least opt->minor_digits digits after the point and every further
 * non-zero digit up to u ("3578" -> "3578.00", "10.5" -> "10.50";
 * money_scale when digits were added).  More digits than u are rounded
 * half away from zero (commercial rounding; money_round): with u = 2,
 * "1.005" -> "1.01"; with minor_digits 2 and unit_digits 4, "0.001" ->
 * "0.001" (res->i64 = 10) and "1.00005" -> "1.0001" (money_round).
 * Computed in int64 units of 10^-u (res->i64), never through a double.
 * Issues: number_invalid (also a percent), number_out_of_range (beyond
 * int64).  Errors: as clean_number(), and CC_EINVAL when
 * opt->minor_digits or opt->unit_digits is not 0..18.
 */
cc_err		 clean_money(const char *raw,
		     const struct clean_number_format *fmt,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/*
 * A boolean: true/false, t/f, yes/no, y/n, on/off, 1/0 (also 1.0/0.0),
 * any case, trimmed -> "true" / "false" (res->i64 1 / 0; bool_token when
 * the text changed).  Issue: bool_invalid.
 */
cc_err		 clean_bool(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/* ------------------------------------------------------------------ */
/* Code lists                                                         */
/* ------------------------------------------------------------------ */

/*
 * Code lists, matched on a key of lower-case letters and digits only
 * (case, spaces, "-", "_", "." and "/" do not matter: IN_TRANSIT,
 * In Transit, in-transit and intransit are one).  Outputs:
 *	GENDER	HL7 v2 table 0001 (Administrative Sex): "M", "F", "O"
 *		(other), "U" (unknown), "A" (ambiguous), "N" (not
 *		applicable); ISO/IEC 5218 digits 0, 1, 2, 9 are read too
 *	MARITAL	HL7 v2 table 0002 (Marital Status): "M" married, "S"
 *		single, "D" divorced, "W" widowed, "A" separated, "P"
 *		domestic partner, "U" unknown
 *	CUSTOMER_STATUS	active, inactive, pending, suspended, closed
 *	ORDER_STATUS	pending, processing, shipped, in_transit, delivered,
 *		cancelled, returned, completed, failed, refunded, on_hold
 *		(also for payment and delivery statuses)
 *	PAYMENT_METHOD	credit_card, debit_card, bank_transfer, paypal, cash,
 *		cheque, gift_card, cash_on_delivery
 *	GENERIC	no list: lower snake case only
 * A value not in the list is kept as lower snake case (runs of anything
 * but letters and digits become one "_"; "&" is the word "and", as in
 * the matching key: "R&D" -> "r_and_d") with issue code_unknown, status
 * CLEAN_VALUE.  Rules: code_normalise (only case or separators changed),
 * code_synonym (another spelling: "Male" -> "M", "canceled" ->
 * "cancelled").  Blank and null tokens are CLEAN_NULL, never unknown.
 */
enum clean_codelist {
	CLEAN_CODES_GENERIC = 0,
	CLEAN_CODES_GENDER,
	CLEAN_CODES_MARITAL,
	CLEAN_CODES_CUSTOMER_STATUS,
	CLEAN_CODES_ORDER_STATUS,
	CLEAN_CODES_PAYMENT_METHOD,
	CLEAN_CODES__MAX
};

cc_err		 clean_code(const char *raw, enum clean_codelist list,
		     const struct clean_opts *opt, char *out, size_t outsize,
		     struct clean_result *res);

/* The list's configuration name ("gender", "marital_status",
 * "customer_status", "order_status", "payment_method", "generic"), and
 * back.  clean_codelist_by_name: CC_ENOTFOUND for other names. */
const char	*clean_codelist_name(enum clean_codelist list);
cc_err		 clean_codelist_by_name(const char *name,
		     enum clean_codelist *list);

/*
 * A code key for free-form codes (brands, product lines, categories),
 * so that spellings of one code collapse: upper case (per code point),
 * words of letters and digits separated by one space, "&" read as
 * "AND", apostrophes dropped; a word boundary is any other character and
 * a single capital ending a lower-case word ("BrandA").  BRAND-C, brand_b,
 * Brand D, BrandA, brandE -> "BRAND C", "BRAND B", "BRAND D", "BRAND A",
 * "BRAND E"; "R " -> "R".  "BRANDA" has no boundary to find and stays
 * "BRANDA": with CLEAN_F_CODE_COMPACT the spaces are dropped too ("BRANDA"
 * for all spellings), for grouping keys.  Rules: upper_case, code_normalise.
 */
cc_err		 clean_code_key(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/* ------------------------------------------------------------------ */
/* Places                                                             */
/* ------------------------------------------------------------------ */

/*
 * A country as its ISO 3166-1 alpha-2 code ("US").  Matched case-,
 * accent- and punctuation-insensitively (utf8proc case fold and mark
 * stripping, then letters and digits only; "&" reads "and") against the
 * iso-codes alpha_2 (country_code), alpha_3 (country_alpha3), name,
 * official_name and common_name (country_name) and a built-in alias
 * table (country_alias): U.S.A., America, UK, Great Britain, Britain,
 * England, Scotland, Wales, Northern Ireland (constituent countries of
 * GB, ISO 3166-2:GB), Deutschland, Holland, Russia, Turkey, Ivory Coast,
 * Burma, endonyms (España, Österreich, Schweiz, Nederland...), the EU's
 * "EL" for Greece, and the like.  Loads the reference on first use (see
 * clean_init()).  Issue: country_unknown.
 */
cc_err		 clean_country(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * A US state, district or territory as its USPS code (USPS Publication
 * 28, appendix B): "New York" -> "NY" (state_name), "ny" -> "NY"
 * (state_code), also DC, PR, GU, VI, AS, MP, FM, MH, PW and the military
 * AA, AE, AP.  When opt->country is set and not "US", the value is only
 * cleaned as text.  Issue: state_unknown.
 */
cc_err		 clean_state(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * A city: "_" read as a space, then words re-cased as in clean_name()
 * ("new_york" -> "New York", "philadelphia" -> "Philadelphia", "rio de
 * janeiro" -> "Rio de Janeiro").  A small alias table for common
 * abbreviations is a documented convenience, not a gazetteer: NYC, New
 * York City -> New York; LA -> Los Angeles; SF -> San Francisco; Philly
 * -> Philadelphia; Vegas -> Las Vegas (city_alias).  A value without
 * letters is kept as cleaned text; digits are kept (unlike names).
 */
cc_err		 clean_city(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/* ------------------------------------------------------------------ */
/* Contacts                                                           */
/* ------------------------------------------------------------------ */

/*
 * An e-mail address.  "mailto:" and a display name with angle brackets
 * ("Jane <jane@x.org>") are removed (email_extract).  The domain is
 * lower-cased (DNS names are case-insensitive, RFC 4343); so is the local
 * part (email_lower), unless CLEAN_F_EMAIL_KEEP_LOCAL_CASE: RFC 5321 2.4
 * lets a host treat it as case-sensitive, but in practice providers do
 * not, and matching needs one case.  Valid is a practical subset of the
 * RFC 5322 addr-spec: one "@"; a dot-atom local part of at most 64
 * characters (atext: letters, digits and !#$%&'*+/=?^_`{|}~-, dots not
 * first, last or doubled); a domain of at most 253 characters with at
 * least two labels of letters, digits and inner hyphens, 1..63 each, the
 * last not all digits; at most 254 characters in all (RFC 5321 4.5.3.1).
 * Quoted local parts, comments, IP-literal domains and non-ASCII (RFC
 * 6531) addresses are email_invalid.
 */
cc_err		 clean_email(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * A telephone number in E.164 form ("+15555844439"), with an extension
 * as in RFC 3966 (";ext=123"; phone_extension) when the value ends with
 * "x123", "ext 123", "ext. 123", "extension 123", "#123" or ";ext=123"
 * (so that a cleaned number reads back as itself).  Accepted
 * punctuation: spaces, "-", ".", "/", "(", ")".  A leading "+" or "00"
 * (also "011" for NANP countries) starts an international number (8..15
 * digits, ITU-T E.164).  Otherwise the country is opt->country, looked up
 * in a built-in table of calling codes, trunk prefixes and national
 * number lengths (ITU-T E.164 assignments; US, CA and the NANP: 10
 * digits, or 11 starting with the trunk 1).  Fewer digits than the
 * country's shortest number (US 555-4748), or no country for a national
 * number: the digits are kept ("5554748", phone_digits) with issue
 * phone_incomplete, never padded.  Letters, more digits than the country
 * allows, over 15 digits, or under 4: phone_invalid.  NANP area and
 * exchange code rules (no leading 0 or 1) are not checked: test data
 * breaks them.
 */
cc_err		 clean_phone(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

/*
 * A postal code for opt->country.  US: ZIP "44794" or ZIP+4 "46867-5820"
 * (^[0-9]{5}(-[0-9]{4})?$); 9 digits get their hyphen (zip_plus4_hyphen);
 * 3 or 4 digits had their leading zeros eaten by a spreadsheet and get
 * them back ("2134" -> "02134", zip_zero_pad; Puerto Rico's 006xx lose
 * two; the lowest ZIP is 00501); anything else postal_invalid.  DE, FR,
 * IT, ES, FI, MX (5 digits) and AT, AU, BE, CH, DK, NO, NZ, ZA (4 digits)
 * likewise validate and zero-pad.  GB and CA: upper case with one space
 * before the last 3 characters ("sw1a1aa" -> "SW1A 1AA"), NL: "1234AB" ->
 * "1234 AB" (postal_format).  Other
 * countries and no country (NULL): upper-case letters, digits, single
 * spaces and hyphens, 2..10 characters, else postal_invalid; nothing is
 * padded without a country.
 */
cc_err		 clean_postal(const char *raw, const struct clean_opts *opt,
		     char *out, size_t outsize, struct clean_result *res);

#endif /* CONCORD_CLEAN_H */
