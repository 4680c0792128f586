/* sd_notify messages (see notify.h). */
#include "autoconfig.h"

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

/* A status line with a newline would end the STATUS= field early and start
 * another assignment, so newlines become spaces. */
static void send_with_status(const char *state, const char *status)
{
	char clean[256];
	size_t i;

	for (i = 0; status[i] != '\0' && i + 1 < sizeof(clean); i++)
		clean[i] = status[i] == '\n' ? ' ' : status[i];
	clean[i] = '\0';
	if (sd_notifyf(0, "%sSTATUS=%s", state, clean) < 0)
		log_msg(LOG_LEVEL_WARNING, "cannot notify the service manager");
}

void notify_ready(const char *status)
{
	send_with_status("READY=1\n", status);
}

void notify_status(const char *status)
{
	send_with_status("", status);
}

void notify_reloading(void)
{
	struct timespec now;

	/* systemd (253 and later) matches the reload to this time stamp. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

#else

void notify_ready(const char *status)
{
	(void)status;
}

void notify_status(const char *status)
{
	(void)status;
}

void notify_reloading(void)
{
}

void notify_stopping(void)
{
}

#endif
