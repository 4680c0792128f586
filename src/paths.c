#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void path_parent_dir(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

int path_make_parent_dir(const char *path, uid_t owner, gid_t group)
{
	char dir[PATH_MAX];

	path_parent_dir(path, dir, sizeof(dir));
	if (!strcmp(dir, ".") || !strcmp(dir, "/"))
		return 0;
	if (mkdir(dir, 0755) < 0)
		return errno == EEXIST ? 0 : -1;
	if (owner != (uid_t)-1 && chown(dir, owner, group) < 0)
		return -1;
	return 0;
}
