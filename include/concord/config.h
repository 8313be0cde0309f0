/*
 * concord/config.h - the configuration: defaults, then the file
 * (conf/concord.conf format: "key = value" lines, '#' comments), then
 * environment variables CONCORD_<KEY> (upper case), each overriding the
 * previous.  The keys are listed in conf/concord.conf with their meaning.
 */
#ifndef CONCORD_CONFIG_H
#define CONCORD_CONFIG_H

#include <limits.h>

#include "concord/error.h"

struct cc_config {
	char		data_dir[PATH_MAX];	/* data directory */
	char		socket[PATH_MAX];	/* FastCGI unix socket ("" = fd 0) */
	char		socket_group[64];	/* group owning the socket ("" = keep) */
	int		workers;		/* pre-forked workers, 1..64 */
	long long	max_upload_bytes;	/* upload limit in bytes */
	long		body_idle_timeout;	/* seconds without a byte of a
						   request body before it is
						   abandoned, 1..3600 */
	long		token_lifetime;		/* access token lifetime, seconds */
	int		cookie_secure;		/* 1: __Host- cookie with Secure */
	int		login_max_failures;	/* failed logins of an account
						   before 429 */
	int		login_max_failures_per_client; /* the same for one
						   client address */
	long		login_window;		/* throttling window, seconds */
	int		page_size_max;		/* largest _size a list accepts */
	long		request_deadline_ms;	/* a read request's time limit
						   (table pages, dashboards): 503
						   with Retry-After above it;
						   0 = none */
	int		dashboard_cache;	/* 1: a worker keeps dashboard
						   documents until the workspace
						   or its model changes */
	int		page_cache;		/* 1: a worker keeps the JSON table
						   pages it wrote (up to 1 MiB
						   each) until the workspace or
						   its model changes */
	char		llm_endpoint[512];	/* OpenAI-compatible base URL ("" = off) */
	char		llm_model[128];		/* model name sent to the endpoint */
	char		llm_api_key_file[PATH_MAX]; /* file holding the API key */
	long		llm_timeout_ms;		/* whole-call timeout, milliseconds */
	int		llm_daily_requests;	/* requests per user and UTC day */
	char		llm_response_format[16]; /* json_schema | json_object | none */
};

/* Fills cfg with the built-in defaults (documented in conf/concord.conf). */
void	config_defaults(struct cc_config *cfg);

/*
 * Sets one key from its text value.  Keys are the conf file's names
 * (e.g. "max_upload_bytes").  Errors: CC_EINVAL (unknown key),
 * CC_ECONFIG (value of the wrong type, out of range, or too long); diag
 * says which.
 */
cc_err	config_set(struct cc_config *cfg, const char *key, const char *value,
	    struct cc_diag *diag);

/*
 * Reads a configuration file.  Errors: CC_EIO (cannot open: errno kept),
 * CC_ECONFIG (bad line: diag->line is its 1-based number).
 */
cc_err	config_load_file(struct cc_config *cfg, const char *path,
	    struct cc_diag *diag);

/*
 * Applies the environment: for every key, CONCORD_<KEY> if set (the
 * process environment through getenv()).  Errors as config_set().
 */
cc_err	config_apply_env(struct cc_config *cfg, struct cc_diag *diag);

#endif /* CONCORD_CONFIG_H */
