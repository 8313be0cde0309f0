/*
 * concord/source.h - streaming readers for uploaded sources: CSV (via
 * libcsv), JSON (via Jansson) and NDJSON, with dialect and encoding
 * detection.
 *
 * CONTRACT (the FastCGI upload handler and the pipeline rely on it):
 *  - constant memory whatever the file size (one record at a time);
 *  - every value handed out is valid UTF-8 (Latin-1 input is converted);
 *  - the first problem of a broken file is reported in a struct cc_diag
 *    with its 1-based physical line, column and 0-based byte offset.
 *
 * Typical use:
 *
 *	struct source_dialect d;
 *	struct source_reader *r;
 *	const char *const *v;
 *	if (source_sniff(path, name, &d, &diag) == CC_OK &&
 *	    source_open(path, &d, &r, &diag) == CC_OK) {
 *		while ((err = source_next(r, &v, &diag)) == CC_OK)
 *			... v[0] .. v[source_ncolumns(r) - 1] ...
 *		source_close(r);
 *	}
 *
 * Positions in a struct cc_diag: line is the physical line (1-based; a
 * quoted CSV field may span lines), column counts characters from 1 (a
 * UTF-8 or Latin-1 character is one column, a byte order mark is not
 * counted) and offset is the 0-based byte offset in the file as stored.
 */
#ifndef CONCORD_SOURCE_H
#define CONCORD_SOURCE_H

#include <stddef.h>

#include "concord/error.h"

enum source_format {
	SOURCE_FORMAT_UNKNOWN = 0,
	SOURCE_FORMAT_CSV,	/* RFC 4180 and its common dialects */
	SOURCE_FORMAT_JSON,	/* RFC 8259: an array of objects, or an object
				   with one member holding such an array */
	SOURCE_FORMAT_NDJSON,	/* one JSON object per line */
	SOURCE_FORMAT_XLSX,	/* an Office Open XML workbook (ECMA-376):
				   one sheet, row 1 names the columns */
};

enum source_encoding {
	SOURCE_ENC_UNKNOWN = 0,
	SOURCE_ENC_UTF8,	/* RFC 3629, no byte order mark */
	SOURCE_ENC_UTF8_BOM,	/* UTF-8 with EF BB BF at the start */
	SOURCE_ENC_LATIN1,	/* ISO-8859-1, converted to UTF-8 on read */
};

/* How a file is written.  Filled by source_sniff(); may be edited. */
struct source_dialect {
	enum source_format	format;
	enum source_encoding	encoding;
	char			delimiter;	/* CSV: ',' ';' '\t' or '|'; a
						   file that puts a space after
						   every delimiter outside quotes
						   in its first lines (", ") is
						   read without the spaces after
						   delimiters (source_open()
						   decides from the first chunk;
						   Python csv's skipinitialspace) */
	char			quote;		/* CSV: '"' (0: none) */
	int			has_header;	/* CSV: 1 if row 1 names columns */
	int			crlf;		/* 1 if lines end in CR LF */
	char			records_path[128]; /* JSON: member holding the
						     records, "" for a top-level
						     array */
};

/*
 * Limits of the readers.  They bound memory per record, not per file;
 * going over one is reported as CC_ETOOBIG with the position of the
 * record (for a CSV field, the line where the field started).
 */
#define SOURCE_MAX_FIELD_BYTES	(16UL * 1024 * 1024)	/* one CSV field */
#define SOURCE_MAX_RECORD_BYTES	(64UL * 1024 * 1024)	/* one JSON record
							   or NDJSON line */
#define SOURCE_MAX_COLUMNS	16384	/* CSV header fields, or distinct
					   flattened JSON keys */
#define SOURCE_SNIFF_BYTES	(64 * 1024)	/* prefix read by
						   source_sniff() */

/*
 * Caps of the xlsx reader (core/source_xlsx.c).  A zip entry is refused
 * as a zip bomb (CC_EINVALID, "xlsx_zip_bomb") when its stated
 * uncompressed size is over the cap of its part, when it inflates to more
 * than it states, or when it is larger than SOURCE_XLSX_RATIO_FLOOR and
 * inflates more than SOURCE_XLSX_MAX_RATIO times its compressed size
 * (deflate's own limit is about 1032:1; spreadsheet XML is 5-30:1).  The
 * shared strings table is held in memory (the sheet refers to it by
 * index), so it has its own caps ("xlsx_too_many_strings"); the sheet is
 * streamed and its cap only bounds the time spent.
 */
#define SOURCE_XLSX_MAX_PART_BYTES	(64ULL << 20)	/* workbook.xml,
							   its rels, styles */
#define SOURCE_XLSX_MAX_SST_PART_BYTES	(1ULL << 30)	/* sharedStrings.xml */
#define SOURCE_XLSX_MAX_SHEET_BYTES	(16ULL << 30)	/* the sheet's XML */
#define SOURCE_XLSX_MAX_RATIO		200
#define SOURCE_XLSX_RATIO_FLOOR		(1ULL << 20)
#define SOURCE_XLSX_MAX_SHARED_STRINGS	(16UL << 20)	/* strings */
#define SOURCE_XLSX_MAX_SHARED_BYTES	(512UL << 20)	/* their UTF-8 text */

/* Names of enum values, for JSON and logs ("csv", "utf-8", ...). */
const char	*source_format_name(enum source_format f);
const char	*source_encoding_name(enum source_encoding e);

/* A short label for the dialect's delimiter: "comma", "semicolon", "tab",
 * "pipe"; "none" for 0 (JSON), "other" for anything else. */
const char	*source_delimiter_name(char delimiter);

struct source_reader;

/*
 * Detects the format, encoding and dialect of the file at path and fills
 * *out (all of it; fields that do not apply are 0 or "").
 *
 * name_hint is the name the file was uploaded under (may be NULL).  It
 * only breaks ties: ".ndjson" or ".jsonl" makes a file holding a single
 * one-line object NDJSON; ".csv" makes a file that starts with '[' or '{'
 * but is not valid JSON a CSV file.
 *
 * Encoding: the first SOURCE_SNIFF_BYTES bytes decide.  They are UTF-8
 * (SOURCE_ENC_UTF8_BOM if the file starts with EF BB BF) when they decode
 * as RFC 3629 UTF-8, otherwise ISO-8859-1 when they hold none of the bytes
 * 0x80-0x9F (C1 controls, which Latin-1 text does not use).  Bytes
 * 0x00-0x08, 0x0E-0x1F and 0x7F are refused in either encoding.  The
 * readers check the rest of the file as they go.
 *
 * Format: a file starting with a zip local header ("PK\3\4") is an xlsx
 * workbook: its workbook part is read (core/source_xlsx.c) and
 * records_path gets the name of its first sheet, has_header 1, encoding
 * UTF-8; an OLE compound file (D0 CF 11 E0 A1 B1 1A E1: an encrypted
 * workbook or a legacy .xls) is CC_EINVALID "xlsx_encrypted"; a zip that
 * is no workbook, or a broken one, is CC_EINVALID with the codes of
 * source_open() for XLSX.  Text starting with '[' or '{' is JSON (an array of objects, or
 * an object one of whose members holds the records: the first member
 * whose value is an array that is empty or starts with an object; its
 * name goes to records_path); a first line that is a whole object on its
 * own makes the file NDJSON.  Anything else is CSV.
 *
 * CSV dialect, from the first SOURCE_SNIFF_BYTES bytes: the delimiter
 * among ',' ';' TAB '|' that gives the most rows with the same field
 * count (quotes respected; ties go to the larger field count, then to
 * that order); a file where none of them splits rows is one column, with
 * ','.  quote is always '"'.  has_header is 1 when row 1 has no
 * number- or date-like field and not only empty ones, and either some
 * column holds only number- or date-like values below it, or (no such
 * column) row 1's fields are all non-empty, unique, and none of them
 * appears again below it in its column (an all-text file, such as a list
 * of codes and names, is taken to have a header when row 1 reads like
 * one).  A file of one row has a header when that row qualifies.  crlf
 * is 1 when the first line ends in CR LF.  The delimiter of JSON is 0.
 *
 * Returns CC_OK; CC_EIO if the file cannot be opened or read (the message
 * names the system error); CC_EINVALID for an empty file, or one holding
 * only white space (code "empty_file"); CC_EENCODING for binary data (a
 * NUL byte, code "binary_data"), another control character
 * ("control_character"), text that is neither UTF-8 nor Latin-1
 * ("invalid_encoding", "mixed_encoding", "invalid_utf8" after a byte order
 * mark) or UTF-16 ("utf16"), with the line, column and offset of the
 * first offending byte; CC_EPARSE when the text looks like JSON but is
 * not (the position of the JSON error), or an object holds no array of
 * records ("json_no_records"); CC_EUNSUPPORTED ("json_records_name") when
 * the member holding the records has a name of more than 127 bytes (it
 * does not fit records_path); CC_EINVAL if path or out is NULL.
 */
cc_err		 source_sniff(const char *path, const char *name_hint,
		    struct source_dialect *out, struct cc_diag *diag);

/*
 * Opens a streaming reader of the file at path written in dialect *d
 * (copied; d may be freed afterwards).  On success *out is a new reader
 * the caller frees with source_close().
 *
 * CSV: reads row 1 at once, so that source_ncolumns() is known: the header
 * when d->has_header, otherwise the first record, kept for the first
 * source_next().  Header names are trimmed of ASCII white space; empty
 * names become "column_N" (N the 1-based ordinal) and duplicates get
 * "_2", "_3", ... until unique ("name", "name_2").
 *
 * JSON and NDJSON: makes a first pass over the whole file to collect the
 * column set: the union of the records' flattened keys in order of first
 * appearance.  A nested object flattens to "a.b.c"; an empty object is
 * the value "{}"; an array is its compact JSON text.  If d->records_path
 * is "" and the document is an object, the first member holding an array
 * that is empty or starts with an object is used (as source_sniff()
 * does).  Members before it are parsed one value at a time and dropped, so
 * memory stays bounded by the largest value.  A syntax error met by the
 * first pass is not reported here but by the source_next() call that
 * reaches it; the columns are then those of the records before it.
 *
 * XLSX: opens the sheet named d->records_path ("" for the first) and
 * reads its header row (the first row holding a value; merged header
 * cells give their value to each column they cover, then names are made
 * unique as for CSV).  The shared strings and styles are read first; the
 * sheet is streamed.  Errors are CC_EINVALID with diag codes
 * "xlsx_encrypted", "xlsx_corrupt", "xlsx_not_workbook",
 * "xlsx_missing_part", "xlsx_no_such_sheet", "xlsx_zip_bomb" (the
 * SOURCE_XLSX_* caps), "xlsx_too_many_columns" (a cell past column XFD),
 * "xlsx_too_many_strings", "xlsx_xml", "field_too_long",
 * "record_too_long", "empty_file" (no cell with a value).  Positions in
 * diag are 0 for xlsx: the message names the part and the row.
 *
 * Returns CC_OK; CC_EINVAL for a NULL argument or an unusable dialect
 * (unknown format, a delimiter that is a quote, CR, LF or NUL);
 * CC_ENOMEM; CC_EIO; and, from reading row 1 of a CSV file, CC_EPARSE,
 * CC_EENCODING and CC_ETOOBIG as for source_next().  CC_ETOOBIG also when
 * the header or the JSON key set exceeds SOURCE_MAX_COLUMNS.
 */
cc_err		 source_open(const char *path, const struct source_dialect *d,
		    struct source_reader **out, struct cc_diag *diag);

/* Number of columns (fixed once source_open() returned). */
size_t		 source_ncolumns(const struct source_reader *r);

/*
 * Name of column i (0-based) as UTF-8, owned by the reader; NULL when i is
 * out of range.  Headerless CSV columns are "column_1" .. "column_N".
 */
const char	*source_column(const struct source_reader *r, size_t i);

/*
 * Reads the next record.  On CC_OK *values points to source_ncolumns()
 * strings owned by the reader, valid until the next call or
 * source_close().
 *
 * CSV: a field is its text with quotes removed and "" unescaped; white
 * space is kept (" Jon" stays " Jon"); an empty field is "" (never NULL).
 * A record with fewer fields than the header is padded with ""; fields
 * beyond the header are dropped and counted by source_extra_fields();
 * either way the record counts in source_ragged_rows().  Empty lines
 * between records are skipped.  A quote inside an unquoted field is kept
 * as text, and text after a closing quote continues the quoted field
 * (libcsv's non-strict mode).
 *
 * JSON and NDJSON: NULL for JSON null or a key missing from this record;
 * strings as they are; numbers as written in the file ("12.50", "1e3";
 * in a record that repeats a key, as Jansson prints them back: "12.5");
 * true and false as "true" and "false"; arrays as compact JSON text (their
 * numbers as Jansson prints them with 15 significant digits).  NDJSON
 * skips blank lines.
 *
 * XLSX: one row of the sheet: a missing cell is ""; cell values as
 * described at SOURCE_FORMAT_XLSX's reader (README "Excel workbooks"):
 * shared and inline strings as text, booleans "true"/"false", numbers as
 * stored, number cells with a date style as ISO 8601
 * (source_xlsx_serial_date()).  Rows without any value are skipped;
 * cells past the header's columns are counted by source_extra_fields().
 * source_record_line() is the row's number in the sheet.
 *
 * Returns CC_OK; CC_EOF after the last record (and on every later call);
 * CC_EPARSE with diag at the first problem:
 *  - "csv_unterminated_quote": the line and column of the quote that
 *    opened the field never closed;
 *  - "json_syntax": Jansson's error line, column and position moved to
 *    where the record starts in the file (its message says what);
 *  - "json_not_object": an array element or NDJSON line that is not an
 *    object (position of its first character);
 *  - "json_no_records", "json_expected", "json_trailing_data": the
 *    document is not an array of objects or an object holding one;
 * CC_EENCODING ("binary_data", "control_character", "invalid_utf8",
 * "invalid_latin1") at the offending byte; CC_ETOOBIG ("field_too_long",
 * "record_too_long"); CC_EIO; CC_ENOMEM.  After an error other than
 * CC_ENOMEM the reader is spent: later calls return the same error.
 */
cc_err		 source_next(struct source_reader *r,
		    const char *const **values, struct cc_diag *diag);

/* 1-based number of the record last returned (0 before the first). */
long long	 source_record_number(const struct source_reader *r);

/* Physical line (1-based) where the record last returned starts. */
long		 source_record_line(const struct source_reader *r);

/*
 * CSV rows seen so far (header excluded) whose field count differed from
 * the header's, or from row 1's without a header.  0 for JSON.
 */
long long	 source_ragged_rows(const struct source_reader *r);

/*
 * Number of fields of the record last returned that lay beyond
 * source_ncolumns() and were dropped.  0 for JSON.
 */
size_t		 source_extra_fields(const struct source_reader *r);

/*
 * The dialect the reader uses: a copy of the one given to source_open(),
 * with records_path filled in when it was chosen by the reader.
 */
const struct source_dialect *source_reader_dialect(const struct source_reader *r);

/*
 * An Excel date serial as ISO 8601 text in buf (size >= 24): "YYYY-MM-DD"
 * when it has no time of day, "YYYY-MM-DDTHH:MM:SS" (".mmm" when the
 * milliseconds are not 0) otherwise, "HH:MM:SS" for a serial in [0, 1).
 * The time is rounded to the millisecond.  date1904 0: the 1900 date
 * system (serial 1 = 1900-01-01), with Excel's fictitious 1900-02-29
 * (serial 60, kept from Lotus 1-2-3: ECMA-376 Part 1, 18.17.4.1) read as
 * 1900-02-28 as openpyxl reads it, and serials from 61 on counted from
 * 1899-12-30; date1904 1: serial 0 = 1904-01-01 (workbookPr date1904).
 * Returns the length written, or -1 for a serial that is negative, not
 * finite or past 9999-12-31 (2958465), or a NULL or short buf.
 */
int		 source_xlsx_serial_date(double serial, int date1904, char *buf,
		    size_t size);

/*
 * 1 if number format id (numFmtId) with format code code is a date or
 * time format, 0 if not.  code NULL: a built-in format, of which 14-22
 * and 45-47 are dates and times (ECMA-376 Part 1, 18.8.30).  Otherwise
 * the code's first section (up to ';') is a date when it holds one of
 * d m y h s (either case) outside double-quoted text, backslash-escaped
 * characters, the character after '_' or '*', and [...] (colours,
 * conditions, locales), except an elapsed-time [h], [mm] or [ss].
 */
int		 source_xlsx_format_is_date(int id, const char *code);

/* Closes the file and frees the reader.  NULL is fine. */
void		 source_close(struct source_reader *r);

#endif /* CONCORD_SOURCE_H */
