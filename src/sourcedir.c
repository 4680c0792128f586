#include "sourcedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "source_lines.h"

#define SOURCEDIR_MAX_ERRORS 8

static int sources_entry(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 8 && !strcmp(e->d_name + n - 8, ".sources");
}

/* The file's text (a regular file, opened without blocking), to free; NULL logged. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	ssize_t got = 1;

	*len = 0;
	if (fd < 0) {
		log_msg(LOG_LEVEL_WARNING, "%s:0: sourcedir: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		log_msg(LOG_LEVEL_WARNING, "%s:0: sourcedir: not a regular file: left out", path);
	else if ((text = malloc(SOURCEDIR_MAX_FILE_SIZE + 1))) {
		while (*len <= SOURCEDIR_MAX_FILE_SIZE &&
		       (got = read(fd, text + *len, SOURCEDIR_MAX_FILE_SIZE + 1 - *len)) > 0)
			*len += (size_t)got;
		if (got < 0 || *len > SOURCEDIR_MAX_FILE_SIZE) {
			log_msg(LOG_LEVEL_WARNING, "%s:0: sourcedir: %s: left out", path,
				got < 0 ? strerror(errno) : "larger than 64 KiB");
			free(text);
			text = NULL;
		}
	}
	close(fd);
	return text;
}

/* Leaves out the entries whose key is not in keys; returns how many stay. */
static size_t keyed_in_ring(const char *path, struct config_source *out, size_t count, const struct auth_keyring *keys)
{
	size_t kept = 0;

	for (size_t i = 0; i < count; i++) {
		if (out[i].key && !auth_keyring_find(keys, out[i].key)) {
			log_msg(LOG_LEVEL_WARNING, "%s:%u: sourcedir: key %u is not in the keys file: line left out", path,
				out[i].line, out[i].key);
			continue;
		}
		out[kept++] = out[i];
	}
	return kept;
}

static size_t read_one(const char *path, struct config_source *out, size_t max, const struct auth_keyring *keys)
{
	struct source_lines_error errors[SOURCEDIR_MAX_ERRORS];
	struct source_lines_result result;
	size_t len;
	char *text = read_file(path, &len);

	if (!text)
		return 0;
	source_lines_parse(text, len, out, max, errors, SOURCEDIR_MAX_ERRORS, &result);
	free(text);
	for (size_t i = 0; i < result.error_count && i < SOURCEDIR_MAX_ERRORS; i++)
		log_msg(LOG_LEVEL_WARNING, "%s:%u: sourcedir: %s: line left out", path, errors[i].line,
			errors[i].message);
	if (result.error_count > SOURCEDIR_MAX_ERRORS)
		log_msg(LOG_LEVEL_WARNING, "%s: sourcedir: %zu more bad lines", path,
			result.error_count - SOURCEDIR_MAX_ERRORS);
	if (result.dropped)
		log_msg(LOG_LEVEL_WARNING, "%s:%u: sourcedir: no room for %zu more sources (at most %d from a sourcedir)",
			path, result.first_dropped_line, result.dropped, SOURCEDIR_MAX_SOURCES);
	return keyed_in_ring(path, out, result.count, keys);
}

size_t sourcedir_read(const char *dir, struct config_source *out, size_t max, const struct auth_keyring *keys)
{
	struct dirent **list;
	size_t count = 0;
	int n = scandir(dir, &list, sources_entry, alphasort);

	if (n < 0) {
		if (errno != ENOENT)
			log_msg(LOG_LEVEL_WARNING, "%s: sourcedir: cannot read: %s", dir, strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		char path[CONFIG_PATH_LEN + 256];

		if (i == SOURCEDIR_MAX_FILES)
			log_msg(LOG_LEVEL_WARNING, "%s: sourcedir: more than %d files: %s and later left out", dir,
				SOURCEDIR_MAX_FILES, list[i]->d_name);
		if (i < SOURCEDIR_MAX_FILES) {
			snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
			count += read_one(path, out + count, max - count, keys);
		}
		free(list[i]);
	}
	free(list);
	return count;
}
