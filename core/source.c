/*
 * source.c - streaming readers for uploaded sources: format, encoding and
 * dialect detection, and one-record-at-a-time readers of CSV (libcsv),
 * JSON and NDJSON (Jansson).  See concord/source.h for the contract.
 *
 * Layers, bottom up:
 *  1. input: reads the file in READ_CHUNK pieces, checks the encoding as
 *     it goes (RFC 3629 UTF-8, or ISO-8859-1 converted with iconv), and
 *     keeps the text in one buffer with the line, column and file offset
 *     of the next unread byte.  A bad byte is not reported when it is read
 *     but when a reader reaches it, so records before it come out first.
 *  2. CSV: feeds libcsv one physical line (or buffer tail) at a time, so
 *     that the line where each record starts, and the line of a quote that
 *     never closes, are known without a second scan.
 *  3. JSON: Jansson parses one array element at a time from a callback
 *     (JSON_DISABLE_EOF_CHECK), and the error position it returns tells
 *     how much of the buffer the element used.  NDJSON: one json_loadb()
 *     per line.
 *  4. source_sniff(): reads the first SOURCE_SNIFF_BYTES bytes and decides.
 *
 * Memory: the reader holds one buffer (READ_CHUNK, or the largest JSON
 * record or NDJSON line), one record's fields and, for JSON, the column
 * names.  Nothing grows with the number of records.
 */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <csv.h>
#include <jansson.h>

#include "concord/source.h"
#include "concord/util.h"
#include "source_int.h"

#define READ_CHUNK	(256 * 1024)	/* bytes per read(2) */
#define NOPIN		((size_t)-1)	/* no buffer position pinned */
#define SNIFF_ROWS	1024		/* rows whose field counts are compared */
#define SNIFF_KEEP	100		/* rows kept for header detection */

/*
 * libcsv 3.x keeps its parser state in the public struct csv_parser but
 * names the states only in libcsv.c; these are its values.  They tell a
 * field still inside quotes at the end of the input from one whose
 * closing quote was the last byte.
 */
#define LIBCSV_ROW_NOT_BEGUN	0
#define LIBCSV_FIELD_BEGUN	2
#if CSV_MAJOR != 3
#error "libcsv 3.x expected: parser state values are version specific"
#endif

/* Parsing states of a JSON document (see json_next_object()). */
enum json_state {
	JS_BEGIN,		/* before the top-level value */
	JS_KEY_FIRST,		/* after '{' of the top-level object */
	JS_KEY,			/* after ',' between its members */
	JS_ELEM_FIRST,		/* after '[' of the records array */
	JS_ELEM,		/* after ',' between records */
	JS_AFTER_ELEM,		/* after a record */
	JS_AFTER_ARRAY,		/* after ']' of the records array */
	JS_TRAILER,		/* after the top-level value */
	JS_DONE,		/* end of file seen */
};

/* Strings by index, with an open-addressing index on them. */
struct smap {
	size_t		*slot;		/* index + 1; 0 is a free slot */
	size_t		 nslot;		/* power of two */
	char		**key;		/* owned, NUL-terminated */
	size_t		*klen;
	size_t		 n, kcap;
};

/* A number token of the JSON text being read: where it is, how long. */
struct numtok {
	size_t		 off, len;
};

struct source_reader {
	struct source_dialect	 d;
	int			 fd;
	int			 latin1;	/* convert from ISO-8859-1 */
	iconv_t			 cd;
	char			 eol;		/* '\n', or '\r' in CR-only CSV */

	/*
	 * Text (UTF-8): buf[pos, end) is read and not consumed yet;
	 * buf[end, end + held) is the start of a UTF-8 sequence cut by the
	 * last read.  Bytes before pos (or before pin, when set) may be
	 * discarded by the next fill().
	 */
	char			*buf;
	size_t			 cap, pos, end, held, pin, cbpos;
	char			*raw;		/* Latin-1 bytes before iconv */
	int			 eof;		/* read(2) returned 0 */
	int			 enc_bad;	/* buf[end] is not text */
	unsigned char		 enc_byte;	/* ... and this is the byte */

	/* Where buf[pos] is in the file. */
	long			 line;		/* 1-based */
	long			 col;		/* characters before it, on its line */
	long long		 off;		/* byte offset */
	long long		 line_off;	/* byte offset of its line */

	cc_err			 err;		/* sticky result of source_next() */
	struct cc_diag		 errdiag;

	size_t			 ncol;
	char			**names;
	const char		**values;
	long long		 recno;
	long			 recline;
	long long		 ragged;
	size_t			 extra;

	/* CSV */
	struct csv_parser	 csv;
	int			 csv_ok;	/* csv initialised */
	int			 csv_done;	/* csv_fini() called */
	char			*arena;		/* fields of the row, NUL-separated */
	size_t			 alen, acap;
	size_t			*foff;		/* offsets of the fields in arena */
	size_t			 fcap;
	size_t			 nfields;	/* fields of the row so far */
	size_t			 fkeep;		/* fields worth keeping */
	int			 row_done;
	int			 skip_space;	/* ", "-separated: drop the
						   spaces after a delimiter */
	long			 row_line;
	unsigned long long	 nsubmitted;	/* fields ended, all rows */
	cc_err			 cb_err;
	int			 pending;	/* row 1 is the first record */
	int			 ls_quoted;	/* line started inside quotes */
	unsigned long long	 ls_fields;	/* nsubmitted at line start */
	long			 q_line;	/* line where the open quote is */
	long long		 q_line_off;
	int			 q_quoted;	/* that line started in quotes */

	/* JSON and NDJSON */
	enum json_state		 js;
	int			 found;		/* records array reached */
	int			 collect;	/* first pass: collect keys */
	char			*rkey;		/* member holding the records */
	json_t			*cur;		/* record last returned */
	size_t			 tlen;		/* bytes of the value parsed */
	cc_err			 cberr;		/* from json_feed() */
	struct cc_diag		 cbdiag;
	struct smap		 map;		/* flattened key -> column */
	char			*kbuf;
	size_t			 kcap;
	char			*vbuf;		/* formatted values of a record */
	size_t			 vlen, vcap;
	size_t			*vofs;		/* their offsets, NOPIN if none */
	struct numtok		*tok;
	size_t			 ntok, tcap, tnext;
	const char		*ttext;		/* text the tokens point into */
	size_t			 ndscan;	/* NDJSON: bytes searched for LF */

	/* XLSX (core/source_xlsx.c) */
	struct xlsx		*xl;
};

static const char empty_value[] = "";

/* ---- names of enum values ---------------------------------------- */

const char *
source_format_name(enum source_format f)
{
	switch (f) {
	case SOURCE_FORMAT_CSV:
		return "csv";
	case SOURCE_FORMAT_JSON:
		return "json";
	case SOURCE_FORMAT_NDJSON:
		return "ndjson";
	case SOURCE_FORMAT_XLSX:
		return "xlsx";
	default:
		return "unknown";
	}
}

const char *
source_encoding_name(enum source_encoding e)
{
	switch (e) {
	case SOURCE_ENC_UTF8:
		return "utf-8";
	case SOURCE_ENC_UTF8_BOM:
		return "utf-8-bom";
	case SOURCE_ENC_LATIN1:
		return "latin-1";
	default:
		return "unknown";
	}
}

const char *
source_delimiter_name(char delimiter)
{
	switch (delimiter) {
	case ',':
		return "comma";
	case ';':
		return "semicolon";
	case '\t':
		return "tab";
	case '|':
		return "pipe";
	case '\0':
		return "none";
	default:
		return "other";
	}
}

/* ---- bytes and characters ---------------------------------------- */

/* 1 for the C0 controls refused in text: all but TAB LF VT FF CR; DEL. */
static int
ctrl_bad(unsigned char c)
{
	return c <= 0x08 || (c >= 0x0E && c <= 0x1F) || c == 0x7F;
}

/* Number of UTF-8 continuation bytes (10xxxxxx) in s[0, n). */
static size_t
count_cont(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) == 0x80;
	return k;
}

enum scan_stop {
	SCAN_END,		/* all bytes are text */
	SCAN_PARTIAL,		/* a UTF-8 sequence is cut by the end */
	SCAN_BAD,		/* a byte is not text */
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * Scans s[0, n) as UTF-8 text (RFC 3629: no overlong forms, surrogates or
 * code points above U+10FFFF; no refused controls).  Returns the length of
 * the leading run of whole, valid characters; *why says what follows it.
 */
static size_t
utf8_scan(const unsigned char *s, size_t n, enum scan_stop *why)
{
	size_t i = 0, k, need;
	unsigned char c, lo, hi;
	uint64_t w;

	while (i < n) {
		/* Eight printable ASCII bytes at a time. */
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if ((w & HIGHS) != 0 ||
			    ((w - ONES * 0x20) & ~w & HIGHS) != 0 ||
			    (((w ^ (ONES * 0x7F)) - ONES) & ~(w ^ (ONES * 0x7F)) &
			    HIGHS) != 0)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = s[i];
		if (c < 0x80) {
			if (ctrl_bad(c)) {
				*why = SCAN_BAD;
				return i;
			}
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c == 0xE0) {
			need = 2;
			lo = 0xA0;
		} else if (c >= 0xE1 && c <= 0xEF) {
			need = 2;
			if (c == 0xED)
				hi = 0x9F;
		} else if (c == 0xF0) {
			need = 3;
			lo = 0x90;
		} else if (c >= 0xF1 && c <= 0xF3)
			need = 3;
		else if (c == 0xF4) {
			need = 3;
			hi = 0x8F;
		} else {
			*why = SCAN_BAD;
			return i;
		}
		for (k = 1; k <= need; k++) {
			if (i + k >= n) {
				*why = SCAN_PARTIAL;
				return i;
			}
			if (s[i + k] < (k == 1 ? lo : 0x80) ||
			    s[i + k] > (k == 1 ? hi : 0xBF)) {
				*why = SCAN_BAD;
				return i;
			}
		}
		i += need + 1;
	}
	*why = SCAN_END;
	return n;
}

/* Length of the leading run of s[0, n) that is Latin-1 text. */
static size_t
latin1_scan(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ctrl_bad(s[i]) || (s[i] >= 0x80 && s[i] <= 0x9F))
			break;
	return i;
}


static int
is_json_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- string map ---------------------------------------------------- */

static void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->key[i]);
	free(m->key);
	free(m->klen);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* Index of k in m, or -1. */
static long
smap_find(const struct smap *m, const char *k, size_t len)
{
	size_t i, j;

	if (m->nslot == 0)
		return -1;
	i = util_fnv1a64(k, len) & (m->nslot - 1);
	while (m->slot[i] != 0) {
		j = m->slot[i] - 1;
		if (m->klen[j] == len && memcmp(m->key[j], k, len) == 0)
			return (long)j;
		i = (i + 1) & (m->nslot - 1);
	}
	return -1;
}

/* Adds k to m unless there; *idx is its index.  CC_OK or CC_ENOMEM. */
static cc_err
smap_add(struct smap *m, const char *k, size_t len, size_t *idx)
{
	long f;
	size_t i, j, ns, *slot;
	char **key;
	size_t *klen;

	if ((f = smap_find(m, k, len)) >= 0) {
		*idx = (size_t)f;
		return CC_OK;
	}
	if ((m->n + 1) * 2 > m->nslot) {
		ns = m->nslot ? m->nslot * 2 : 64;
		if ((slot = calloc(ns, sizeof(*slot))) == NULL)
			return CC_ENOMEM;
		for (j = 0; j < m->n; j++) {
			i = util_fnv1a64(m->key[j], m->klen[j]) & (ns - 1);
			while (slot[i] != 0)
				i = (i + 1) & (ns - 1);
			slot[i] = j + 1;
		}
		free(m->slot);
		m->slot = slot;
		m->nslot = ns;
	}
	if (m->n == m->kcap) {
		ns = m->kcap ? m->kcap * 2 : 32;
		if ((key = realloc(m->key, ns * sizeof(*key))) == NULL)
			return CC_ENOMEM;
		m->key = key;
		if ((klen = realloc(m->klen, ns * sizeof(*klen))) == NULL)
			return CC_ENOMEM;
		m->klen = klen;
		m->kcap = ns;
	}
	if ((m->key[m->n] = malloc(len + 1)) == NULL)
		return CC_ENOMEM;
	memcpy(m->key[m->n], k, len);
	m->key[m->n][len] = '\0';
	m->klen[m->n] = len;
	i = util_fnv1a64(k, len) & (m->nslot - 1);
	while (m->slot[i] != 0)
		i = (i + 1) & (m->nslot - 1);
	m->slot[i] = m->n + 1;
	*idx = m->n++;
	return CC_OK;
}

/*
 * Makes r->names from raw[0, n): trimmed of ASCII white space when trim
 * is set; "" becomes "column_N"; a name already taken gets "_2", "_3"...
 */
static cc_err
set_names(struct source_reader *r, char *const *raw, const size_t *rlen,
    size_t n, int trim, struct cc_diag *diag)
{
	struct smap seen;
	char *name = NULL, *p;
	size_t i, l, k, idx, ncap = 0;
	const char *s;
	cc_err err = CC_OK;

	memset(&seen, 0, sizeof(seen));
	if ((r->names = calloc(n ? n : 1, sizeof(*r->names))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		s = raw[i];
		l = rlen[i];
		if (trim) {
			while (l > 0 && (*s == ' ' || *s == '\t' || *s == '\r' ||
			    *s == '\n')) {
				s++;
				l--;
			}
			while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' ||
			    s[l - 1] == '\r' || s[l - 1] == '\n'))
				l--;
		}
		if (ncap < l + 48) {
			ncap = l + 48;
			if ((p = realloc(name, ncap)) == NULL)
				goto nomem;
			name = p;
		}
		if (l == 0)
			l = (size_t)snprintf(name, ncap, "column_%zu", i + 1);
		else
			memcpy(name, s, l);
		name[l] = '\0';
		for (k = 2; smap_find(&seen, name, strlen(name)) >= 0; k++)
			snprintf(name + l, ncap - l, "_%zu", k);
		if (smap_add(&seen, name, strlen(name), &idx) != CC_OK ||
		    (r->names[i] = strdup(name)) == NULL)
			goto nomem;
	}
	goto out;
nomem:
	err = cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
	    "out of memory naming columns");
out:
	free(name);
	smap_free(&seen);
	return err;
}

/* ---- input layer ----------------------------------------------------- */

/* Fills diag with the position of buf[pos]. */
static void
diag_here(const struct source_reader *r, struct cc_diag *diag)
{
	diag->line = r->line;
	diag->column = r->col + 1;
	diag->offset = r->off;
}

/*
 * Where buf[idx] (pos <= idx <= end) is: line, characters before it on
 * its line, and byte offset in the file.
 */
static void
locate(const struct source_reader *r, size_t idx, long *line, long *col,
    long long *off)
{
	const char *p = r->buf + r->pos, *e = r->buf + idx, *nl;
	size_t seg, cont;

	*line = r->line;
	*col = r->col;
	*off = r->off;
	while (p < e) {
		nl = memchr(p, r->eol, (size_t)(e - p));
		seg = (size_t)((nl ? nl + 1 : e) - p);
		cont = count_cont(p, seg);
		*off += (long long)(r->latin1 ? seg - cont : seg);
		if (nl) {
			(*line)++;
			*col = 0;
		} else
			*col += (long)(seg - cont);
		p += seg;
	}
}

/* Consumes n bytes of text, keeping line, column and offset. */
static void
advance(struct source_reader *r, size_t n)
{
	const char *p = r->buf + r->pos, *e = p + n, *nl;
	size_t seg, cont;

	r->pos += n;
	while (p < e) {
		nl = memchr(p, r->eol, (size_t)(e - p));
		seg = (size_t)((nl ? nl + 1 : e) - p);
		cont = (r->latin1 || nl == NULL) ? count_cont(p, seg) : 0;
		r->off += (long long)(r->latin1 ? seg - cont : seg);
		if (nl) {
			r->line++;
			r->col = 0;
			r->line_off = r->off;
		} else
			r->col += (long)(seg - cont);
		p += seg;
	}
}

/* The CC_EENCODING of the byte at buf[idx] (idx is r->end). */
static cc_err
enc_error_at(const struct source_reader *r, size_t idx, struct cc_diag *diag)
{
	long line, col;
	long long off;
	unsigned char c = r->enc_byte;

	locate(r, idx, &line, &col, &off);
	diag->line = line;
	diag->column = col + 1;
	diag->offset = off;
	if (c == 0)
		return cc_diag_set(diag, CC_EENCODING, "binary_data",
		    "binary data: NUL byte at line %ld, column %ld "
		    "(byte offset %lld)", line, col + 1, off);
	if (c < 0x80 && ctrl_bad(c))
		return cc_diag_set(diag, CC_EENCODING, "control_character",
		    "control character 0x%02X at line %ld, column %ld "
		    "(byte offset %lld)", c, line, col + 1, off);
	if (r->latin1)
		return cc_diag_set(diag, CC_EENCODING, "invalid_latin1",
		    "byte 0x%02X at line %ld, column %ld (byte offset %lld) "
		    "is not ISO-8859-1 text, the encoding the start of the "
		    "file was read in", c, line, col + 1, off);
	return cc_diag_set(diag, CC_EENCODING, "invalid_utf8",
	    "invalid UTF-8 (byte 0x%02X) at line %ld, column %ld "
	    "(byte offset %lld); the start of the file was UTF-8",
	    c, line, col + 1, off);
}

static cc_err
read_error(struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EIO, "read_error", "cannot read the file: %s",
	    strerror(errno));
}

/*
 * Reads the next chunk of the file into buf[end, ...), checking and
 * converting it.  Discards the bytes before pos (and pin).  Sets eof at
 * the end of the file, enc_bad at a byte that is not text (and then reads
 * no more).  Returns CC_OK, CC_EIO, CC_ENOMEM or CC_ETOOBIG.
 */
static cc_err
fill(struct source_reader *r, struct cc_diag *diag)
{
	size_t keep, want, live, ncap, v, inleft, outleft;
	ssize_t n;
	enum scan_stop why;
	char *p, *in, *o;

	if (r->eof || r->enc_bad)
		return CC_OK;
	keep = r->pos;
	if (r->pin != NOPIN && r->pin < keep)
		keep = r->pin;
	if (keep > 0) {
		memmove(r->buf, r->buf + keep, r->end + r->held - keep);
		r->pos -= keep;
		r->end -= keep;
		if (r->pin != NOPIN) {
			r->pin -= keep;
			r->cbpos -= keep;
		}
	}
	want = r->latin1 ? 2 * READ_CHUNK : READ_CHUNK;
	live = r->end + r->held;
	if (r->cap - live < want + 1) {
		if (live > SOURCE_MAX_RECORD_BYTES) {
			diag_here(r, diag);
			return cc_diag_set(diag, CC_ETOOBIG, "record_too_long",
			    "the record at line %ld is longer than %lu MiB",
			    r->line, SOURCE_MAX_RECORD_BYTES >> 20);
		}
		ncap = r->cap * 2;
		if (ncap < live + want + 1)
			ncap = live + want + 1;
		if ((p = realloc(r->buf, ncap)) == NULL)
			return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
			    "out of memory reading the file");
		r->buf = p;
		r->cap = ncap;
	}
	if (r->latin1) {
		do
			n = read(r->fd, r->raw, READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return read_error(diag);
		if (n == 0) {
			r->eof = 1;
			return CC_OK;
		}
		v = latin1_scan((unsigned char *)r->raw, (size_t)n);
		in = r->raw;
		inleft = v;
		o = r->buf + r->end;
		outleft = r->cap - r->end;
		if (v > 0 && iconv(r->cd, &in, &inleft, &o, &outleft) ==
		    (size_t)-1)
			return cc_diag_set(diag, CC_EIO, "iconv",
			    "cannot convert from ISO-8859-1: %s", strerror(errno));
		r->end = (size_t)(o - r->buf);
		if (v < (size_t)n) {
			r->enc_bad = 1;
			r->enc_byte = (unsigned char)r->raw[v];
		}
		return CC_OK;
	}
	do
		n = read(r->fd, r->buf + r->end + r->held, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return read_error(diag);
	if (n == 0) {
		r->eof = 1;
		if (r->held > 0) {
			/* A UTF-8 sequence cut by the end of the file. */
			r->enc_bad = 1;
			r->enc_byte = (unsigned char)r->buf[r->end];
			r->held = 0;
		}
		return CC_OK;
	}
	live = r->held + (size_t)n;
	v = utf8_scan((unsigned char *)r->buf + r->end, live, &why);
	r->end += v;
	r->held = 0;
	if (why == SCAN_PARTIAL)
		r->held = live - v;
	else if (why == SCAN_BAD) {
		r->enc_bad = 1;
		r->enc_byte = (unsigned char)r->buf[r->end];
	}
	return CC_OK;
}

/*
 * Goes back to the start of the file: reads the first chunk and skips a
 * UTF-8 byte order mark.
 */
static cc_err
input_reset(struct source_reader *r, struct cc_diag *diag)
{
	if (lseek(r->fd, 0, SEEK_SET) < 0)
		return cc_diag_set(diag, CC_EIO, "seek_error",
		    "cannot rewind the file: %s", strerror(errno));
	if (r->cd != (iconv_t)-1)
		iconv(r->cd, NULL, NULL, NULL, NULL);
	r->pos = r->end = r->held = 0;
	r->pin = NOPIN;
	r->eof = r->enc_bad = 0;
	r->line = 1;
	r->col = 0;
	r->off = r->line_off = 0;
	while (!r->eof && !r->enc_bad && r->end < 3) {
		cc_err err = fill(r, diag);
		if (err != CC_OK)
			return err;
	}
	if (!r->latin1 && r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
		r->pos = 3;
		r->off = r->line_off = 3;
	}
	return CC_OK;
}

/* ---- CSV ----------------------------------------------------------- */

static int
is_cr(unsigned char c)
{
	return c == '\r';
}

static int
is_lf(unsigned char c)
{
	return c == '\n';
}

/* libcsv field callback: keeps the first fkeep fields of the row. */
static void
csv_field_cb(void *s, size_t len, void *data)
{
	struct source_reader *r = data;
	size_t ncap, *f;
	char *p;

	r->nsubmitted++;
	if (r->nfields++ >= r->fkeep || r->cb_err != CC_OK)
		return;
	if (r->alen + len + 1 > r->acap) {
		ncap = r->acap * 2;
		if (ncap < r->alen + len + 1)
			ncap = r->alen + len + 1;
		if ((p = realloc(r->arena, ncap)) == NULL) {
			r->cb_err = CC_ENOMEM;
			return;
		}
		r->arena = p;
		r->acap = ncap;
	}
	if (r->nfields > r->fcap) {
		ncap = r->fcap ? r->fcap * 2 : 64;
		if ((f = realloc(r->foff, ncap * sizeof(*f))) == NULL) {
			r->cb_err = CC_ENOMEM;
			return;
		}
		r->foff = f;
		r->fcap = ncap;
	}
	/* the spacing the dialect implies (", "): not part of the value */
	while (r->skip_space && len > 0 && *(const char *)s == ' ') {
		s = (char *)s + 1;
		len--;
	}
	r->foff[r->nfields - 1] = r->alen;
	if (len > 0)
		memcpy(r->arena + r->alen, s, len);
	r->arena[r->alen + len] = '\0';
	r->alen += len + 1;
}

/* libcsv row callback. */
static void
csv_row_cb(int c, void *data)
{
	struct source_reader *r = data;

	(void)c;
	r->row_done = 1;
}

/* Records the line of a quote that opened on the line being ended. */
static void
csv_track_quote(struct source_reader *r, long line, long long line_off)
{
	if (r->csv.quoted &&
	    (!r->ls_quoted || r->nsubmitted != r->ls_fields)) {
		r->q_line = line;
		r->q_line_off = line_off;
		r->q_quoted = r->ls_quoted;
	}
}

/*
 * Finds the column and offset of the quote left open on line q_line by
 * reading that line again and following libcsv's non-strict rules.
 */
static void
csv_quote_position(struct source_reader *r, long *column, long long *offset)
{
	enum { OUT_START, OUT, IN, IN_QUOTE } st;
	char chunk[8192];
	long long at = r->q_line_off, open_off = r->q_line_off;
	long chars = 0, open_col = 1;
	ssize_t n, i;
	unsigned char c;

	st = r->q_quoted ? IN : OUT_START;
	while (at - r->q_line_off < (long long)SOURCE_MAX_FIELD_BYTES) {
		n = pread(r->fd, chunk, sizeof(chunk), at);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++, at++) {
			c = (unsigned char)chunk[i];
			if (c == (unsigned char)r->eol)
				goto done;
			switch (st) {
			case OUT_START:
				if (c == (unsigned char)r->d.quote &&
				    r->d.quote != 0) {
					st = IN;
					open_off = at;
					open_col = chars + 1;
				} else if (c != (unsigned char)r->d.delimiter &&
				    c != '\r' && c != '\n')
					st = OUT;
				break;
			case OUT:
				if (c == (unsigned char)r->d.delimiter)
					st = OUT_START;
				break;
			case IN:
				if (c == (unsigned char)r->d.quote)
					st = IN_QUOTE;
				break;
			case IN_QUOTE:
				if (c == (unsigned char)r->d.delimiter)
					st = OUT_START;
				else if (c != '\r' && c != '\n')
					st = IN;
				break;
			}
			if (r->latin1 || (c & 0xC0) != 0x80)
				chars++;
		}
	}
done:
	*column = open_col;
	*offset = open_off;
}

/* CC_EPARSE (or CC_ETOOBIG) for the quoted field that never closes. */
static cc_err
csv_open_quote_error(struct source_reader *r, int too_long,
    struct cc_diag *diag)
{
	long col;
	long long off;

	if (!r->ls_quoted || r->nsubmitted != r->ls_fields) {
		/* The quote opened on the current, unfinished line. */
		r->q_line = r->line;
		r->q_line_off = r->line_off;
		r->q_quoted = r->ls_quoted;
	}
	csv_quote_position(r, &col, &off);
	diag->line = r->q_line;
	diag->column = col;
	diag->offset = off;
	if (too_long)
		return cc_diag_set(diag, CC_ETOOBIG, "field_too_long",
		    "the quoted field opened at line %ld, column %ld is longer "
		    "than %lu MiB: is its closing quote missing?", r->q_line,
		    col, SOURCE_MAX_FIELD_BYTES >> 20);
	return cc_diag_set(diag, CC_EPARSE, "csv_unterminated_quote",
	    "unterminated quoted field: the quote at line %ld, column %ld "
	    "is never closed", r->q_line, col);
}

/* End of the file: the last row if it had no line end, else CC_EOF. */
static cc_err
csv_finish(struct source_reader *r, struct cc_diag *diag)
{
	if (r->csv_done)
		return CC_EOF;
	if (r->csv.quoted && r->csv.pstate == LIBCSV_FIELD_BEGUN)
		return csv_open_quote_error(r, 0, diag);
	r->csv_done = 1;
	csv_fini(&r->csv, csv_field_cb, csv_row_cb, r);
	if (r->cb_err != CC_OK)
		return cc_diag_set(diag, r->cb_err, "out_of_memory",
		    "out of memory reading a CSV row");
	return r->row_done ? CC_OK : CC_EOF;
}

/*
 * Reads the next CSV row: nfields fields, the first fkeep of them in
 * arena at foff[].  Returns CC_OK, CC_EOF or an error.
 */
static cc_err
csv_read_row(struct source_reader *r, struct cc_diag *diag)
{
	const char *p, *nl;
	size_t n, avail;
	long line;
	long long line_off;
	cc_err err;

	r->alen = 0;
	r->nfields = 0;
	r->row_done = 0;
	for (;;) {
		if (r->pos == r->end) {
			if (r->enc_bad)
				return enc_error_at(r, r->end, diag);
			if (r->eof)
				return csv_finish(r, diag);
			if ((err = fill(r, diag)) != CC_OK)
				return err;
			continue;
		}
		p = r->buf + r->pos;
		avail = r->end - r->pos;
		nl = memchr(p, r->eol, avail);
		n = nl ? (size_t)(nl - p) + 1 : avail;
		if (r->csv.pstate == LIBCSV_ROW_NOT_BEGUN)
			r->row_line = r->line;
		if (csv_parse(&r->csv, p, n, csv_field_cb, csv_row_cb, r) != n ||
		    r->cb_err != CC_OK)
			return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
			    "out of memory reading a CSV row");
		if (nl != NULL) {
			line = r->line;
			line_off = r->line_off;
			if (r->latin1)
				advance(r, n);
			else {
				r->pos += n;
				r->off += (long long)n;
				r->line++;
				r->col = 0;
				r->line_off = r->off;
			}
			csv_track_quote(r, line, line_off);
			r->ls_quoted = r->csv.quoted;
			r->ls_fields = r->nsubmitted;
		} else
			advance(r, n);
		if (r->csv.entry_pos > SOURCE_MAX_FIELD_BYTES) {
			if (r->csv.quoted)
				return csv_open_quote_error(r, 1, diag);
			diag_here(r, diag);
			return cc_diag_set(diag, CC_ETOOBIG, "field_too_long",
			    "a field of the record at line %ld is longer than "
			    "%lu MiB", r->row_line, SOURCE_MAX_FIELD_BYTES >> 20);
		}
		if (r->alen > SOURCE_MAX_RECORD_BYTES) {
			diag_here(r, diag);
			return cc_diag_set(diag, CC_ETOOBIG, "record_too_long",
			    "the record at line %ld is longer than %lu MiB",
			    r->row_line, SOURCE_MAX_RECORD_BYTES >> 20);
		}
		if (r->row_done)
			return CC_OK;
	}
}

/*
 * 1 when the lines of p[0, n) (the first chunk; its last, partial line
 * left out; at most 100 lines) put a space after every delimiter outside
 * quotes, with at least one delimiter: the ", " dialect (Python csv's
 * skipinitialspace), whose spaces belong to the separator, not the
 * values.
 */
static int
csv_space_after_delim(const char *p, size_t n, char delim, char quote)
{
	size_t i, last, lines = 0, delims = 0;
	int inq = 0;

	for (last = n; last > 0 && p[last - 1] != '\n' && p[last - 1] != '\r';
	    last--)
		;
	for (i = 0; i < last && lines < 100; i++) {
		if (quote != 0 && p[i] == quote)
			inq = !inq;
		else if (!inq && (p[i] == '\n' || p[i] == '\r'))
			lines += p[i] == '\n' || i + 1 >= last ||
			    p[i + 1] != '\n';
		else if (!inq && p[i] == delim) {
			if (i + 1 >= last || p[i + 1] != ' ')
				return 0;
			delims++;
		}
	}
	return delims > 0;
}

/* Sets up libcsv and reads row 1 (the header, or the first record). */
static cc_err
csv_open(struct source_reader *r, struct cc_diag *diag)
{
	char **raw = NULL;
	size_t *len = NULL, i;
	cc_err err;

	if (csv_init(&r->csv, 0) != 0)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	r->csv_ok = 1;
	csv_set_delim(&r->csv, (unsigned char)r->d.delimiter);
	csv_set_quote(&r->csv, (unsigned char)r->d.quote);
	/* Keep spaces ("' Jon'"); CR before LF is dropped as a "space". */
	csv_set_space_func(&r->csv, r->eol == '\n' ? is_cr : is_lf);
	csv_set_term_func(&r->csv, r->eol == '\n' ? is_lf : is_cr);
	csv_set_blk_size(&r->csv, 64 * 1024);
	r->fkeep = SOURCE_MAX_COLUMNS;
	r->skip_space = r->d.delimiter != ' ' && csv_space_after_delim(r->buf +
	    r->pos, r->end - r->pos, r->d.delimiter, r->d.quote);

	err = csv_read_row(r, diag);
	if (err == CC_EOF) {
		r->err = CC_EOF;
		return CC_OK;
	}
	if (err != CC_OK)
		return err;
	if (r->nfields > SOURCE_MAX_COLUMNS) {
		diag->line = r->row_line;
		diag->column = 1;
		diag->offset = 0;
		return cc_diag_set(diag, CC_ETOOBIG, "too_many_columns",
		    "row %ld has %zu fields, more than %d", r->row_line,
		    r->nfields, SOURCE_MAX_COLUMNS);
	}
	r->ncol = r->nfields;
	if ((raw = calloc(r->ncol, sizeof(*raw))) == NULL ||
	    (len = calloc(r->ncol, sizeof(*len))) == NULL ||
	    (r->values = calloc(r->ncol, sizeof(*r->values))) == NULL) {
		err = cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
		goto out;
	}
	for (i = 0; i < r->ncol; i++) {
		raw[i] = r->d.has_header ? r->arena + r->foff[i] : NULL;
		len[i] = raw[i] ? strlen(raw[i]) : 0;
	}
	err = set_names(r, raw, len, r->ncol, 1, diag);
	r->pending = !r->d.has_header;
	r->fkeep = r->ncol;
out:
	free(raw);
	free(len);
	return err;
}

/* The next CSV record into r->values. */
static cc_err
csv_next(struct source_reader *r, struct cc_diag *diag)
{
	size_t i, kept;
	cc_err err;

	if (r->pending)
		r->pending = 0;
	else if ((err = csv_read_row(r, diag)) != CC_OK)
		return err;
	kept = r->nfields < r->ncol ? r->nfields : r->ncol;
	for (i = 0; i < kept; i++)
		r->values[i] = r->arena + r->foff[i];
	for (; i < r->ncol; i++)
		r->values[i] = empty_value;
	r->extra = r->nfields > r->ncol ? r->nfields - r->ncol : 0;
	if (r->nfields != r->ncol)
		r->ragged++;
	r->recline = r->row_line;
	return CC_OK;
}

/* ---- JSON and NDJSON --------------------------------------------- */

/* Jansson's input callback: hands out buf[cbpos, end), reading on. */
static size_t
json_feed(void *buffer, size_t buflen, void *data)
{
	struct source_reader *r = data;
	size_t n;

	while (r->cbpos == r->end) {
		if (r->enc_bad) {
			r->cberr = CC_EENCODING;
			return (size_t)-1;
		}
		if (r->eof)
			return 0;
		if ((r->cberr = fill(r, &r->cbdiag)) != CC_OK)
			return (size_t)-1;
	}
	n = r->end - r->cbpos;
	if (n > buflen)
		n = buflen;
	memcpy(buffer, r->buf + r->cbpos, n);
	r->cbpos += n;
	return n;
}

/*
 * CC_EPARSE for Jansson's error *je about text that starts at buf[pos]:
 * its line, column and position moved to where that text is in the file.
 */
static cc_err
json_error(const struct source_reader *r, const json_error_t *je,
    struct cc_diag *diag)
{
	long line, col;
	long long off;
	size_t idx = r->pos + (je->position > 0 ? (size_t)je->position - 1 : 0);

	if (idx > r->end)
		idx = r->end;
	locate(r, idx, &line, &col, &off);
	diag->line = r->line + (je->line > 1 ? je->line - 1 : 0);
	diag->column = je->line <= 1 ? r->col + (je->column > 0 ? je->column : 1) :
	    je->column;
	diag->offset = off;
	return cc_diag_set(diag, CC_EPARSE, "json_syntax",
	    "JSON syntax error at line %ld, column %ld: %s", diag->line,
	    diag->column, je->text);
}

/*
 * Parses one JSON value starting at buf[pos] with Jansson (flags are
 * ORed with JSON_DISABLE_EOF_CHECK).  On success *out is the value and
 * r->tlen the bytes it used; buf[pos] is not consumed.
 */
static cc_err
json_parse_at(struct source_reader *r, size_t flags, json_t **out,
    struct cc_diag *diag)
{
	json_error_t je;
	json_t *j;
	cc_err err;

	r->pin = r->cbpos = r->pos;
	r->cberr = CC_OK;
	j = json_load_callback(json_feed, r, flags | JSON_DISABLE_EOF_CHECK, &je);
	if (j == NULL) {
		err = r->cberr;
		if (err == CC_EENCODING)
			err = enc_error_at(r, r->end, diag);
		else if (err != CC_OK)
			*diag = r->cbdiag;
		else
			err = json_error(r, &je, diag);
		r->pin = NOPIN;
		return err;
	}
	r->pin = NOPIN;
	r->tlen = je.position > 0 ? (size_t)je.position : 0;
	if (r->pos + r->tlen > r->end)
		r->tlen = r->end - r->pos;
	*out = j;
	return CC_OK;
}

/* Skips white space; *c is the next byte (unread) or -1 at the end. */
static cc_err
json_peek(struct source_reader *r, int *c, struct cc_diag *diag)
{
	size_t i;
	cc_err err;

	for (;;) {
		for (i = r->pos; i < r->end && is_json_ws(r->buf[i]); i++)
			;
		if (i > r->pos)
			advance(r, i - r->pos);
		if (r->pos < r->end) {
			*c = (unsigned char)r->buf[r->pos];
			return CC_OK;
		}
		if (r->enc_bad)
			return enc_error_at(r, r->end, diag);
		if (r->eof) {
			*c = -1;
			return CC_OK;
		}
		if ((err = fill(r, diag)) != CC_OK)
			return err;
	}
}

/* The first byte after buf[pos] and white space, or -1; nothing consumed. */
static cc_err
json_peek2(struct source_reader *r, int *c, struct cc_diag *diag)
{
	size_t i = 1;
	cc_err err = CC_OK;

	r->pin = r->pos;
	for (;;) {
		while (r->pos + i < r->end && is_json_ws(r->buf[r->pos + i]))
			i++;
		if (r->pos + i < r->end) {
			*c = (unsigned char)r->buf[r->pos + i];
			break;
		}
		if (r->enc_bad) {
			err = enc_error_at(r, r->end, diag);
			break;
		}
		if (r->eof) {
			*c = -1;
			break;
		}
		if ((err = fill(r, diag)) != CC_OK)
			break;
	}
	r->pin = NOPIN;
	return err;
}

/* CC_EPARSE "json_expected" at buf[pos], which is c (-1: end of file). */
static cc_err
json_expected(const struct source_reader *r, int c, const char *what,
    struct cc_diag *diag)
{
	diag_here(r, diag);
	if (c < 0)
		return cc_diag_set(diag, CC_EPARSE, "json_expected",
		    "expected %s at line %ld, column %ld, found the end of the "
		    "file", what, diag->line, diag->column);
	return cc_diag_set(diag, CC_EPARSE, "json_expected",
	    "expected %s at line %ld, column %ld, found '%c'", what,
	    diag->line, diag->column, c >= 0x20 && c < 0x7F ? c : '?');
}

static const char *
json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "an object";
	}
}

/* Records the numbers of the JSON text t[0, n) (outside strings). */
static cc_err
scan_numbers(struct source_reader *r, const char *t, size_t n)
{
	size_t i = 0, st, ncap;
	struct numtok *p;
	char c;

	r->ntok = r->tnext = 0;
	r->ttext = t;
	while (i < n) {
		c = t[i];
		if (c == '"') {
			for (i++; i < n && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
			continue;
		}
		if (c != '-' && (c < '0' || c > '9')) {
			i++;
			continue;
		}
		for (st = i; i < n && ((t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-' || t[i] == '+' || t[i] == '.' || t[i] == 'e' ||
		    t[i] == 'E'); i++)
			;
		if (r->ntok == r->tcap) {
			ncap = r->tcap ? r->tcap * 2 : 64;
			if ((p = realloc(r->tok, ncap * sizeof(*p))) == NULL)
				return CC_ENOMEM;
			r->tok = p;
			r->tcap = ncap;
		}
		r->tok[r->ntok].off = st;
		r->tok[r->ntok].len = i - st;
		r->ntok++;
	}
	return CC_OK;
}

/*
 * Next record object of a JSON document (an array of objects, or an
 * object with a member holding one).  Returns CC_OK with *obj (the
 * caller's reference), CC_EOF or an error.
 */
static cc_err
json_next_object(struct source_reader *r, json_t **obj, struct cc_diag *diag)
{
	json_t *j;
	const char *key;
	int c, c2 = -1, pick;
	cc_err err;

	for (;;) {
		switch (r->js) {
		case JS_BEGIN:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == '[' && r->d.records_path[0] == '\0') {
				advance(r, 1);
				r->found = 1;
				r->js = JS_ELEM_FIRST;
			} else if (c == '{') {
				advance(r, 1);
				r->js = JS_KEY_FIRST;
			} else
				return json_expected(r, c,
				    r->d.records_path[0] ? "'{'" : "'[' or '{'",
				    diag);
			break;
		case JS_KEY_FIRST:
		case JS_KEY:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == '}' && r->js == JS_KEY_FIRST) {
				advance(r, 1);
				goto end_object;
			}
			if (c != '"')
				return json_expected(r, c, "a member name", diag);
			if ((err = json_parse_at(r, JSON_DECODE_ANY, &j,
			    diag)) != CC_OK)
				return err;
			advance(r, r->tlen);
			if ((err = json_peek(r, &c, diag)) != CC_OK) {
				json_decref(j);
				return err;
			}
			if (c != ':') {
				json_decref(j);
				return json_expected(r, c, "':'", diag);
			}
			advance(r, 1);
			if ((err = json_peek(r, &c, diag)) != CC_OK) {
				json_decref(j);
				return err;
			}
			key = json_string_value(j);
			pick = 0;
			if (!r->found && r->d.records_path[0] != '\0')
				pick = strcmp(key, r->d.records_path) == 0;
			else if (!r->found && c == '[') {
				if ((err = json_peek2(r, &c2, diag)) != CC_OK) {
					json_decref(j);
					return err;
				}
				pick = c2 == '{' || c2 == ']';
			}
			if (pick) {
				if (c != '[') {
					json_decref(j);
					diag_here(r, diag);
					return cc_diag_set(diag, CC_EPARSE,
					    "json_no_records", "member \"%s\" "
					    "does not hold an array",
					    r->d.records_path);
				}
				free(r->rkey);
				r->rkey = strdup(key);
				json_decref(j);
				if (r->rkey == NULL)
					return cc_diag_set(diag, CC_ENOMEM,
					    "out_of_memory", "out of memory");
				if (strlen(r->rkey) < sizeof(r->d.records_path))
					strcpy(r->d.records_path, r->rkey);
				r->found = 1;
				advance(r, 1);
				r->js = JS_ELEM_FIRST;
				break;
			}
			json_decref(j);
			/* Skip a member that does not hold the records. */
			if ((err = json_parse_at(r, JSON_DECODE_ANY, &j,
			    diag)) != CC_OK)
				return err;
			json_decref(j);
			advance(r, r->tlen);
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == ',') {
				advance(r, 1);
				r->js = JS_KEY;
				break;
			}
			if (c != '}')
				return json_expected(r, c, "',' or '}'", diag);
			advance(r, 1);
end_object:
			if (!r->found) {
				diag_here(r, diag);
				if (r->d.records_path[0] != '\0')
					return cc_diag_set(diag, CC_EPARSE,
					    "json_no_records", "the document "
					    "has no member \"%s\"",
					    r->d.records_path);
				return cc_diag_set(diag, CC_EPARSE,
				    "json_no_records", "no member of the "
				    "top-level object holds an array of objects");
			}
			r->js = JS_TRAILER;
			break;
		case JS_ELEM_FIRST:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == ']') {
				advance(r, 1);
				r->js = JS_AFTER_ARRAY;
				break;
			}
			r->js = JS_ELEM;
			break;
		case JS_ELEM:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c < 0)
				return json_expected(r, c, "a record", diag);
			if ((err = json_parse_at(r, JSON_DECODE_ANY, &j,
			    diag)) != CC_OK)
				return err;
			if (!json_is_object(j)) {
				diag_here(r, diag);
				err = cc_diag_set(diag, CC_EPARSE,
				    "json_not_object", "record %lld (line %ld, "
				    "column %ld) is %s, not an object",
				    r->recno + 1, diag->line, diag->column,
				    json_kind(j));
				json_decref(j);
				return err;
			}
			r->recline = r->line;
			if (!r->collect &&
			    scan_numbers(r, r->buf + r->pos, r->tlen) != CC_OK) {
				json_decref(j);
				return cc_diag_set(diag, CC_ENOMEM,
				    "out_of_memory", "out of memory");
			}
			advance(r, r->tlen);
			r->js = JS_AFTER_ELEM;
			*obj = j;
			return CC_OK;
		case JS_AFTER_ELEM:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == ',') {
				advance(r, 1);
				r->js = JS_ELEM;
			} else if (c == ']') {
				advance(r, 1);
				r->js = JS_AFTER_ARRAY;
			} else
				return json_expected(r, c, "',' or ']'", diag);
			break;
		case JS_AFTER_ARRAY:
			if (r->rkey == NULL) {
				r->js = JS_TRAILER;
				break;
			}
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c == ',') {
				advance(r, 1);
				r->js = JS_KEY;
			} else if (c == '}') {
				advance(r, 1);
				r->js = JS_TRAILER;
			} else
				return json_expected(r, c, "',' or '}'", diag);
			break;
		case JS_TRAILER:
			if ((err = json_peek(r, &c, diag)) != CC_OK)
				return err;
			if (c >= 0) {
				diag_here(r, diag);
				return cc_diag_set(diag, CC_EPARSE,
				    "json_trailing_data", "unexpected data after "
				    "the end of the JSON document at line %ld, "
				    "column %ld", diag->line, diag->column);
			}
			r->js = JS_DONE;
			return CC_EOF;
		case JS_DONE:
			return CC_EOF;
		}
	}
}

/* Next record object of an NDJSON file (blank lines skipped). */
static cc_err
ndjson_next_object(struct source_reader *r, json_t **obj,
    struct cc_diag *diag)
{
	json_error_t je;
	json_t *j;
	const char *p, *nl;
	size_t avail, len, i;
	cc_err err;

	for (;;) {
		p = r->buf + r->pos;
		avail = r->end - r->pos;
		nl = memchr(p + r->ndscan, '\n', avail - r->ndscan);
		if (nl == NULL && !r->eof && !r->enc_bad) {
			r->ndscan = avail;
			r->pin = r->pos;
			err = fill(r, diag);
			r->pin = NOPIN;
			if (err != CC_OK)
				return err;
			continue;
		}
		r->ndscan = 0;
		if (nl == NULL && r->enc_bad)
			return enc_error_at(r, r->end, diag);
		if (nl == NULL && avail == 0)
			return CC_EOF;
		len = nl ? (size_t)(nl - p) : avail;
		for (i = 0; i < len && is_json_ws(p[i]); i++)
			;
		if (i == len) {
			advance(r, len + (nl != NULL));
			continue;
		}
		j = json_loadb(p, len, JSON_DECODE_ANY, &je);
		if (j == NULL)
			return json_error(r, &je, diag);
		if (!json_is_object(j)) {
			advance(r, i);
			diag_here(r, diag);
			err = cc_diag_set(diag, CC_EPARSE, "json_not_object",
			    "record %lld (line %ld) is %s, not an object",
			    r->recno + 1, diag->line, json_kind(j));
			json_decref(j);
			return err;
		}
		r->recline = r->line;
		if (!r->collect && scan_numbers(r, p, len) != CC_OK) {
			json_decref(j);
			return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
			    "out of memory");
		}
		advance(r, len + (nl != NULL));
		*obj = j;
		return CC_OK;
	}
}

/* Makes room for n more bytes (and a NUL) in vbuf. */
static cc_err
vreserve(struct source_reader *r, size_t n)
{
	size_t ncap;
	char *p;

	if (r->vlen + n + 1 > r->vcap) {
		ncap = r->vcap ? r->vcap * 2 : 256;
		while (ncap < r->vlen + n + 1)
			ncap *= 2;
		if ((p = realloc(r->vbuf, ncap)) == NULL)
			return CC_ENOMEM;
		r->vbuf = p;
		r->vcap = ncap;
	}
	return CC_OK;
}

/* Appends s[0, n) to vbuf as the value of column col. */
static cc_err
vput(struct source_reader *r, size_t col, const char *s, size_t n)
{
	if (vreserve(r, n) != CC_OK)
		return CC_ENOMEM;
	memcpy(r->vbuf + r->vlen, s, n);
	r->vbuf[r->vlen + n] = '\0';
	r->vofs[col] = r->vlen;
	r->vlen += n + 1;
	return CC_OK;
}

/* Number of JSON numbers inside v (an array or object). */
static size_t
count_numbers(json_t *v)
{
	size_t i, n = 0;
	const char *k;
	json_t *e;

	if (json_is_number(v))
		return 1;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			n += count_numbers(e);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			n += count_numbers(e);
	}
	return n;
}

/*
 * The text of number v: the next number token of the record's text when
 * it denotes the same value (Jansson keeps object members in document
 * order, so the k-th number met is the k-th token; a duplicate key breaks
 * this and the check catches it), else Jansson's value printed back.
 */
static cc_err
json_number(struct source_reader *r, size_t col, json_t *v)
{
	char tmp[64], *end;
	const struct numtok *t;
	int ok = 0;

	if (r->tnext < r->ntok) {
		t = &r->tok[r->tnext++];
		if (t->len < sizeof(tmp)) {
			memcpy(tmp, r->ttext + t->off, t->len);
			tmp[t->len] = '\0';
			errno = 0;
			if (json_is_integer(v))
				ok = strtoll(tmp, &end, 10) ==
				    json_integer_value(v) && errno == 0 &&
				    *end == '\0';
			else
				ok = strtod(tmp, &end) == json_real_value(v) &&
				    *end == '\0';
			if (ok)
				return vput(r, col, tmp, t->len);
		}
	}
	if (json_is_integer(v))
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else {
		int prec;

		for (prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec,
			    json_real_value(v));
			if (strtod(tmp, NULL) == json_real_value(v))
				break;
		}
		if (strpbrk(tmp, ".eEn") == NULL)
			strcat(tmp, ".0");
	}
	return vput(r, col, tmp, strlen(tmp));
}

/* One flattened member: its key is kbuf[0, klen). */
static cc_err
json_leaf(struct source_reader *r, size_t klen, json_t *v,
    struct cc_diag *diag)
{
	size_t col, n;
	long f;
	cc_err err = CC_OK;

	if (r->collect) {
		if (smap_add(&r->map, r->kbuf, klen, &col) != CC_OK)
			return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
			    "out of memory");
		if (r->map.n > SOURCE_MAX_COLUMNS) {
			diag->line = r->recline;
			diag->column = 1;
			diag->offset = 0;
			return cc_diag_set(diag, CC_ETOOBIG, "too_many_columns",
			    "the records have more than %d distinct keys",
			    SOURCE_MAX_COLUMNS);
		}
		return CC_OK;
	}
	if ((f = smap_find(&r->map, r->kbuf, klen)) < 0) {
		/* Not seen by the first pass: only past an error. */
		if (json_is_array(v))
			r->tnext += count_numbers(v);
		else if (json_is_number(v))
			r->tnext++;
		return CC_OK;
	}
	col = (size_t)f;
	r->vofs[col] = NOPIN;
	r->values[col] = NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		r->values[col] = json_string_value(v);
		break;
	case JSON_TRUE:
		r->values[col] = "true";
		break;
	case JSON_FALSE:
		r->values[col] = "false";
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		err = json_number(r, col, v);
		break;
	case JSON_ARRAY:
		r->tnext += count_numbers(v);
		n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(15));
		if ((err = vreserve(r, n)) == CC_OK) {
			json_dumpb(v, r->vbuf + r->vlen, n,
			    JSON_COMPACT | JSON_REAL_PRECISION(15));
			r->vbuf[r->vlen + n] = '\0';
			r->vofs[col] = r->vlen;
			r->vlen += n + 1;
		}
		break;
	case JSON_OBJECT:
		err = vput(r, col, "{}", 2);
		break;
	default:
		break;
	}
	if (err != CC_OK)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	return CC_OK;
}

/* Walks object o whose key prefix is kbuf[0, klen). */
static cc_err
json_flatten(struct source_reader *r, json_t *o, size_t klen,
    struct cc_diag *diag)
{
	const char *k;
	json_t *v;
	size_t kl, need, ncap;
	char *p;
	cc_err err;

	json_object_foreach(o, k, v) {
		kl = strlen(k);
		need = klen + 1 + kl + 1;
		if (need > r->kcap) {
			ncap = r->kcap ? r->kcap * 2 : 256;
			while (ncap < need)
				ncap *= 2;
			if ((p = realloc(r->kbuf, ncap)) == NULL)
				return cc_diag_set(diag, CC_ENOMEM,
				    "out_of_memory", "out of memory");
			r->kbuf = p;
			r->kcap = ncap;
		}
		need = klen;
		if (klen > 0)
			r->kbuf[need++] = '.';
		memcpy(r->kbuf + need, k, kl);
		need += kl;
		r->kbuf[need] = '\0';
		if (json_is_object(v) && json_object_size(v) > 0)
			err = json_flatten(r, v, need, diag);
		else
			err = json_leaf(r, need, v, diag);
		if (err != CC_OK)
			return err;
	}
	return CC_OK;
}

/* Turns record o into r->values. */
static cc_err
json_record(struct source_reader *r, json_t *o, struct cc_diag *diag)
{
	size_t i;
	cc_err err;

	r->vlen = 0;
	for (i = 0; i < r->ncol; i++) {
		r->values[i] = NULL;
		r->vofs[i] = NOPIN;
	}
	if ((err = json_flatten(r, o, 0, diag)) != CC_OK)
		return err;
	for (i = 0; i < r->ncol; i++)
		if (r->vofs[i] != NOPIN)
			r->values[i] = r->vbuf + r->vofs[i];
	return CC_OK;
}

static cc_err
json_next_any(struct source_reader *r, json_t **obj, struct cc_diag *diag)
{
	if (r->d.format == SOURCE_FORMAT_NDJSON)
		return ndjson_next_object(r, obj, diag);
	return json_next_object(r, obj, diag);
}

/* First pass over a JSON or NDJSON file: the column set. */
static cc_err
json_open(struct source_reader *r, struct cc_diag *diag)
{
	struct cc_diag ignored;
	json_t *j;
	cc_err err;

	r->collect = 1;
	for (;;) {
		cc_diag_clear(&ignored);
		err = json_next_any(r, &j, &ignored);
		if (err == CC_EOF || err == CC_EPARSE || err == CC_EENCODING ||
		    err == CC_ETOOBIG)
			break;	/* source_next() will meet it again */
		if (err != CC_OK) {
			*diag = ignored;
			return err;
		}
		err = json_flatten(r, j, 0, diag);
		json_decref(j);
		if (err != CC_OK)
			return err;
	}
	r->collect = 0;
	r->ncol = r->map.n;
	if ((r->values = calloc(r->ncol ? r->ncol : 1,
	    sizeof(*r->values))) == NULL ||
	    (r->vofs = calloc(r->ncol ? r->ncol : 1, sizeof(*r->vofs))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	if ((err = set_names(r, r->map.key, r->map.klen, r->ncol, 0,
	    diag)) != CC_OK)
		return err;
	/* Second pass: the records. */
	r->js = JS_BEGIN;
	r->ndscan = 0;
	r->found = 0;
	r->recno = 0;
	return input_reset(r, diag);
}

/* ---- public reader API ------------------------------------------- */

/* A reader of path positioned at the start of its text (no format setup). */
static cc_err
reader_new(const char *path, const struct source_dialect *d,
    struct source_reader **out, struct cc_diag *diag)
{
	struct source_reader *r;
	cc_err err;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	r->fd = -1;
	r->cd = (iconv_t)-1;
	r->pin = NOPIN;
	r->eol = '\n';
	r->d = *d;
	r->d.records_path[sizeof(r->d.records_path) - 1] = '\0';
	r->latin1 = d->encoding == SOURCE_ENC_LATIN1;
	*out = r;
	if (r->latin1 && (r->cd = iconv_open("UTF-8", "ISO-8859-1")) ==
	    (iconv_t)-1)
		return cc_diag_set(diag, CC_EUNSUPPORTED, "iconv",
		    "cannot convert from ISO-8859-1: %s", strerror(errno));
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cc_diag_set(diag, CC_EIO, "open_error",
		    "cannot open the file: %s", strerror(errno));
	r->cap = 2 * READ_CHUNK + 1;
	if ((r->buf = malloc(r->cap)) == NULL ||
	    (r->latin1 && (r->raw = malloc(READ_CHUNK)) == NULL))
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	if ((err = input_reset(r, diag)) != CC_OK)
		return err;
	return CC_OK;
}

/* An xlsx reader: the sheet d->records_path ("" the first) of path. */
static cc_err
xlsx_reader_open(const char *path, const struct source_dialect *d,
    struct source_reader **out, struct cc_diag *diag)
{
	struct source_reader *r;
	char *const *raw;
	const size_t *len;
	size_t n;
	cc_err err;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "out_of_memory",
		    "out of memory");
	r->fd = -1;
	r->cd = (iconv_t)-1;
	r->pin = NOPIN;
	r->d = *d;
	r->d.records_path[sizeof(r->d.records_path) - 1] = '\0';
	r->d.has_header = 1;
	*out = r;
	if ((err = xlsx_open(path, r->d.records_path, &r->xl, diag)) != CC_OK)
		return err;
	xlsx_header(r->xl, &raw, &len, &n);
	r->ncol = n;
	return set_names(r, raw, len, n, 1, diag);
}

cc_err
source_open(const char *path, const struct source_dialect *d,
    struct source_reader **out, struct cc_diag *diag)
{
	struct source_reader *r = NULL;
	struct cc_diag ld;
	cc_err err;

	cc_diag_clear(&ld);
	if (out != NULL)
		*out = NULL;
	if (path == NULL || d == NULL || out == NULL)
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_argument",
		    "source_open: NULL argument");
	else if (d->format == SOURCE_FORMAT_XLSX)
		err = xlsx_reader_open(path, d, &r, &ld);
	else if (d->format != SOURCE_FORMAT_CSV &&
	    d->format != SOURCE_FORMAT_JSON && d->format != SOURCE_FORMAT_NDJSON)
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_dialect",
		    "unknown source format %d", (int)d->format);
	else if (d->format == SOURCE_FORMAT_CSV && (d->delimiter == '\0' ||
	    d->delimiter == '\n' || d->delimiter == '\r' ||
	    d->delimiter == d->quote || d->quote == '\n' || d->quote == '\r'))
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_dialect",
		    "unusable CSV delimiter or quote");
	else if ((err = reader_new(path, d, &r, &ld)) == CC_OK) {
		if (d->format == SOURCE_FORMAT_CSV) {
			/* CR-only line ends (classic Mac OS). */
			if (memchr(r->buf + r->pos, '\n', r->end - r->pos) ==
			    NULL && memchr(r->buf + r->pos, '\r',
			    r->end - r->pos) != NULL)
				r->eol = '\r';
			err = csv_open(r, &ld);
		} else
			err = json_open(r, &ld);
	}
	if (err != CC_OK) {
		source_close(r);
		if (diag != NULL)
			*diag = ld;
		return err;
	}
	*out = r;
	return CC_OK;
}

cc_err
source_next(struct source_reader *r, const char *const **values,
    struct cc_diag *diag)
{
	struct cc_diag ld;
	json_t *j = NULL;
	cc_err err;

	/* Cheaper than cc_diag_clear() once per record; same effect. */
	ld.line = ld.column = 0;
	ld.offset = 0;
	ld.code[0] = ld.message[0] = '\0';
	if (r == NULL || values == NULL) {
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_argument",
		    "source_next: NULL argument");
		goto out;
	}
	if (r->err != CC_OK) {
		err = r->err;
		ld = r->errdiag;
		goto out;
	}
	json_decref(r->cur);
	r->cur = NULL;
	r->extra = 0;
	if (r->d.format == SOURCE_FORMAT_CSV)
		err = csv_next(r, &ld);
	else if (r->d.format == SOURCE_FORMAT_XLSX) {
		long rownum = 0;
		if ((err = xlsx_next(r->xl, values, &r->extra, &rownum,
		    &ld)) == CC_OK) {
			r->recno++;
			r->recline = rownum;
			if (r->extra > 0)
				r->ragged++;
			return CC_OK;
		}
	} else if ((err = json_next_any(r, &j, &ld)) == CC_OK) {
		r->cur = j;
		err = json_record(r, j, &ld);
	}
	if (err == CC_OK) {
		r->recno++;
		*values = r->values;
		return CC_OK;
	}
	if (err != CC_ENOMEM) {
		r->err = err;
		r->errdiag = ld;
	}
out:
	if (diag != NULL)
		*diag = ld;
	return err;
}

size_t
source_ncolumns(const struct source_reader *r)
{
	return r != NULL ? r->ncol : 0;
}

const char *
source_column(const struct source_reader *r, size_t i)
{
	if (r == NULL || i >= r->ncol || r->names == NULL)
		return NULL;
	return r->names[i];
}

long long
source_record_number(const struct source_reader *r)
{
	return r != NULL ? r->recno : 0;
}

long
source_record_line(const struct source_reader *r)
{
	return r != NULL ? r->recline : 0;
}

long long
source_ragged_rows(const struct source_reader *r)
{
	return r != NULL ? r->ragged : 0;
}

size_t
source_extra_fields(const struct source_reader *r)
{
	return r != NULL ? r->extra : 0;
}

const struct source_dialect *
source_reader_dialect(const struct source_reader *r)
{
	return r != NULL ? &r->d : NULL;
}

void
source_close(struct source_reader *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->cd != (iconv_t)-1)
		iconv_close(r->cd);
	if (r->csv_ok)
		csv_free(&r->csv);
	xlsx_close(r->xl);
	if (r->names != NULL)
		for (i = 0; i < r->ncol; i++)
			free(r->names[i]);
	json_decref(r->cur);
	smap_free(&r->map);
	free(r->names);
	free(r->values);
	free(r->buf);
	free(r->raw);
	free(r->arena);
	free(r->foff);
	free(r->rkey);
	free(r->kbuf);
	free(r->vbuf);
	free(r->vofs);
	free(r->tok);
	free(r);
}

/* ---- sniffing ------------------------------------------------------ */

/* Field counts (and, with keep, fields) of the rows of a CSV sample. */
struct csv_probe {
	size_t		 nf;			/* fields of the current row */
	size_t		 nrows;
	size_t		 counts[SNIFF_ROWS];
	int		 keep;
	size_t		 nkept;			/* rows kept */
	char		*arena;
	size_t		 alen, acap;
	size_t		*fo, *fl;		/* fields: offset, length */
	size_t		 nfo, focap;
	size_t		 rowstart[SNIFF_KEEP + 1];
	int		 oom;
};

static void
probe_field_cb(void *s, size_t len, void *data)
{
	struct csv_probe *cp = data;
	size_t ncap;
	char *p;
	size_t *f;

	cp->nf++;
	if (!cp->keep || cp->nkept >= SNIFF_KEEP || cp->oom)
		return;
	if (cp->alen + len + 1 > cp->acap) {
		ncap = (cp->acap + len + 1) * 2;
		if ((p = realloc(cp->arena, ncap)) == NULL) {
			cp->oom = 1;
			return;
		}
		cp->arena = p;
		cp->acap = ncap;
	}
	if (cp->nfo == cp->focap) {
		ncap = cp->focap ? cp->focap * 2 : 256;
		if ((f = realloc(cp->fo, ncap * sizeof(*f))) == NULL) {
			cp->oom = 1;
			return;
		}
		cp->fo = f;
		if ((f = realloc(cp->fl, ncap * sizeof(*f))) == NULL) {
			cp->oom = 1;
			return;
		}
		cp->fl = f;
		cp->focap = ncap;
	}
	if (len > 0)
		memcpy(cp->arena + cp->alen, s, len);
	cp->arena[cp->alen + len] = '\0';
	cp->fo[cp->nfo] = cp->alen;
	cp->fl[cp->nfo] = len;
	cp->nfo++;
	cp->alen += len + 1;
}

static void
probe_row_cb(int c, void *data)
{
	struct csv_probe *cp = data;

	(void)c;
	if (cp->nrows < SNIFF_ROWS)
		cp->counts[cp->nrows++] = cp->nf;
	if (cp->keep && cp->nkept < SNIFF_KEEP && !cp->oom)
		cp->rowstart[++cp->nkept] = cp->nfo;
	cp->nf = 0;
}

/* Parses the sample t[0, n) with delimiter delim into *cp. */
static void
probe_csv(const char *t, size_t n, int complete, char delim, char eol,
    int keep, struct csv_probe *cp)
{
	struct csv_parser p;

	memset(cp, 0, sizeof(*cp));
	cp->keep = keep;
	if (csv_init(&p, 0) != 0) {
		cp->oom = 1;
		return;
	}
	csv_set_delim(&p, (unsigned char)delim);
	csv_set_quote(&p, '"');
	csv_set_space_func(&p, eol == '\n' ? is_cr : is_lf);
	csv_set_term_func(&p, eol == '\n' ? is_lf : is_cr);
	csv_parse(&p, t, n, probe_field_cb, probe_row_cb, cp);
	if (complete)
		csv_fini(&p, probe_field_cb, probe_row_cb, cp);
	csv_free(&p);
}

static void
probe_free(struct csv_probe *cp)
{
	free(cp->arena);
	free(cp->fo);
	free(cp->fl);
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Most frequent field count of cp's rows (*freq: how many rows have it). */
static size_t
probe_mode(const struct csv_probe *cp, size_t *freq)
{
	size_t s[SNIFF_ROWS], i, run, best = 0, bestn = 0;

	memcpy(s, cp->counts, cp->nrows * sizeof(s[0]));
	qsort(s, cp->nrows, sizeof(s[0]), cmp_size);
	for (i = 0; i < cp->nrows; i += run) {
		for (run = 1; i + run < cp->nrows && s[i + run] == s[i]; run++)
			;
		if (run > bestn || (run == bestn && s[i] > best)) {
			best = s[i];
			bestn = run;
		}
	}
	*freq = bestn;
	return best;
}

/*
 * Picks the delimiter of sample t[0, n).  *plausible is set when rows
 * split consistently into two or more fields (the sample is CSV-like).
 */
static char
sniff_delimiter(const char *t, size_t n, int complete, char eol,
    int *plausible)
{
	static const char cands[] = { ',', ';', '\t', '|' };
	struct csv_probe *cp;
	size_t i, mode, freq, bestmode = 0;
	double score, best = -1;
	char pick = ',';

	*plausible = 0;
	if ((cp = malloc(sizeof(*cp))) == NULL)
		return pick;
	for (i = 0; i < sizeof(cands); i++) {
		probe_csv(t, n, complete, cands[i], eol, 0, cp);
		if (cp->nrows == 0)
			continue;
		mode = probe_mode(cp, &freq);
		if (mode < 2)
			continue;
		score = (double)freq / (double)cp->nrows;
		if (score > best || (score == best && mode > bestmode)) {
			best = score;
			bestmode = mode;
			pick = cands[i];
			*plausible = score >= 0.9 && (cp->nrows >= 2 ||
			    complete);
		}
	}
	free(cp);
	return pick;
}

/* 1 if s[0, n) looks like a number, a date or a timestamp (loosely). */
static int
looks_typed(const char *s, size_t n)
{
	size_t i, digits = 0, letters = 0;
	char c;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if (c == 'T' || c == 'Z' || c == 'e' || c == 'E')
			letters++;
		else if (strchr("+-.,/: $%", c) == NULL)
			return 0;
	}
	return digits > 0 && letters <= 2;
}

static size_t
trimmed_len(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

static int
cmp_field(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The header rule of source_sniff() on the kept rows of cp. */
static int
sniff_header(const struct csv_probe *cp)
{
	size_t n0, i, j, r, nonempty, typed, empty = 0;
	const char *a, **names;
	int dup = 0;

	if (cp->nkept == 0)
		return 0;
	n0 = cp->rowstart[1];
	for (i = 0; i < n0; i++) {
		if (trimmed_len(cp->arena + cp->fo[i], cp->fl[i]) == 0)
			empty++;
		else if (looks_typed(cp->arena + cp->fo[i], cp->fl[i]))
			return 0;
	}
	if (empty == n0)
		return 0;
	/* Are the non-empty names unique? */
	if ((names = malloc(n0 * sizeof(*names))) == NULL)
		return 1;
	for (i = j = 0; i < n0; i++)
		if (cp->fl[i] > 0)
			names[j++] = cp->arena + cp->fo[i];
	qsort(names, j, sizeof(*names), cmp_field);
	for (i = 1; i < j; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = 1;
	free(names);
	if (cp->nkept == 1)
		return !dup && !empty;
	/* A column typed below a text name. */
	for (j = 0; j < n0; j++) {
		nonempty = typed = 0;
		for (r = 1; r < cp->nkept; r++) {
			i = cp->rowstart[r] + j;
			if (i >= cp->rowstart[r + 1])
				continue;
			a = cp->arena + cp->fo[i];
			if (trimmed_len(a, cp->fl[i]) == 0)
				continue;
			nonempty++;
			typed += looks_typed(a, cp->fl[i]);
		}
		if (nonempty > 0 && typed == nonempty)
			return 1;
	}
	if (empty || dup)
		return 0;
	/* All text: a header's names do not come back as values. */
	for (j = 0; j < n0; j++)
		for (r = 1; r < cp->nkept; r++) {
			i = cp->rowstart[r] + j;
			if (i < cp->rowstart[r + 1] && cp->fl[i] == cp->fl[j] &&
			    memcmp(cp->arena + cp->fo[i], cp->arena + cp->fo[j],
			    cp->fl[j]) == 0)
				return 0;
		}
	return 1;
}

/* Line and column (UTF-8 characters, or bytes if bytes) of p[at]. */
static void
sample_position(const unsigned char *p, size_t bom, size_t at, int bytes,
    struct cc_diag *diag)
{
	size_t i, ls = bom;
	long line = 1, col = 1;

	for (i = bom; i < at; i++)
		if (p[i] == '\n') {
			line++;
			ls = i + 1;
		}
	for (i = ls; i < at; i++)
		if (bytes || (p[i] & 0xC0) != 0x80)
			col++;
	diag->line = line;
	diag->column = col;
	diag->offset = (long long)at;
}

/*
 * Decides the encoding of the sample p[0, n) (see source_sniff()).
 * bom is 3 when it starts with a UTF-8 byte order mark, else 0.
 */
static cc_err
sniff_encoding(const unsigned char *p, size_t n, int complete, size_t bom,
    enum source_encoding *enc, struct cc_diag *diag)
{
	size_t i = bom, v, k, bad_utf8 = SIZE_MAX, neither = SIZE_MAX;
	enum scan_stop why;
	int c1_in_utf8 = 0;
	unsigned char c;

	while (i < n) {
		v = utf8_scan(p + i, n - i, &why);
		for (k = i; k < i + v; k++)
			if (p[k] >= 0x80 && p[k] <= 0x9F)
				c1_in_utf8 = 1;
		i += v;
		if (why == SCAN_END || (why == SCAN_PARTIAL && !complete))
			break;
		c = p[i];
		if (c < 0x80 || (c >= 0x80 && c <= 0x9F)) {
			neither = i;
			if (c >= 0x80 && bad_utf8 == SIZE_MAX)
				bad_utf8 = i;
			break;
		}
		if (bad_utf8 == SIZE_MAX)
			bad_utf8 = i;
		i++;
	}
	if (neither != SIZE_MAX) {
		c = p[neither];
		sample_position(p, bom, neither, bad_utf8 < neither, diag);
		if (c == 0)
			return cc_diag_set(diag, CC_EENCODING, "binary_data",
			    "binary data: NUL byte at line %ld, column %ld "
			    "(byte offset %lld)", diag->line, diag->column,
			    diag->offset);
		if (c < 0x80)
			return cc_diag_set(diag, CC_EENCODING,
			    "control_character", "control character 0x%02X at "
			    "line %ld, column %ld (byte offset %lld)", c,
			    diag->line, diag->column, diag->offset);
		return cc_diag_set(diag, CC_EENCODING, "invalid_encoding",
		    "byte 0x%02X at line %ld, column %ld (byte offset %lld) "
		    "is neither UTF-8 nor ISO-8859-1 text", c, diag->line,
		    diag->column, diag->offset);
	}
	if (bad_utf8 == SIZE_MAX) {
		*enc = bom ? SOURCE_ENC_UTF8_BOM : SOURCE_ENC_UTF8;
		return CC_OK;
	}
	if (bom || c1_in_utf8) {
		sample_position(p, bom, bad_utf8, 0, diag);
		return cc_diag_set(diag, CC_EENCODING,
		    bom ? "invalid_utf8" : "mixed_encoding",
		    "invalid UTF-8 (byte 0x%02X) at line %ld, column %ld "
		    "(byte offset %lld) in a file that %s", p[bad_utf8],
		    diag->line, diag->column, diag->offset,
		    bom ? "starts with a UTF-8 byte order mark" :
		    "also holds UTF-8 characters, so is not ISO-8859-1");
	}
	*enc = SOURCE_ENC_LATIN1;
	return CC_OK;
}

static int
hint_is(const char *hint, const char *ext)
{
	size_t h, e;

	if (hint == NULL)
		return 0;
	h = strlen(hint);
	e = strlen(ext);
	return h >= e && strcasecmp(hint + h - e, ext) == 0;
}

/* The first member of o holding an array that is empty or of objects. */
static const char *
records_member(json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (json_is_array(v) && (json_array_size(v) == 0 ||
		    json_is_object(json_array_get(v, 0))))
			return k;
	return NULL;
}

/* Finds the member of a multi-line JSON object that holds the records. */
static cc_err
sniff_records_path(const char *path, struct source_dialect *d,
    struct cc_diag *diag)
{
	struct source_reader *r = NULL;
	json_t *j = NULL;
	cc_err err;

	d->records_path[0] = '\0';
	if ((err = reader_new(path, d, &r, diag)) == CC_OK) {
		r->collect = 1;
		err = json_next_object(r, &j, diag);
		json_decref(j);
		if (err == CC_OK || err == CC_EOF) {
			err = CC_OK;
			if (r->rkey != NULL && strlen(r->rkey) >=
			    sizeof(d->records_path))
				err = cc_diag_set(diag, CC_EUNSUPPORTED,
				    "json_records_name", "the name of the member "
				    "holding the records is longer than %zu bytes",
				    sizeof(d->records_path) - 1);
			else if (r->rkey != NULL)
				strcpy(d->records_path, r->rkey);
		}
	}
	source_close(r);
	return err;
}

/*
 * The JSON part of source_sniff(): t[0, n) is the sample after the byte
 * order mark, t[i] its first '[' or '{'.  Sets *csv when the text is
 * better read as CSV.
 */
static cc_err
sniff_json(const char *path, const char *hint, const char *t, size_t n,
    size_t i, int complete, size_t bom, struct source_dialect *d, int *csv,
    struct cc_diag *diag)
{
	json_error_t je;
	json_t *j;
	const char *nl, *k = NULL;
	size_t e, len;
	int plausible, c2 = -1;

	*csv = 0;
	sniff_delimiter(t, n, complete, '\n', &plausible);
	if (t[i] == '[') {
		for (e = i + 1; e < n && is_json_ws(t[e]); e++)
			;
		if (e < n)
			c2 = (unsigned char)t[e];
		if (c2 == '{' || c2 == ']' || (e == n && !complete) ||
		    (!plausible && !hint_is(hint, ".csv"))) {
			d->format = SOURCE_FORMAT_JSON;
			return CC_OK;
		}
		*csv = 1;
		return CC_OK;
	}
	nl = memchr(t + i, '\n', n - i);
	if (nl == NULL && !complete) {
		d->format = SOURCE_FORMAT_JSON;	/* a long first line */
		return sniff_records_path(path, d, diag);
	}
	len = nl ? (size_t)(nl - (t + i)) : n - i;
	j = json_loadb(t + i, len, 0, &je);
	if (j != NULL) {
		for (e = i + len; e < n && is_json_ws(t[e]); e++)
			;
		if (e < n || !complete || hint_is(hint, ".ndjson") ||
		    hint_is(hint, ".jsonl") || (k = records_member(j)) == NULL)
			d->format = SOURCE_FORMAT_NDJSON;
		else if (strlen(k) >= sizeof(d->records_path)) {
			/* as sniff_records_path(): never a name cut short
			 * (inside a UTF-8 sequence, or naming another
			 * member) */
			json_decref(j);
			return cc_diag_set(diag, CC_EUNSUPPORTED,
			    "json_records_name", "the name of the member "
			    "holding the records is longer than %zu bytes",
			    sizeof(d->records_path) - 1);
		} else {
			d->format = SOURCE_FORMAT_JSON;
			snprintf(d->records_path, sizeof(d->records_path), "%s",
			    k);
		}
		json_decref(j);
		return CC_OK;
	}
	if (json_error_code(&je) == json_error_premature_end_of_input) {
		d->format = SOURCE_FORMAT_JSON;	/* a multi-line document */
		return sniff_records_path(path, d, diag);
	}
	if (plausible || hint_is(hint, ".csv")) {
		*csv = 1;
		return CC_OK;
	}
	/* Broken JSON: say where. */
	sample_position((const unsigned char *)t - bom, bom, bom + i +
	    (je.position > 0 ? (size_t)je.position - 1 : 0), 0, diag);
	return cc_diag_set(diag, CC_EPARSE, "json_syntax",
	    "the file looks like JSON but is not: line %ld, column %ld: %s",
	    diag->line, diag->column, je.text);
}

cc_err
source_sniff(const char *path, const char *name_hint,
    struct source_dialect *out, struct cc_diag *diag)
{
	struct source_dialect d;
	struct cc_diag ld;
	struct csv_probe *cp = NULL;
	unsigned char *p = NULL, extra;
	const char *t, *nl;
	size_t n = 0, bom = 0, tn, i;
	ssize_t k;
	int fd = -1, complete, csv = 1, plausible;
	char eol = '\n';
	cc_err err = CC_OK;

	cc_diag_clear(&ld);
	memset(&d, 0, sizeof(d));
	if (path == NULL || out == NULL) {
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_argument",
		    "source_sniff: NULL argument");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = cc_diag_set(&ld, CC_EIO, "open_error",
		    "cannot open the file: %s", strerror(errno));
		goto out;
	}
	if ((p = malloc(SOURCE_SNIFF_BYTES)) == NULL) {
		err = cc_diag_set(&ld, CC_ENOMEM, "out_of_memory",
		    "out of memory");
		goto out;
	}
	while (n < SOURCE_SNIFF_BYTES) {
		k = read(fd, p + n, SOURCE_SNIFF_BYTES - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err = read_error(&ld);
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	complete = n < SOURCE_SNIFF_BYTES;
	if (!complete) {
		do
			k = read(fd, &extra, 1);
		while (k < 0 && errno == EINTR);
		complete = k == 0;
	}
	if (xlsx_magic(p, n) || (n >= 8 &&
	    memcmp(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)) {
		/* a zip archive (an xlsx workbook), or an OLE compound file
		 * (an encrypted workbook, a legacy .xls): not text */
		close(fd);
		fd = -1;
		err = xlsx_sniff(path, &d, &ld);
		goto out;
	}
	if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) ||
	    (p[0] == 0xFE && p[1] == 0xFF))) {
		ld.line = ld.column = 1;
		err = cc_diag_set(&ld, CC_EENCODING, "utf16",
		    "the file is UTF-16 text: save it as UTF-8");
		goto out;
	}
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		bom = 3;
	if ((err = sniff_encoding(p, n, complete, bom, &d.encoding, &ld)) !=
	    CC_OK)
		goto out;
	t = (const char *)p + bom;
	tn = n - bom;
	for (i = 0; i < tn && (is_json_ws(t[i]) || t[i] == '\f' ||
	    t[i] == '\v'); i++)
		;
	if (i == tn) {
		err = cc_diag_set(&ld, CC_EINVALID, "empty_file",
		    n == 0 ? "the file is empty" :
		    "the file holds only white space");
		goto out;
	}
	if ((nl = memchr(t, '\n', tn)) != NULL)
		d.crlf = nl > t && nl[-1] == '\r';
	else if (memchr(t, '\r', tn) != NULL)
		eol = '\r';
	if (t[i] == '[' || t[i] == '{') {
		if ((err = sniff_json(path, name_hint, t, tn, i, complete, bom,
		    &d, &csv, &ld)) != CC_OK)
			goto out;
	}
	if (csv) {
		memset(d.records_path, 0, sizeof(d.records_path));
		d.format = SOURCE_FORMAT_CSV;
		d.quote = '"';
		d.delimiter = sniff_delimiter(t, tn, complete, eol, &plausible);
		if ((cp = malloc(sizeof(*cp))) == NULL) {
			err = cc_diag_set(&ld, CC_ENOMEM, "out_of_memory",
			    "out of memory");
			goto out;
		}
		probe_csv(t, tn, complete, d.delimiter, eol, 1, cp);
		d.has_header = sniff_header(cp);
		probe_free(cp);
	}
out:
	free(cp);
	free(p);
	if (fd >= 0)
		close(fd);
	if (err == CC_OK)
		*out = d;
	if (diag != NULL)
		*diag = ld;
	return err;
}
