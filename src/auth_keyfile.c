#include "auth_keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int auth_keyfile_load(const char *path, struct auth_keyring *ring, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int ret = -1;

	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot open the keys file: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s: cannot read the keys file: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: the keys file is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, err_len,
			 "%s: the keys file is %s by others (mode %04o): refusing it; chmod o-rwx %s",
			 path, st.st_mode & S_IROTH ? "readable" : "writable", (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size > AUTH_KEYFILE_MAX_SIZE) {
		snprintf(err, err_len, "%s: the keys file is larger than %d bytes", path, AUTH_KEYFILE_MAX_SIZE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: cannot read the keys file: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ret = auth_keys_parse(text, got, path, ring, err, err_len);
out:
	if (text) {
		explicit_bzero(text, (size_t)st.st_size + 1);
		free(text);
	}
	close(fd);
	return ret;
}
