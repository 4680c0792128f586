/* setresuid, setresgid */
#define _GNU_SOURCE

#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

bool privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *why, size_t why_len)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(why, why_len, "user \"%s\" %s", user,
			 errno ? strerror(errno) : "does not exist (create it, or set user in the configuration)");
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

/* Leaves exactly CAP_SYS_TIME, or nothing, in the permitted and effective sets. */
static int set_caps(bool keep_sys_time, char *why, size_t why_len)
{
	cap_value_t sys_time = CAP_SYS_TIME;
	cap_flag_value_t have = CAP_CLEAR;
	cap_t caps = cap_get_proc();
	int ret = 0;

	/* Without root nothing can be gained: keep CAP_SYS_TIME only if it was given. */
	if (caps)
		cap_get_flag(caps, CAP_SYS_TIME, CAP_PERMITTED, &have);
	cap_free(caps);
	keep_sys_time = keep_sys_time && have == CAP_SET;
	caps = cap_init();
	if (!caps) {
		snprintf(why, why_len, "cap_init: %s", strerror(errno));
		return -1;
	}
	if (keep_sys_time && (cap_set_flag(caps, CAP_PERMITTED, 1, &sys_time, CAP_SET) < 0 ||
			      cap_set_flag(caps, CAP_EFFECTIVE, 1, &sys_time, CAP_SET) < 0))
		ret = -1;
	if (ret == 0 && cap_set_proc(caps) < 0)
		ret = -1;
	if (ret < 0)
		snprintf(why, why_len, "cannot set capabilities: %s", strerror(errno));
	cap_free(caps);
	return ret;
}

static int trim_bounding_set(bool keep_sys_time, char *why, size_t why_len)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep_sys_time && c == CAP_SYS_TIME) && cap_drop_bound(c) < 0 && errno != EINVAL) {
			snprintf(why, why_len, "cannot drop capability %d from the bounding set: %s", c,
				 strerror(errno));
			return -1;
		}
	return 0;
}

static int set_no_new_privs(char *why, size_t why_len)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		snprintf(why, why_len, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int privdrop_shed(bool keep_sys_time, char *why, size_t why_len)
{
	if (geteuid() == 0 && trim_bounding_set(keep_sys_time, why, why_len) < 0)
		return -1;
	if (set_caps(keep_sys_time, why, why_len) < 0)
		return -1;
	return set_no_new_privs(why, why_len);
}

int privdrop_switch(const char *user, bool keep_sys_time, char *why, size_t why_len)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() == 0) {
		if (!privdrop_lookup(user, &uid, &gid, why, why_len))
			return -1;
		/* Trim the bounding set while CAP_SETPCAP is still ours. */
		if (trim_bounding_set(keep_sys_time, why, why_len) < 0)
			return -1;
		if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0 || setgroups(1, &gid) < 0 ||
		    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
			snprintf(why, why_len, "cannot switch to user \"%s\": %s", user, strerror(errno));
			return -1;
		}
		prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	}
	if (set_caps(keep_sys_time, why, why_len) < 0)
		return -1;
	return set_no_new_privs(why, why_len);
}
