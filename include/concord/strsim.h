/*
 * concord/strsim.h - string similarity and phonetic codes for record
 * linkage (concord/match.h): Jaro, Jaro-Winkler, Levenshtein and Soundex.
 *
 * Strings are compared as sequences of Unicode code points (uint32_t),
 * so that "Müller" counts 6 characters, not 7 bytes.  The *_utf8
 * convenience forms decode UTF-8 first (invalid bytes count as U+FFFD);
 * they do no case folding or accent stripping: callers normalise first
 * (match.c does, with utf8proc).
 *
 * At most STRSIM_MAXLEN code points of each string are compared; the rest
 * is ignored.  Field values (names, codes, addresses) are far shorter, and
 * the bound keeps every function free of allocation.
 *
 * Sources:
 *  - Jaro: M. A. Jaro, "Advances in record-linkage methodology as applied
 *    to matching the 1985 census of Tampa, Florida", JASA 84(406), 1989.
 *  - Jaro-Winkler: W. E. Winkler, "String comparator metrics and enhanced
 *    decision rules in the Fellegi-Sunter model of record linkage", Proc.
 *    Section on Survey Research Methods, ASA, 1990 (prefix scale 0.1, at
 *    most 4 prefix characters, applied when the Jaro score exceeds 0.7).
 *  - Levenshtein: V. I. Levenshtein, "Binary codes capable of correcting
 *    deletions, insertions, and reversals", Soviet Physics Doklady 10(8),
 *    1966 (unit costs).
 *  - Soundex: the American Soundex of the US National Archives (NARA),
 *    "The Soundex Indexing System", including its H/W rule.
 */
#ifndef CONCORD_STRSIM_H
#define CONCORD_STRSIM_H

#include <stddef.h>
#include <stdint.h>

#define STRSIM_MAXLEN	256	/* code points compared per string */

/*
 * Jaro similarity in [0, 1] of a (na code points) and b (nb).  Two empty
 * strings are identical (1.0); one empty string gives 0.0.  Characters
 * match when equal and at most max(na, nb) / 2 - 1 positions apart; the
 * score is (m/na + m/nb + (m - t)/m) / 3 with m matches and t half the
 * number of matched characters out of order.
 */
double	strsim_jaro(const uint32_t *a, size_t na, const uint32_t *b,
	    size_t nb);

/*
 * Jaro-Winkler similarity in [0, 1]: j + l * 0.1 * (1 - j), with j the
 * Jaro similarity and l the length of the common prefix (at most 4), when
 * j > 0.7; j otherwise (Winkler 1990).
 */
double	strsim_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b,
	    size_t nb);

/*
 * Levenshtein distance of a and b (insertions, deletions, substitutions,
 * each costing 1), or max + 1 when it exceeds max: pass SIZE_MAX - 1 for
 * the exact distance.  O(na * nb) time at worst, O(nb) stack.
 */
size_t	strsim_levenshtein(const uint32_t *a, size_t na, const uint32_t *b,
	    size_t nb, size_t max);

/*
 * American Soundex (NARA) of the ASCII letters of s (na code points;
 * anything else, including accented letters, is skipped: strip accents
 * first): the first letter upper-cased, then the digits of the next
 * consonants (BFPV 1, CGJKQSXZ 2, DT 3, L 4, MN 5, R 6), adjacent equal
 * digits coded once, also across H and W, while vowels (AEIOUY) separate
 * them; padded with zeros to 4 characters.  Writes 4 characters and a NUL
 * into out (5 bytes).  Returns 1, or 0 (and out = "") when s holds no
 * ASCII letter.  Examples: Robert R163, Tymczak T522, Pfister P236,
 * Ashcraft A261.
 */
int	strsim_soundex(const uint32_t *s, size_t n, char out[5]);

/*
 * Decodes the UTF-8 string s (NUL-terminated) into at most cap code points
 * of out; invalid sequences give U+FFFD.  Returns the number of code
 * points stored (the rest of s, past cap, is ignored).
 */
size_t	strsim_utf8_decode(const char *s, uint32_t *out, size_t cap);

/* The same functions on NUL-terminated UTF-8 strings (see above). */
double	strsim_jaro_utf8(const char *a, const char *b);
double	strsim_jaro_winkler_utf8(const char *a, const char *b);
size_t	strsim_levenshtein_utf8(const char *a, const char *b);
int	strsim_soundex_utf8(const char *s, char out[5]);

#endif /* CONCORD_STRSIM_H */
