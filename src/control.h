/* The control socket: a Unix stream socket (mode 0660, never a network port)
 * where stratactl asks for status. A client sends one line, "COMMAND",
 * "COMMAND json" or "COMMAND verbose", and reads the reply until the daemon closes. The answers
 * come from a handler the daemon installs; this module only moves bytes. */
#ifndef STRATA_CONTROL_H
#define STRATA_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <stdio.h>

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_REPLY_MAX 65536

/* How the reply is laid out. */
enum control_format {
	CONTROL_TEXT = 0,
	CONTROL_VERBOSE,        /* text with a legend and the figures behind the columns */
	CONTROL_JSON,
};

/* Fills out with the reply to command; an unknown command gets an error line. */
typedef void (*control_handler_fn)(void *ctx, const char *command, enum control_format format, FILE *out);

struct control;

/* Creates the socket's directory if needed; the socket and a directory it
 * creates belong to owner:group (uid -1: unchanged). NULL with a message. */
struct control *control_create(const char *path, uid_t owner, gid_t group, control_handler_fn handler,
			       void *ctx, char *why, size_t why_len);
/* Closes everything and removes the socket file. */
void control_destroy(struct control *ctl);

/* Writes the descriptors to poll (at most max); returns how many. */
size_t control_pollfds(const struct control *ctl, struct pollfd *fds, size_t max);
/* Acts on the revents of the descriptors control_pollfds gave. */
void control_dispatch(struct control *ctl, const struct pollfd *fds, size_t count);

/* The client side, for stratactl: sends command and returns the whole reply
 * (NUL-terminated, to free), or NULL with a message. */
char *control_query(const char *path, const char *command, enum control_format format, char *why,
		    size_t why_len);

#endif
