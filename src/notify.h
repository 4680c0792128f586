/* Tells the service manager how the daemon is doing (sd_notify). Without
 * libsystemd (configure --without-systemd, or not found) every call is a
 * no-op, as it is when the daemon was not started by systemd (no
 * NOTIFY_SOCKET in the environment).
 *
 * How stratad uses it:
 *     once the configuration is loaded, the sockets are bound and the
 *     privileges dropped, just before entering the loop:
 *         notify_ready("serving, 3 sources");
 *     when the state people care about changes (sync state, system peer):
 *         notify_status("synchronized to ntp1.example.net, stratum 3");
 *     on SIGHUP, around re-reading the configuration:
 *         notify_reloading(); ...reload...; notify_ready(status);
 *     on SIGTERM, before closing down:
 *         notify_stopping();
 */
#ifndef STRATA_NOTIFY_H
#define STRATA_NOTIFY_H

/* READY=1 with the STATUS= line. */
void notify_ready(const char *status);
/* STATUS= alone: one line shown by systemctl status. */
void notify_status(const char *status);
void notify_reloading(void);
void notify_stopping(void);

#endif
