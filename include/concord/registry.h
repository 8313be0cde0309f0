/*
 * concord/registry.h - the file registry of a workspace: streamed uploads
 * (hashed with SHA-256 while written, size-limited), validation and
 * profiling (concord/source.h, concord/profile.h), and the registered
 * files' records.
 *
 * An upload is all or nothing: until registry_upload_finish() succeeds
 * the bytes live in a temporary file uploads/.upload-XXXXXX, locked by
 * the process writing it (ws_tmp_create()), that abort removes, or, when
 * that process was killed, the next ws_sweep() at the start of the
 * service or its runner.  It is never a registered file: the record and
 * its profile are written in one transaction after the file is renamed
 * to uploads/<sha256>.  Whether the bytes are all the client sent is the
 * caller's to check before finishing (fcgi/http.h, http_body_read()).
 */
#ifndef CONCORD_REGISTRY_H
#define CONCORD_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "concord/align.h"
#include "concord/error.h"
#include "concord/source.h"
#include "concord/workspace.h"

struct registry_upload;

/*
 * Starts an upload into ws with a byte limit (max_bytes >= 1): creates
 * the temporary file (mode 0600, locked until the upload ends).  *out is
 * ended by registry_upload_finish() or registry_upload_abort().
 * Errors: CC_EIO (uploads/ not writable), CC_ENOMEM.
 */
cc_err	registry_upload_begin(struct workspace *ws, long long max_bytes,
	    struct registry_upload **out);

/*
 * Appends len bytes.  Errors: CC_ETOOBIG (the total would pass the
 * limit: nothing more is written; abort the upload), CC_EIO, CC_EINVAL
 * (the upload is prepared: registry_upload_prepare()).
 */
cc_err	registry_upload_write(struct registry_upload *up, const void *buf,
	    size_t len);

/*
 * Chooses the sheet of an xlsx upload by name (exact, case-sensitive, 1 to
 * 127 bytes; Excel's names have at most 31 characters); without it the
 * workbook's first sheet is read.  Ignored for other formats.  The name
 * is stored in the file's records_path column and shown as
 * dialect.sheet.  Errors: CC_EINVAL (NULL, empty or too long, or the
 * upload prepared already: registry_upload_prepare()).
 */
cc_err	registry_upload_sheet(struct registry_upload *up, const char *sheet);

/* Bytes written so far. */
long long registry_upload_size(const struct registry_upload *up);

/*
 * Finishes an upload: if a file with the same SHA-256 is registered,
 * drops the new bytes and returns that file with *duplicate = 1.
 * Otherwise detects format and dialect, validates and profiles the whole
 * file, stores it as uploads/<sha256> and registers it with status
 * "profiled".  name is the file name given by the client (1..255 bytes of
 * UTF-8 without '/', NUL or control characters); content_type its media
 * type: "text/csv", "application/json", "application/x-ndjson" or
 * "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
 * (xlsx; parameters such as charset are ignored).  An xlsx workbook whose
 * bytes are registered already is a duplicate unless registry_upload_sheet()
 * named another sheet than the registered one: CC_ECONFLICT
 * ("xlsx_sheet_registered").  On success *file is a new
 * JSON object (registry_get()'s "file" shape) the caller decrefs.
 * The upload is freed in every case.
 * Errors: CC_EINVAL (bad name), CC_EUNSUPPORTED (content type),
 * CC_EPARSE / CC_EENCODING / CC_EINVALID (broken or empty content: diag
 * has the line, column and offset of the first problem), CC_EIO, CC_EDB.
 */
cc_err	registry_upload_finish(struct workspace *ws, struct registry_upload *up,
	    const char *name, const char *content_type, json_t **file,
	    int *duplicate, struct cc_diag *diag);

/*
 * The part of registry_upload_finish() that needs no workspace, done
 * ahead: the checks of name and content_type, the SHA-256, then format,
 * dialect, validation and profile of the whole file, their answer kept
 * in up for registry_upload_finish() (same arguments), which then only
 * looks for a duplicate and registers.  Uploads may be prepared on
 * several threads at once, one upload per thread (the CLI's `concord
 * upload` of several files); up is still the caller's, to finish or
 * abort.  The returned error is the one finish will report unless the
 * bytes are a duplicate (that one wins, as in finish alone); once
 * prepared, no more bytes may be written nor a sheet chosen.  Errors: those of
 * registry_upload_finish()'s content (CC_EINVAL, CC_EUNSUPPORTED,
 * CC_EPARSE, CC_EENCODING, CC_EINVALID, CC_EIO, CC_ENOMEM); CC_EINVAL
 * too for a NULL or already prepared up.
 */
cc_err	registry_upload_prepare(struct registry_upload *up, const char *name,
	    const char *content_type);

/* Drops an unfinished upload: removes its temporary file, then frees
 * up (NULL is fine). */
void	registry_upload_abort(struct registry_upload *up);

/*
 * One file: *file as in registry_upload_finish(); *profile (may be NULL)
 * gets {"rows": n, "columns": [...]} with each column's profile.  Both are
 * new references.  Errors: CC_ENOTFOUND, CC_EDB, CC_ENOMEM.
 */
cc_err	registry_get(struct workspace *ws, const char *id, json_t **file,
	    json_t **profile);

/*
 * A page of files in upload order: at most size (>= 1) files after the
 * keyset position after (NULL or "" for the first page), into *files (a
 * new array).  next (32 bytes) receives the position after the last file
 * returned when more follow, else "".  Errors: CC_EINVAL (bad after),
 * CC_EDB, CC_ENOMEM.
 */
cc_err	registry_list(struct workspace *ws, int size, const char *after,
	    json_t **files, char *next);

/*
 * The stored bytes of a file: path (PATH_MAX bytes) of uploads/<sha256>,
 * and the name and content type given at upload (new strings the caller
 * frees).  Errors: CC_ENOTFOUND, CC_EDB, CC_ENOMEM.
 */
cc_err	registry_raw(struct workspace *ws, const char *id, char *path,
	    char **name, char **content_type);

/*
 * Where a registered file's bytes are and how to read them: path
 * (PATH_MAX + 80 bytes) of uploads/<sha256> and the dialect detected at
 * upload, ready for source_open().  Errors: CC_ENOTFOUND, CC_EDB.
 */
cc_err	registry_source(struct workspace *ws, const char *id, char *path,
	    struct source_dialect *d);

/*
 * Deletes a file's record (profile and mapping cascade) and its bytes.
 * Errors: CC_ENOTFOUND, CC_EDB.
 */
cc_err	registry_delete(struct workspace *ws, const char *id);

/*
 * align_learn() (concord/align.h) of from -> to, or the rule learned
 * before from the same values: workspace table align_cache, by the
 * BLAKE2b-256 (RFC 7693) of ALIGN_RULES_VERSION, the size of struct
 * align_rule and both value lists in order, NULL told apart from "".
 * Mapping proposals (registry_mapping_get()) and the reconcile phase
 * learn through it, so a pair of value lists is learned once per
 * workspace, whichever asks first.  Both outcomes are kept: a rule found
 * (CC_OK) and none (CC_ENOTFOUND, out->found = 0).  The cache is an
 * optimisation: when it cannot be read or written (or ws is NULL), the
 * rule is learned; the answer is the same either way.  Arguments as for
 * align_learn(); *reused (may be NULL) becomes 1 when the rule came from
 * the cache, else 0.  fcol and tcol (both NULL, or both set) are where
 * the caller keeps the two columns prepared for learning
 * (align_column_new() of from and of to, made here when *fcol or *tcol
 * is NULL and the pair is learned): a column in many pairs is prepared
 * once.  They stay the caller's (align_column_free()) and point into
 * from's and to's strings.  Errors: those of align_learn().
 */
cc_err	registry_align_learn(struct workspace *ws, const char *const *from,
	    size_t nfrom, const char *const *to, size_t nto,
	    struct align_column **fcol, struct align_column **tcol,
	    struct align_rule *out, int *reused);

#endif /* CONCORD_REGISTRY_H */

/*
 * The mapping of a file (concord/map.h's document), in this order:
 *  1. the file's stored mapping (proposed or confirmed);
 *  2. else a confirmed mapping of another file with the same header
 *     fingerprint (the same column names), copied with "reused_from";
 *  3. else a new proposal of the heuristic mapper, with key overlap with
 *     the other files as further evidence: each column mapped to a key is
 *     sampled (2,000 values) and aligned (align.h) with the key columns
 *     of the other files' mappings (read whole, up to 100,000 values); a
 *     learned rule adds "values meet FILE.COLUMN ..." and raises the
 *     confidence by 0.2 x its coverage (the rule meeting the most
 *     sampled values one to one; the other files' columns are taken in
 *     upload order, and once a rule meets every sampled value no later
 *     column can meet more: they are not compared).  What a pair of
 *     columns gives is kept in the workspace's key_overlap_cache by the
 *     two columns' fingerprints (the file's SHA-256, the column's
 *     ordinal and name),
 *     so a pair is learned once per workspace: proposing again (the
 *     same bytes uploaded again, a mapping deleted) reads no file for a
 *     cached pair.  The rule itself is learned through
 *     registry_align_learn(), so value lists already learned (by another
 *     file's proposal or a run) are not learned again.  A failed cache
 *     write only costs the time.
 * Cases 2 and 3 are stored, so the answer is stable.  *doc is a new
 * reference.  Errors: CC_ENOTFOUND, CC_EDB, CC_ENOMEM.
 */
cc_err	registry_mapping_get(struct workspace *ws, const char *id,
	    json_t **doc);

/*
 * The key columns of other files read by mapping proposals, kept between
 * proposals so that a run proposing mappings for many files reads each
 * (file bytes, column) once instead of once per later file.  New and
 * empty; NULL when memory runs out.  Holds up to 100,000 values per
 * column read, until registry_samples_free().
 */
struct registry_samples;
struct registry_samples	*registry_samples_new(void);

/* Frees rs and every value it holds; NULL is ignored. */
void	registry_samples_free(struct registry_samples *rs);

/*
 * registry_mapping_get(), reading other files' key columns through rs
 * (registry_samples_new(); NULL reads them afresh): the same answer,
 * since a column's values depend only on the file's bytes (SHA-256) and
 * the column's ordinal.  rs is the caller's and must not be shared
 * between threads.  Errors: those of registry_mapping_get().
 */
cc_err	registry_mapping_get_cached(struct workspace *ws, const char *id,
	    json_t **doc, struct registry_samples *rs);

/*
 * Confirms a mapping sent by a user (validated by map_validate() against
 * the file's profile) and stores it; the file's status becomes "mapped".
 * *doc receives the stored document; *errors (may be NULL) all reasons
 * of a refusal.  Errors: CC_ENOTFOUND, CC_EINVALID (diag), CC_EDB.
 */
cc_err	registry_mapping_put(struct workspace *ws, const char *id,
	    const json_t *sent, json_t **doc, json_t **errors,
	    struct cc_diag *diag);
