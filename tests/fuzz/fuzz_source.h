/*
 * tests/fuzz/fuzz_source.h - the body of the two reader targets
 * (fuzz_source_csv.c, fuzz_source_json.c): the input is a whole uploaded
 * file.  It is sniffed (source_sniff), then read to the end with the
 * sniffed dialect, and, for CSV, a second time with a dialect varied by
 * the input's last byte (another delimiter, header or not), as a user may
 * edit it.  Invariants of concord/source.h checked on every input:
 *  - sniff and read return CC_OK or one of their documented errors, and
 *    an error always comes with a diag code (never an error without a
 *    reason); positions are 1-based lines and columns, offsets inside the
 *    file;
 *  - 1 <= source_ncolumns() <= SOURCE_MAX_COLUMNS (0 is allowed for JSON,
 *    whose first pass stops at a syntax error); column names are valid
 *    UTF-8, non-empty and unique (CSV header rules) - for JSON, distinct;
 *  - every value handed out is valid UTF-8 (or NULL for JSON null/missing,
 *    never NULL for CSV);
 *  - after an error (other than CC_ENOMEM) or CC_EOF, the next call returns
 *    the same code: the reader is spent;
 *  - record numbers count up by one; record lines never go down.
 */
#ifndef CONCORD_FUZZ_SOURCE_H
#define CONCORD_FUZZ_SOURCE_H

#include <string.h>

#include "concord/error.h"
#include "concord/source.h"
#include "fuzz.h"

#define FUZZ_SOURCE_MAX_RECORDS	100000	/* bounds one input's time */

static void
fuzz_check_diag(cc_err err, const struct cc_diag *d, size_t size,
    const char *what)
{
	FUZZ_ASSERT(d->code[0] != '\0', "%s: %s without a diag code", what,
	    cc_strerror(err));
	FUZZ_ASSERT(d->message[0] != '\0', "%s: %s (%s) without a message",
	    what, cc_strerror(err), d->code);
	FUZZ_ASSERT(fuzz_utf8_str(d->message), "%s: message not UTF-8", what);
	FUZZ_ASSERT(d->line >= 0 && d->column >= 0 && d->offset >= 0,
	    "%s: negative position %ld:%ld @%lld (%s)", what, d->line,
	    d->column, d->offset, d->code);
	FUZZ_ASSERT(d->offset <= (long long)size, "%s: offset %lld beyond the "
	    "file's %zu bytes (%s)", what, d->offset, size, d->code);
}

/* Reads the whole file with dialect d, checking every record. */
static void
fuzz_read_all(const char *path, const struct source_dialect *d, size_t size)
{
	struct source_reader *r = NULL;
	const char *const *v;
	struct cc_diag diag;
	size_t nc, i, j;
	long long recs = 0, rn;
	long line = 0, ln;
	cc_err err, again;

	cc_diag_clear(&diag);
	err = source_open(path, d, &r, &diag);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EPARSE || err == CC_EENCODING ||
		    err == CC_ETOOBIG || err == CC_EIO || err == CC_ENOMEM ||
		    err == CC_EINVAL, "source_open: undocumented %s",
		    cc_strerror(err));
		/* an empty-after-sniff file cannot be; EINVAL only for a
		 * dialect we made unusable */
		if (err != CC_EINVAL)
			fuzz_check_diag(err, &diag, size, "source_open");
		return;
	}
	nc = source_ncolumns(r);
	/* JSON: no column when the first record is broken (source_next()
	 * then says where) or there is none ("[]") */
	FUZZ_ASSERT((nc >= 1 || d->format != SOURCE_FORMAT_CSV) &&
	    nc <= SOURCE_MAX_COLUMNS, "%zu columns", nc);
	for (i = 0; i < nc; i++) {
		const char *c = source_column(r, i);

		FUZZ_ASSERT(c != NULL && c[0] != '\0', "column %zu empty", i);
		FUZZ_ASSERT(fuzz_utf8_str(c), "column %zu not UTF-8", i);
		/* quadratic, so only for a few columns */
		for (j = 0; nc <= 256 && j < i; j++)
			FUZZ_ASSERT(strcmp(c, source_column(r, j)) != 0,
			    "columns %zu and %zu are both \"%s\"", j, i, c);
	}
	FUZZ_ASSERT(source_column(r, nc) == NULL, "column past the end");
	for (;;) {
		cc_diag_clear(&diag);
		err = source_next(r, &v, &diag);
		if (err != CC_OK)
			break;
		recs++;
		rn = source_record_number(r);
		ln = source_record_line(r);
		FUZZ_ASSERT(rn == recs, "record number %lld, expected %lld",
		    rn, recs);
		FUZZ_ASSERT(ln >= 1 && ln >= line, "record line %ld after %ld",
		    ln, line);
		line = ln;
		for (i = 0; i < nc; i++) {
			if (v[i] == NULL) {
				FUZZ_ASSERT(d->format != SOURCE_FORMAT_CSV,
				    "CSV value %zu is NULL", i);
				continue;
			}
			FUZZ_ASSERT(fuzz_utf8_str(v[i]),
			    "record %lld value %zu not UTF-8", recs, i);
		}
		if (d->format != SOURCE_FORMAT_CSV)
			FUZZ_ASSERT(source_extra_fields(r) == 0 &&
			    source_ragged_rows(r) == 0, "JSON ragged");
		if (recs >= FUZZ_SOURCE_MAX_RECORDS)
			break;
	}
	FUZZ_ASSERT(source_ncolumns(r) == nc, "column count changed");
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EOF || err == CC_EPARSE ||
		    err == CC_EENCODING || err == CC_ETOOBIG || err == CC_EIO ||
		    err == CC_ENOMEM, "source_next: undocumented %s",
		    cc_strerror(err));
		if (err != CC_EOF)
			fuzz_check_diag(err, &diag, size, "source_next");
		if (err != CC_ENOMEM) {
			again = source_next(r, &v, &diag);
			FUZZ_ASSERT(again == err, "spent reader: %s then %s",
			    cc_strerror(err), cc_strerror(again));
		}
	}
	source_close(r);
}

static void
fuzz_source(const uint8_t *data, size_t size, const char *const *hints,
    size_t nhints)
{
	struct source_dialect d, v;
	struct cc_diag diag;
	const char *path, *hint;
	unsigned last = size > 0 ? data[size - 1] : 0;
	static const char delims[] = { ',', ';', '\t', '|', ':', ' ' };
	cc_err err;

	path = fuzz_scratch(data, size);
	hint = hints[last % nhints];
	cc_diag_clear(&diag);
	memset(&d, 0xA5, sizeof(d));
	err = source_sniff(path, hint, &d, &diag);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EINVALID || err == CC_EENCODING ||
		    err == CC_EPARSE || err == CC_EIO || (err ==
		    CC_EUNSUPPORTED && !strcmp(diag.code, "json_records_name")),
		    "source_sniff: "
		    "undocumented %s", cc_strerror(err));
		fuzz_check_diag(err, &diag, size, "source_sniff");
		if (err == CC_EINVALID)
			FUZZ_ASSERT(!strcmp(diag.code, "empty_file"), "%s",
			    diag.code);
		return;
	}
	FUZZ_ASSERT(d.format == SOURCE_FORMAT_CSV ||
	    d.format == SOURCE_FORMAT_JSON || d.format == SOURCE_FORMAT_NDJSON,
	    "format %d", (int)d.format);
	FUZZ_ASSERT(d.encoding == SOURCE_ENC_UTF8 ||
	    d.encoding == SOURCE_ENC_UTF8_BOM ||
	    d.encoding == SOURCE_ENC_LATIN1, "encoding %d", (int)d.encoding);
	FUZZ_ASSERT(memchr(d.records_path, '\0', sizeof(d.records_path)) !=
	    NULL, "records_path not terminated");
	if (d.format == SOURCE_FORMAT_CSV) {
		FUZZ_ASSERT(strchr(",;\t|", d.delimiter) != NULL &&
		    d.delimiter != '\0', "delimiter %d", d.delimiter);
		FUZZ_ASSERT(d.quote == '"', "quote %d", d.quote);
		FUZZ_ASSERT(d.has_header == 0 || d.has_header == 1, "header");
		FUZZ_ASSERT(d.records_path[0] == '\0', "CSV records_path");
	} else
		FUZZ_ASSERT(d.delimiter == 0, "JSON delimiter %d",
		    d.delimiter);
	FUZZ_ASSERT(fuzz_utf8_str(d.records_path), "records_path not UTF-8");
	fuzz_read_all(path, &d, size);
	if (d.format == SOURCE_FORMAT_CSV) {
		/* as a user may edit the dialect */
		v = d;
		v.delimiter = delims[(last >> 2) % sizeof(delims)];
		v.has_header = (last >> 5) & 1;
		if (last & 0x80)
			v.quote = 0;
		fuzz_read_all(path, &v, size);
	}
}

#endif /* CONCORD_FUZZ_SOURCE_H */
