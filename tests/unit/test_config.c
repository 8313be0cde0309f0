/* test_config.c - configuration defaults, file, environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concord/config.h"

static char path[64];

static void
write_conf(const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/concord-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
}

static void
test_defaults(void **state)
{
	struct cc_config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.data_dir, "/var/lib/concord");
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.max_upload_bytes, 1073741824LL);
	assert_int_equal(c.cookie_secure, 1);
	assert_int_equal(c.body_idle_timeout, 30);
	assert_string_equal(c.llm_endpoint, "");
	assert_int_equal(c.request_deadline_ms, 10000);
	assert_int_equal(c.dashboard_cache, 1);
	assert_int_equal(c.page_cache, 1);
}

/* body_idle_timeout: seconds, 1..3600, from the file and from
 * CONCORD_BODY_IDLE_TIMEOUT; out of range or not a number is refused
 * and leaves the value as it was. */
static void
test_body_idle_timeout(void **state)
{
	struct cc_config c;
	struct cc_diag d;

	(void)state;
	config_defaults(&c);
	write_conf("body_idle_timeout = 5\n");
	assert_int_equal(config_load_file(&c, path, &d), CC_OK);
	assert_int_equal(c.body_idle_timeout, 5);
	unlink(path);
	setenv("CONCORD_BODY_IDLE_TIMEOUT", "2", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_OK);
	assert_int_equal(c.body_idle_timeout, 2);
	setenv("CONCORD_BODY_IDLE_TIMEOUT", "0", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_ECONFIG);
	assert_string_equal(d.code, "config_bad_number");
	unsetenv("CONCORD_BODY_IDLE_TIMEOUT");
	assert_int_equal(config_set(&c, "body_idle_timeout", "3601", &d),
	    CC_ECONFIG);
	assert_int_equal(config_set(&c, "body_idle_timeout", "30s", &d),
	    CC_ECONFIG);
	assert_int_equal(config_set(&c, "body_idle_timeout", "3600", &d),
	    CC_OK);
	assert_int_equal(c.body_idle_timeout, 3600);
	assert_int_equal(config_set(&c, "body_idle_timeout", "1", &d), CC_OK);
	assert_int_equal(c.body_idle_timeout, 1);
}

/* The shipped conf/concord.conf states the defaults: loading it changes
 * nothing. */
static void
test_shipped_file_is_defaults(void **state)
{
	struct cc_config a, b;
	struct cc_diag d;

	(void)state;
	config_defaults(&a);
	config_defaults(&b);
	assert_int_equal(config_load_file(&b, SRCDIR "/conf/concord.conf", &d),
	    CC_OK);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_file_and_env(void **state)
{
	struct cc_config c;
	struct cc_diag d;

	(void)state;
	write_conf("# comment\n\n  workers = 7  # trailing\n"
	    "max_upload_bytes=1024\ncookie_secure = off\n"
	    "llm_endpoint = http://127.0.0.1:9/v1\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, &d), CC_OK);
	assert_int_equal(c.workers, 7);
	assert_int_equal(c.max_upload_bytes, 1024);
	assert_int_equal(c.cookie_secure, 0);
	assert_string_equal(c.llm_endpoint, "http://127.0.0.1:9/v1");
	setenv("CONCORD_WORKERS", "3", 1);
	setenv("CONCORD_DATA_DIR", "/srv/c", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_OK);
	assert_int_equal(c.workers, 3);
	assert_string_equal(c.data_dir, "/srv/c");
	unsetenv("CONCORD_WORKERS");
	unsetenv("CONCORD_DATA_DIR");
	unlink(path);
}

static void
test_bad_values(void **state)
{
	struct cc_config c;
	struct cc_diag d;

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "workers", "0", &d), CC_ECONFIG);
	assert_int_equal(config_set(&c, "workers", "65", &d), CC_ECONFIG);
	assert_int_equal(config_set(&c, "workers", "4x", &d), CC_ECONFIG);
	assert_int_equal(config_set(&c, "workers", "", &d), CC_ECONFIG);
	assert_int_equal(config_set(&c, "cookie_secure", "maybe", &d),
	    CC_ECONFIG);
	assert_int_equal(config_set(&c, "no_such_key", "1", &d), CC_EINVAL);
	assert_int_equal(c.workers, 4);

	write_conf("workers = 2\nthis line is wrong\n");
	assert_int_equal(config_load_file(&c, path, &d), CC_ECONFIG);
	assert_int_equal(d.line, 2);
	unlink(path);
	write_conf("workers = 2\n\nmax_upload_bytes = -5\n");
	assert_int_equal(config_load_file(&c, path, &d), CC_ECONFIG);
	assert_int_equal(d.line, 3);
	unlink(path);
	assert_int_equal(config_load_file(&c, "/nonexistent/x.conf", &d),
	    CC_EIO);

	setenv("CONCORD_TOKEN_LIFETIME", "5", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_ECONFIG);
	unsetenv("CONCORD_TOKEN_LIFETIME");

	/* the read requests' deadline: 0 (none) to an hour */
	config_defaults(&c);
	setenv("CONCORD_REQUEST_DEADLINE_MS", "25", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_OK);
	assert_int_equal(c.request_deadline_ms, 25);
	unsetenv("CONCORD_REQUEST_DEADLINE_MS");
	assert_int_equal(config_set(&c, "request_deadline_ms", "0", &d), CC_OK);
	assert_int_equal(config_set(&c, "request_deadline_ms", "-1", &d),
	    CC_ECONFIG);
	assert_int_equal(config_set(&c, "request_deadline_ms", "3600001", &d),
	    CC_ECONFIG);

	/* the kept table pages: a boolean, from the file or the environment */
	setenv("CONCORD_PAGE_CACHE", "false", 1);
	assert_int_equal(config_apply_env(&c, &d), CC_OK);
	assert_int_equal(c.page_cache, 0);
	unsetenv("CONCORD_PAGE_CACHE");
	assert_int_equal(config_set(&c, "page_cache", "sometimes", &d),
	    CC_ECONFIG);
	assert_int_equal(c.page_cache, 0);
	assert_int_equal(config_set(&c, "page_cache", "true", &d), CC_OK);
	assert_int_equal(c.page_cache, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped_file_is_defaults),
		cmocka_unit_test(test_file_and_env),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_body_idle_timeout),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
