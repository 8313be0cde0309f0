/* strsim.c - Jaro, Jaro-Winkler, Levenshtein, Soundex (concord/strsim.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

#include "concord/strsim.h"

#define WINKLER_PREFIX_MAX	4	/* Winkler 1990 */
#define WINKLER_SCALE		0.1	/* p, Winkler 1990 */
#define WINKLER_BOOST_MIN	0.7	/* boost only above this Jaro score */

static size_t
strsim_clamp(size_t n)
{
	return n > STRSIM_MAXLEN ? STRSIM_MAXLEN : n;
}

/* Jaro's score from m matches, t half-transpositions. */
static double
strsim_jaro_score(size_t na, size_t nb, size_t m, size_t t)
{
	return ((double)m / (double)na + (double)m / (double)nb +
	    (double)(m - t) / (double)m) / 3.0;
}

/* Jaro for strings of at most 64 code points: matched positions kept in
 * bit masks, no memory to clear. */
static double
strsim_jaro64(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
    size_t window)
{
	uint64_t	amask = 0, bmask = 0, am, bm;
	size_t		i, j, lo, hi, m = 0, t = 0;

	for (i = 0; i < na; i++) {
		lo = i > window ? i - window : 0;
		hi = i + window + 1 < nb ? i + window + 1 : nb;
		for (j = lo; j < hi; j++)
			if (a[i] == b[j] && !(bmask >> j & 1)) {
				amask |= (uint64_t)1 << i;
				bmask |= (uint64_t)1 << j;
				m++;
				break;
			}
	}
	if (m == 0)
		return 0.0;
	for (am = amask, bm = bmask; am != 0; am &= am - 1, bm &= bm - 1)
		if (a[__builtin_ctzll(am)] != b[__builtin_ctzll(bm)])
			t++;
	return strsim_jaro_score(na, nb, m, t / 2);
}

double
strsim_jaro(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	unsigned char	 amatch[STRSIM_MAXLEN], bmatch[STRSIM_MAXLEN];
	size_t		 window, i, j, lo, hi, m, t, k;

	na = strsim_clamp(na);
	nb = strsim_clamp(nb);
	if (na == 0 && nb == 0)
		return 1.0;
	if (na == 0 || nb == 0)
		return 0.0;
	window = (na > nb ? na : nb) / 2;
	window = window > 0 ? window - 1 : 0;
	if (na <= 64 && nb <= 64)
		return strsim_jaro64(a, na, b, nb, window);
	memset(amatch, 0, na);
	memset(bmatch, 0, nb);

	/* Matching characters: equal and within the window, each b used once. */
	m = 0;
	for (i = 0; i < na; i++) {
		lo = i > window ? i - window : 0;
		hi = i + window + 1 < nb ? i + window + 1 : nb;
		for (j = lo; j < hi; j++) {
			if (bmatch[j] || a[i] != b[j])
				continue;
			amatch[i] = bmatch[j] = 1;
			m++;
			break;
		}
	}
	if (m == 0)
		return 0.0;

	/* Half-transpositions: matched characters in a different order. */
	t = 0;
	k = 0;
	for (i = 0; i < na; i++) {
		if (!amatch[i])
			continue;
		while (!bmatch[k])
			k++;
		if (a[i] != b[k])
			t++;
		k++;
	}
	return strsim_jaro_score(na, nb, m, t / 2);
}

double
strsim_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b,
    size_t nb)
{
	double	j;
	size_t	l;

	j = strsim_jaro(a, na, b, nb);
	if (j <= WINKLER_BOOST_MIN)
		return j;
	for (l = 0; l < WINKLER_PREFIX_MAX && l < na && l < nb; l++)
		if (a[l] != b[l])
			break;
	return j + (double)l * WINKLER_SCALE * (1.0 - j);
}

size_t
strsim_levenshtein(const uint32_t *a, size_t na, const uint32_t *b,
    size_t nb, size_t max)
{
	size_t	row[STRSIM_MAXLEN + 1];
	size_t	i, j, diag, up, best, cost;

	na = strsim_clamp(na);
	nb = strsim_clamp(nb);
	if ((na > nb ? na - nb : nb - na) > max)
		return max + 1;
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		diag = row[0];		/* d[i-1][j-1] */
		row[0] = i;
		best = row[0];
		for (j = 1; j <= nb; j++) {
			up = row[j];	/* d[i-1][j] */
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = diag + cost;
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
			if (row[j] < best)
				best = row[j];
		}
		if (best > max)		/* every path already costs more */
			return max + 1;
	}
	return row[nb] > max ? max + 1 : row[nb];
}

/* Soundex digit of an ASCII lower-case letter: 0 for vowels (AEIOUY),
 * -1 for H and W (neither coded nor separating). */
static int
strsim_soundex_digit(uint32_t c)
{
	static const signed char digits[26] = {
		0, 1, 2, 3, 0, 1, 2, -1, 0, 2, 2, 4, 5,	/* a..m */
		5, 0, 1, 2, 6, 2, 3, 0, 1, -1, 2, 0, 2,	/* n..z */
	};

	return digits[c - 'a'];
}

static uint32_t
strsim_ascii_lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

int
strsim_soundex(const uint32_t *s, size_t n, char out[5])
{
	size_t	i, len;
	int	last, d;
	uint32_t c;

	out[0] = '\0';
	len = 0;
	last = 0;
	for (i = 0; i < n; i++) {
		c = strsim_ascii_lower(s[i]);
		if (c < 'a' || c > 'z')
			continue;
		d = strsim_soundex_digit(c);
		if (len == 0) {
			out[len++] = (char)(c - 'a' + 'A');
			last = d < 0 ? 0 : d;
			continue;
		}
		if (d < 0)		/* H, W: the previous code stands */
			continue;
		if (d == 0) {		/* vowel: separates equal codes */
			last = 0;
			continue;
		}
		if (d != last && len < 4)
			out[len++] = (char)('0' + d);
		last = d;
	}
	if (len == 0)
		return 0;
	while (len < 4)
		out[len++] = '0';
	out[4] = '\0';
	return 1;
}

size_t
strsim_utf8_decode(const char *s, uint32_t *out, size_t cap)
{
	const utf8proc_uint8_t	*p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t	 cp;
	utf8proc_ssize_t	 len;
	size_t			 n = 0;

	while (*p != '\0' && n < cap) {
		len = utf8proc_iterate(p, -1, &cp);
		if (len <= 0) {		/* invalid: one byte as U+FFFD */
			cp = 0xFFFD;
			len = 1;
		}
		out[n++] = (uint32_t)cp;
		p += len;
	}
	return n;
}

double
strsim_jaro_utf8(const char *a, const char *b)
{
	uint32_t	ua[STRSIM_MAXLEN] = { 0 }, ub[STRSIM_MAXLEN] = { 0 };
	size_t		na, nb;

	na = strsim_utf8_decode(a, ua, STRSIM_MAXLEN);
	nb = strsim_utf8_decode(b, ub, STRSIM_MAXLEN);
	return strsim_jaro(ua, na, ub, nb);
}

double
strsim_jaro_winkler_utf8(const char *a, const char *b)
{
	uint32_t	ua[STRSIM_MAXLEN] = { 0 }, ub[STRSIM_MAXLEN] = { 0 };
	size_t		na, nb;

	na = strsim_utf8_decode(a, ua, STRSIM_MAXLEN);
	nb = strsim_utf8_decode(b, ub, STRSIM_MAXLEN);
	return strsim_jaro_winkler(ua, na, ub, nb);
}

size_t
strsim_levenshtein_utf8(const char *a, const char *b)
{
	uint32_t	ua[STRSIM_MAXLEN] = { 0 }, ub[STRSIM_MAXLEN] = { 0 };
	size_t		na, nb;

	na = strsim_utf8_decode(a, ua, STRSIM_MAXLEN);
	nb = strsim_utf8_decode(b, ub, STRSIM_MAXLEN);
	return strsim_levenshtein(ua, na, ub, nb, SIZE_MAX - 1);
}

int
strsim_soundex_utf8(const char *s, char out[5])
{
	uint32_t	u[STRSIM_MAXLEN] = { 0 };
	size_t		n;

	n = strsim_utf8_decode(s, u, STRSIM_MAXLEN);
	return strsim_soundex(u, n, out);
}
