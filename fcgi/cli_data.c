/*
 * cli_data.c - subcommands that work on a file directly, without the
 * service: profile it, propose its mapping.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "concord/llm.h"
#include "concord/map_llm.h"
#include "concord/control.h"
#include "concord/map.h"
#include "concord/runs.h"
#include "concord/workspace.h"
#include "concord/profile.h"
#include "concord/registry.h"
#include "concord/source.h"
#include "cli.h"

/* Sniffs and profiles path; prints the first problem and returns NULL. */
static json_t *
profile_path(const char *path)
{
	struct source_dialect d;
	struct cc_diag diag;
	json_t *profile = NULL;

	cc_diag_clear(&diag);
	if (source_sniff(path, path, &d, &diag) != CC_OK ||
	    profile_source(path, &d, &profile, &diag) != CC_OK) {
		if (diag.line > 0)
			fprintf(stderr, "concord: %s:%ld:%ld: %s\n", path,
			    diag.line, diag.column, diag.message);
		else
			fprintf(stderr, "concord: %s: %s\n", path, diag.message);
		return NULL;
	}
	json_object_set_new(profile, "format",
	    json_string(source_format_name(d.format)));
	json_object_set_new(profile, "encoding",
	    json_string(source_encoding_name(d.encoding)));
	return profile;
}

static int
print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;

	putchar('\n');
	json_decref(doc);
	return rc;
}

int
cmd_profile(struct cc_config *cfg, int argc, char **argv)
{
	json_t *p;

	(void)cfg;
	if (cli_wants_help(argc, argv) || argc != 2) {
		printf("usage: concord profile FILE\n\n"
		    "Detects the format and dialect of a CSV, JSON or NDJSON file,\n"
		    "validates it and prints its column profile as JSON.  A broken\n"
		    "file gives FILE:LINE:COLUMN: reason and exit status 1.\n");
		return argc == 2 ? 0 : 2;
	}
	if ((p = profile_path(argv[1])) == NULL)
		return 1;
	return print_json(p);
}

int
cmd_map(struct cc_config *cfg, int argc, char **argv)
{
	static const struct map_mapper *const chain[] = { &map_heuristic };
	/* with llm_endpoint set, the model's second opinion (no cache, no
	 * budget: there is no workspace here) */
	const struct map_adviser llm = { "llm", map_llm_advise, NULL };
	const struct map_adviser *const advisers[] = { &llm };
	struct cc_diag diag;
	json_t *p, *doc;
	const char *base;

	(void)cfg;
	if (cli_wants_help(argc, argv) || argc != 2) {
		printf("usage: concord map FILE\n\n"
		    "Profiles FILE and prints the heuristic mapper's proposal:\n"
		    "entities, and per column a target attribute with confidence\n"
		    "and evidence (see GET /api/v1/files/{id}/mapping).  With\n"
		    "llm_endpoint configured, the language model's proposals\n"
		    "are added as on the mapping page (no cache, no budget).\n");
		return argc == 2 ? 0 : 2;
	}
	if ((p = profile_path(argv[1])) == NULL)
		return 1;
	base = strrchr(argv[1], '/');
	cc_diag_clear(&diag);
	if (map_propose_advised(chain, 1, advisers, llm_enabled() ? 1 : 0, p,
	    base != NULL ? base + 1 : argv[1], &doc, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		json_decref(p);
		return 1;
	}
	json_decref(p);
	return print_json(doc);
}

/* A progress bar on a terminal: "stage     [#####.....]  12345/60398". */
static int
progress_bar(void *arg, const char *phase, long long done, long long total)
{
	int width = 30, fill, i;

	(void)arg;
	fill = total > 0 ? (int)(done * width / total) : width;
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r%-10s [", phase);
	for (i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %lld/%lld   ", done, total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
	return 0;
}

int
cmd_run(struct cc_config *cfg, int argc, char **argv)
{
	const char *name = NULL, *today = NULL, *until = NULL, *mc = NULL;
	struct pipeline_options opt;
	json_t *settings = NULL;
	struct control *ctl = NULL;
	struct workspace *ws = NULL;
	char id[RUNS_ID_LEN + 1];
	struct cc_diag diag;
	struct cc_user u;
	json_t *run = NULL;
	int i, restage = 0, rc = 1;
	cc_err err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--user") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--today") && i + 1 < argc)
			today = argv[++i];
		else if (!strcmp(argv[i], "--restage"))
			restage = 1;
		else if (!strcmp(argv[i], "--phase") && i + 1 < argc)
			until = argv[++i];
		else if (!strcmp(argv[i], "--missing-customer") && i + 1 < argc)
			mc = argv[++i];
		else
			name = NULL, i = argc;
	}
	if (cli_wants_help(argc, argv) || name == NULL) {
		printf("usage: concord [-d DIR] run --user NAME [--restage]"
		    " [--today YYYY-MM-DD] [--phase PHASE]\n"
		    "       [--missing-customer quarantine|unknown_customer]\n\n"
		    "Runs the reconciliation on NAME's workspace now, as POST\n"
		    "/api/v1/runs does, with a progress bar on a terminal, and\n"
		    "prints the run (state, counts, timings) as JSON.\n"
		    "--restage parses every file again; --today sets the date\n"
		    "used for plausibility checks and new history versions;\n"
		    "--phase stops after PHASE (stage, reconcile, load,\n"
		    "aggregate, quality) and installs that model: --phase stage\n"
		    "leaves the cleaned staging tables queryable and the star\n"
		    "schema empty.  --missing-customer says what becomes of an\n"
		    "order line that names no customer: quarantine (the\n"
		    "default; no customer row is made) or unknown_customer (a\n"
		    "sale of the one \"Unknown customer\" member, so revenue\n"
		    "is complete): the run setting missing_customer.\n");
		return cli_wants_help(argc, argv) ? 0 : 2;
	}
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK ||
	    control_user_by_name(ctl, name, &u) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message[0] ? diag.message :
		    "no such user");
		goto out;
	}
	if (ws_open(cfg->data_dir, u.id, &ws, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		goto out;
	}
	if ((err = runs_settings_check(mc != NULL ? json_pack("{s:s}",
	    "missing_customer", mc) : NULL, &settings, &diag)) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		goto out;
	}
	memset(&opt, 0, sizeof(opt));
	opt.today = today;
	opt.restage = restage;
	opt.until = until;
	id[0] = '\0';
	cc_diag_clear(&diag);
	err = runs_start(ws, settings, &opt, isatty(STDERR_FILENO) ?
	    progress_bar : NULL, NULL, id, &diag);
	if (err == CC_ECONFLICT && strcmp(diag.code, "run_in_progress") == 0) {
		fprintf(stderr, "concord: a run is already queued or running"
		    " in this workspace%s%s\n", id[0] ? ": " : "", id);
		goto out;
	}
	if (err != CC_OK && id[0] == '\0') {
		fprintf(stderr, "concord: %s\n", diag.message[0] ?
		    diag.message : cc_strerror(err));
		goto out;
	}
	if (err != CC_OK)
		fprintf(stderr, "concord: run %s %s: %s\n", id,
		    err == CC_ECONFLICT ? "cancelled" : "failed", diag.message);
	if (runs_get(ws, id, &run) == CC_OK) {
		/* a run that succeeded but must say something says it on
		 * standard error too (the JSON on standard output has it) */
		size_t k;
		json_t *w;
		json_array_foreach(json_object_get(run, "warnings"), k, w)
			fprintf(stderr, "concord: run %s: warning: %s\n", id,
			    json_string_value(json_object_get(w, "detail")));
		print_json(run);
	}
	rc = err == CC_OK ? 0 : 1;
out:
	json_decref(settings);
	ws_close(ws);
	control_close(ctl);
	return rc;
}

/* The media type of a file by its name. */
static const char *
type_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot != NULL && (!strcasecmp(dot, ".xlsx")))
		return "application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet";
	if (dot != NULL && (!strcmp(dot, ".json")))
		return "application/json";
	if (dot != NULL && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl")))
		return "application/x-ndjson";
	return "text/csv";
}

/*
 * The files of one `concord upload`, read, hashed and profiled
 * (registry_upload_prepare()) by UPLOAD_THREADS threads at most
 * UPLOAD_AHEAD files ahead of the registration, which stays on the main
 * thread in the order of the arguments (the files' order, their
 * duplicates and what is printed are those of one file after the other).
 */
#define UPLOAD_THREADS	2
#define UPLOAD_AHEAD	4

struct upjob {
	const char		*path, *base;
	struct registry_upload	*up;	/* prepared, or NULL */
	cc_err			 err;	/* reading: cannot open, write */
	int			 done;
};

struct uppool {
	struct workspace	*ws;
	long long		 max;
	struct upjob		*jobs;
	int			 n, next, registered;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
};

/* Reads, hashes and prepares one file into j (no workspace write). */
static void
upload_read(struct workspace *ws, long long max, struct upjob *j)
{
	char buf[65536];
	size_t n;
	FILE *fp;
	cc_err err;

	if ((fp = fopen(j->path, "rb")) == NULL) {
		j->err = CC_ENOTFOUND;
		return;
	}
	err = registry_upload_begin(ws, max, &j->up);
	while (err == CC_OK && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		err = registry_upload_write(j->up, buf, n);
	fclose(fp);
	if (err != CC_OK) {
		registry_upload_abort(j->up);
		j->up = NULL;
		j->err = err;
		return;
	}
	/* its answer is finish's to report */
	(void)registry_upload_prepare(j->up, j->base, type_of(j->path));
}

static void *
upload_thread(void *arg)
{
	struct uppool *p = arg;
	int i;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->next < p->n && p->next >= p->registered + UPLOAD_AHEAD)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->next >= p->n)
			break;
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		upload_read(p->ws, p->max, &p->jobs[i]);
		pthread_mutex_lock(&p->mu);
		p->jobs[i].done = 1;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
cmd_upload(struct cc_config *cfg, int argc, char **argv)
{
	struct uppool pool;
	struct control *ctl = NULL;
	struct workspace *ws = NULL;
	struct cc_diag diag;
	struct cc_user u;
	const char *name = NULL, *base;
	pthread_t th[UPLOAD_THREADS];
	json_t *file;
	int i, k, nth = 0, first = 0, rc = 0, dup;
	cc_err err;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--user") && i + 1 < argc) {
			name = argv[++i];
			first = i + 1;
			break;
		}
	if (cli_wants_help(argc, argv) || name == NULL || first >= argc) {
		printf("usage: concord [-d DIR] upload --user NAME FILE...\n\n"
		    "Registers files in NAME's workspace as POST /api/v1/files\n"
		    "does (validated, profiled, stored once per content); the\n"
		    "media type follows the extension (.csv, .json, .ndjson).\n"
		    "Several files are read and profiled two at a time and\n"
		    "registered in the order given.\n");
		return cli_wants_help(argc, argv) ? 0 : 2;
	}
	cc_diag_clear(&diag);
	if (control_open(cfg->data_dir, &ctl, &diag) != CC_OK ||
	    control_user_by_name(ctl, name, &u) != CC_OK ||
	    ws_open(cfg->data_dir, u.id, &ws, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message[0] ? diag.message :
		    "no such user");
		control_close(ctl);
		return 1;
	}
	memset(&pool, 0, sizeof(pool));
	pool.ws = ws;
	pool.max = cfg->max_upload_bytes;
	pool.n = argc - first;
	if ((pool.jobs = calloc((size_t)pool.n, sizeof(*pool.jobs))) == NULL) {
		fprintf(stderr, "concord: out of memory\n");
		ws_close(ws);
		control_close(ctl);
		return 1;
	}
	for (i = 0; i < pool.n; i++) {
		pool.jobs[i].path = argv[first + i];
		base = strrchr(argv[first + i], '/');
		pool.jobs[i].base = base != NULL ? base + 1 : argv[first + i];
	}
	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.cv, NULL);
	/* one file (or no thread to be had): read here, as it comes */
	for (k = 0; pool.n > 1 && k < UPLOAD_THREADS; k++)
		if (pthread_create(&th[nth], NULL, upload_thread, &pool) == 0)
			nth++;
	for (i = 0; i < pool.n; i++) {
		struct upjob *j = &pool.jobs[i];
		if (nth == 0)
			upload_read(ws, pool.max, j);
		else {
			pthread_mutex_lock(&pool.mu);
			while (!j->done)
				pthread_cond_wait(&pool.cv, &pool.mu);
			pthread_mutex_unlock(&pool.mu);
		}
		if (j->up == NULL) {
			if (j->err == CC_ENOTFOUND)
				fprintf(stderr, "concord: %s: cannot open\n",
				    j->path);
			else
				fprintf(stderr, "concord: %s: %s\n", j->path,
				    cc_strerror(j->err));
			rc = 1;
		} else {
			cc_diag_clear(&diag);
			err = registry_upload_finish(ws, j->up, j->base,
			    type_of(j->path), &file, &dup, &diag);
			j->up = NULL;	/* freed by finish */
			if (err != CC_OK) {
				fprintf(stderr, "concord: %s:%ld:%ld: %s\n",
				    j->path, diag.line, diag.column,
				    diag.message);
				rc = 1;
			} else {
				printf("%s %s %s rows %lld\n",
				    json_string_value(json_object_get(file,
				    "id")), dup ? "duplicate" : "registered",
				    j->base, (long long)json_integer_value(
				    json_object_get(file, "rows")));
				fflush(stdout);
				json_decref(file);
			}
		}
		pthread_mutex_lock(&pool.mu);
		pool.registered = i + 1;
		pthread_cond_broadcast(&pool.cv);
		pthread_mutex_unlock(&pool.mu);
	}
	for (k = 0; k < nth; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&pool.mu);
	pthread_cond_destroy(&pool.cv);
	free(pool.jobs);
	ws_close(ws);
	control_close(ctl);
	return rc;
}
