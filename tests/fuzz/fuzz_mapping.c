/*
 * fuzz_mapping.c - the mapping document a user sends (PUT
 * /api/v1/files/{id}/mapping, POST .../preview): map_validate() against
 * the profiles of three real files (../shared/data seeds: the CRM's
 * customers and sales, NexusFlow's customers), then map_check() of what
 * was sent and of what was accepted, as fcgi/h_mapping.c does.  The
 * input is the request body; a body that is not JSON never gets here
 * (http_read_json() answers 400).  Invariants:
 *  - map_validate() returns CC_OK or CC_EINVALID; CC_EINVALID comes with
 *    a non-empty errors[] of {"code", "detail"} whose first code is the
 *    diag's (no refusal without a reason);
 *  - an accepted document is "confirmed" by "user", each column's source
 *    is a profile column at its ordinal, each target null or an
 *    attribute of the schema, its entities those targets name, once;
 *  - validating the accepted document again accepts it unchanged;
 *  - map_check() answers an array of {"code", "detail"} or CC_EINVAL.
 */
#include "config.h"

#include <jansson.h>

#include "concord/map.h"
#include "concord/profile.h"
#include "concord/schema.h"
#include "concord/source.h"
#include "fuzz.h"

#define NPROFILES 3
static json_t *profiles[NPROFILES], *proposals[NPROFILES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[NPROFILES] = {
		"seeds/crm-erp/source_crm/cst_info.csv",
		"seeds/crm-erp/source_crm/sales_details.csv",
		"seeds/nexusflow/customers_messy_data.json",
	};
	struct source_dialect d;
	struct cc_diag diag;
	char path[1024];
	const char *shared = getenv("CONCORD_SHARED");
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NPROFILES; i++) {
		snprintf(path, sizeof(path), "%s/data/%s", shared != NULL ?
		    shared : SRCDIR "/../shared", files[i]);
		if (source_sniff(path, files[i], &d, &diag) != CC_OK ||
		    profile_source(path, &d, &profiles[i], &diag) != CC_OK ||
		    map_propose_heuristic(profiles[i], files[i], &proposals[i],
		    &diag) != CC_OK) {
			fprintf(stderr, "fuzz_mapping: %s: %s\n", path,
			    diag.message);
			abort();
		}
	}
	return 0;
}

static void
check_warnings(const json_t *doc, const json_t *proposal)
{
	json_t *w = NULL, *x;
	size_t i;
	cc_err err;

	err = map_check(doc, proposal, &w);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EINVAL && !json_is_array(json_object_get(
		    doc, "columns")), "map_check: %s", cc_strerror(err));
		return;
	}
	FUZZ_ASSERT(json_is_array(w), "map_check: not an array");
	json_array_foreach(w, i, x)
		FUZZ_ASSERT(json_is_string(json_object_get(x, "code")) &&
		    json_is_string(json_object_get(x, "detail")),
		    "warning %zu without code or detail", i);
	json_decref(w);
}

static void
one(const json_t *sent, const json_t *profile, const json_t *proposal)
{
	json_t *out = NULL, *errors = NULL, *out2 = NULL, *c, *pc, *e, *x;
	const json_t *pcols = json_object_get(profile, "columns");
	const struct schema_entity *ent;
	const char *src, *tgt, *code;
	struct cc_diag d;
	size_t i, k, ord, n;
	int named;
	cc_err err;

	cc_diag_clear(&d);
	err = map_validate(sent, profile, &out, &errors, &d);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EINVALID, "map_validate: %s",
		    cc_strerror(err));
		FUZZ_ASSERT(json_is_array(errors) && json_array_size(errors) > 0,
		    "refused without errors[]");
		json_array_foreach(errors, i, e) {
			code = json_string_value(json_object_get(e, "code"));
			FUZZ_ASSERT(code != NULL && (!strcmp(code,
			    "mapping_shape") || !strcmp(code, "unknown_column") ||
			    !strcmp(code, "unknown_target")), "error %zu code",
			    i);
			FUZZ_ASSERT(json_is_string(json_object_get(e, "detail")),
			    "error %zu detail", i);
		}
		FUZZ_ASSERT(!strcmp(d.code, json_string_value(json_object_get(
		    json_array_get(errors, 0), "code"))), "diag code %s",
		    d.code);
		json_decref(errors);
		check_warnings(sent, proposal);
		return;
	}
	FUZZ_ASSERT(errors == NULL, "errors[] with CC_OK");
	FUZZ_ASSERT(!strcmp(json_string_value(json_object_get(out, "state")),
	    "confirmed") && !strcmp(json_string_value(json_object_get(out,
	    "mapper")), "user"), "state/mapper");
	n = json_array_size(json_object_get(sent, "columns"));
	FUZZ_ASSERT(json_array_size(json_object_get(out, "columns")) == n,
	    "%zu columns sent, %zu kept", n,
	    json_array_size(json_object_get(out, "columns")));
	json_array_foreach(json_object_get(out, "columns"), i, c) {
		src = json_string_value(json_object_get(c, "source"));
		ord = (size_t)json_integer_value(json_object_get(c, "ordinal"));
		FUZZ_ASSERT(src != NULL && ord >= 1, "column %zu source", i);
		pc = json_array_get(pcols, ord - 1);
		FUZZ_ASSERT(pc != NULL && !strcmp(src, json_string_value(
		    json_object_get(pc, "name"))), "column %zu: \"%s\" is not "
		    "profile column %zu", i, src, ord);
		x = json_object_get(c, "target");
		FUZZ_ASSERT(json_is_null(x) || x == NULL || (json_is_string(x) &&
		    schema_lookup(json_string_value(x), &ent) != NULL),
		    "column %zu target", i);
		if (!json_is_string(x))
			continue;
		tgt = json_string_value(x);
		named = 0;
		json_array_foreach(json_object_get(out, "entities"), k, e) {
			const char *en = json_string_value(json_object_get(e,
			    "name"));
			FUZZ_ASSERT(en != NULL, "entity %zu name", k);
			if (strncmp(tgt, en, strlen(en)) == 0 &&
			    tgt[strlen(en)] == '.')
				named++;
		}
		FUZZ_ASSERT(named == 1, "target %s: %d entities", tgt, named);
	}
	cc_diag_clear(&d);
	FUZZ_ASSERT(map_validate(out, profile, &out2, NULL, &d) == CC_OK,
	    "the accepted document is refused: %s", d.message);
	FUZZ_ASSERT(json_equal(out, out2), "validating again changed it");
	check_warnings(sent, proposal);
	check_warnings(out, proposal);
	check_warnings(out, NULL);
	json_decref(out2);
	json_decref(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *sent;
	size_t i;

	/* http_read_json(): a whole JSON object, at most 64 KiB */
	if (size > 65536 || (sent = json_loadb((const char *)data, size, 0,
	    NULL)) == NULL)
		return 0;
	if (json_is_object(sent))
		for (i = 0; i < NPROFILES; i++)
			one(sent, profiles[i], proposals[i]);
	json_decref(sent);
	return 0;
}
