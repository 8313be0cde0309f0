/*
 * concord/entities.h - the entities a user defines in their workspace's
 * target schema (a publication list, a product catalogue that does not
 * fit the sales schema): stored in workspace.db (custom_entities), checked
 * by schema_custom_validate() (concord/schema.h), and made part of the
 * schema whenever the workspace is open, so that the mapper proposes onto
 * them and runs stage, clean, match and load them (stg_<name>,
 * dim_<name>, match_pairs) like the built-in ones.
 */
#ifndef CONCORD_ENTITIES_H
#define CONCORD_ENTITIES_H

#include <jansson.h>

#include "concord/error.h"
#include "concord/workspace.h"

/*
 * The definitions of ws's entities, in the order they were created, as a
 * new array (the caller owns it; json_decref).  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	entities_list(struct workspace *ws, json_t **out,
	    struct cc_diag *diag);

/*
 * Creates (create = 1) or replaces (create = 0) the entity def names.
 * def is checked first; when invalid, *errors (may be NULL) gets a new
 * array of {"code", "detail", "field"} and nothing changes.  The schema of
 * this process is reloaded after a change.  A replaced entity's data are
 * rebuilt by the next run.  Errors: CC_EINVALID (invalid: see *errors),
 * CC_EEXIST (create: the name is taken), CC_ENOTFOUND (replace: no such
 * entity; or name differs from def's name), CC_ETOOBIG (already
 * SCHEMA_CUSTOM_MAX_ENTITIES), CC_EDB, CC_ENOMEM.
 */
cc_err	entities_put(struct workspace *ws, const char *name,
	    const json_t *def, int create, json_t **errors,
	    struct cc_diag *diag);

/*
 * Deletes the entity name; the next run no longer builds it.  Mappings
 * onto it are dropped at the next proposal.  Errors: CC_ENOTFOUND,
 * CC_EDB.
 */
cc_err	entities_delete(struct workspace *ws, const char *name,
	    struct cc_diag *diag);

/*
 * Makes ws's entities part of this process's schema (ws_open() calls it;
 * ws_close() clears them).  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	entities_load(struct workspace *ws, struct cc_diag *diag);

#endif /* CONCORD_ENTITIES_H */
