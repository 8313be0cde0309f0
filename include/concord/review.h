/*
 * concord/review.h - the review queue of entity resolution: the pairs of
 * records a run's matcher found between the lower and the upper
 * threshold (match_pairs of the model, decision "review") wait for a
 * person, who accepts or rejects them, or splits a cluster.  Decisions are
 * kept in the workspace (match_decisions) by the two records' lineage
 * (file id and row), so they outlive the model, and every later run
 * applies them: an accepted pair always merges, a rejected one never
 * does (concord/pipeline.h).  A decision takes effect at the next run.
 *
 * Every function works on the workspace ws (its workspace.db with the
 * model attached as "model" by ws_open()); nothing here can reach another
 * user's workspace.
 */
#ifndef CONCORD_REVIEW_H
#define CONCORD_REVIEW_H

#include <jansson.h>

#include "concord/error.h"
#include "concord/workspace.h"

#define REVIEW_PAGE_MAX	500	/* largest page of review_list() */

enum review_decision {
	REVIEW_ACCEPT,		/* the two records are one entity */
	REVIEW_REJECT,		/* the two records are two entities */
};

/*
 * The pending pairs (decision "review", no person's decision yet), by
 * descending posterior probability then pair id, at most limit (1..
 * REVIEW_PAGE_MAX) after the pair after_id (0: from the start; the keyset
 * of paging is (probability, pair_id): after_id names the last pair of
 * the previous page).  entity NULL: every entity.  *out gets a new object
 * {"items": [{"pair_id", "run_id", "entity", "weight", "probability",
 * "blocking_rule",
 * "levels": {attr: level}, "a": {"file_id", "file_name", "row",
 * "canonical_id", "record": {attr: value}}, "b": {...}}], "pending": N,
 * (record: the staged record, with the values the matcher compared in
 * place of its own where its key cluster supplied them),
 * "next": pair_id or null}; the caller owns it.
 * Errors: CC_EINVAL (limit out of range, entity not a schema entity),
 * CC_EDB, CC_ENOMEM.  No model yet: an empty list.
 */
cc_err	review_list(struct workspace *ws, const char *entity, int limit,
	    long long after_id, json_t **out, struct cc_diag *diag);

/*
 * Records a person's decision on the pair pair_id of the current model
 * (any pair of match_pairs: a pending one, or a model's match a person
 * overrules).  A later decision on the same two records replaces the
 * earlier one.  run_id (may be NULL) is the run the caller saw the pair
 * in: pair ids are renumbered by every run, so a different run answers
 * CC_ECONFLICT.  user_id and request_id (may be NULL) are kept with it.
 * *out (may be NULL) gets a new object {"pair_id", "entity", "decision",
 * "a": {"file_id", "row"}, "b": {...}, "decided_at"}.
 * Errors: CC_ENOTFOUND (no such pair), CC_ECONFLICT (run_id is not the
 * pair's run), CC_EDB, CC_ENOMEM.
 */
cc_err	review_decide(struct workspace *ws, long long pair_id,
	    enum review_decision d, const char *run_id, const char *user_id,
	    const char *request_id, json_t **out, struct cc_diag *diag);

/*
 * Splits the cluster canonical_id of entity: every pair of match_pairs
 * that joined two of its records (matched by the model or a rule, or
 * accepted by a person) is rejected, so that at the next run the cluster
 * falls back to the records its keys join.  *rejected gets their number.
 * Errors: CC_EINVAL (entity unknown), CC_ENOTFOUND (no pair joins records
 * of that cluster), CC_EDB.
 */
cc_err	review_split(struct workspace *ws, const char *entity,
	    long long canonical_id, const char *user_id,
	    const char *request_id, long long *rejected,
	    struct cc_diag *diag);

/*
 * What the matcher did, per entity, for the matching page: {"pending":
 * N (all entities), "decisions": N, "entities": [{"entity", "records",
 * "pairs_compared", "pairs_matched", "pairs_review", "clusters",
 * "threshold_upper", "threshold_lower", "lambda" (the probability that
 * two random records match), "prior_weight" (log2 lambda / (1 -
 * lambda)), "threshold_upper_weight", "threshold_lower_weight" (the
 * thresholds as match weights, bits), "blocking_rules": [...],
 * "histogram": [{"from", "to", "count"}] (match weights of the candidate
 * pairs, bits, bins of 2), "near_threshold": [pair as in review_list(),
 * without records], "fields": [{"name", "levels": [{"label", "m", "u",
 * "weight"}]}]}]}.  The caller owns *out.  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	review_summary(struct workspace *ws, json_t **out,
	    struct cc_diag *diag);

/* "accept" / "reject" into *d; -1 for anything else. */
int	review_decision_parse(const char *s, enum review_decision *d);

#endif /* CONCORD_REVIEW_H */
