/*
 * source_xlsx.c - the xlsx (Office Open XML SpreadsheetML, ECMA-376 /
 * ISO/IEC 29500) reader behind concord/source.h: libzip reads the
 * archive's parts as streams, expat parses their XML SAX-style.
 *
 * Parts read: xl/workbook.xml (sheet names -> relationship ids, the 1904
 * date system flag), xl/_rels/workbook.xml.rels (relationship id -> part
 * name, and the shared strings and styles parts), the shared strings
 * (held in memory: XLSX_MAX_SHARED_*), styles (numFmts and cellXfs: which
 * cell styles are dates) and the sheet, streamed: expat is suspended at
 * the end of every row (XML_StopParser(.., XML_TRUE)) and resumed by the
 * next xlsx_next(), so memory holds one row whatever the sheet's size.
 *
 * The header row's merged cells are listed after the cells (the
 * mergeCells element follows sheetData), so xlsx_open() first inflates
 * the sheet once looking for the text "mergeCell"; only a sheet holding
 * it is parsed a first time to collect the merged ranges of the header.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>
#include <zip.h>

#include "concord/source.h"
#include "source_int.h"

#define XCHUNK		(64 * 1024)	/* bytes inflated per zip_fread() */
#define MAX_SHEETS	4096
#define MAX_XFS		65536		/* cell styles (Excel: 64,000) */
#define MAX_MERGES	65536		/* merged ranges kept */
#define NONE		((size_t)-1)

/* What a part is parsed for. */
enum xpart { XP_WORKBOOK, XP_RELS, XP_SST, XP_STYLES, XP_MERGES, XP_SHEET };

struct merge {
	long		 r1, r2;
	size_t		 c1, c2;	/* 0-based */
};

struct xlsx {
	zip_t		*z;
	int		 date1904;

	/* workbook */
	char		**sheet_name;
	char		**sheet_rid;
	size_t		 nsheet;
	char		*sheet_part;	/* part name of the chosen sheet */
	char		*sst_part, *styles_part;
	char		*want_rid;

	/* shared strings: NUL-terminated, in one arena */
	char		*sst;
	size_t		 sst_len, sst_cap;
	size_t		*sst_off;
	size_t		 nsst, sst_ocap;
	int		 in_si, in_rph;

	/* styles */
	struct { int id; int date; } *fmt;	/* custom numFmts */
	size_t		 nfmt, fmtcap;
	unsigned char	*xf_date;		/* per cellXfs entry */
	size_t		 nxf;
	int		 in_cellxfs;

	/* merges of the header row */
	struct merge	*mg;
	size_t		 nmg;

	/* the sheet being streamed */
	zip_file_t	*zf;
	XML_Parser	 p;
	enum xpart	 part;
	const char	*part_name;
	zip_uint64_t	 part_read, part_size;
	int		 zdone;
	int		 suspended;
	int		 in_sheetdata, in_v, in_is_t, in_is, in_f;
	long		 rownum, prev_row;
	size_t		 cell_col, prev_col;
	char		 cell_type[16];
	long		 cell_style;
	char		*text;			/* text of the cell or string */
	size_t		 tlen, tcap;
	int		 text_on;
	char		*row;			/* values of the row */
	size_t		 rlen, rcap;
	size_t		*rofs;			/* per column, NONE if empty */
	size_t		 rofs_cap;
	size_t		 row_max;		/* 1 + highest column seen */
	int		 row_any;		/* a non-empty value */
	int		 row_ready;
	size_t		 extra;

	int		 have_header;
	size_t		 ncol;
	char		**hdr;
	size_t		*hlen;
	long		 header_row;
	const char	**values;

	cc_err		 err;			/* from a handler */
	struct cc_diag	 ed;
	int		 eof;
	int		 sheet_done;		/* </sheetData> seen */
};

/* ---- helpers ---------------------------------------------------------- */

static const char *
local(const XML_Char *name)
{
	const char *c = strrchr(name, ':');
	return c != NULL ? c + 1 : name;
}

static const char *
attr(const XML_Char **a, const char *name)
{
	for (; a[0] != NULL; a += 2)
		if (strcmp(local(a[0]), name) == 0)
			return a[1];
	return NULL;
}

static cc_err
fail(struct xlsx *x, cc_err e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error of a handler and stops the parser. */
static cc_err
fail(struct xlsx *x, cc_err e, const char *code, const char *fmt, ...)
{
	char msg[sizeof(x->ed.message)];
	va_list ap;

	if (x->err != CC_OK)
		return x->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->err = cc_diag_set(&x->ed, e, code, "%s", msg);
	if (x->p != NULL)
		XML_StopParser(x->p, XML_FALSE);
	return x->err;
}

static int
text_put(struct xlsx *x, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (x->tlen + n + 1 > x->tcap) {
		if (x->tlen + n + 1 > SOURCE_MAX_FIELD_BYTES) {
			fail(x, CC_EINVALID, "field_too_long", "a cell or"
			    " string of %s is longer than %lu bytes",
			    x->part_name, (unsigned long)SOURCE_MAX_FIELD_BYTES);
			return -1;
		}
		cap = x->tcap ? x->tcap : 256;
		while (cap < x->tlen + n + 1)
			cap *= 2;
		if ((p = realloc(x->text, cap)) == NULL) {
			fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
			return -1;
		}
		x->text = p;
		x->tcap = cap;
	}
	memcpy(x->text + x->tlen, s, n);
	x->tlen += n;
	x->text[x->tlen] = '\0';
	return 0;
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes ECMA-376 Part 1, 22.9.2.19 ST_Xstring escapes in place:
 * "_xHHHH_" is the character U+HHHH (how producers store characters XML
 * cannot hold, such as CR: "_x000D_"); "_x005F_" is "_".
 */
static size_t
xstring_decode(char *s, size_t n)
{
	size_t i = 0, o = 0;
	unsigned cp;
	int k, h;

	if (memchr(s, '_', n) == NULL)
		return n;
	while (i < n) {
		if (s[i] == '_' && i + 7 <= n && s[i + 1] == 'x' &&
		    s[i + 6] == '_') {
			for (cp = 0, k = 2; k < 6; k++) {
				if ((h = hexv((unsigned char)s[i + k])) < 0)
					break;
				cp = cp * 16 + (unsigned)h;
			}
			if (k == 6 && cp != 0 && (cp < 0xD800 || cp > 0xDFFF)) {
				if (cp < 0x80)
					s[o++] = (char)cp;
				else if (cp < 0x800) {
					s[o++] = (char)(0xC0 | (cp >> 6));
					s[o++] = (char)(0x80 | (cp & 0x3F));
				} else {
					s[o++] = (char)(0xE0 | (cp >> 12));
					s[o++] = (char)(0x80 | ((cp >> 6) &
					    0x3F));
					s[o++] = (char)(0x80 | (cp & 0x3F));
				}
				i += 7;
				continue;
			}
		}
		s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

/*
 * "B12" -> column 1 (0-based) and row 12.  Returns 0, or -1 when ref is
 * not a cell reference; *col is SIZE_MAX past column XFD (16,384).
 */
static int
parse_ref(const char *ref, size_t *col, long *row)
{
	size_t c = 0;
	long r = 0;
	const char *s = ref;

	if (*s == '$')
		s++;
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
		if (c <= SOURCE_MAX_COLUMNS)
			c = c * 26 + (size_t)((*s | 0x20) - 'a' + 1);
		s++;
	}
	if (*s == '$')
		s++;
	if (s == ref || c == 0)
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (r < 100000000L)
			r = r * 10 + (*s - '0');
		s++;
	}
	if (*s != '\0' && *s != ':')
		return -1;
	*col = c > SOURCE_MAX_COLUMNS ? SIZE_MAX : c - 1;
	*row = r;
	return 0;
}

/* ---- dates --------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* The inverse (civil_from_days). */
static void
civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

int
source_xlsx_serial_date(double serial, int date1904, char *buf, size_t size)
{
	double day, frac;
	long long ms;
	long y, days;
	unsigned m, d;
	int h, mi, s;

	if (buf == NULL || size < 24 || !isfinite(serial) || serial < 0 ||
	    serial >= 2958466.0)
		return -1;
	frac = modf(serial, &day);
	ms = llround(frac * 86400000.0);
	if (ms >= 86400000LL) {
		day += 1;
		ms -= 86400000LL;
	}
	h = (int)(ms / 3600000);
	mi = (int)(ms / 60000 % 60);
	s = (int)(ms / 1000 % 60);
	if (serial < 1.0 && day == 0) {
		/* a time of day */
		if (ms % 1000)
			return snprintf(buf, size, "%02d:%02d:%02d.%03d", h, mi,
			    s, (int)(ms % 1000));
		return snprintf(buf, size, "%02d:%02d:%02d", h, mi, s);
	}
	if (date1904)
		days = days_from_civil(1904, 1, 1) + (long)day;
	else {
		/* Excel counts 1900-02-29 (serial 60), which did not exist
		 * (Lotus 1-2-3's leap-year bug): serials 1-59 are one day
		 * later than a count from 1899-12-30; serial 60 is read as
		 * 1900-02-28, as openpyxl reads it. */
		days = days_from_civil(1899, 12, 30) + (long)day;
		if (day < 60)
			days += 1;	/* 60 itself: 1899-12-30 + 60 */
	}
	civil_from_days(days, &y, &m, &d);
	if (ms == 0)
		return snprintf(buf, size, "%04ld-%02u-%02u", y, m, d);
	if (ms % 1000)
		return snprintf(buf, size, "%04ld-%02u-%02uT%02d:%02d:%02d.%03d",
		    y, m, d, h, mi, s, (int)(ms % 1000));
	return snprintf(buf, size, "%04ld-%02u-%02uT%02d:%02d:%02d", y, m, d,
	    h, mi, s);
}

int
source_xlsx_format_is_date(int id, const char *code)
{
	const char *s;
	int inq = 0;

	if (code == NULL)
		return (id >= 14 && id <= 22) || (id >= 45 && id <= 47);
	for (s = code; *s != '\0'; s++) {
		if (inq) {
			if (*s == '"')
				inq = 0;
			continue;
		}
		switch (*s) {
		case '"':
			inq = 1;
			break;
		case '\\':	/* a literal character */
		case '_':	/* space the width of the next character */
		case '*':	/* repeat the next character */
			if (s[1] != '\0')
				s++;
			break;
		case '[':	/* colour, condition, locale; [h] [m] [s] are
				   elapsed time */
			if ((s[1] == 'h' || s[1] == 'H' || s[1] == 'm' ||
			    s[1] == 'M' || s[1] == 's' || s[1] == 'S') &&
			    strchr(s, ']') != NULL &&
			    strspn(s + 1, "hHmMsS") ==
			    (size_t)(strchr(s, ']') - s - 1))
				return 1;
			if ((s = strchr(s, ']')) == NULL)
				return 0;
			break;
		case ';':	/* the first section decides */
			return 0;
		default:
			if (strchr("dDmMyYhHsS", *s) != NULL)
				return 1;
		}
	}
	return 0;
}

/* ---- zip parts ------------------------------------------------------------ */

static cc_err
zip_fail(struct xlsx *x, int code, const char *what)
{
	zip_error_t ze;
	const char *m;

	zip_error_init_with_code(&ze, code);
	m = zip_error_strerror(&ze);
	if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD ||
	    code == ZIP_ER_ENCRNOTSUPP)
		fail(x, CC_EINVALID, "xlsx_encrypted", "the workbook's %s is"
		    " encrypted: save it without a password", what);
	else if (code == ZIP_ER_MEMORY)
		fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	else
		fail(x, CC_EINVALID, "xlsx_corrupt", "the workbook is not a"
		    " readable zip archive (%s: %s)", what, m);
	zip_error_fini(&ze);
	return x->err;
}

/* Opens part name as a stream after checking its sizes against caps. */
static cc_err
part_open(struct xlsx *x, const char *name, zip_uint64_t cap)
{
	zip_stat_t st;
	zip_int64_t i;

	x->part_name = name;
	x->part_read = 0;
	x->zdone = 0;
	if ((i = zip_name_locate(x->z, name, ZIP_FL_NOCASE)) < 0)
		return fail(x, CC_EINVALID, "xlsx_missing_part", "the workbook"
		    " has no part %s", name);
	zip_stat_init(&st);
	if (zip_stat_index(x->z, (zip_uint64_t)i, 0, &st) != 0)
		return zip_fail(x, zip_error_code_zip(zip_get_error(x->z)),
		    name);
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    st.encryption_method != ZIP_EM_NONE)
		return zip_fail(x, ZIP_ER_NOPASSWD, name);
	if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
		return fail(x, CC_EINVALID, "xlsx_corrupt", "the zip archive"
		    " does not state the size of %s", name);
	if (st.size > cap)
		return fail(x, CC_EINVALID, "xlsx_zip_bomb", "%s inflates to"
		    " %llu bytes, more than the %llu-byte cap for this part",
		    name, (unsigned long long)st.size, (unsigned long long)cap);
	if (st.size > SOURCE_XLSX_RATIO_FLOOR && st.size / (st.comp_size ?
	    st.comp_size : 1) > SOURCE_XLSX_MAX_RATIO)
		return fail(x, CC_EINVALID, "xlsx_zip_bomb", "%s inflates"
		    " %llu:1 (%llu bytes from %llu), more than the %d:1 cap",
		    name, (unsigned long long)(st.size / (st.comp_size ?
		    st.comp_size : 1)), (unsigned long long)st.size,
		    (unsigned long long)st.comp_size, SOURCE_XLSX_MAX_RATIO);
	x->part_size = st.size;
	if ((x->zf = zip_fopen_index(x->z, (zip_uint64_t)i, 0)) == NULL)
		return zip_fail(x, zip_error_code_zip(zip_get_error(x->z)),
		    name);
	return CC_OK;
}

static void
part_close(struct xlsx *x)
{
	if (x->zf != NULL)
		zip_fclose(x->zf);
	x->zf = NULL;
	if (x->p != NULL)
		XML_ParserFree(x->p);
	x->p = NULL;
}

/* Inflates the next piece of the part into buf: *n bytes, 0 at the end. */
static cc_err
part_read(struct xlsx *x, void *buf, size_t size, size_t *n)
{
	zip_int64_t k;

	*n = 0;
	if (x->zdone)
		return CC_OK;
	if ((k = zip_fread(x->zf, buf, size)) < 0)
		return zip_fail(x, zip_error_code_zip(zip_file_get_error(x->zf)),
		    x->part_name);
	if (k == 0)
		x->zdone = 1;
	x->part_read += (zip_uint64_t)k;
	if (x->part_read > x->part_size)
		return fail(x, CC_EINVALID, "xlsx_zip_bomb", "%s inflates to"
		    " more than the %llu bytes its zip entry states",
		    x->part_name, (unsigned long long)x->part_size);
	*n = (size_t)k;
	return CC_OK;
}

static void XMLCALL on_start(void *, const XML_Char *, const XML_Char **);
static void XMLCALL on_end(void *, const XML_Char *);
static void XMLCALL on_text(void *, const XML_Char *, int);

static cc_err
xml_error(struct xlsx *x)
{
	if (x->err != CC_OK)
		return x->err;
	return fail(x, CC_EINVALID, "xlsx_xml", "%s is not well-formed XML:"
	    " line %lu: %s", x->part_name,
	    (unsigned long)XML_GetCurrentLineNumber(x->p),
	    XML_ErrorString(XML_GetErrorCode(x->p)));
}

static cc_err
parser_new(struct xlsx *x, enum xpart part)
{
	if ((x->p = XML_ParserCreate("UTF-8")) == NULL)
		return fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	x->part = part;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	return CC_OK;
}

/*
 * Feeds the open part to the parser until it ends or (XP_SHEET) a row is
 * ready and the parser suspended.
 */
static cc_err
pump(struct xlsx *x)
{
	enum XML_Status s;
	size_t n;
	void *b;

	for (;;) {
		if (x->sheet_done)
			return CC_EOF;
		if (x->suspended) {
			x->suspended = 0;
			s = XML_ResumeParser(x->p);
		} else {
			if (x->eof)
				return CC_EOF;
			if ((b = XML_GetBuffer(x->p, XCHUNK)) == NULL)
				return fail(x, CC_ENOMEM, "out_of_memory",
				    "out of memory");
			if (part_read(x, b, XCHUNK, &n) != CC_OK)
				return x->err;
			if (n == 0)
				x->eof = 1;
			s = XML_ParseBuffer(x->p, (int)n, n == 0);
		}
		if (s == XML_STATUS_ERROR && x->sheet_done && x->err == CC_OK)
			return CC_EOF;		/* stopped after the cells */
		if (s == XML_STATUS_ERROR)
			return xml_error(x);
		if (x->err != CC_OK)
			return x->err;
		if (s == XML_STATUS_SUSPENDED) {
			x->suspended = 1;
			return CC_OK;
		}
		if (x->eof)
			return CC_EOF;
	}
}

/* Parses a whole part (not the sheet). */
static cc_err
parse_part(struct xlsx *x, const char *name, enum xpart part,
    zip_uint64_t cap)
{
	cc_err e;

	x->eof = 0;
	if (part_open(x, name, cap) != CC_OK || parser_new(x, part) != CC_OK) {
		part_close(x);
		return x->err;
	}
	e = pump(x);
	part_close(x);
	x->eof = 0;
	return e == CC_EOF ? CC_OK : e;
}

/* ---- handlers ------------------------------------------------------------- */

static void
sst_add(struct xlsx *x)
{
	size_t *o, cap, n;
	char *p;

	n = xstring_decode(x->text != NULL ? x->text : (char *)"", x->tlen);
	if (x->nsst >= SOURCE_XLSX_MAX_SHARED_STRINGS ||
	    x->sst_len + n + 1 > SOURCE_XLSX_MAX_SHARED_BYTES) {
		fail(x, CC_EINVALID, "xlsx_too_many_strings", "the shared"
		    " strings table is larger than the caps (%lu strings,"
		    " %lu bytes)", (unsigned long)SOURCE_XLSX_MAX_SHARED_STRINGS,
		    (unsigned long)SOURCE_XLSX_MAX_SHARED_BYTES);
		return;
	}
	if (x->nsst == x->sst_ocap) {
		cap = x->sst_ocap ? x->sst_ocap * 2 : 1024;
		if ((o = realloc(x->sst_off, cap * sizeof(*o))) == NULL)
			goto nomem;
		x->sst_off = o;
		x->sst_ocap = cap;
	}
	if (x->sst_len + n + 1 > x->sst_cap) {
		cap = x->sst_cap ? x->sst_cap : 65536;
		while (cap < x->sst_len + n + 1)
			cap *= 2;
		if ((p = realloc(x->sst, cap)) == NULL)
			goto nomem;
		x->sst = p;
		x->sst_cap = cap;
	}
	memcpy(x->sst + x->sst_len, x->tlen ? x->text : "", n);
	x->sst[x->sst_len + n] = '\0';
	x->sst_off[x->nsst++] = x->sst_len;
	x->sst_len += n + 1;
	return;
nomem:
	fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
}

static char *
xstrdup(struct xlsx *x, const char *s)
{
	char *d = strdup(s != NULL ? s : "");
	if (d == NULL)
		fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	return d;
}

/* Part name of a relationship target relative to xl/ (ECMA-376 Part 2:
 * targets are relative to the source part's folder, or absolute). */
static char *
target_part(struct xlsx *x, const char *t)
{
	char *d;
	size_t n;

	if (t[0] == '/')
		return xstrdup(x, t + 1);
	n = strlen(t) + 4;
	if ((d = malloc(n)) == NULL) {
		fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
		return NULL;
	}
	snprintf(d, n, "xl/%s", t);
	return d;
}

static int
ends_with(const char *s, const char *e)
{
	size_t n = strlen(s), k = strlen(e);
	return n >= k && strcmp(s + n - k, e) == 0;
}

static void
start_workbook(struct xlsx *x, const char *el, const XML_Char **a)
{
	const char *v;

	if (strcmp(el, "workbookPr") == 0 && (v = attr(a, "date1904")) != NULL)
		x->date1904 = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
	else if (strcmp(el, "sheet") == 0) {
		char **nn, **nr;
		if (x->nsheet >= MAX_SHEETS)
			return;
		if ((nn = realloc(x->sheet_name, (x->nsheet + 1) *
		    sizeof(*nn))) == NULL) {
			fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
			return;
		}
		x->sheet_name = nn;
		if ((nr = realloc(x->sheet_rid, (x->nsheet + 1) *
		    sizeof(*nr))) == NULL) {
			fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
			return;
		}
		x->sheet_rid = nr;
		nn[x->nsheet] = xstrdup(x, attr(a, "name"));
		nr[x->nsheet] = xstrdup(x, attr(a, "id"));
		x->nsheet++;
	}
}

static void
start_rels(struct xlsx *x, const char *el, const XML_Char **a)
{
	const char *id, *type, *target;

	if (strcmp(el, "Relationship") != 0 ||
	    (id = attr(a, "Id")) == NULL || (type = attr(a, "Type")) == NULL ||
	    (target = attr(a, "Target")) == NULL)
		return;
	if (ends_with(type, "/sharedStrings") && x->sst_part == NULL)
		x->sst_part = target_part(x, target);
	else if (ends_with(type, "/styles") && x->styles_part == NULL)
		x->styles_part = target_part(x, target);
	else if (x->want_rid != NULL && strcmp(id, x->want_rid) == 0 &&
	    x->sheet_part == NULL)
		x->sheet_part = target_part(x, target);
}

static int
fmt_is_date(const struct xlsx *x, int id)
{
	size_t i;

	for (i = 0; i < x->nfmt; i++)
		if (x->fmt[i].id == id)
			return x->fmt[i].date;
	return source_xlsx_format_is_date(id, NULL);
}

static void
start_styles(struct xlsx *x, const char *el, const XML_Char **a)
{
	const char *v;

	if (strcmp(el, "numFmt") == 0 && (v = attr(a, "numFmtId")) != NULL) {
		if (x->nfmt == x->fmtcap) {
			size_t cap = x->fmtcap ? x->fmtcap * 2 : 16;
			void *p;
			if (cap > MAX_XFS)
				return;
			if ((p = realloc(x->fmt, cap * sizeof(*x->fmt))) ==
			    NULL) {
				fail(x, CC_ENOMEM, "out_of_memory",
				    "out of memory");
				return;
			}
			x->fmt = p;
			x->fmtcap = cap;
		}
		x->fmt[x->nfmt].id = atoi(v);
		x->fmt[x->nfmt].date = source_xlsx_format_is_date(atoi(v),
		    attr(a, "formatCode") != NULL ? attr(a, "formatCode") : "");
		x->nfmt++;
	} else if (strcmp(el, "cellXfs") == 0)
		x->in_cellxfs = 1;
	else if (strcmp(el, "xf") == 0 && x->in_cellxfs && x->nxf < MAX_XFS) {
		v = attr(a, "numFmtId");
		x->xf_date[x->nxf++] = (unsigned char)fmt_is_date(x,
		    v != NULL ? atoi(v) : 0);
	}
}

static void
start_merges(struct xlsx *x, const char *el, const XML_Char **a)
{
	const char *ref, *colon;
	struct merge m;

	if (strcmp(el, "mergeCell") != 0 || x->nmg >= MAX_MERGES ||
	    (ref = attr(a, "ref")) == NULL || (colon = strchr(ref, ':')) ==
	    NULL)
		return;
	if (parse_ref(ref, &m.c1, &m.r1) != 0 ||
	    parse_ref(colon + 1, &m.c2, &m.r2) != 0 || m.c1 == SIZE_MAX ||
	    m.c2 == SIZE_MAX || m.c2 < m.c1 || m.r2 < m.r1)
		return;
	x->mg[x->nmg++] = m;
}

static void
row_reset(struct xlsx *x)
{
	size_t i;

	for (i = 0; i < x->row_max && i < x->rofs_cap; i++)
		x->rofs[i] = NONE;
	x->rlen = 0;
	x->row_max = 0;
	x->row_any = 0;
	x->extra = 0;
	x->prev_col = NONE;
}

static void
start_sheet(struct xlsx *x, const char *el, const XML_Char **a)
{
	const char *v;

	if (strcmp(el, "sheetData") == 0) {
		x->in_sheetdata = 1;
		return;
	}
	if (!x->in_sheetdata)
		return;
	if (strcmp(el, "row") == 0) {
		row_reset(x);
		v = attr(a, "r");
		x->rownum = v != NULL ? atol(v) : x->prev_row + 1;
		x->prev_row = x->rownum;
	} else if (strcmp(el, "c") == 0) {
		long row;
		v = attr(a, "r");
		if (v != NULL) {
			if (parse_ref(v, &x->cell_col, &row) != 0) {
				fail(x, CC_EINVALID, "xlsx_xml", "row %ld: %s is"
				    " not a cell reference", x->rownum, v);
				return;
			}
		} else
			x->cell_col = x->prev_col == NONE ? 0 : x->prev_col + 1;
		if (x->cell_col == SIZE_MAX) {
			fail(x, CC_EINVALID, "xlsx_too_many_columns", "row %ld:"
			    " cell %s lies beyond column XFD (%d columns)",
			    x->rownum, v, SOURCE_MAX_COLUMNS);
			return;
		}
		x->prev_col = x->cell_col;
		v = attr(a, "t");
		snprintf(x->cell_type, sizeof(x->cell_type), "%s",
		    v != NULL ? v : "n");
		v = attr(a, "s");
		x->cell_style = v != NULL ? atol(v) : 0;
		x->tlen = 0;
		x->text_on = 0;
	} else if (strcmp(el, "v") == 0) {
		x->in_v = 1;
		x->text_on = 1;
	} else if (strcmp(el, "is") == 0)
		x->in_is = 1;
	else if (strcmp(el, "rPh") == 0)
		x->in_rph = 1;
	else if (strcmp(el, "t") == 0 && x->in_is && !x->in_rph)
		x->text_on = 1;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	struct xlsx *x = ud;
	const char *el = local(name);

	if (x->err != CC_OK)
		return;
	switch (x->part) {
	case XP_WORKBOOK:
		start_workbook(x, el, a);
		break;
	case XP_RELS:
		start_rels(x, el, a);
		break;
	case XP_STYLES:
		start_styles(x, el, a);
		break;
	case XP_MERGES:
		start_merges(x, el, a);
		break;
	case XP_SST:
		if (strcmp(el, "si") == 0) {
			x->in_si = 1;
			x->tlen = 0;
		} else if (strcmp(el, "rPh") == 0)
			x->in_rph = 1;
		else if (strcmp(el, "t") == 0 && x->in_si && !x->in_rph)
			x->text_on = 1;
		break;
	case XP_SHEET:
		start_sheet(x, el, a);
		break;
	}
}

/* Stores the finished cell's value in the row. */
static void
cell_done(struct xlsx *x)
{
	char buf[64], *end;
	const char *val = x->tlen ? x->text : "";
	size_t n = x->tlen, *o, cap, i;
	const char *t = x->cell_type;
	char *p;

	if (strcmp(t, "s") == 0) {
		unsigned long k;
		errno = 0;
		k = strtoul(val, &end, 10);
		if (n == 0 || errno != 0 || *end != '\0' || k >= x->nsst) {
			fail(x, CC_EINVALID, "xlsx_xml", "row %ld: shared"
			    " string index \"%.20s\" out of range (%zu"
			    " strings)", x->rownum, val, x->nsst);
			return;
		}
		val = x->sst + x->sst_off[k];
		n = strlen(val);
	} else if (strcmp(t, "inlineStr") == 0)
		n = xstring_decode(x->text != NULL ? x->text : buf, x->tlen);
	else if (strcmp(t, "b") == 0) {
		if (n > 0) {
			val = strcmp(val, "0") == 0 ? "false" : "true";
			n = strlen(val);
		}
	} else if (strcmp(t, "n") == 0 && n > 0 && x->cell_style >= 0 &&
	    (size_t)x->cell_style < x->nxf && x->xf_date[x->cell_style]) {
		double d = strtod(val, &end);
		int k;
		if (*end == '\0' && (k = source_xlsx_serial_date(d, x->date1904,
		    buf, sizeof(buf))) > 0) {
			val = buf;
			n = (size_t)k;
		}
	}
	/* "str" (a formula's text), "e" (an error such as #N/A), "d" (ISO
	 * 8601) and other numbers: the text as stored. */
	if (n == 0)
		return;
	if (x->have_header && x->cell_col >= x->ncol) {
		x->extra++;
		return;
	}
	if (x->cell_col >= x->rofs_cap) {
		cap = x->rofs_cap ? x->rofs_cap : 64;
		while (cap <= x->cell_col)
			cap *= 2;
		if ((o = realloc(x->rofs, cap * sizeof(*o))) == NULL)
			goto nomem;
		for (i = x->rofs_cap; i < cap; i++)
			o[i] = NONE;
		x->rofs = o;
		x->rofs_cap = cap;
	}
	if (x->rlen + n + 1 > x->rcap) {
		if (x->rlen + n + 1 > SOURCE_MAX_RECORD_BYTES) {
			fail(x, CC_EINVALID, "record_too_long", "row %ld is"
			    " longer than %lu bytes", x->rownum,
			    (unsigned long)SOURCE_MAX_RECORD_BYTES);
			return;
		}
		cap = x->rcap ? x->rcap : 4096;
		while (cap < x->rlen + n + 1)
			cap *= 2;
		if ((p = realloc(x->row, cap)) == NULL)
			goto nomem;
		x->row = p;
		x->rcap = cap;
	}
	memcpy(x->row + x->rlen, val, n);
	x->row[x->rlen + n] = '\0';
	x->rofs[x->cell_col] = x->rlen;
	x->rlen += n + 1;
	if (x->cell_col + 1 > x->row_max)
		x->row_max = x->cell_col + 1;
	x->row_any = 1;
	return;
nomem:
	fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct xlsx *x = ud;
	const char *el = local(name);

	if (x->err != CC_OK)
		return;
	switch (x->part) {
	case XP_SST:
		if (strcmp(el, "si") == 0) {
			x->in_si = 0;
			sst_add(x);
		} else if (strcmp(el, "rPh") == 0)
			x->in_rph = 0;
		else if (strcmp(el, "t") == 0)
			x->text_on = 0;
		break;
	case XP_STYLES:
		if (strcmp(el, "cellXfs") == 0)
			x->in_cellxfs = 0;
		break;
	case XP_SHEET:
		if (strcmp(el, "sheetData") == 0) {
			x->in_sheetdata = 0;
			x->sheet_done = 1;
			XML_StopParser(x->p, XML_FALSE);	/* done */
		} else if (!x->in_sheetdata)
			break;
		else if (strcmp(el, "v") == 0) {
			x->in_v = 0;
			x->text_on = 0;
		} else if (strcmp(el, "t") == 0)
			x->text_on = 0;
		else if (strcmp(el, "rPh") == 0)
			x->in_rph = 0;
		else if (strcmp(el, "is") == 0)
			x->in_is = 0;
		else if (strcmp(el, "c") == 0)
			cell_done(x);
		else if (strcmp(el, "row") == 0 && x->row_any) {
			x->row_ready = 1;
			XML_StopParser(x->p, XML_TRUE);
		}
		break;
	default:
		break;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct xlsx *x = ud;

	if (x->err == CC_OK && x->text_on && len > 0)
		text_put(x, s, (size_t)len);
}

/* ---- the reader ----------------------------------------------------------- */

int
xlsx_magic(const unsigned char *p, size_t n)
{
	return n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0;
}

/* Looks for "mergeCell" in the inflated sheet (across piece ends). */
static cc_err
sheet_has_merges(struct xlsx *x, int *found)
{
	static const char key[] = "mergeCell";
	const size_t kl = sizeof(key) - 1;
	char *buf;
	size_t n, keep = 0;

	*found = 0;
	if ((buf = malloc(XCHUNK + kl)) == NULL)
		return fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	if (part_open(x, x->sheet_part, SOURCE_XLSX_MAX_SHEET_BYTES) != CC_OK) {
		free(buf);
		part_close(x);
		return x->err;
	}
	for (;;) {
		if (part_read(x, buf + keep, XCHUNK, &n) != CC_OK || n == 0)
			break;
		n += keep;
		if (memmem(buf, n, key, kl) != NULL) {
			*found = 1;
			break;
		}
		keep = n < kl - 1 ? n : kl - 1;
		memmove(buf, buf + n - keep, keep);
	}
	free(buf);
	part_close(x);
	return x->err;
}

static cc_err
check_file(const char *path, struct cc_diag *diag)
{
	unsigned char m[8];
	size_t n = 0;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return cc_diag_set(diag, CC_EIO, "open_error",
		    "cannot open the file: %s", strerror(errno));
	n = fread(m, 1, sizeof(m), f);
	fclose(f);
	if (n == 8 && memcmp(m, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return cc_diag_set(diag, CC_EINVALID, "xlsx_encrypted",
		    "the file is an OLE compound document: a password-protected"
		    " (encrypted) workbook or a legacy .xls file; save it as"
		    " .xlsx without a password");
	return CC_OK;
}

static cc_err
load_workbook(struct xlsx *x, const char *path, const char *sheet)
{
	int ze = 0, found;
	size_t i, k;

	if ((x->z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &ze)) == NULL)
		return zip_fail(x, ze, "archive");
	if (zip_name_locate(x->z, "xl/workbook.xml", ZIP_FL_NOCASE) < 0)
		return fail(x, CC_EINVALID, "xlsx_not_workbook", "the zip"
		    " archive holds no xl/workbook.xml: it is not an xlsx"
		    " workbook");
	if (parse_part(x, "xl/workbook.xml", XP_WORKBOOK,
	    SOURCE_XLSX_MAX_PART_BYTES) != CC_OK)
		return x->err;
	if (x->nsheet == 0)
		return fail(x, CC_EINVALID, "xlsx_not_workbook", "the workbook"
		    " lists no sheet");
	for (i = 0; i < x->nsheet; i++)
		if (sheet == NULL || *sheet == '\0' ||
		    strcmp(x->sheet_name[i], sheet) == 0)
			break;
	if (i == x->nsheet) {
		char list[512];
		size_t o = 0;
		for (k = 0; k < x->nsheet && o < sizeof(list) - 8; k++)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s\"%s\"", k ? ", " : "", x->sheet_name[k]);
		return fail(x, CC_EINVALID, "xlsx_no_such_sheet", "the workbook"
		    " has no sheet \"%s\"; its sheets: %s", sheet, list);
	}
	x->want_rid = x->sheet_rid[i];
	if (parse_part(x, "xl/_rels/workbook.xml.rels", XP_RELS,
	    SOURCE_XLSX_MAX_PART_BYTES) != CC_OK)
		return x->err;
	if (x->sheet_part == NULL)
		return fail(x, CC_EINVALID, "xlsx_missing_part", "the"
		    " relationship %s of sheet \"%s\" names no part",
		    x->want_rid, x->sheet_name[i]);
	if ((x->xf_date = calloc(MAX_XFS, 1)) == NULL)
		return fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	if (x->styles_part != NULL && zip_name_locate(x->z, x->styles_part,
	    ZIP_FL_NOCASE) >= 0 && parse_part(x, x->styles_part, XP_STYLES,
	    SOURCE_XLSX_MAX_PART_BYTES) != CC_OK)
		return x->err;
	if (x->sst_part != NULL && zip_name_locate(x->z, x->sst_part,
	    ZIP_FL_NOCASE) >= 0 && parse_part(x, x->sst_part, XP_SST,
	    SOURCE_XLSX_MAX_SST_PART_BYTES) != CC_OK)
		return x->err;
	if (sheet_has_merges(x, &found) != CC_OK)
		return x->err;
	if (found) {
		if ((x->mg = malloc(MAX_MERGES * sizeof(*x->mg))) == NULL)
			return fail(x, CC_ENOMEM, "out_of_memory",
			    "out of memory");
		if (parse_part(x, x->sheet_part, XP_MERGES,
		    SOURCE_XLSX_MAX_SHEET_BYTES) != CC_OK)
			return x->err;
	}
	return CC_OK;
}

/* Reads the next row with a value into x->row / x->rofs. */
static cc_err
next_row(struct xlsx *x)
{
	cc_err e;

	x->row_ready = 0;
	while (!x->row_ready) {
		if ((e = pump(x)) != CC_OK)
			return e;
	}
	return CC_OK;
}

static cc_err
read_header(struct xlsx *x)
{
	size_t i, m, c;
	cc_err e;

	if ((e = next_row(x)) != CC_OK) {
		if (e == CC_EOF)
			return fail(x, CC_EINVALID, "empty_file", "sheet holds"
			    " no cell with a value");
		return e;
	}
	x->header_row = x->rownum;
	x->ncol = x->row_max;
	for (m = 0; m < x->nmg; m++)
		if (x->mg[m].r1 <= x->header_row &&
		    x->mg[m].r2 >= x->header_row && x->mg[m].c2 + 1 > x->ncol)
			x->ncol = x->mg[m].c2 + 1;
	if ((x->hdr = calloc(x->ncol ? x->ncol : 1, sizeof(*x->hdr))) == NULL ||
	    (x->hlen = calloc(x->ncol ? x->ncol : 1, sizeof(*x->hlen))) ==
	    NULL || (x->values = calloc(x->ncol ? x->ncol : 1,
	    sizeof(*x->values))) == NULL)
		return fail(x, CC_ENOMEM, "out_of_memory", "out of memory");
	for (i = 0; i < x->ncol; i++) {
		const char *v = "";
		if (i < x->row_max && x->rofs[i] != NONE)
			v = x->row + x->rofs[i];
		/* a merged range over the header gives its value (the top
		 * left cell's) to every column it covers */
		for (m = 0; *v == '\0' && m < x->nmg; m++) {
			c = x->mg[m].c1;
			if (x->mg[m].r1 <= x->header_row &&
			    x->mg[m].r2 >= x->header_row && c <= i &&
			    x->mg[m].c2 >= i && x->mg[m].r1 == x->header_row &&
			    c < x->row_max && x->rofs[c] != NONE)
				v = x->row + x->rofs[c];
		}
		if ((x->hdr[i] = xstrdup(x, v)) == NULL)
			return x->err;
		x->hlen[i] = strlen(v);
	}
	x->have_header = 1;
	return CC_OK;
}

cc_err
xlsx_open(const char *path, const char *sheet, struct xlsx **out,
    struct cc_diag *diag)
{
	struct xlsx *x;
	cc_err e;

	*out = NULL;
	if ((e = check_file(path, diag)) != CC_OK)
		return e;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	cc_diag_clear(&x->ed);
	x->prev_col = NONE;
	if (load_workbook(x, path, sheet) != CC_OK)
		goto fail;
	x->eof = 0;
	if (part_open(x, x->sheet_part, SOURCE_XLSX_MAX_SHEET_BYTES) != CC_OK ||
	    parser_new(x, XP_SHEET) != CC_OK || read_header(x) != CC_OK)
		goto fail;
	*out = x;
	return CC_OK;
fail:
	e = x->err;
	if (diag != NULL)
		*diag = x->ed;
	xlsx_close(x);
	return e;
}

cc_err
xlsx_sniff(const char *path, struct source_dialect *d, struct cc_diag *diag)
{
	struct xlsx *x;
	cc_err e;

	if ((e = check_file(path, diag)) != CC_OK)
		return e;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	cc_diag_clear(&x->ed);
	if ((e = load_workbook(x, path, NULL)) == CC_OK) {
		memset(d, 0, sizeof(*d));
		d->format = SOURCE_FORMAT_XLSX;
		d->encoding = SOURCE_ENC_UTF8;
		d->has_header = 1;
		snprintf(d->records_path, sizeof(d->records_path), "%s",
		    x->sheet_name[0]);
	} else if (diag != NULL)
		*diag = x->ed;
	xlsx_close(x);
	return e;
}

void
xlsx_header(const struct xlsx *x, char *const **raw, const size_t **len,
    size_t *n)
{
	*raw = x->hdr;
	*len = x->hlen;
	*n = x->ncol;
}

cc_err
xlsx_next(struct xlsx *x, const char *const **values, size_t *extra,
    long *rownum, struct cc_diag *diag)
{
	size_t i;
	cc_err e;

	if ((e = next_row(x)) != CC_OK) {
		if (e != CC_EOF && diag != NULL)
			*diag = x->ed;
		return e;
	}
	for (i = 0; i < x->ncol; i++)
		x->values[i] = i < x->row_max && x->rofs[i] != NONE ?
		    x->row + x->rofs[i] : "";
	*values = x->values;
	*extra = x->extra;
	*rownum = x->rownum;
	return CC_OK;
}

void
xlsx_close(struct xlsx *x)
{
	size_t i;

	if (x == NULL)
		return;
	part_close(x);
	if (x->z != NULL)
		zip_discard(x->z);
	for (i = 0; i < x->nsheet; i++) {
		free(x->sheet_name[i]);
		free(x->sheet_rid[i]);
	}
	for (i = 0; x->hdr != NULL && i < x->ncol; i++)
		free(x->hdr[i]);
	free(x->sheet_name);
	free(x->sheet_rid);
	free(x->sheet_part);
	free(x->sst_part);
	free(x->styles_part);
	free(x->sst);
	free(x->sst_off);
	free(x->fmt);
	free(x->xf_date);
	free(x->mg);
	free(x->text);
	free(x->row);
	free(x->rofs);
	free(x->hdr);
	free(x->hlen);
	free(x->values);
	free(x);
}
