/*
 * concord/map.h - mapping a source's columns onto the target schema
 * (concord/schema.h).
 *
 * A mapper proposes, for one source, the entities it feeds and, per source
 * column, a target attribute ("entity.attribute") with a confidence in
 * [0, 1] and the evidence for it.  The user reviews, edits and confirms
 * the mapping; a run uses the confirmed mapping or else the proposed
 * targets whose confidence reaches the threshold.  Columns without a
 * target are kept in staging (extra), never dropped.
 *
 * The mapping document (JSON, stored per file, served by
 * GET /api/v1/files/{id}/mapping):
 *   {"mapper": "heuristic", "state": "proposed"|"confirmed",
 *    "threshold": 0.5,
 *    "entities": [{"name": "customer", "confidence": 0.93,
 *                  "evidence": ["..."]}],
 *    "columns": [{"ordinal": 1, "source": "cst_id",
 *                 "target": "customer.customer_id" | null,
 *                 "confidence": 0.97, "evidence": ["..."],
 *                 "alternatives": [{"target": ..., "confidence": ...}],
 *                 "paired_with": "full_name" (when two columns carry the
 *                 same attribute: both are kept and reconciled)}]}
 *
 * Mappers: the deterministic heuristic below; then the language-model
 * adviser (concord/map_llm.h), which adds its own proposal per column
 * ("llm", "proposed_by", "disagrees") and leaves the heuristic's answer
 * standing when it is not configured or fails ("fallbacks").
 */
#ifndef CONCORD_MAP_H
#define CONCORD_MAP_H

#include <jansson.h>

#include "concord/error.h"

#define MAP_THRESHOLD	0.5	/* default confidence a run accepts */

/*
 * Proposes a mapping for a source from its profile (profile_source()'s
 * {"rows", "columns": [...]}) and its file name (a hint: "cst_info.csv").
 * The heuristic weighs, per column and attribute:
 *  - name similarity after normalising case, separators and camelCase and
 *    expanding common abbreviations (cst, cust, prd, sls, dt, nm, qty,
 *    cntry, gen, gndr, bdate, ...), against the attribute's name and its
 *    synonyms (schema.c);
 *  - value evidence from the profile: inferred type (dates, timestamps,
 *    e-mails, money, booleans), distinctness (keys), small code lists
 *    (gender, status), YYYYMMDD integers as dates;
 *  - the file name as a hint for the entity.
 * Then chooses the entities (a primary one, plus others the source
 * clearly describes too, e.g. customer columns in a sales export) and
 * assigns each column its best attribute within them.
 * *out is a new mapping document (state "proposed").  Errors: CC_EINVAL
 * (profile without columns), CC_ENOMEM.
 */
cc_err	map_propose_heuristic(const json_t *profile, const char *file_name,
	    json_t **out, struct cc_diag *diag);

/*
 * The mapper interface.  A mapper proposes a mapping document (shape
 * above) from a source's profile and file name; ctx is its own state
 * (an endpoint, a model name).  Errors it may return: any; the caller
 * then falls back to the next mapper.
 */
struct map_mapper {
	const char	*name;		/* "heuristic", "llm" */
	cc_err		(*propose)(void *ctx, const json_t *profile,
			    const char *file_name, json_t **out,
			    struct cc_diag *diag);
	void		*ctx;
};

/* The deterministic heuristic as a mapper (ctx unused). */
extern const struct map_mapper map_heuristic;

/*
 * Asks the mappers in order and returns the first proposal; each failure
 * is recorded in the document's "fallbacks" ([{"mapper", "reason"}]) of
 * the proposal that answered.  The heuristic never fails on a profile with
 * columns, so a chain ending with it always answers.  Errors: those of the
 * last mapper when every one failed.
 */
cc_err	map_propose(const struct map_mapper *const *chain, size_t n,
	    const json_t *profile, const char *file_name, json_t **out,
	    struct cc_diag *diag);

/*
 * A second opinion on a proposal (the language-model mapper, concord/
 * map_llm.h): reads the proposal doc a mapper made and adds to it (its
 * own proposals beside the mapper's, and targets where the mapper had
 * none).  ctx is its own state.  On failure doc must be as it was; the
 * caller records the reason.
 */
struct map_adviser {
	const char	*name;		/* "llm" */
	cc_err		(*advise)(void *ctx, const json_t *profile,
			    const char *file_name, json_t *doc,
			    struct cc_diag *diag);
	void		*ctx;
};

/*
 * map_propose(), then each adviser in order on the proposal.  An
 * adviser's failure never fails the proposal: it is recorded in the
 * document's "fallbacks" ([{"mapper", "reason"}]) and the proposal
 * stands as the mappers made it.  Errors: those of map_propose().
 */
cc_err	map_propose_advised(const struct map_mapper *const *chain, size_t n,
	    const struct map_adviser *const *advisers, size_t na,
	    const json_t *profile, const char *file_name, json_t **out,
	    struct cc_diag *diag);

/*
 * Validates a mapping document sent by a user against the target schema
 * and the source's profile: every "source" must be a column of the
 * profile, every non-null "target" an attribute of the schema.  On
 * success *out is a new normalised document with state "confirmed" and
 * mapper "user".  Errors: CC_EINVALID with diag naming the first bad
 * column (the HTTP layer answers 422 with all reasons in errors[] when
 * errors is non-NULL: a new array of {"code", "detail", "column"}).
 */
cc_err	map_validate(const json_t *doc, const json_t *profile, json_t **out,
	    json_t **errors, struct cc_diag *diag);

/*
 * The normalised form of a column name used for matching: lower case,
 * camelCase split, every run of non-alphanumerics one '_', abbreviations
 * expanded ("sls_ord_num" -> "sales_order_number").  Writes at most size
 * bytes with NUL into out and returns out.
 */
char	*map_normalise_name(const char *name, int expand, char *out,
	    size_t size);

/*
 * Checks a mapping document before a run: what a run would do with a
 * file mapped this way that a person should hear before it happens.
 * doc is the mapping (proposed: the columns at or above its threshold
 * count; confirmed: every column with a target); proposal, which may be
 * NULL, is a heuristic proposal for the same file whose targets and
 * alternatives name the columns a fix could use (a confirmed document
 * keeps no alternatives).  Only a file that feeds order lines is
 * checked:
 *  - "grain_unmapped": no column is mapped to order_line.order_id, the
 *    fact's grain (line_number may be missing: lines are then numbered
 *    in file order), so every line would be quarantined;
 *  - "reference_unmapped": neither the reference (order_line.customer_id,
 *    order_line.product_id) nor any attribute of the referenced entity is
 *    mapped, so every line would be quarantined for "no customer" /
 *    "no product"; "suggest" is the attribute to map the candidate
 *    "column" to (customer.full_name, product.name) and "reason" the
 *    quarantine reason the lines would get.
 * *out is a new array of {"code", "detail", "attribute", "column"
 * (absent when no column qualifies), "suggest", "reason"}; empty when
 * nothing is to be said.  Owned by the caller.
 * Errors: CC_EINVAL (out NULL, or doc without a "columns" array),
 * CC_ENOMEM.
 */
cc_err	map_check(const json_t *doc, const json_t *proposal, json_t **out);

/*
 * The source column of doc best suited to feed entity ("customer"): one
 * whose target or alternatives (those of proposal when not NULL) name
 * name_attr ("customer.full_name") first, then a key or ref
 * ("order_line.customer_id"); other attributes do not qualify.  Returns
 * a string owned by the document it came from, or NULL when no column
 * qualifies or an argument is NULL.
 */
const char *map_candidate_column(const json_t *doc, const json_t *proposal,
	    const char *entity, const char *name_attr, const char *ref);

#endif /* CONCORD_MAP_H */
