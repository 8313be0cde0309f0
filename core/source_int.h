/*
 * source_int.h - the xlsx reader (core/source_xlsx.c) as core/source.c
 * drives it behind the source reader interface (concord/source.h).  Not a
 * public header.
 */
#ifndef CONCORD_SOURCE_INT_H
#define CONCORD_SOURCE_INT_H

#include <stddef.h>

#include "concord/error.h"
#include "concord/source.h"

struct xlsx;

/*
 * Tells an xlsx workbook from other binary data by its first n bytes p
 * (a zip local header "PK\3\4"; an OLE compound file, D0 CF 11 E0 A1 B1
 * 1A E1, is refused as "xlsx_encrypted").  Returns 1 when p starts a
 * zip archive (then source_sniff() calls xlsx_sniff()), 0 otherwise.
 */
int	xlsx_magic(const unsigned char *p, size_t n);

/*
 * Checks that path is a workbook and fills d (format XLSX, encoding
 * UTF-8, has_header 1, records_path the name of the first sheet).
 * Errors as for xlsx_open().
 */
cc_err	xlsx_sniff(const char *path, struct source_dialect *d,
	    struct cc_diag *diag);

/*
 * Opens the sheet named sheet ("" or NULL: the first) of the workbook at
 * path and reads up to its header row.  Errors (diag codes): CC_EINVALID
 * "xlsx_encrypted", "xlsx_corrupt", "xlsx_not_workbook",
 * "xlsx_missing_part", "xlsx_no_such_sheet", "xlsx_zip_bomb",
 * "xlsx_too_many_columns", "xlsx_too_many_strings", "xlsx_xml"; CC_EIO;
 * CC_ENOMEM.
 */
cc_err	xlsx_open(const char *path, const char *sheet, struct xlsx **out,
	    struct cc_diag *diag);

/* The header row's raw values (n of them, owned by x). */
void	xlsx_header(const struct xlsx *x, char *const **raw,
	    const size_t **len, size_t *n);

/*
 * The next data row: *values gets ncol strings owned by x (empty cells
 * are ""), *extra the number of non-empty cells beyond ncol, *rownum the
 * row's number in the sheet.  CC_EOF after the last.
 */
cc_err	xlsx_next(struct xlsx *x, const char *const **values, size_t *extra,
	    long *rownum, struct cc_diag *diag);

/* Frees x (NULL is fine). */
void	xlsx_close(struct xlsx *x);

#endif /* CONCORD_SOURCE_INT_H */
