/* The control socket: a Unix stream socket (never a network port) where
 * stratactl asks for status and changes. A client sends one line, "COMMAND
 * [ARGUMENTS...] [json|verbose]", and reads the reply until the daemon
 * closes. The answers come from a handler the daemon installs; this module
 * moves bytes and says who asked.
 *
 * Permissions: the socket is mode 0666, so any local user may connect and
 * read the status (as chronyc may from 127.0.0.1); the kernel tells who is
 * on the other end (SO_PEERCRED, SO_PEERGROUPS), and only root, the daemon's
 * own user and members of the socket's group may change anything.
 *
 * Bounds: a request is one line of at most CONTROL_REQUEST_MAX bytes; a
 * client has CONTROL_CLIENT_TIMEOUT_MS from its connection to the end of its
 * reply, after which it is closed; everything is non-blocking, so a silent
 * or slow client costs the loop nothing but a slot. */
#ifndef STRATA_CONTROL_H
#define STRATA_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <stdio.h>

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_REQUEST_MAX 512
#define CONTROL_CLIENT_TIMEOUT_MS 2000

/* How the reply is laid out. */
enum control_format {
	CONTROL_TEXT = 0,
	CONTROL_VERBOSE,        /* text with a legend and the figures behind the columns */
	CONTROL_JSON,
};

struct control_request {
	const char *command;        /* the first word */
	const char *args;           /* the words after it, without the format; "" when none */
	enum control_format format;
	bool may_change;            /* root, the daemon's user, or a member of the socket's group */
};

/* Fills out with the reply; an error starts with "error: ". */
typedef void (*control_handler_fn)(void *ctx, const struct control_request *req, FILE *out);

struct control;

/* Creates the socket's directory if needed; the socket and a directory it
 * creates belong to owner:group (uid -1: unchanged). NULL with a message. */
struct control *control_create(const char *path, uid_t owner, gid_t group, control_handler_fn handler,
			       void *ctx, char *why, size_t why_len);
/* Closes everything and removes the socket file. */
void control_destroy(struct control *ctl);

/* Writes the descriptors to poll (at most max); returns how many. */
size_t control_pollfds(const struct control *ctl, struct pollfd *fds, size_t max);
/* Acts on the revents of the descriptors control_pollfds gave, and closes
 * the clients whose time is up. */
void control_dispatch(struct control *ctl, const struct pollfd *fds, size_t count);
/* Milliseconds until the oldest client's time is up (for poll), -1: none. */
int control_timeout_ms(const struct control *ctl);

/* The client side, for stratactl: sends command (with its arguments) and returns the whole reply
 * (NUL-terminated, to free), or NULL with a message. */
char *control_query(const char *path, const char *command, enum control_format format, char *why,
		    size_t why_len);

#endif
