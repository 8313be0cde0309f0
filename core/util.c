/* util.c - time, random ids, directories, atomic files (concord/util.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "concord/util.h"

char *
util_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && size > 0)
		buf[0] = '\0';
	return buf;
}

void
util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void
util_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	randombytes_buf(buf, nbytes);
	util_hex(buf, nbytes, out);
}

cc_err
util_mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096], *p;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return CC_EINVAL;
	memcpy(tmp, path, len + 1);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return CC_EIO;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return CC_EIO;
	return CC_OK;
}

cc_err
util_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char tmp[4096];
	const char *p = data;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
	    sizeof(tmp))
		return CC_EINVAL;
	if ((fd = mkstemp(tmp)) < 0)
		return CC_EIO;
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return CC_EIO;
	}
	return CC_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return CC_EIO;
}

cc_err
util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return CC_EIO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return CC_EIO;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return CC_ETOOBIG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return CC_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len != NULL)
		*len = got;
	return CC_OK;
}

int
util_valid_id(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    c == '_' || c == '-'))
			return 0;
		if (n >= 64)
			return 0;
	}
	return n > 0;
}

uint64_t
util_fnv1a64(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}
