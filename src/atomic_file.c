/* mkostemp */
#define _GNU_SOURCE

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	int fd, ret;

	path_parent_dir(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode, char *why, size_t why_len)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(why, why_len, "%s: path too long", path);
		return -1;
	}
	/* mkostemp creates it 0600: a secret never exists with wider rights. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_len, "%s: cannot create a temporary file: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, data, len);
	if (n != (ssize_t)len || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		snprintf(why, why_len, "%s: %s", tmp, n < 0 || n == (ssize_t)len ? strerror(errno) : "short write");
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(why, why_len, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (fsync_parent(path) < 0) {
		snprintf(why, why_len, "%s: written, but its directory could not be synced: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}
