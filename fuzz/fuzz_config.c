/* libFuzzer harness for the configuration loader: the input is the whole
 * configuration file, read by config_load as the daemon reads it, from an
 * in-memory file (/proc/self/fd/N of a memfd: no disk is touched).
 * Besides "no crash, no undefined behaviour, no leak" (LeakSanitizer) and "no
 * exit" (libFuzzer reports a target that exits), it asserts what the daemon
 * relies on:
 * - a rejected file comes with a message that names the file (or, for an
 *   error in an @include'd one, that file);
 * - an accepted one holds only values the daemon can use (lists as long as
 *   their counts, sources named, poll intervals ordered) and can
 *   be printed back (config_print, as --check-config does). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of an in-memory file holding exactly data. */
static const char *memfile(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

static void check_accepted(const struct daemon_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	/* the lists are as long as they say */
	if ((cfg->source_count && !cfg->sources) || (cfg->serve.allow_count && !cfg->serve.allow) ||
	    (cfg->serve.deny_count && !cfg->serve.deny) || (cfg->serve.listen_count && !cfg->serve.listen))
		abort();
	for (size_t i = 0; i < cfg->source_count; i++) {
		const struct config_source *s = &cfg->sources[i];

		if (s->name[0] == '\0' || strnlen(s->name, sizeof(s->name)) == sizeof(s->name))
			abort();
		if (s->minpoll > s->maxpoll || s->port == 0 || s->maxsources == 0)
			abort();
	}
	out = open_memstream(&text, &len);
	if (!out)
		abort();
	config_print(cfg, out);
	if (fclose(out) != 0 || len == 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon_config cfg;
	const char *path = memfile(data, size);
	char err[512] = "";

	if (config_load(path, &cfg, err, sizeof(err)) == 0) {
		check_accepted(&cfg);
		config_free(&cfg);
	} else if (strncmp(err, path, strlen(path)) != 0 &&
		   !(memmem(data, size, "@include", 8) && err[0] == '/' && strstr(err, ":"))) {
		/* the file's own name, or (an error inside a drop-in) the included file's */
		abort();
	}
	return 0;
}
