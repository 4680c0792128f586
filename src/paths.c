#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_make_parent_dir(const char *path, uid_t owner, gid_t group)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0755) < 0)
		return errno == EEXIST ? 0 : -1;
	if (owner != (uid_t)-1 && chown(dir, owner, group) < 0)
		return -1;
	return 0;
}
