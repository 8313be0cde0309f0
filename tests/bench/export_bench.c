/*
 * export_bench.c - writes one public table of a workspace as an export
 * (concord/query.h: csv, json, ndjson or xlsx, the whole table as with
 * _stream=1) to a file, through the same query_parse() / query_open() /
 * query_write() calls the FastCGI handler makes, without HTTP.  For
 * tests/bench/xlsx_bench.sh, which times it with /usr/bin/time.  A
 * measuring program, not a test.
 *
 * usage: export_bench DATA_DIR USER_ID TABLE FORMAT OUT
 * Prints "rows N bytes B" on stdout; exit 1 on an error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/query.h"
#include "concord/workspace.h"

static int
to_file(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct query_param p[] = { { "_stream", "1" } };
	struct query_limits lim;
	struct workspace *ws = NULL;
	struct query *q = NULL;
	struct cc_diag d;
	enum query_format fmt;
	enum query_cut cut;
	long long rows = 0;
	FILE *out;
	int f;

	if (argc != 6) {
		fprintf(stderr, "usage: export_bench DATA_DIR USER_ID TABLE"
		    " FORMAT OUT\n");
		return 2;
	}
	for (f = 0; f < QUERY__FORMAT_MAX; f++)
		if (strcmp(argv[4], query_extension((enum query_format)f)) == 0)
			break;
	if (f == QUERY__FORMAT_MAX) {
		fprintf(stderr, "export_bench: unknown format %s\n", argv[4]);
		return 2;
	}
	fmt = (enum query_format)f;
	query_limits_default(&lim);
	lim.stream_time_limit_ms = 0;
	lim.stream_max_bytes = 1LL << 40;
	cc_diag_clear(&d);
	if (ws_open(argv[1], argv[2], &ws, &d) != CC_OK ||
	    query_parse(ws->db, argv[3], fmt, p, 1, &lim, &q, &d) != CC_OK ||
	    query_open(q, ws->db, "/api/v1/tables/x", &d) != CC_OK) {
		fprintf(stderr, "export_bench: %s\n", d.message);
		return 1;
	}
	if ((out = fopen(argv[5], "wb")) == NULL) {
		perror(argv[5]);
		return 1;
	}
	if (query_write(q, to_file, out, &rows, &cut, &d) != CC_OK ||
	    (cut != QUERY_CUT_NONE && cut != QUERY_CUT_ROWS)) {
		fprintf(stderr, "export_bench: cut %d: %s\n", (int)cut,
		    d.message);
		return 1;
	}
	printf("rows %lld bytes %ld%s\n", rows, ftell(out),
	    cut == QUERY_CUT_ROWS ? " (row cap)" : "");
	fclose(out);
	query_close(q);
	query_free(q);
	ws_close(ws);
	return 0;
}
