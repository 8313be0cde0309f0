/*
 * match_eval.c - measures the record linkage of concord/match.h against
 * ground truth: FEBRL (rec-N-org / rec-N-dup-k, optional *_true_pairs.csv)
 * and splink's fake_1000 (cluster column).  Not a test: it prints numbers
 * (tests/bench/README.md).
 *
 *   match_eval [-j] [-u] [-T] [-g N] [-p P] FILE.csv [TRUE_PAIRS.csv]
 *
 *   -j    also print the fitted model as JSON
 *   -u    fix u at its random-pair estimate (ablation)
 *   -T    no term-frequency adjustment (ablation)
 *   -g N  chaining guard: clusters of at most N records (ablation)
 *   -p P  threshold probability (ablation; default 0.5)
 *   -s N  random pairs for u (ablation; default 1e5)
 *   -x C  treat column C as missing everywhere (ablation; repeatable)
 *
 * One configuration per schema, chosen by the header: FEBRL's fields or
 * fake_1000's; nothing depends on the file beyond that.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "concord/match.h"

/* ---- the two configurations ------------------------------------------ */

static const char *const febrl_columns[] = {
	"given_name", "surname", "street_number", "address_1", "address_2",
	"suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
};

static const struct match_field febrl_fields[] = {
	{ "given_name", MATCH_NAME, 1, "surname" },
	{ "surname", MATCH_NAME, 1, "given_name" },
	{ "street_number", MATCH_CODE, 0, NULL },
	{ "address_1", MATCH_TEXT, 0, "address_2" },
	{ "address_2", MATCH_TEXT, 0, "address_1" },
	{ "suburb", MATCH_TEXT, 1, NULL },
	{ "postcode", MATCH_POSTCODE, 0, NULL },
	{ "state", MATCH_CODE, 0, NULL },
	{ "date_of_birth", MATCH_DATE, 0, NULL },
	{ "soc_sec_id", MATCH_CODE, 0, NULL },
};

enum { F_GIVEN, F_SURNAME, F_STNO, F_ADDR1, F_ADDR2, F_SUBURB, F_POSTCODE,
    F_STATE, F_DOB, F_SSN };

static const struct match_blocking febrl_rules[] = {
	{ 1, { { F_POSTCODE, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { F_SURNAME, MATCH_BLOCK_SOUNDEX },
	    { F_DOB, MATCH_BLOCK_YEAR } }, 0 },
	{ 2, { { F_GIVEN, MATCH_BLOCK_EXACT },
	    { F_SUBURB, MATCH_BLOCK_EXACT } }, 0 },
	{ 1, { { F_SSN, MATCH_BLOCK_EXACT } }, 0 },
	{ 1, { { F_DOB, MATCH_BLOCK_EXACT } }, 0 },
};

static const char *const fake_columns[] = {
	"first_name", "surname", "dob", "city", "email",
};

static const struct match_field fake_fields[] = {
	{ "first_name", MATCH_NAME, 1, "surname" },
	{ "surname", MATCH_NAME, 1, "first_name" },
	{ "dob", MATCH_DATE, 0, NULL },
	{ "city", MATCH_NAME, 1, NULL },
	{ "email", MATCH_EMAIL, 0, NULL },
};

enum { G_FIRST, G_SURNAME, G_DOB, G_CITY, G_EMAIL };

static const struct match_blocking fake_rules[] = {
	{ 1, { { G_DOB, MATCH_BLOCK_EXACT } }, 0 },
	{ 1, { { G_EMAIL, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { G_SURNAME, MATCH_BLOCK_SOUNDEX },
	    { G_DOB, MATCH_BLOCK_YEAR } }, 0 },
	{ 2, { { G_FIRST, MATCH_BLOCK_SOUNDEX },
	    { G_DOB, MATCH_BLOCK_YEAR } }, 0 },
	{ 2, { { G_FIRST, MATCH_BLOCK_FIRST3 },
	    { G_SURNAME, MATCH_BLOCK_FIRST3 } }, 0 },
	{ 1, { { G_EMAIL, MATCH_BLOCK_LOCAL } }, 0 },
	{ 2, { { G_FIRST, MATCH_BLOCK_SOUNDEX },
	    { G_CITY, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { G_SURNAME, MATCH_BLOCK_SOUNDEX },
	    { G_CITY, MATCH_BLOCK_EXACT } }, 0 },
	{ 2, { { G_FIRST, MATCH_BLOCK_SOUNDEX },
	    { G_SURNAME, MATCH_BLOCK_SOUNDEX } }, 0 },
};

/* ---- CSV ------------------------------------------------------------- */

struct table {
	char	*buf;
	char	**cell;		/* nrows * ncols, row 0 the header */
	size_t	 nrows, ncols;
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reads a comma-separated file without quotes (FEBRL, fake_1000); each
 * field trimmed (FEBRL separates with ", "). */
static int
read_table(const char *path, struct table *t)
{
	FILE *fp;
	long size;
	char *p, *line, *next, *field;
	size_t cap = 0, ncol;

	memset(t, 0, sizeof(*t));
	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	t->buf = malloc((size_t)size + 1);
	if (t->buf == NULL || fread(t->buf, 1, (size_t)size, fp) !=
	    (size_t)size) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	t->buf[size] = '\0';
	if (memchr(t->buf, '"', (size_t)size) != NULL) {
		fprintf(stderr, "%s: quoted CSV is not supported here\n", path);
		return -1;
	}
	for (line = t->buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*trim(line) == '\0')
			continue;
		ncol = 0;
		for (p = line; p != NULL; ncol++) {
			field = p;
			if ((p = strchr(p, ',')) != NULL)
				*p++ = '\0';
			if (t->nrows > 0 && ncol >= t->ncols) {
				fprintf(stderr, "%s: row %zu has too many "
				    "fields\n", path, t->nrows + 1);
				return -1;
			}
			if (t->nrows * t->ncols + ncol + 1 > cap) {
				char **nc;

				cap = cap ? cap * 2 : 1024;
				if ((nc = realloc(t->cell, cap *
				    sizeof(*nc))) == NULL)
					return -1;
				t->cell = nc;
			}
			t->cell[t->nrows * t->ncols + ncol] = trim(field);
		}
		if (t->nrows == 0)
			t->ncols = ncol;
		else if (ncol != t->ncols) {
			fprintf(stderr, "%s: row %zu has %zu fields, not %zu\n",
			    path, t->nrows + 1, ncol, t->ncols);
			return -1;
		}
		t->nrows++;
	}
	return t->nrows > 0 ? 0 : -1;
}

static int
column(const struct table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (strcmp(t->cell[c], name) == 0)
			return (int)c;
	return -1;
}

/* ---- pair sets ------------------------------------------------------- */

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pair_key(size_t i, size_t j)
{
	return i < j ? (uint64_t)i << 32 | j : (uint64_t)j << 32 | i;
}

/* Sorts and removes duplicates; returns the new count. */
static size_t
pairs_unique(uint64_t *p, size_t n)
{
	size_t a, k = 0;

	qsort(p, n, sizeof(*p), u64_cmp);
	for (a = 0; a < n; a++)
		if (k == 0 || p[k - 1] != p[a])
			p[k++] = p[a];
	return k;
}

/* Number of elements of sorted a that are in sorted b. */
static size_t
pairs_common(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			n++;
			i++;
			j++;
		}
	}
	return n;
}

struct lab {
	long	label;
	size_t	rec;
};

static int
lab_cmp(const void *a, const void *b)
{
	const struct lab *x = a, *y = b;

	if (x->label != y->label)
		return x->label < y->label ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* All pairs within groups of equal label (labels of n records). */
static uint64_t *
pairs_of_labels(const long *label, size_t n, size_t *np)
{
	struct lab *e;
	size_t a, b, c, s, cap = 1024, k = 0;
	uint64_t *p;

	e = malloc((n + 1) * sizeof(*e));
	p = malloc(cap * sizeof(*p));
	if (e == NULL || p == NULL)
		exit(1);
	for (a = 0; a < n; a++) {
		e[a].label = label[a];
		e[a].rec = a;
	}
	qsort(e, n, sizeof(*e), lab_cmp);
	for (s = 0; s < n; s = b) {
		for (b = s + 1; b < n && e[b].label == e[s].label; b++)
			continue;
		for (a = s; a < b; a++)
			for (c = a + 1; c < b; c++) {
				if (k == cap) {
					cap *= 2;
					if ((p = realloc(p, cap *
					    sizeof(*p))) == NULL)
						exit(1);
				}
				p[k++] = pair_key(e[a].rec, e[c].rec);
			}
	}
	free(e);
	*np = pairs_unique(p, k);
	return p;
}

struct prf {
	double p, r, f;
};

static struct prf
score(size_t tp, size_t npred, size_t ntrue)
{
	struct prf s;

	s.p = npred ? (double)tp / (double)npred : 0;
	s.r = ntrue ? (double)tp / (double)ntrue : 0;
	s.f = s.p + s.r > 0 ? 2 * s.p * s.r / (s.p + s.r) : 0;
	return s;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FEBRL's entity number: N of rec-N-org / rec-N-dup-k. */
static long
febrl_entity(const char *id)
{
	if (strncmp(id, "rec-", 4) != 0)
		return -1;
	return strtol(id + 4, NULL, 10);
}

static void
usage(void)
{
	fprintf(stderr, "usage: match_eval [-j] [-u] [-T] [-g N] [-p P] [-s N] [-x C] "
	    "FILE.csv [TRUE_PAIRS.csv]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct table t, tp;
	struct match_field fields[MATCH_MAX_FIELDS];
	struct match_config cfg;
	struct match_result *res = NULL;
	struct cc_diag diag;
	struct rusage ru;
	const char *const *cols;
	const char **recs;
	long *label, *plabel;
	uint64_t *truth, *pred, *cand64, *cpairs;
	size_t ncols, ncand, ntruth, npred, ncp, r, f, k, *cand;
	int colidx[MATCH_MAX_FIELDS], c, idcol, jflag = 0, notf = 0, trunc;
	double t0, t1, t2;
	const char *blank[8];
	size_t nblank = 0, x;
	struct prf ps, cs;
	json_t *js;
	char *s;

	memset(&cfg, 0, sizeof(cfg));
	while ((c = getopt(argc, argv, "jTug:p:s:x:")) != -1)
		switch (c) {
		case 'j':
			jflag = 1;
			break;
		case 'T':
			notf = 1;
			break;
		case 'u':
			cfg.fix_u = 1;
			break;
		case 'g':
			cfg.max_cluster_size = (size_t)strtoul(optarg, NULL,
			    10);
			break;
		case 'p':
			cfg.threshold_probability = strtod(optarg, NULL);
			break;
		case 's':
			cfg.u_sample_pairs = strtoll(optarg, NULL, 10);
			break;
		case 'x':
			if (nblank < sizeof(blank) / sizeof(blank[0]))
				blank[nblank++] = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage();
	if (read_table(argv[0], &t) != 0)
		return 1;

	/* the schema, by header */
	if ((idcol = column(&t, "rec_id")) >= 0) {
		cols = febrl_columns;
		ncols = sizeof(febrl_columns) / sizeof(febrl_columns[0]);
		memcpy(fields, febrl_fields, sizeof(febrl_fields));
		cfg.rules = febrl_rules;
		cfg.nrules = sizeof(febrl_rules) / sizeof(febrl_rules[0]);
	} else if ((idcol = column(&t, "cluster")) >= 0 &&
	    column(&t, "unique_id") >= 0) {
		cols = fake_columns;
		ncols = sizeof(fake_columns) / sizeof(fake_columns[0]);
		memcpy(fields, fake_fields, sizeof(fake_fields));
		cfg.rules = fake_rules;
		cfg.nrules = sizeof(fake_rules) / sizeof(fake_rules[0]);
	} else {
		fprintf(stderr, "%s: neither FEBRL nor fake_1000\n", argv[0]);
		return 1;
	}
	for (f = 0; f < ncols; f++) {
		if ((colidx[f] = column(&t, cols[f])) < 0) {
			fprintf(stderr, "%s: no column %s\n", argv[0],
			    cols[f]);
			return 1;
		}
		if (notf)
			fields[f].tf_adjust = 0;
	}
	cfg.fields = fields;
	cfg.nfields = ncols;

	/* records (empty cell: missing) and true labels */
	size_t nrec = t.nrows - 1;
	recs = calloc(nrec * ncols + 1, sizeof(*recs));
	label = calloc(nrec + 1, sizeof(*label));
	plabel = calloc(nrec + 1, sizeof(*plabel));
	if (recs == NULL || label == NULL || plabel == NULL)
		return 1;
	for (r = 0; r < nrec; r++) {
		for (f = 0; f < ncols; f++) {
			s = t.cell[(r + 1) * t.ncols + (size_t)colidx[f]];
			recs[r * ncols + f] = *s != '\0' ? s : NULL;
			for (x = 0; x < nblank; x++)
				if (strcmp(cols[f], blank[x]) == 0)
					recs[r * ncols + f] = NULL;
		}
		s = t.cell[(r + 1) * t.ncols + (size_t)idcol];
		label[r] = cols == febrl_columns ? febrl_entity(s) :
		    strtol(s, NULL, 10);
	}
	truth = pairs_of_labels(label, nrec, &ntruth);

	/* FEBRL's own list of true pairs, checked against the ids */
	if (argc == 2) {
		size_t n = 0, a, b;
		uint64_t *lp;

		if (read_table(argv[1], &tp) != 0 || tp.ncols != 2)
			return 1;
		lp = malloc(tp.nrows * sizeof(*lp));
		for (k = 1; k < tp.nrows; k++) {
			for (a = 0; a < nrec; a++)
				if (strcmp(t.cell[(a + 1) * t.ncols +
				    (size_t)idcol], tp.cell[k * 2]) == 0)
					break;
			for (b = 0; b < nrec; b++)
				if (strcmp(t.cell[(b + 1) * t.ncols +
				    (size_t)idcol], tp.cell[k * 2 + 1]) == 0)
					break;
			if (a == nrec || b == nrec) {
				fprintf(stderr, "%s: unknown id\n", argv[1]);
				return 1;
			}
			lp[n++] = pair_key(a, b);
		}
		n = pairs_unique(lp, n);
		printf("true pairs file:      %zu pairs, %zu shared with the "
		    "ids' pairs (%zu)\n", n, pairs_common(lp, n, truth,
		    ntruth), ntruth);
		free(truth);
		free(tp.cell);
		free(tp.buf);
		truth = lp;
		ntruth = n;
	}

	/* blocking alone */
	cc_diag_clear(&diag);
	t0 = now();
	if (match_candidates(&cfg, recs, nrec, &cand, &ncand, &trunc,
	    &diag) != CC_OK) {
		fprintf(stderr, "match_candidates: %s\n", diag.message);
		return 1;
	}
	t1 = now();
	cand64 = malloc((ncand + 1) * sizeof(*cand64));
	for (k = 0; k < ncand; k++)
		cand64[k] = pair_key(cand[2 * k], cand[2 * k + 1]);
	free(cand);

	/* the whole run */
	t2 = now();
	if (match_run(&cfg, recs, nrec, &res, &diag) != CC_OK) {
		fprintf(stderr, "match_run: %s\n", diag.message);
		return 1;
	}
	t2 = now() - t2;
	getrusage(RUSAGE_SELF, &ru);

	pred = malloc((res->npairs + 1) * sizeof(*pred));
	for (k = 0; k < res->npairs; k++)
		pred[k] = pair_key(res->pairs[k].i, res->pairs[k].j);
	npred = pairs_unique(pred, res->npairs);
	for (r = 0; r < nrec; r++)
		plabel[r] = (long)res->cluster[r];
	cpairs = pairs_of_labels(plabel, nrec, &ncp);
	ps = score(pairs_common(pred, npred, truth, ntruth), npred, ntruth);
	cs = score(pairs_common(cpairs, ncp, truth, ntruth), ncp, ntruth);

	printf("file:                 %s\n", argv[0]);
	printf("records:              %zu\n", nrec);
	printf("true pairs:           %zu\n", ntruth);
	printf("candidate pairs:      %zu%s (%.2f%% of all pairs)\n", ncand,
	    trunc ? " TRUNCATED" : "", 100.0 * (double)ncand /
	    ((double)nrec * (double)(nrec - 1) / 2));
	printf("blocking recall:      %.4f (%zu of %zu true pairs)\n",
	    ntruth ? (double)pairs_common(cand64, ncand, truth, ntruth) /
	    (double)ntruth : 0, pairs_common(cand64, ncand, truth, ntruth),
	    ntruth);
	printf("lambda:               %.5f (EM %d iterations%s), "
	    "threshold weight %.2f bits\n", res->lambda, res->em_iterations,
	    res->em_converged ? ", converged" : ", NOT converged",
	    res->threshold_weight);
	printf("accepted pairs:       %zu\n", npred);
	printf("pairs    P / R / F1:  %.4f / %.4f / %.4f\n", ps.p, ps.r, ps.f);
	printf("clusters:             %zu (%zu pairs within)\n",
	    res->nclusters, ncp);
	printf("clusters P / R / F1:  %.4f / %.4f / %.4f\n", cs.p, cs.r, cs.f);
	printf("time:                 blocking %.3f s, match_run %.3f s\n",
	    t1 - t0, t2);
	printf("peak RSS:             %ld KiB\n", ru.ru_maxrss);
	if (jflag) {
		js = match_result_model_json(res);
		if (js != NULL) {
			s = json_dumps(js, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
			printf("%s\n", s);
			free(s);
			json_decref(js);
		}
	}
	match_result_free(res);
	free(cand64);
	free(pred);
	free(cpairs);
	free(truth);
	free(recs);
	free(label);
	free(plabel);
	free(t.cell);
	free(t.buf);
	return 0;
}
