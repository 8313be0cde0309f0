/*
 * concord/schema.h - the target schema: the canonical entities Concord
 * reconciles sources into, their attributes, each with a type (how it is
 * cleaned) and a role (how it takes part in keys, references and
 * history).  Shipped with Concord and documented in the README ("Target
 * schema"); GET /api/v1/schema serves it.
 *
 * Several sources may feed one entity with different attributes (a CRM
 * holds names, an ERP birth dates and countries); one source may feed
 * several entities (a sales export names customers and products).
 */
#ifndef CONCORD_SCHEMA_H
#define CONCORD_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "concord/error.h"

enum schema_type {
	SCHEMA_TEXT = 0,	/* free text: trimmed, NFC */
	SCHEMA_NAME,		/* a person's name or part of it */
	SCHEMA_INTEGER,		/* whole number */
	SCHEMA_DECIMAL,		/* decimal number (not money) */
	SCHEMA_MONEY,		/* decimal money, 2 minor digits */
	SCHEMA_DATE,		/* calendar date, ISO 8601 YYYY-MM-DD */
	SCHEMA_TIMESTAMP,	/* RFC 3339 UTC */
	SCHEMA_BOOLEAN,		/* true / false */
	SCHEMA_CODE,		/* member of a code list (code_list names it) */
	SCHEMA_EMAIL,		/* RFC 5322 addr-spec subset */
	SCHEMA_PHONE,		/* E.164 where the country is known */
	SCHEMA_COUNTRY,		/* ISO 3166-1 alpha-2 */
	SCHEMA_STATE,		/* subdivision code (USPS for the US) */
	SCHEMA_POSTAL,		/* postal code */
	SCHEMA_KEY,		/* an identifier: trimmed, invisible characters
				   removed, never reformatted */
	SCHEMA__TYPE_MAX
};

enum schema_role {
	SCHEMA_ATTRIBUTE = 0,	/* a descriptive attribute */
	SCHEMA_NATURAL_KEY,	/* identifies the entity in its source systems */
	SCHEMA_ALTERNATE_KEY,	/* another identifier of the same entity */
	SCHEMA_REFERENCE,	/* a key of another entity (ref names it) */
	SCHEMA_EFFECTIVE_FROM,	/* start of the validity of a version */
	SCHEMA_EFFECTIVE_TO,	/* end of the validity of a version */
	SCHEMA_EVENT_DATE,	/* the date a fact happened (fact grain) */
	SCHEMA_RECORD_DATE,	/* when the source record was written, for
				   survivorship ("most recent wins") */
	SCHEMA__ROLE_MAX
};

struct schema_attr {
	const char		*name;		/* snake_case, unique per entity */
	enum schema_type	 type;
	enum schema_role	 role;
	const char		*ref;		/* REFERENCE: entity name */
	const char		*code_list;	/* CODE: list name (clean.h) */
	const char		*synonyms;	/* space-separated normalised names
					   seen in sources, for the
					   mapper */
	const char		*description;
	/* entity resolution (user-defined entities; the built-ins are
	 * compared as core/er.c says) */
	const char		*compare;	/* "name", "text", "longtext",
						   "code", "exact", "date",
						   "number", "postcode",
						   "email", "none"; NULL: by
						   type */
	int			 strong;	/* 1: two records with
						   different values are never
						   one entity */
};

struct schema_entity {
	const char		*name;		/* "customer", ... */
	const char		*label;		/* for people */
	const char		*synonyms;	/* file-name hints */
	const struct schema_attr *attrs;
	size_t			 nattrs;
	int			 is_fact;	/* 1: events (order lines) */
	const char		*description;
	int			 custom;	/* 1: defined by the workspace's
						   user (schema_custom_set()) */
	int			 one_to_one;	/* 1: its sources are each
						   deduplicated: a record matches
						   at most one record of each
						   other source */
	const char *const	*blocking;	/* custom: NULL-terminated
						   blocking rules, "attr[:fn]
						   [+attr[:fn]]" (fn first3,
						   soundex, year, local); NULL:
						   derived from the attributes */
};

/* Limits of a user-defined entity. */
#define SCHEMA_CUSTOM_MAX_ATTRS		32	/* attributes */
#define SCHEMA_CUSTOM_MAX_ENTITIES	16	/* per workspace */
#define SCHEMA_CUSTOM_MAX_RULES		8	/* blocking rules */

/*
 * Checks a user-defined entity (the body of POST /api/v1/schema/entities):
 * {"name": "publication", "label"?, "description"?, "linkage"?: "dedupe"
 * | "one_to_one", "blocking"?: ["title:first3+year", ...], "attributes":
 * [{"name", "type", "role"?: "attribute" | "natural_key" |
 * "alternate_key" | "record_date", "compare"?, "strong"?: bool,
 * "synonyms"?: [...], "description"?}]}.  Names are snake_case
 * ([a-z][a-z0-9_]{0,31}), the entity's not a built-in one; attribute names
 * unique; exactly one natural key, of type key; 1..SCHEMA_CUSTOM_MAX_ATTRS
 * attributes; types are the schema's ("code" needs a shipped code list and
 * is refused); compare fits the type (a number compared as a number, a
 * date as a date); blocking rules name the entity's attributes.  Returns
 * 0 when valid; else the number of problems, each appended to errors (an
 * array, may be NULL) as {"code", "detail", "field"}.
 */
int	schema_custom_validate(const json_t *def, json_t *errors);

/*
 * Makes the workspace's own entities part of the schema, after the
 * built-in dimensions and before the fact, until the next call: defs is
 * an array of definitions (those that fail schema_custom_validate() are
 * skipped), or NULL for none.  The schema keeps a reference to defs and
 * points into it.  One workspace at a time per process: ws_open() calls
 * it, ws_close() clears it; pointers to a user-defined entity from
 * schema_entity() are valid until then.  Returns CC_OK or CC_ENOMEM (the
 * schema is then the built-in one).
 */
cc_err	schema_custom_set(json_t *defs);

/*
 * A counter of schema_custom_set() calls in this process (starts at 0):
 * unchanged between two reads means the schema in force is still the one
 * set then, so a caller that set it from a workspace that did not change
 * either may skip setting it again (ws_cache_get()).
 */
unsigned long long	schema_custom_stamp(void);

/* The definitions in force (schema_custom_set()), or NULL; borrowed. */
const json_t *schema_custom_defs(void);

/* All entities, in dependency order (referenced before referencing). */
const struct schema_entity	*schema_entities(size_t *n);

/* The entity called name, or NULL. */
const struct schema_entity	*schema_entity(const char *name);

/* The attribute of e called name, or NULL. */
const struct schema_attr	*schema_attr(const struct schema_entity *e,
				    const char *name);

/* The attribute named by "entity.attribute", or NULL (e too, may be
 * NULL). */
const struct schema_attr	*schema_lookup(const char *qualified,
				    const struct schema_entity **e);

/* Names of enum values ("money", "natural_key", ...). */
const char	*schema_type_name(enum schema_type t);
const char	*schema_role_name(enum schema_role r);

/* The whole schema as a new JSON document (GET /api/v1/schema): every
 * entity, with "custom": true for the user-defined ones. */
json_t		*schema_json(void);

#endif /* CONCORD_SCHEMA_H */
