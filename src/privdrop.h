/* Giving up root once the sockets are open: switch to an unprivileged user,
 * keep only CAP_SYS_TIME (or nothing at all when the clock is not adjusted),
 * and forbid regaining privileges (no_new_privs). */
#ifndef STRATA_PRIVDROP_H
#define STRATA_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Looks the user up; false with a message when it does not exist. */
bool privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *why, size_t why_len);

/* Run as root: switches to user, keeping CAP_SYS_TIME when keep_sys_time.
 * Not root: stays who it is and only sheds capabilities (all of them unless
 * keep_sys_time). Both set no_new_privs. 0, or -1 with a message. */
int privdrop_switch(const char *user, bool keep_sys_time, char *why, size_t why_len);

/* Stays who it is (root too) and gives up every capability but
 * CAP_SYS_TIME when keep_sys_time (and it had it), the bounding set included
 * when root, and sets no_new_privs. 0, or -1 with a message. */
int privdrop_shed(bool keep_sys_time, char *why, size_t why_len);

#endif
