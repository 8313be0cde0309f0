/*
 * fuzz_source_csv.c - CSV dialect sniffing and reading (core/source.c,
 * libcsv): see fuzz_source.h for the invariants.  The input's last byte
 * picks the upload name hint and how the dialect is varied.
 */
#include "config.h"

#include "fuzz_source.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hints[] = { "upload.csv", "data.tsv",
	    "export.txt", NULL };

	fuzz_source(data, size, hints, sizeof(hints) / sizeof(hints[0]));
	return 0;
}
