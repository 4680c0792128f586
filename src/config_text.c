/* asprintf */
#define _GNU_SOURCE

#include "config_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "a special file";
}

/* The whole file, NUL-terminated, to free; NULL with a message in err. Only
 * a regular file is read, and the open cannot block: a FIFO would stall the
 * daemon. At most max bytes. */
static char *read_text(const char *path, size_t max, size_t *len, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	size_t n = 0;
	ssize_t got = 1;

	if (fd < 0) {
		snprintf(err, err_len, "%s:0: file: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s:0: file: cannot open: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s:0: file: not a regular file (%s)", path, file_kind(st.st_mode));
	} else if (!(text = malloc(max + 1))) {
		snprintf(err, err_len, "%s:0: file: out of memory", path);
	} else {
		while (n <= max && (got = read(fd, text + n, max + 1 - n)) > 0)
			n += (size_t)got;
		if (got < 0 || n > max) {
			snprintf(err, err_len, "%s:0: file: %s", path,
				 got < 0 ? strerror(errno) : "the configuration is larger than 1 MiB in all");
			free(text);
			text = NULL;
		} else {
			text[n] = '\0';
		}
	}
	close(fd);
	*len = n;
	return text;
}

static int append_bytes(struct config_text *t, const char *bytes, size_t n)
{
	char *grown = realloc(t->text, t->len + n + 1);

	if (!grown)
		return -1;
	t->text = grown;
	memcpy(t->text + t->len, bytes, n);
	t->len += n;
	t->text[t->len] = '\0';
	for (size_t i = 0; i < n; i++)
		if (bytes[i] == '\n')
			t->lines++;
	return 0;
}

/* Appends n bytes of file's text that start at its line file_line. */
static int append(struct config_text *t, const char *bytes, size_t n, unsigned file, unsigned file_line)
{
	if (n == 0)
		return 0;
	if (t->segment_count == t->segment_cap) {
		size_t cap = t->segment_cap ? 2 * t->segment_cap : 16;
		struct config_text_segment *s = realloc(t->segments, cap * sizeof(*s));

		if (!s)
			return -1;
		t->segments = s;
		t->segment_cap = cap;
	}
	t->segments[t->segment_count++] = (struct config_text_segment){ t->lines, file_line, file };
	return append_bytes(t, bytes, n);
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int conf_entry(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".conf");
}

/* The files PATH names, sorted, into a glob_t-like list to free; -1 with a message. */
static int expand(const char *path, char ***files, size_t *count, const char **why)
{
	struct stat st;

	*files = NULL;
	*count = 0;
	if (has_glob_chars(path)) {
		glob_t g;
		int ret = glob(path, 0, NULL, &g);

		if (ret == GLOB_NOMATCH)
			return 0; /* an empty drop-in directory is no error */
		if (ret != 0) {
			*why = ret == GLOB_NOSPACE ? "out of memory" : "cannot read a directory of the pattern";
			return -1;
		}
		*files = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof(char *));
		for (size_t i = 0; *files && i < g.gl_pathc; i++)
			if (((*files)[i] = strdup(g.gl_pathv[i])))
				(*count)++;
		globfree(&g);
		return *files ? 0 : -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		struct dirent **list;
		int n = scandir(path, &list, conf_entry, alphasort);

		if (n < 0) {
			*why = strerror(errno);
			return -1;
		}
		*files = calloc(n ? (size_t)n : 1, sizeof(char *));
		for (int i = 0; i < n; i++) {
			if (*files && asprintf(&(*files)[*count], "%s/%s", path, list[i]->d_name) >= 0)
				(*count)++;
			free(list[i]);
		}
		free(list);
		return *files ? 0 : -1;
	}
	*files = calloc(1, sizeof(char *));
	if (*files && ((*files)[0] = strdup(path)))
		*count = 1;
	return *count ? 0 : -1;
}

static void free_list(char **files, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(files[i]);
	free(files);
}

/* PATH as the including file names it: a relative one from its directory. */
static char *resolve(const char *including, const char *path)
{
	const char *slash = strrchr(including, '/');
	char *out;

	if (path[0] == '/' || !slash)
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - including), including, path) < 0)
		return NULL;
	return out;
}

static int read_file(struct config_text *t, const char *path, unsigned depth, char *err, size_t err_len);

/* Replaces one directive by the text of the files it names. */
static int include(struct config_text *t, const char *including, const struct config_scan_include *inc,
		   unsigned depth, char *err, size_t err_len)
{
	const char *why = "out of memory";
	char *path, **files;
	size_t count;
	int ret = 0;

	if (inc->problem) {
		snprintf(err, err_len, "%s:%u: @include: %s", including, inc->line, inc->problem);
		return -1;
	}
	if (depth >= CONFIG_TEXT_MAX_DEPTH) {
		snprintf(err, err_len, "%s:%u: @include: \"%s\": nested more than %d deep (an include loop?)",
			 including, inc->line, inc->path, CONFIG_TEXT_MAX_DEPTH);
		return -1;
	}
	path = resolve(including, inc->path);
	if (!path || expand(path, &files, &count, &why) < 0) {
		snprintf(err, err_len, "%s:%u: @include: \"%s\": %s", including, inc->line, inc->path, why);
		free(path);
		return -1;
	}
	for (size_t i = 0; ret == 0 && i < count; i++) {
		ret = read_file(t, files[i], depth + 1, err, err_len);
		/* the including file goes on on a line of its own */
		if (ret == 0 && t->len && t->text[t->len - 1] != '\n' && append_bytes(t, "\n", 1) < 0)
			ret = -1;
	}
	free_list(files, count);
	free(path);
	return ret;
}

static int read_file(struct config_text *t, const char *path, unsigned depth, char *err, size_t err_len)
{
	struct config_scan *scan = NULL;
	size_t len, pos = 0;
	unsigned line = 1, file;
	char *text, **files;
	int ret = -1;

	if (t->file_count == CONFIG_TEXT_MAX_FILES) {
		snprintf(err, err_len, "%s:0: file: more than %d configuration files in all", path,
			 CONFIG_TEXT_MAX_FILES);
		return -1;
	}
	files = realloc(t->files, (t->file_count + 1) * sizeof(char *));
	if (!files || !(files[t->file_count] = strdup(path))) {
		if (files)
			t->files = files;
		snprintf(err, err_len, "%s:0: file: out of memory", path);
		return -1;
	}
	t->files = files;
	file = (unsigned)t->file_count++;
	if (t->len >= CONFIG_TEXT_MAX_SIZE) {
		snprintf(err, err_len, "%s:0: file: the configuration is larger than 1 MiB in all", path);
		return -1;
	}
	text = read_text(path, CONFIG_TEXT_MAX_SIZE - t->len, &len, err, err_len);
	if (!text)
		return -1;
	scan = malloc(sizeof(*scan));
	if (!scan) {
		snprintf(err, err_len, "%s:0: file: out of memory", path);
		goto out;
	}
	config_scan(text, len, scan);
	if (scan->nul_line) {
		snprintf(err, err_len, "%s:%u: file: a NUL byte: not a text file", path, scan->nul_line);
		goto out;
	}
	if (scan->include_count > CONFIG_SCAN_MAX_INCLUDES) {
		snprintf(err, err_len, "%s:%u: @include: more than %d in one file", path,
			 scan->includes[CONFIG_SCAN_MAX_INCLUDES - 1].line, CONFIG_SCAN_MAX_INCLUDES);
		goto out;
	}
	for (size_t i = 0; i < scan->include_count; i++) {
		const struct config_scan_include *inc = &scan->includes[i];

		if (append(t, text + pos, inc->start - pos, file, line) < 0 ||
		    include(t, path, inc, depth, err, err_len) < 0)
			goto fail;
		pos = inc->end;
		line = inc->line + 1;
	}
	if (append(t, text + pos, len - pos, file, line) < 0)
		goto fail;
	if (t->len > CONFIG_TEXT_MAX_SIZE) {
		snprintf(err, err_len, "%s:0: file: the configuration is larger than 1 MiB in all", path);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	if (!*err)
		snprintf(err, err_len, "%s:0: file: out of memory", path);
out:
	free(scan);
	free(text);
	return ret;
}

int config_text_read(const char *path, struct config_text *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	out->lines = 1;
	if (err_len)
		err[0] = '\0';
	if (read_file(out, path, 0, err, err_len) < 0)
		return -1;
	if (!out->text && append_bytes(out, "", 0) < 0) {
		snprintf(err, err_len, "%s:0: file: out of memory", path);
		return -1;
	}
	config_scan(out->text, out->len, &out->scan);
	return 0;
}

void config_text_free(struct config_text *t)
{
	free_list(t->files, t->file_count);
	free(t->segments);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

void config_text_where(const struct config_text *t, unsigned line, const char **file, unsigned *file_line)
{
	const struct config_text_segment *seg = NULL;

	for (size_t i = 0; i < t->segment_count && t->segments[i].first <= line; i++)
		seg = &t->segments[i];
	if (!seg || !t->file_count) {
		*file = t->file_count ? t->files[0] : "?";
		*file_line = line;
		return;
	}
	*file = t->files[seg->file];
	*file_line = line ? seg->file_line + (line - seg->first) : 0;
}
