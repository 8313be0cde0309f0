/*
 * map_bench.c - measures the column mapper (concord/map.h) on real public
 * sales-export headers against the mapping expected for each column
 * (tests/bench/data/sales_headers/headers.json, written by make_headers.py
 * there, with each header's source).  Not a test: it prints numbers
 * (tests/bench/README.md).
 *
 *   map_bench [-v] HEADERS.json
 *
 * Each header becomes a CSV file of that header alone (no values: the
 * mapper is measured on names, the only thing every export shares), read
 * through the product's own path: source_sniff(), profile_source(),
 * map_propose_heuristic() with the file's name.  A column's answer is
 * its proposed target when the confidence reaches the document's
 * threshold (what a run uses), else none.  It is right when it is one of
 * the expected targets (none included).  Printed: columns right / all;
 * the columns with a target expected, found right (recall); the proposed
 * targets that are right (precision); files entirely right; and two
 * faults counted apart: two columns of a file onto one single-valued
 * target without paired_with (said nowhere), and a date column proposed
 * as a key.  -v prints every wrong column.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "concord/map.h"
#include "concord/profile.h"
#include "concord/schema.h"
#include "concord/source.h"

/* 1 if target (NULL: none) is one of the expected answers. */
static int
expected_has(const json_t *want, const char *target)
{
	size_t i;
	json_t *w;

	json_array_foreach(want, i, w) {
		if (json_is_null(w) && target == NULL)
			return 1;
		if (json_is_string(w) && target != NULL &&
		    strcmp(json_string_value(w), target) == 0)
			return 1;
	}
	return 0;
}

/* 1 if every expected target names an attribute of the schema. */
static int
expected_valid(const char *file, const json_t *expected)
{
	const char *col;
	json_t *want, *w;
	size_t i;
	int ok = 1;

	json_object_foreach((json_t *)expected, col, want)
		json_array_foreach(want, i, w)
			if (json_is_string(w) && schema_lookup(
			    json_string_value(w), NULL) == NULL) {
				fprintf(stderr, "map_bench: %s: %s: no attribute"
				    " %s\n", file, col, json_string_value(w));
				ok = 0;
			}
	return ok;
}

/* The proposal for one header (a new mapping document), or NULL. */
static json_t *
propose(const char *name, const json_t *header)
{
	char path[] = "/tmp/map-bench-XXXXXX", file[128];
	struct source_dialect d;
	struct cc_diag diag;
	json_t *profile = NULL, *doc = NULL, *h;
	size_t i;
	FILE *f;
	int fd;

	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		return NULL;
	json_array_foreach(header, i, h) {
		const char *s = json_string_value(h);
		/* quoted: names hold spaces, '%', '/', '#' */
		fputs(i ? ",\"" : "\"", f);
		for (; *s != '\0'; s++)
			if (*s == '"')
				fputs("\"\"", f);
			else
				fputc(*s, f);
		fputc('"', f);
	}
	fputc('\n', f);
	fclose(f);
	snprintf(file, sizeof(file), "%s.csv", name);
	cc_diag_clear(&diag);
	if (source_sniff(path, file, &d, &diag) != CC_OK ||
	    profile_source(path, &d, &profile, &diag) != CC_OK ||
	    map_propose_heuristic(profile, file, &doc, &diag) != CC_OK)
		fprintf(stderr, "map_bench: %s: %s\n", name, diag.message);
	json_decref(profile);
	unlink(path);
	return doc;
}

int
main(int argc, char **argv)
{
	long cols = 0, right = 0, want_n = 0, want_right = 0, prop_n = 0,
	    prop_right = 0, files_right = 0, nfiles = 0, dup = 0, datekey = 0;
	int verbose = 0, opt;
	json_error_t jerr;
	json_t *all, *files, *f;
	size_t k;

	while ((opt = getopt(argc, argv, "v")) != -1)
		if (opt == 'v')
			verbose = 1;
		else
			return 2;
	if (optind != argc - 1) {
		fprintf(stderr, "usage: map_bench [-v] HEADERS.json\n");
		return 2;
	}
	if ((all = json_load_file(argv[optind], 0, &jerr)) == NULL) {
		fprintf(stderr, "map_bench: %s: %s\n", argv[optind], jerr.text);
		return 1;
	}
	files = json_object_get(all, "files");
	json_array_foreach(files, k, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const json_t *expected = json_object_get(f, "expected");
		json_t *doc, *c, *seen;
		double threshold;
		size_t i;
		long wrong = 0;

		if (!expected_valid(name, expected))
			return 1;
		if ((doc = propose(name, json_object_get(f, "header"))) ==
		    NULL)
			return 1;
		threshold = json_is_number(json_object_get(doc, "threshold")) ?
		    json_number_value(json_object_get(doc, "threshold")) :
		    MAP_THRESHOLD;
		seen = json_object();
		json_array_foreach(json_object_get(doc, "columns"), i, c) {
			const char *src = json_string_value(json_object_get(c,
			    "source"));
			const char *t = json_string_value(json_object_get(c,
			    "target"));
			const json_t *want = json_object_get(expected, src);
			const struct schema_attr *a;
			json_t *first;

			if (t != NULL && json_number_value(json_object_get(c,
			    "confidence")) < threshold)
				t = NULL;
			cols++;
			if (expected_has(want, t))
				right++;
			else {
				wrong++;
				if (verbose)
					printf("  %-28s %-30s got %-28s want %s\n",
					    name, src, t ? t : "-",
					    (first = json_array_get(want, 0)) !=
					    NULL && json_is_string(first) ?
					    json_string_value(first) : "-");
			}
			first = json_array_get(want, 0);
			if (json_is_string(first)) {
				want_n++;
				want_right += expected_has(want, t) && t != NULL;
			}
			if (t != NULL) {
				prop_n++;
				prop_right += expected_has(want, t);
				/* per target: columns, and those that say
				 * they are paired */
				if (json_object_get(seen, t) == NULL)
					json_object_set_new(seen, t,
					    json_pack("[i, i]", 0, 0));
				json_array_set_new(json_object_get(seen, t), 0,
				    json_integer(json_integer_value(
				    json_array_get(json_object_get(seen, t),
				    0)) + 1));
				if (json_object_get(c, "paired_with") != NULL)
					json_array_set_new(json_object_get(seen,
					    t), 1, json_integer(
					    json_integer_value(json_array_get(
					    json_object_get(seen, t), 1)) + 1));
				/* a date column (by its expected meaning)
				 * proposed as a key */
				a = schema_lookup(t, NULL);
				if (a != NULL && (a->type == SCHEMA_KEY ||
				    a->role == SCHEMA_NATURAL_KEY) &&
				    json_is_string(first) && strstr(
				    json_string_value(first), "_date") != NULL)
					datekey++;
			}
		}
		{
			/* two columns onto one target, unsaid: more columns
			 * than those paired with another, plus one */
			const char *t;
			json_t *v;
			json_object_foreach(seen, t, v)
				if (json_integer_value(json_array_get(v, 0)) -
				    json_integer_value(json_array_get(v, 1)) >
				    1) {
					dup++;
					if (verbose)
						printf("  %-28s two columns onto"
						    " %s, unsaid\n", name, t);
				}
		}
		json_decref(seen);
		json_decref(doc);
		nfiles++;
		files_right += wrong == 0;
		if (verbose)
			printf("%-30s %ld of %zu columns wrong\n", name, wrong,
			    json_array_size(json_object_get(f, "header")));
	}
	printf("files                %ld\n", nfiles);
	printf("columns right        %ld / %ld = %.3f\n", right, cols,
	    cols ? (double)right / cols : 0.0);
	printf("recall (targets)     %ld / %ld = %.3f\n", want_right, want_n,
	    want_n ? (double)want_right / want_n : 0.0);
	printf("precision (proposed) %ld / %ld = %.3f\n", prop_right, prop_n,
	    prop_n ? (double)prop_right / prop_n : 0.0);
	printf("files entirely right %ld / %ld\n", files_right, nfiles);
	printf("unsaid duplicates    %ld\n", dup);
	printf("date proposed as key %ld\n", datekey);
	json_decref(all);
	return 0;
}
