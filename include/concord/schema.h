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
};

struct schema_entity {
	const char		*name;		/* "customer", ... */
	const char		*label;		/* for people */
	const char		*synonyms;	/* file-name hints */
	const struct schema_attr *attrs;
	size_t			 nattrs;
	int			 is_fact;	/* 1: events (order lines) */
	const char		*description;
};

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

/* The whole schema as a new JSON document (GET /api/v1/schema). */
json_t		*schema_json(void);

#endif /* CONCORD_SCHEMA_H */
