/* fstatat, fdopendir (POSIX 2008) */
#define _GNU_SOURCE

#include "driftfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "paths.h"

/* "-12.345678 wander=0.003162\n": far below this. */
#define DRIFTFILE_MAX_LEN 64

static void skip(const char **p, const char *chars)
{
	*p += strspn(*p, chars);
}

/* The number at *p (no blank before it), moving *p past it; false when
 * there is none. */
static bool parse_number(const char **p, double *v)
{
	char *end;

	if (!**p || strchr(" \t\n", **p))
		return false;
	errno = 0;
	*v = strtod(*p, &end);
	if (end == *p || errno || !isfinite(*v))
		return false;
	*p = end;
	return true;
}

enum driftfile_status driftfile_read(const char *path, double max_ppm, struct drift_state *out, char *why,
				     size_t why_len)
{
	char buf[DRIFTFILE_MAX_LEN + 1];
	const char *p = buf;
	ssize_t n;
	struct drift_state v = { 0 };
	double ignored;
	struct stat st = { 0 };
	/* O_NONBLOCK: a FIFO put in its place must not stall the daemon. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? DRIFTFILE_MISSING : DRIFTFILE_ERROR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s: not a regular file (%s)", path,
			 S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		close(fd);
		return DRIFTFILE_ERROR;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		close(fd);
		return DRIFTFILE_ERROR;
	}
	close(fd);
	if (n == 0 || n > DRIFTFILE_MAX_LEN) {
		snprintf(why, why_len, "%s: corrupt: %s", path, n ? "too long" : "empty");
		return DRIFTFILE_CORRUPT;
	}
	if (memchr(buf, '\0', (size_t)n)) {
		snprintf(why, why_len, "%s: corrupt: a NUL byte, not a frequency in ppm", path);
		return DRIFTFILE_CORRUPT;
	}
	buf[n] = '\0';
	skip(&p, " \t"); /* chrony aligns its numbers */
	if (!parse_number(&p, &v.frequency_ppm)) {
		snprintf(why, why_len, "%s: corrupt: not a frequency in ppm", path);
		return DRIFTFILE_CORRUPT;
	}
	if (*p == ' ' || *p == '\t') {
		skip(&p, " \t");
		if (!strncmp(p, "wander=", 7)) {
			p += 7;
			if (!parse_number(&p, &v.wander_ppm_per_s) || !(v.wander_ppm_per_s > 0.0)) {
				snprintf(why, why_len, "%s: corrupt: the wander is not a positive number", path);
				return DRIFTFILE_CORRUPT;
			}
		} else {
			parse_number(&p, &ignored); /* chrony's skew; anything else is refused below */
		}
	}
	skip(&p, " \t\n");
	if (*p) {
		snprintf(why, why_len, "%s: corrupt: more than a frequency in ppm and its wander", path);
		return DRIFTFILE_CORRUPT;
	}
	if (fabs(v.frequency_ppm) > max_ppm) {
		snprintf(why, why_len, "%s: corrupt: %g ppm is beyond +-%g ppm", path, v.frequency_ppm, max_ppm);
		return DRIFTFILE_CORRUPT;
	}
	*out = v;
	return DRIFTFILE_OK;
}

/* The name mkostemp gives a temporary file of base: base.XXXXXX. */
static bool is_temporary_name(const char *name, const char *base)
{
	size_t len = strlen(base);

	if (strncmp(name, base, len) != 0 || name[len] != '.' || strlen(name + len + 1) != 6)
		return false;
	for (const char *p = name + len + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

int driftfile_remove_stale(const char *path, char *why, size_t why_len)
{
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct dirent *entry;
	int dfd, removed = 0;
	DIR *d;

	path_parent_dir(path, dir, sizeof(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		snprintf(why, why_len, "%s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((entry = readdir(d))) {
		struct stat st;

		/* never follows a link: only a regular file of that name goes */
		if (!is_temporary_name(entry->d_name, base) ||
		    fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, entry->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int driftfile_write(const char *path, const struct drift_state *state, char *why, size_t why_len)
{
	char buf[DRIFTFILE_MAX_LEN];
	int len = state->wander_ppm_per_s > 0.0
			  ? snprintf(buf, sizeof(buf), "%.6f wander=%.4g\n", state->frequency_ppm, state->wander_ppm_per_s)
			  : snprintf(buf, sizeof(buf), "%.6f\n", state->frequency_ppm);

	return atomic_file_write(path, buf, (size_t)len, 0644, why, why_len);
}
