/* registry.c - streamed uploads and the file registry (concord/registry.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "concord/align.h"
#include "concord/db.h"
#include "concord/schema.h"
#include "concord/map.h"
#include "concord/map_llm.h"
#include "concord/profile.h"
#include "concord/registry.h"
#include "concord/source.h"
#include "concord/util.h"

/* The descriptor holds the lock that keeps ws_sweep() away. */
struct registry_upload {
	int					 fd;
	char					 path[PATH_MAX];
	long long				 size;
	long long				 max;
	crypto_hash_sha256_state		 sha;
	char					 sheet[128];	/* xlsx */
	/* the checks' answers (registry_upload_prepare(), or finish) */
	cc_err					 perr;	/* its error */
	struct cc_diag				 pdiag;	/* and diagnosis */
	int					 pstage; /* where it stopped */
	enum source_format			 declared;
	char					 psha[65];
	char					 bare[128];
	struct source_dialect			 d;
	json_t					*profile;
};

/* Where registry_upload_prepare() stopped: the order of the checks. */
enum {
	PREP_NAME = 1,		/* name or content type refused */
	PREP_HASHED,		/* name and type good, the bytes hashed */
	PREP_DONE		/* the content checked too (perr, or
				   CC_OK and profile) */
};

cc_err
registry_upload_begin(struct workspace *ws, long long max_bytes,
    struct registry_upload **out)
{
	struct registry_upload *up;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return CC_ENOMEM;
	up->fd = -1;
	if ((size_t)snprintf(up->path, sizeof(up->path),
	    "%s/" WS_UPLOAD_TMP_PREFIX "XXXXXX", ws->uploads) >=
	    sizeof(up->path) || ws_tmp_create(up->path, &up->fd) != CC_OK) {
		free(up);
		return CC_EIO;
	}
	up->max = max_bytes;
	crypto_hash_sha256_init(&up->sha);
	*out = up;
	return CC_OK;
}

cc_err
registry_upload_write(struct registry_upload *up, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	if (up->pstage != 0)
		return CC_EINVAL;	/* hashed already */
	if (up->size + (long long)len > up->max)
		return CC_ETOOBIG;
	crypto_hash_sha256_update(&up->sha, buf, len);
	up->size += (long long)len;
	while (len > 0) {
		if ((n = write(up->fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return CC_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return CC_OK;
}

long long
registry_upload_size(const struct registry_upload *up)
{
	return up->size;
}

void
registry_upload_abort(struct registry_upload *up)
{
	if (up == NULL)
		return;
	/* Unlink before close: the lock keeps a sweep away until then.
	 * After a successful finish the name is already gone (renamed). */
	if (up->path[0] != '\0')
		unlink(up->path);
	if (up->fd >= 0)
		close(up->fd);
	json_decref(up->profile);
	free(up);
}

/* A file name from a client: 1..255 bytes, no '/', NUL or controls. */
static int
valid_name(const char *name)
{
	size_t i, len;

	if (name == NULL || (len = strlen(name)) == 0 || len > 255 ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return 0;
	}
	return 1;
}

/* The declared format of a media type, ignoring parameters. */
static enum source_format
declared_format(const char *content_type, char *bare, size_t size)
{
	size_t n;

	if (content_type == NULL)
		return SOURCE_FORMAT_UNKNOWN;
	n = strcspn(content_type, "; \t");
	if (n >= size)
		return SOURCE_FORMAT_UNKNOWN;
	memcpy(bare, content_type, n);
	bare[n] = '\0';
	if (strcasecmp(bare, "text/csv") == 0)
		return SOURCE_FORMAT_CSV;
	if (strcasecmp(bare, "application/json") == 0)
		return SOURCE_FORMAT_JSON;
	if (strcasecmp(bare, "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet") == 0)
		return SOURCE_FORMAT_XLSX;
	if (strcasecmp(bare, "application/x-ndjson") == 0 ||
	    strcasecmp(bare, "application/jsonl") == 0)
		return SOURCE_FORMAT_NDJSON;
	return SOURCE_FORMAT_UNKNOWN;
}

static const char *
line_ending(const struct source_dialect *d)
{
	return d->crlf ? "crlf" : "lf";
}

/* Builds the file JSON from a row of FILE_COLUMNS. */
#define FILE_COLUMNS \
	"id, name, size, sha256, content_type, format, encoding, delimiter," \
	" quote, has_header, line_ending, records_path, status, error," \
	" row_count, column_count, uploaded_at, profiled_at, seq"

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static json_t *
opt_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
file_json(sqlite3_stmt *st)
{
	json_t *f, *dialect;

	dialect = json_object();
	if (col(st, 7) != NULL) {
		json_object_set_new(dialect, "delimiter", json_string(col(st, 7)));
		json_object_set_new(dialect, "quote", opt_str(col(st, 8)));
		json_object_set_new(dialect, "header",
		    json_boolean(sqlite3_column_int(st, 9)));
	}
	if (col(st, 11) != NULL && strcmp(col(st, 5), "xlsx") == 0)
		json_object_set_new(dialect, "sheet", json_string(col(st, 11)));
	else if (col(st, 11) != NULL)
		json_object_set_new(dialect, "records_path",
		    json_string(col(st, 11)));
	json_object_set_new(dialect, "encoding", opt_str(col(st, 6)));
	json_object_set_new(dialect, "line_ending", opt_str(col(st, 10)));
	f = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:I,"
	    " s:I, s:s, s:o}",
	    "id", col(st, 0), "name", col(st, 1),
	    "size", (json_int_t)sqlite3_column_int64(st, 2),
	    "sha256", col(st, 3), "content_type", col(st, 4),
	    "format", col(st, 5), "dialect", dialect,
	    "status", col(st, 12), "error", opt_str(col(st, 13)),
	    "rows", (json_int_t)sqlite3_column_int64(st, 14),
	    "columns", (json_int_t)sqlite3_column_int64(st, 15),
	    "uploaded_at", col(st, 16), "profiled_at", opt_str(col(st, 17)));
	return f;
}

static cc_err
file_by(struct workspace *ws, const char *where, const char *key,
    json_t **file)
{
	char sql[512];
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " FILE_COLUMNS " FROM files WHERE %s",
	    where);
	if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = (*file = file_json(st)) != NULL ? CC_OK : CC_ENOMEM;
	else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

/* sha256 of the lower-cased column names joined by US (0x1f). */
static void
header_fingerprint(json_t *columns, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state s;
	size_t i, k;
	json_t *c;

	crypto_hash_sha256_init(&s);
	json_array_foreach(columns, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		for (k = 0; name != NULL && name[k] != '\0'; k++) {
			unsigned char ch = (unsigned char)name[k];
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			crypto_hash_sha256_update(&s, &ch, 1);
		}
		crypto_hash_sha256_update(&s, (const unsigned char *)"\x1f", 1);
	}
	crypto_hash_sha256_final(&s, h);
	util_hex(h, sizeof(h), out);
}

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Inserts the record and its column profiles in one transaction. */
static cc_err
insert_file(struct workspace *ws, const char *id, const char *name,
    const char *ctype, const char *sha, long long size,
    const struct source_dialect *d, json_t *profile, struct cc_diag *diag)
{
	char now[32], fp[65], delim[2] = { d->delimiter, 0 },
	    quote[2] = { d->quote, 0 };
	json_t *columns = json_object_get(profile, "columns"), *c;
	sqlite3_stmt *st = NULL;
	int csv = d->format == SOURCE_FORMAT_CSV;
	size_t i;
	char *text;

	util_rfc3339(time(NULL), now, sizeof(now));
	header_fingerprint(columns, fp);
	if (db_exec(ws->db, "BEGIN IMMEDIATE", diag) != CC_OK)
		return CC_EDB;
	if (sqlite3_prepare_v2(ws->db, "INSERT INTO files (id, name, sha256,"
	    " size, content_type, format, encoding, delimiter, quote,"
	    " has_header, line_ending, records_path, status, row_count,"
	    " column_count, header_fingerprint, uploaded_at, profiled_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	    " 'profiled', ?13, ?14, ?15, ?16, ?16)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_text(st, 5, ctype, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, source_format_name(d->format), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, source_encoding_name(d->encoding), -1,
	    SQLITE_STATIC);
	if (csv) {
		sqlite3_bind_text(st, 8, delim, -1, SQLITE_STATIC);
		if (d->quote != 0)
			sqlite3_bind_text(st, 9, quote, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 10, d->has_header);
	} else
		sqlite3_bind_text(st, 12, d->records_path, -1, SQLITE_STATIC);
	if (d->format == SOURCE_FORMAT_XLSX)
		sqlite3_bind_int(st, 10, 1);
	sqlite3_bind_text(st, 11, line_ending(d), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, json_integer_value(
	    json_object_get(profile, "rows")));
	sqlite3_bind_int64(st, 14, (sqlite3_int64)json_array_size(columns));
	sqlite3_bind_text(st, 15, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(ws->db, "INSERT INTO file_columns (file_id,"
	    " ordinal, name, inferred_type, nulls, blanks, distinct_count,"
	    " distinct_exact, min_value, max_value, profile) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	json_array_foreach(columns, i, c) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1);
		sqlite3_bind_text(st, 3, jstr(c, "name"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, jstr(c, "type") != NULL ?
		    jstr(c, "type") : "text", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5,
		    json_integer_value(json_object_get(c, "nulls")));
		sqlite3_bind_int64(st, 6,
		    json_integer_value(json_object_get(c, "blanks")));
		sqlite3_bind_int64(st, 7,
		    json_integer_value(json_object_get(c, "distinct")));
		sqlite3_bind_int(st, 8,
		    json_is_true(json_object_get(c, "distinct_exact")));
		sqlite3_bind_text(st, 9, jstr(c, "min"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, jstr(c, "max"), -1, SQLITE_STATIC);
		if ((text = json_dumps(c, JSON_COMPACT)) == NULL)
			goto fail;
		sqlite3_bind_text(st, 11, text, -1, free);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	return db_exec(ws->db, "COMMIT", diag);
fail:
	cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(ws->db));
	sqlite3_finalize(st);
	db_exec(ws->db, "ROLLBACK", NULL);
	return CC_EDB;
}

cc_err
registry_upload_sheet(struct registry_upload *up, const char *sheet)
{
	if (up == NULL || sheet == NULL || strlen(sheet) == 0 ||
	    strlen(sheet) >= sizeof(up->sheet) || up->pstage != 0)
		return CC_EINVAL;	/* (prepared: the sheet was read) */
	memcpy(up->sheet, sheet, strlen(sheet) + 1);
	return CC_OK;
}

/*
 * The checks of the content that need no workspace (format, dialect,
 * validation, profile), in registry_upload_finish()'s order; their
 * answer is kept in up, the workspace's own (a duplicate, the file's
 * record) left to registry_upload_finish().
 */
static void
content_checks(struct registry_upload *up, const char *name,
    struct cc_diag *diag)
{
	struct source_dialect *d = &up->d;
	enum source_format declared = up->declared;

	up->pstage = PREP_DONE;
	if (up->size == 0) {
		up->perr = cc_diag_set(diag, CC_EINVALID, "empty",
		    "the file is empty");
		return;
	}
	if ((up->perr = source_sniff(up->path, name, d, diag)) != CC_OK)
		return;
	if ((declared == SOURCE_FORMAT_XLSX) != (d->format ==
	    SOURCE_FORMAT_XLSX)) {
		if (diag != NULL) {
			diag->line = diag->column = 0;
			diag->offset = 0;
		}
		up->perr = cc_diag_set(diag, CC_EINVALID, declared ==
		    SOURCE_FORMAT_XLSX ? "xlsx_not_zip" :
		    "content_type_mismatch", declared == SOURCE_FORMAT_XLSX ?
		    "the file was sent as an xlsx workbook but is not a zip"
		    " archive" : "the content is an xlsx workbook but was sent"
		    " as %s", up->bare);
		return;
	}
	if (d->format == SOURCE_FORMAT_XLSX && up->sheet[0] != '\0')
		snprintf(d->records_path, sizeof(d->records_path), "%s",
		    up->sheet);
	if (declared == SOURCE_FORMAT_CSV && d->format != SOURCE_FORMAT_CSV) {
		if (diag != NULL) {
			diag->line = 1;
			diag->column = 1;
			diag->offset = 0;
		}
		up->perr = cc_diag_set(diag, CC_EINVALID,
		    "content_type_mismatch", "the content is %s but was sent"
		    " as %s", source_format_name(d->format), up->bare);
		return;
	}
	if (declared != SOURCE_FORMAT_CSV && d->format == SOURCE_FORMAT_CSV) {
		/* Sent as JSON: read it as JSON, so that the first problem
		 * is reported where it is. */
		enum source_encoding enc = d->encoding;
		memset(d, 0, sizeof(*d));
		d->format = declared;
		d->encoding = enc;
	}
	up->perr = profile_source(up->path, d, &up->profile, diag);
}

/* The checks of name and content type, then the hash: up->pstage
 * PREP_NAME (refused: perr, pdiag) or PREP_HASHED. */
static void
name_checks(struct registry_upload *up, const char *name,
    const char *content_type)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	cc_diag_clear(&up->pdiag);
	up->pstage = PREP_NAME;
	if (!valid_name(name)) {
		up->perr = cc_diag_set(&up->pdiag, CC_EINVAL, "name_invalid",
		    "a file name has 1 to 255 characters, without '/' or"
		    " control characters");
		return;
	}
	if ((up->declared = declared_format(content_type, up->bare,
	    sizeof(up->bare))) == SOURCE_FORMAT_UNKNOWN) {
		up->perr = cc_diag_set(&up->pdiag, CC_EUNSUPPORTED,
		    "content_type", "unsupported content type; send text/csv,"
		    " application/json, application/x-ndjson or application/"
		    "vnd.openxmlformats-officedocument.spreadsheetml.sheet");
		return;
	}
	up->pstage = PREP_HASHED;
	crypto_hash_sha256_final(&up->sha, h);
	util_hex(h, sizeof(h), up->psha);
}

cc_err
registry_upload_prepare(struct registry_upload *up, const char *name,
    const char *content_type)
{
	if (up == NULL || up->pstage != 0)
		return CC_EINVAL;
	name_checks(up, name, content_type);
	if (up->pstage == PREP_HASHED)
		content_checks(up, name, &up->pdiag);
	return up->perr;
}

cc_err
registry_upload_finish(struct workspace *ws, struct registry_upload *up,
    const char *name, const char *content_type, json_t **file,
    int *duplicate, struct cc_diag *diag)
{
	char id[17], dest[PATH_MAX + 80];
	cc_err err;

	*duplicate = 0;
	/* The descriptor stays open, and with it the lock that keeps
	 * ws_sweep() away, until the file is renamed or removed. */
	if (up->pstage == 0)
		name_checks(up, name, content_type);
	if (up->pstage == PREP_NAME) {
		err = up->perr;
		if (diag != NULL)
			*diag = up->pdiag;
		goto out;
	}
	cc_diag_clear(diag);
	if ((err = file_by(ws, "sha256 = ?1", up->psha, file)) == CC_OK) {
		const char *had = json_string_value(json_object_get(
		    json_object_get(*file, "dialect"), "sheet"));
		if (up->sheet[0] != '\0' && had != NULL &&
		    strcmp(had, up->sheet) != 0) {
			/* one registration per content: the bytes are
			 * stored once, under their SHA-256 */
			/* had points into *file: the message first */
			err = cc_diag_set(diag, CC_ECONFLICT,
			    "xlsx_sheet_registered", "this workbook is"
			    " registered already, with sheet \"%s\": save"
			    " sheet \"%s\" as a workbook of its own", had,
			    up->sheet);
			json_decref(*file);
			*file = NULL;
			goto out;
		}
		*duplicate = 1;
		goto out;
	}
	if (err != CC_ENOTFOUND)
		goto out;
	/* not prepared: the content is checked after the look-up, so a
	 * duplicate costs no profile */
	if (up->pstage == PREP_HASHED)
		content_checks(up, name, &up->pdiag);
	if ((err = up->perr) != CC_OK) {
		if (diag != NULL)
			*diag = up->pdiag;
		goto out;
	}
	util_random_hex(id, 8);
	snprintf(dest, sizeof(dest), "%s/%s", ws->uploads, up->psha);
	if (rename(up->path, dest) != 0) {
		err = cc_diag_set(diag, CC_EIO, "io", "cannot store the upload");
		goto out;
	}
	up->path[0] = '\0';		/* renamed: nothing to remove */
	if ((err = insert_file(ws, id, name, up->bare, up->psha, up->size,
	    &up->d, up->profile, diag)) != CC_OK) {
		unlink(dest);
		goto out;
	}
	err = file_by(ws, "id = ?1", id, file);
out:
	registry_upload_abort(up);
	return err;
}

cc_err
registry_get(struct workspace *ws, const char *id, json_t **file,
    json_t **profile)
{
	sqlite3_stmt *st;
	json_t *cols, *c;
	cc_err err;
	int rc;

	if ((err = file_by(ws, "id = ?1", id, file)) != CC_OK || profile == NULL)
		return err;
	if (sqlite3_prepare_v2(ws->db, "SELECT profile FROM file_columns"
	    " WHERE file_id = ?1 ORDER BY ordinal", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	cols = json_array();
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((c = json_loads(col(st, 0), 0, NULL)) != NULL)
			json_array_append_new(cols, c);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(cols);
		goto fail;
	}
	*profile = json_pack("{s:O, s:o}", "rows",
	    json_object_get(*file, "rows"), "columns", cols);
	return CC_OK;
fail:
	json_decref(*file);
	*file = NULL;
	return CC_EDB;
}

cc_err
registry_list(struct workspace *ws, int size, const char *after,
    json_t **files, char *next)
{
	sqlite3_int64 pos = 0, last = 0;
	sqlite3_stmt *st;
	json_t *arr;
	char *end;
	int rc, n = 0;

	next[0] = '\0';
	if (after != NULL && *after != '\0') {
		errno = 0;
		pos = strtoll(after, &end, 10);
		if (errno != 0 || *end != '\0' || pos < 0)
			return CC_EINVAL;
	}
	if (sqlite3_prepare_v2(ws->db, "SELECT " FILE_COLUMNS " FROM files"
	    " WHERE seq > ?1 ORDER BY seq LIMIT ?2", -1, &st, NULL) !=
	    SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_int64(st, 1, pos);
	sqlite3_bind_int(st, 2, size + 1);	/* one more: is there a next? */
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == size) {
			snprintf(next, 32, "%lld", (long long)last);
			break;
		}
		json_array_append_new(arr, file_json(st));
		last = sqlite3_column_int64(st, 18);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(arr);
		return CC_EDB;
	}
	*files = arr;
	return CC_OK;
}

cc_err
registry_raw(struct workspace *ws, const char *id, char *path, char **name,
    char **content_type)
{
	sqlite3_stmt *st;
	cc_err err = CC_OK;
	int rc;

	if (sqlite3_prepare_v2(ws->db, "SELECT sha256, name, content_type"
	    " FROM files WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((size_t)snprintf(path, PATH_MAX, "%s/%s", ws->uploads,
		    col(st, 0)) >= PATH_MAX)
			path[0] = '\0';
		*name = strdup(col(st, 1));
		*content_type = strdup(col(st, 2));
		if (*name == NULL || *content_type == NULL) {
			free(*name);
			free(*content_type);
			err = CC_ENOMEM;
		}
	} else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
registry_source(struct workspace *ws, const char *id, char *path,
    struct source_dialect *d)
{
	sqlite3_stmt *st;
	const char *f, *e;
	int rc;

	memset(d, 0, sizeof(*d));
	if (sqlite3_prepare_v2(ws->db, "SELECT sha256, format, encoding,"
	    " delimiter, quote, has_header, line_ending, records_path FROM files"
	    " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	}
	snprintf(path, PATH_MAX + 80, "%s/%s", ws->uploads, col(st, 0));
	f = col(st, 1);
	e = col(st, 2);
	d->format = !strcmp(f, "csv") ? SOURCE_FORMAT_CSV :
	    !strcmp(f, "json") ? SOURCE_FORMAT_JSON :
	    !strcmp(f, "xlsx") ? SOURCE_FORMAT_XLSX : SOURCE_FORMAT_NDJSON;
	d->encoding = !strcmp(e, "latin-1") ? SOURCE_ENC_LATIN1 :
	    !strcmp(e, "utf-8-bom") ? SOURCE_ENC_UTF8_BOM : SOURCE_ENC_UTF8;
	d->delimiter = col(st, 3) != NULL ? col(st, 3)[0] : ',';
	d->quote = col(st, 4) != NULL ? col(st, 4)[0] : 0;
	d->has_header = sqlite3_column_int(st, 5);
	d->crlf = col(st, 6) != NULL && !strcmp(col(st, 6), "crlf");
	snprintf(d->records_path, sizeof(d->records_path), "%s",
	    col(st, 7) != NULL ? col(st, 7) : "");
	sqlite3_finalize(st);
	return CC_OK;
}

cc_err
registry_delete(struct workspace *ws, const char *id)
{
	char path[PATH_MAX + 80], sha[65];
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (db_exec(ws->db, "BEGIN IMMEDIATE", NULL) != CC_OK)
		return CC_EDB;
	if (sqlite3_prepare_v2(ws->db, "DELETE FROM files WHERE id = ?1"
	    " RETURNING sha256", -1, &st, NULL) != SQLITE_OK) {
		db_exec(ws->db, "ROLLBACK", NULL);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(sha, sizeof(sha), "%s", col(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		db_exec(ws->db, "ROLLBACK", NULL);
		return rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	}
	if ((err = db_exec(ws->db, "COMMIT", NULL)) != CC_OK)
		return err;
	/* The record is gone first: a crash here leaves only stray bytes. */
	snprintf(path, sizeof(path), "%s/%s", ws->uploads, sha);
	unlink(path);
	return CC_OK;
}

static cc_err
mapping_store(struct workspace *ws, const char *id, const char *fp,
    json_t *doc, int confirmed)
{
	char now[32], *text;
	sqlite3_stmt *st;
	int rc;

	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		return CC_ENOMEM;
	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(ws->db, "INSERT INTO mappings (file_id,"
	    " header_fingerprint, state, mapper, document, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (file_id) DO UPDATE"
	    " SET state = ?3, mapper = ?4, document = ?5, updated_at = ?6",
	    -1, &st, NULL) != SQLITE_OK) {
		free(text);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, confirmed ? "confirmed" : "proposed", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 4, json_string_value(json_object_get(doc,
	    "mapper")), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text, -1, free);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return CC_EDB;
	if (confirmed) {
		if (sqlite3_prepare_v2(ws->db, "UPDATE files SET status ="
		    " 'mapped' WHERE id = ?1 AND status = 'profiled'", -1, &st,
		    NULL) != SQLITE_OK)
			return CC_EDB;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return CC_EDB;
	}
	return CC_OK;
}

/* Runs a one-row query with one text parameter; copies column 0 and 1. */
static int
query2(struct workspace *ws, const char *sql, const char *key, char **a,
    char **b)
{
	sqlite3_stmt *st;
	int rc;

	*a = NULL;
	if (b != NULL)
		*b = NULL;
	if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*a = col(st, 0) != NULL ? strdup(col(st, 0)) : NULL;
		if (b != NULL)
			*b = col(st, 1) != NULL ? strdup(col(st, 1)) : NULL;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Feeds n values (NULL distinct from "") to a fingerprint. */
static void
fp_values(crypto_generichash_state *st, const char *const *v, size_t n)
{
	static const unsigned char null_mark = 1, end = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		if (v[k] == NULL)
			crypto_generichash_update(st, &null_mark, 1);
		else
			crypto_generichash_update(st, (const unsigned char *)
			    v[k], strlen(v[k]));
		crypto_generichash_update(st, &end, 1);
	}
}

/* align_learn() through the callers' prepared columns (see
 * registry_align_learn()). */
static cc_err
learn_columns(const char *const *from, size_t nfrom, const char *const *to,
    size_t nto, struct align_column **fcol, struct align_column **tcol,
    struct align_rule *out)
{
	cc_err err;

	if (fcol == NULL || tcol == NULL)
		return align_learn(from, nfrom, to, nto, out, NULL);
	if ((*fcol == NULL && (err = align_column_new(from, nfrom, fcol,
	    NULL)) != CC_OK) || (*tcol == NULL && (err = align_column_new(to,
	    nto, tcol, NULL)) != CC_OK))
		return err;
	return align_learn_columns(*fcol, *tcol, out, NULL);
}

cc_err
registry_align_learn(struct workspace *ws, const char *const *from,
    size_t nfrom, const char *const *to, size_t nto,
    struct align_column **fcol, struct align_column **tcol,
    struct align_rule *out, int *reused)
{
	crypto_generichash_state st;
	unsigned char h[32];
	char hex[65], ver[64], now[32];
	sqlite3_stmt *q = NULL;
	time_t t = time(NULL);
	struct tm tm;
	cc_err err;

	if (reused != NULL)
		*reused = 0;
	if (ws == NULL || out == NULL)
		return out == NULL ? align_learn(from, nfrom, to, nto, out,
		    NULL) : learn_columns(from, nfrom, to, nto, fcol, tcol,
		    out);
	snprintf(ver, sizeof(ver), "align %d %zu %zu %zu", ALIGN_RULES_VERSION,
	    sizeof(*out), nfrom, nto);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)ver,
	    strlen(ver) + 1);
	fp_values(&st, from, nfrom);
	fp_values(&st, to, nto);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (sqlite3_prepare_v2(ws->db, "SELECT rule FROM align_cache"
	    " WHERE fingerprint = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, hex, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    sqlite3_column_bytes(q, 0) == (int)sizeof(*out)) {
			memcpy(out, sqlite3_column_blob(q, 0), sizeof(*out));
			sqlite3_finalize(q);
			if (reused != NULL)
				*reused = 1;
			return out->found ? CC_OK : CC_ENOTFOUND;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	err = learn_columns(from, nfrom, to, nto, fcol, tcol, out);
	if (err != CC_OK && err != CC_ENOTFOUND)
		return err;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (sqlite3_prepare_v2(ws->db, "INSERT OR REPLACE INTO align_cache"
	    " (fingerprint, rule, created_at) VALUES (?1, ?2, ?3)", -1, &q,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, hex, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, out, (int)sizeof(*out), SQLITE_STATIC);
		sqlite3_bind_text(q, 3, now, -1, SQLITE_STATIC);
		(void)sqlite3_step(q);	/* a cache: a failed write costs time */
	}
	sqlite3_finalize(q);
	return err;
}

#define OVERLAP_SAMPLE	2000	/* values of the column being mapped */
#define OVERLAP_TARGET	100000	/* values of another file's key column */

/* A key column of a file: its distinct values (at most OVERLAP_SAMPLE). */
struct keysample {
	char		 file_id[32];
	char		 file_name[256];
	char		 column[256];
	char		 target[160];
	char	       **values;
	size_t		 n;
};

static void
keysample_free(struct keysample *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->values[i]);
	free(k->values);
	k->values = NULL;
	k->n = 0;
}

static int
strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads up to OVERLAP_SAMPLE distinct values of column ordinal (1-based)
 * of a registered file. */
static cc_err
sample_column(struct workspace *ws, const char *file_id, long long ordinal,
    size_t cap, struct keysample *k)
{
	struct source_dialect d;
	struct source_reader *rd = NULL;
	const char *const *vals;
	char path[PATH_MAX + 80];
	size_t i, j;
	long long rows = 0;
	cc_err err;

	if ((err = registry_source(ws, file_id, path, &d)) != CC_OK)
		return err;
	if ((k->values = calloc(cap, sizeof(char *))) == NULL)
		return CC_ENOMEM;
	if ((err = source_open(path, &d, &rd, NULL)) != CC_OK)
		return err;
	/* the first rows' values; duplicates removed below */
	while (k->n < cap && rows < (long long)cap * 4 &&
	    (err = source_next(rd, &vals, NULL)) == CC_OK) {
		rows++;
		if (ordinal < 1 || (size_t)ordinal > source_ncolumns(rd))
			break;
		if (vals[ordinal - 1] != NULL && *vals[ordinal - 1] != '\0')
			k->values[k->n++] = strdup(vals[ordinal - 1]);
	}
	source_close(rd);
	qsort(k->values, k->n, sizeof(char *), strptr_cmp);
	for (i = j = 0; i < k->n; i++) {
		if (j > 0 && !strcmp(k->values[j - 1], k->values[i])) {
			free(k->values[i]);
			continue;
		}
		k->values[j++] = k->values[i];
	}
	k->n = j;
	return CC_OK;
}

static int
is_key_target(const char *target)
{
	const struct schema_attr *a = schema_lookup(target, NULL);

	return a != NULL && a->type == SCHEMA_KEY;
}

/*
 * The entity a key target identifies: its own entity for a natural or
 * alternate key ("customer.customer_number": customer), the referenced
 * one for a reference ("order_line.customer_id": customer); NULL for
 * another key.  Two key columns are compared for overlap only when they
 * identify the same entity: an order number meeting customer ids is no
 * evidence that either column is mapped right.
 */
static const char *
key_domain(const char *target, char *buf, size_t size)
{
	const struct schema_entity *e = NULL;
	const struct schema_attr *a = schema_lookup(target, &e);

	if (a == NULL || a->type != SCHEMA_KEY)
		return NULL;
	if (a->role == SCHEMA_REFERENCE)
		return a->ref;
	if ((a->role == SCHEMA_NATURAL_KEY || a->role == SCHEMA_ALTERNATE_KEY) &&
	    e != NULL) {
		snprintf(buf, size, "%s", e->name);
		return buf;
	}
	return NULL;
}

/*
 * The key-overlap evidence of one pair of columns, cached in the
 * workspace (key_overlap_cache) by both columns' fingerprints: the
 * file's SHA-256 (its bytes) and the column's ordinal and name.  The
 * same two columns always give the same samples and so the same rule;
 * a learned pair is never learned again, whichever file ids the bytes
 * are registered under and however often proposals are made.
 */
struct overlap {
	int		 found;
	long long	 matched_one_to_one;
	double		 coverage;
	long long	 from_n;		/* values sampled on the from side */
	char		 description[160];
};

/* OVERLAP_SAMPLE and OVERLAP_TARGET as a version of what is cached. */
#define OVERLAP_METHOD	"align_learn 2000/100000"

static int
overlap_get(sqlite3_stmt *get, const char *fsha, long long ford,
    const char *fcol, const char *tsha, long long tord, const char *tcol,
    struct overlap *o)
{
	int rc;

	sqlite3_reset(get);
	sqlite3_bind_text(get, 1, fsha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(get, 2, ford);
	sqlite3_bind_text(get, 3, fcol, -1, SQLITE_STATIC);
	sqlite3_bind_text(get, 4, tsha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(get, 5, tord);
	sqlite3_bind_text(get, 6, tcol, -1, SQLITE_STATIC);
	sqlite3_bind_text(get, 7, OVERLAP_METHOD, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(get)) != SQLITE_ROW) {
		sqlite3_reset(get);
		return 0;
	}
	o->found = sqlite3_column_int(get, 0);
	o->matched_one_to_one = sqlite3_column_int64(get, 1);
	o->coverage = sqlite3_column_double(get, 2);
	o->from_n = sqlite3_column_int64(get, 3);
	snprintf(o->description, sizeof(o->description), "%s",
	    col(get, 4) != NULL ? col(get, 4) : "");
	sqlite3_reset(get);
	return 1;
}

static void
overlap_put(sqlite3_stmt *put, const char *fsha, long long ford,
    const char *fcol, const char *tsha, long long tord, const char *tcol,
    const struct overlap *o)
{
	sqlite3_reset(put);
	sqlite3_bind_text(put, 1, fsha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 2, ford);
	sqlite3_bind_text(put, 3, fcol, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 4, tsha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 5, tord);
	sqlite3_bind_text(put, 6, tcol, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 7, OVERLAP_METHOD, -1, SQLITE_STATIC);
	sqlite3_bind_int(put, 8, o->found);
	sqlite3_bind_int64(put, 9, o->matched_one_to_one);
	sqlite3_bind_double(put, 10, o->coverage);
	sqlite3_bind_int64(put, 11, o->from_n);
	sqlite3_bind_text(put, 12, o->description, -1, SQLITE_STATIC);
	sqlite3_step(put);	/* a cache: a failed write only costs time */
	sqlite3_reset(put);
}

/* Another file's key column, sampled only when a pair is not cached. */
struct okey {
	struct keysample	 k;
	char			 sha[72];
	long long		 ordinal;
	int			 sampled;	/* 1 sampled, -1 empty or failed */
	int			 borrowed;	/* k belongs to samples */
	struct align_column	*own;		/* prepared here, or */
	struct align_column	**col;		/* -> own or samples' */
};

/* A key column read for an earlier proposal, and its prepared column. */
struct sampled {
	char			 sha[72];
	long long		 ordinal;
	struct keysample	 k;
	int			 sampled;
	struct align_column	*col;		/* NULL until a pair needs it */
};

/* Key columns read for earlier proposals (registry_samples_new()). */
struct registry_samples {
	struct sampled	**v;		/* each its own block: stable */
	size_t		 n, cap;
};

struct registry_samples *
registry_samples_new(void)
{
	return calloc(1, sizeof(struct registry_samples));
}

void
registry_samples_free(struct registry_samples *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++) {
		keysample_free(&rs->v[i]->k);
		align_column_free(rs->v[i]->col);
		free(rs->v[i]);
	}
	free(rs->v);
	free(rs);
}

/* Lends o the values and prepared column of e. */
static void
okey_borrow(struct okey *o, struct sampled *e)
{
	o->k.values = e->k.values;
	o->k.n = e->k.n;
	o->sampled = e->sampled;
	o->col = &e->col;
	o->borrowed = 1;
}

/*
 * Samples o (another file's key column, OVERLAP_TARGET values), or takes
 * the values read before for the same bytes and column from rs (which
 * keeps what it reads, and the column prepared from it; rs may be NULL).
 * Sets o->sampled.
 */
static void
okey_sample(struct workspace *ws, struct registry_samples *rs,
    struct okey *o)
{
	struct sampled **nv, *e;
	char **vals;
	size_t i;

	o->col = &o->own;
	if (rs != NULL && o->sha[0] != '\0')
		for (i = 0; i < rs->n; i++)
			if (rs->v[i]->ordinal == o->ordinal &&
			    !strcmp(rs->v[i]->sha, o->sha)) {
				okey_borrow(o, rs->v[i]);
				return;
			}
	o->sampled = sample_column(ws, o->k.file_id, o->ordinal,
	    OVERLAP_TARGET, &o->k) == CC_OK && o->k.n > 0 ? 1 : -1;
	if (rs == NULL || o->sha[0] == '\0')
		return;
	if (o->k.n > 0 && (vals = realloc(o->k.values, o->k.n *
	    sizeof(*vals))) != NULL)
		o->k.values = vals;	/* kept for the run: no spare room */
	if (rs->n == rs->cap) {
		if ((nv = realloc(rs->v, (rs->cap ? rs->cap * 2 : 8) *
		    sizeof(*nv))) == NULL)
			return;		/* kept by o only: costs a read */
		rs->v = nv;
		rs->cap = rs->cap ? rs->cap * 2 : 8;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	snprintf(e->sha, sizeof(e->sha), "%s", o->sha);
	e->ordinal = o->ordinal;
	e->k = o->k;
	e->sampled = o->sampled;
	rs->v[rs->n++] = e;
	okey_borrow(o, e);
}

/*
 * Key overlap with other files: each column of doc mapped to a key is
 * compared with the key columns of the other files' mappings; a learned
 * alignment (align.h) adds evidence and raises the confidence.  Pairs
 * already learned come from key_overlap_cache; the files are read only
 * for the pairs that are not.
 */
static void
key_overlap(struct workspace *ws, const char *file_id, json_t *doc,
    struct registry_samples *rs)
{
	struct okey *others = NULL;
	struct keysample mine;
	struct align_column *mcol;
	sqlite3_stmt *st, *get = NULL, *put = NULL;
	size_t nothers = 0, cap = 0, i, k;
	char *mysha = NULL, *unused = NULL;
	json_t *c, *m, *oc;
	int rc, mine_state;

	if (query2(ws, "SELECT sha256, name FROM files WHERE id = ?1", file_id,
	    &mysha, &unused) != 1) {
		free(mysha);
		free(unused);
		return;
	}
	free(unused);
	if (sqlite3_prepare_v2(ws->db, "SELECT found, matched_one_to_one,"
	    " coverage, from_n, description FROM key_overlap_cache"
	    " WHERE from_sha256 = ?1 AND from_ordinal = ?2 AND from_column = ?3"
	    " AND to_sha256 = ?4 AND to_ordinal = ?5 AND to_column = ?6"
	    " AND method = ?7", -1, &get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ws->db, "INSERT OR REPLACE INTO"
	    " key_overlap_cache (from_sha256, from_ordinal, from_column,"
	    " to_sha256, to_ordinal, to_column, method, found,"
	    " matched_one_to_one, coverage, from_n, description) VALUES (?1,"
	    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1, &put,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ws->db, "SELECT m.file_id, f.name, m.document,"
	    " f.sha256 FROM mappings m JOIN files f ON f.id = m.file_id"
	    " WHERE m.file_id <> ?1 ORDER BY f.seq", -1, &st, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(get);
		sqlite3_finalize(put);
		free(mysha);
		return;
	}
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nothers < 64) {
		if ((m = json_loads(col(st, 2), 0, NULL)) == NULL)
			continue;
		json_array_foreach(json_object_get(m, "columns"), i, oc) {
			const char *t = json_string_value(json_object_get(oc,
			    "target"));
			struct okey *o;
			if (t == NULL || !is_key_target(t) || nothers >= 64)
				continue;
			if (nothers == cap) {
				struct okey *no;
				cap = cap ? cap * 2 : 8;
				if ((no = realloc(others, cap * sizeof(*others))) ==
				    NULL) {
					json_decref(m);
					goto out;
				}
				others = no;
			}
			o = &others[nothers++];
			memset(o, 0, sizeof(*o));
			snprintf(o->k.file_id, sizeof(o->k.file_id), "%s",
			    col(st, 0));
			snprintf(o->k.file_name, sizeof(o->k.file_name), "%s",
			    col(st, 1));
			snprintf(o->k.column, sizeof(o->k.column), "%s",
			    json_string_value(json_object_get(oc, "source")));
			snprintf(o->k.target, sizeof(o->k.target), "%s", t);
			snprintf(o->sha, sizeof(o->sha), "%s", col(st, 3) != NULL ?
			    col(st, 3) : "");
			o->ordinal = json_integer_value(json_object_get(oc,
			    "ordinal"));
		}
		json_decref(m);
	}
	sqlite3_finalize(st);
	json_array_foreach(json_object_get(doc, "columns"), i, c) {
		const char *t = json_string_value(json_object_get(c, "target"));
		const char *src = json_string_value(json_object_get(c,
		    "source"));
		long long ord = json_integer_value(json_object_get(c,
		    "ordinal"));
		struct overlap best, one;
		const struct okey *bo = NULL;
		struct align_rule rule;
		char mydom[64], odom[64];
		const char *md, *od;
		if (t == NULL || !is_key_target(t) || src == NULL)
			continue;
		md = key_domain(t, mydom, sizeof(mydom));
		memset(&mine, 0, sizeof(mine));
		mcol = NULL;
		mine_state = 0;		/* sampled lazily, at the first miss */
		memset(&best, 0, sizeof(best));
		for (k = 0; k < nothers; k++) {
			struct okey *o = &others[k];
			od = key_domain(o->k.target, odom, sizeof(odom));
			if (md == NULL || od == NULL || strcmp(md, od) != 0)
				continue;
			/* A pair meets at most the values sampled from this
			 * column (one from_n for all its pairs): once the best
			 * meets them all, no pair can have more, and the pair
			 * is not looked up nor learned. */
			if (bo != NULL && best.matched_one_to_one >= best.from_n)
				break;
			if (!overlap_get(get, mysha, ord, src, o->sha, o->ordinal,
			    o->k.column, &one)) {
				if (mine_state == 0)
					mine_state = sample_column(ws, file_id,
					    ord, OVERLAP_SAMPLE, &mine) ==
					    CC_OK && mine.n > 0 ? 1 : -1;
				if (mine_state < 0)
					break;
				if (o->sampled == 0)
					okey_sample(ws, rs, o);
				if (o->sampled < 0)
					continue;
				memset(&one, 0, sizeof(one));
				if (registry_align_learn(ws, (const char
				    *const *)mine.values, mine.n, (const char
				    *const *)o->k.values, o->k.n, &mcol,
				    o->col, &rule, NULL) == CC_OK &&
				    rule.found) {
					one.found = 1;
					one.matched_one_to_one =
					    rule.matched_one_to_one;
					one.coverage = rule.coverage;
					snprintf(one.description,
					    sizeof(one.description), "%s",
					    rule.description);
				}
				one.from_n = (long long)mine.n;
				overlap_put(put, mysha, ord, src, o->sha,
				    o->ordinal, o->k.column, &one);
			}
			if (!one.found)
				continue;
			if (bo == NULL || one.matched_one_to_one >
			    best.matched_one_to_one) {
				best = one;
				bo = o;
			}
		}
		if (bo != NULL) {
			char ev[768];
			double conf = json_number_value(json_object_get(c,
			    "confidence"));
			snprintf(ev, sizeof(ev), "values meet %.100s.%.100s (%.100s):"
			    " %.0f%% of %lld sampled values (%.160s)",
			    bo->k.file_name, bo->k.column, bo->k.target,
			    best.coverage * 100.0, best.from_n, best.description);
			json_array_append_new(json_object_get(c, "evidence"),
			    json_string(ev));
			conf = conf + 0.2 * best.coverage;
			json_object_set_new(c, "confidence", json_real(
			    conf > 1.0 ? 1.0 : (double)(long)(conf * 1000 + 0.5) /
			    1000.0));
		}
		align_column_free(mcol);
		keysample_free(&mine);
	}
out:
	for (k = 0; k < nothers; k++) {
		if (!others[k].borrowed)
			keysample_free(&others[k].k);
		align_column_free(others[k].own);
	}
	free(others);
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	free(mysha);
}

cc_err
registry_mapping_get(struct workspace *ws, const char *id, json_t **doc)
{
	return registry_mapping_get_cached(ws, id, doc, NULL);
}

cc_err
registry_mapping_get_cached(struct workspace *ws, const char *id,
    json_t **doc, struct registry_samples *rs)
{
	char *text = NULL, *fp = NULL, *other = NULL;
	json_t *file = NULL, *profile = NULL;
	cc_err err;
	int rc;

	rc = query2(ws, "SELECT document FROM mappings WHERE file_id = ?1", id,
	    &text, NULL);
	if (rc < 0)
		return CC_EDB;
	if (rc == 1) {
		*doc = json_loads(text, 0, NULL);
		free(text);
		return *doc != NULL ? CC_OK : CC_EDB;
	}
	if (query2(ws, "SELECT header_fingerprint, name FROM files"
	    " WHERE id = ?1", id, &fp, &other) != 1) {
		free(fp);
		free(other);
		return CC_ENOTFOUND;
	}
	free(other);
	other = NULL;
	/* A confirmed mapping of a file with the same columns. */
	rc = query2(ws, "SELECT m.document, m.file_id FROM mappings m"
	    " WHERE m.header_fingerprint = ?1 AND m.state = 'confirmed'"
	    " ORDER BY m.updated_at DESC LIMIT 1", fp, &text, &other);
	if (rc == 1 && (*doc = json_loads(text, 0, NULL)) != NULL) {
		json_object_set_new(*doc, "reused_from", json_string(other));
		err = mapping_store(ws, id, fp, *doc, 1);
		goto out;
	}
	if ((err = registry_get(ws, id, &file, &profile)) != CC_OK)
		goto out;
	{
		/* The mappers, in order, then the language model's second
		 * opinion (concord/map_llm.h: never blocks, records why). */
		static const struct map_mapper *const chain[] = {
			&map_heuristic,
		};
		const struct map_adviser llm = { "llm", map_llm_advise,
		    ws->db };
		const struct map_adviser *const advisers[] = { &llm };
		if ((err = map_propose_advised(chain, sizeof(chain) /
		    sizeof(chain[0]), advisers, 1, profile, json_string_value(
		    json_object_get(file, "name")), doc, NULL)) != CC_OK)
			goto out;
	}
	key_overlap(ws, id, *doc, rs);
	err = mapping_store(ws, id, fp, *doc, 0);
out:
	if (err != CC_OK && *doc != NULL) {
		json_decref(*doc);
		*doc = NULL;
	}
	json_decref(file);
	json_decref(profile);
	free(text);
	free(fp);
	free(other);
	return err;
}

cc_err
registry_mapping_put(struct workspace *ws, const char *id, const json_t *sent,
    json_t **doc, json_t **errors, struct cc_diag *diag)
{
	json_t *file = NULL, *profile = NULL;
	char *fp = NULL, *unused = NULL;
	cc_err err;

	*doc = NULL;
	if ((err = registry_get(ws, id, &file, &profile)) != CC_OK)
		return err;
	if ((err = map_validate(sent, profile, doc, errors, diag)) != CC_OK)
		goto out;
	if (query2(ws, "SELECT header_fingerprint, name FROM files"
	    " WHERE id = ?1", id, &fp, &unused) != 1) {
		err = CC_ENOTFOUND;
		goto out;
	}
	err = mapping_store(ws, id, fp, *doc, 1);
out:
	if (err != CC_OK) {
		json_decref(*doc);
		*doc = NULL;
	}
	free(fp);
	free(unused);
	json_decref(file);
	json_decref(profile);
	return err;
}
