/*
 * concord/map_llm.h - the language-model mapper: a second opinion on the
 * heuristic's proposal (concord/map.h's map_adviser), asked through the
 * client of concord/llm.h.
 *
 * What the model receives (map_llm_prompt()): the file name, the row
 * count, and per column its name, inferred type, null, blank and
 * distinct counts and lengths, and at most MAP_LLM_EXAMPLES examples
 * masked by map_llm_mask(); the values of a code list as they are, when
 * it has at most MAP_LLM_CODES distinct values, each in at least
 * MAP_LLM_CODE_ROWS rows, and each is a member of a known list (gender,
 * marital status, statuses, payment methods: clean_code()), a boolean,
 * or at most two characters long (a few names repeated on many rows
 * are no code list).  Never a minimum, a maximum or a
 * raw example; plus the target schema's attributes (name, type,
 * description).
 *
 * What it answers: {"columns": [{"source", "target" ("entity.attribute"
 * or null), "confidence" (0..1), "reason" (one line)}]}, asked with a
 * JSON Schema (structured output) and validated here whatever the server
 * did with the schema.
 *
 * How the answer joins the proposal (map_llm_merge()), per column:
 *  - the column keeps the heuristic's answer in "heuristic" ({"target",
 *    "confidence"}) and gets the model's in "llm" ({"target",
 *    "confidence", "reason"});
 *  - the model's target is taken (proposed_by "llm", confidence at most
 *    0.9, the heuristic's target becomes an alternative) only when the
 *    heuristic had none or one below the document's threshold and the
 *    model's confidence reaches the threshold; otherwise the heuristic's
 *    stands (proposed_by "heuristic") and the model's target becomes an
 *    alternative; agreeing, the confidence is the larger of the two
 *    (the model's at most 0.95);
 *  - "disagrees": true when both named a target (or one named none) and
 *    they differ;
 *  - entries naming a column the file does not have or an attribute the
 *    schema does not have are rejected, listed in the document's
 *    "llm"."rejected" with why.
 * The document gets "llm": {"model", "cached", "proposed", "taken",
 * "disagreements", "rejected"}; "mapper" becomes "heuristic+llm" when a
 * target was taken.  On any failure (no endpoint, timeout, 429, 5xx, bad
 * JSON, an answer without one usable entry) the proposal is unchanged
 * and map_propose_advised() records why in "fallbacks".
 */
#ifndef CONCORD_MAP_LLM_H
#define CONCORD_MAP_LLM_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/error.h"
#include "concord/map.h"

#define MAP_LLM_EXAMPLES	3	/* masked examples per column */
#define MAP_LLM_CODES		12	/* distinct values of a code list */
#define MAP_LLM_CODE_ROWS	10	/* rows each code-list value needs */
#define MAP_LLM_MASK_MAX	40	/* bytes of a masked value with NUL */

/*
 * Masks one value for the model, into out (size bytes, at least
 * MAP_LLM_MASK_MAX; NUL-terminated, cut at a character boundary):
 *  - an e-mail address keeps the first character of its local part and
 *    of its domain and the top-level domain: "jane.doe@example.com" ->
 *    "j***@e***.com";
 *  - a phone number (7 to 15 digits, written with at least one of
 *    + ( ) - or space, and not a date) keeps its separators, a leading
 *    "+country code" and its last four digits: "+1 555-867-1234" ->
 *    "+1 ***-***-1234", "(555) 584-4439" -> "(***) ***-4439";
 *  - anything else (names, numbers, dates, codes) becomes its shape, as
 *    spaCy's Token.shape_ writes it: an upper-case letter X, another
 *    letter x, a digit d, other characters kept; a run of more than four
 *    letters of one kind is cut to four (so a name's length is not
 *    sent), a run of digits to ten: "Jonathan" -> "Xxxxx", "AW00011000"
 *    -> "XXdddddddd", "2023-08-26" -> "dddd-dd-dd", "12.50" -> "dd.dd".
 * Leading and trailing white space is dropped first.  Returns out.
 */
char	*map_llm_mask(const char *value, char *out, size_t size);

/*
 * The user message for a source: a JSON object as described above, from
 * the source's profile (profile_source()'s document) and file name.
 * *out is a new reference.  Errors: CC_EINVAL (no "columns"), CC_ENOMEM.
 */
cc_err	map_llm_prompt(const json_t *profile, const char *file_name,
	    json_t **out);

/* The system message (static text). */
const char *map_llm_system(void);

/* The JSON Schema of the answer (a new reference; NULL on ENOMEM). */
json_t	*map_llm_answer_schema(void);

/*
 * The answer validator (an llm_valid_fn; ctx is the profile): 1 when
 * answer has a "columns" array of objects with a string "source" and at
 * least one entry names a column of the profile and a target that is
 * null or an attribute of the schema; else 0 and why.
 */
int	map_llm_valid(const json_t *answer, void *profile, char *why,
	    size_t size);

/*
 * Joins the model's answer (validated) to doc, a proposal of the
 * heuristic for the source of profile, as described above.  model is
 * the model's name, cached 1 when the answer came from the cache.
 * Errors: CC_EINVAL (doc without columns), CC_ENOMEM.
 */
cc_err	map_llm_merge(json_t *doc, const json_t *answer, const char *model,
	    int cached);

/*
 * The adviser (struct map_adviser's advise): ctx is the workspace's
 * read-write connection (cache and budget; NULL: neither).  Asks the
 * model within llm_timeout_ms and merges its answer.  Errors: those of
 * llm_chat() (concord/llm.h), with diag; doc is then unchanged.
 */
cc_err	map_llm_advise(void *ctx, const json_t *profile, const char *file_name,
	    json_t *doc, struct cc_diag *diag);

#endif /* CONCORD_MAP_LLM_H */
