/*
 * fuzz_source_json.c - JSON and NDJSON reading and flattening
 * (core/source.c, Jansson): sniffing an array of objects, an object
 * holding one (records_path), NDJSON lines, and the two-pass column set
 * of flattened keys.  See fuzz_source.h for the invariants.  The input's
 * last byte picks the upload name hint.
 */
#include "config.h"

#include "fuzz_source.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hints[] = { "records.json", "lines.ndjson",
	    "lines.jsonl", "upload.csv", NULL };

	fuzz_source(data, size, hints, sizeof(hints) / sizeof(hints[0]));
	return 0;
}
