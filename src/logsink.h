/* Where the daemon's messages go: stderr in the foreground, syslog as a
 * service. Installs itself as the sink of log.h, so the core logs there too. */
#ifndef STRATA_LOGSINK_H
#define STRATA_LOGSINK_H

#include "log.h"

void logsink_use_stderr(const char *program, enum log_level max_level);
void logsink_use_syslog(const char *program, enum log_level max_level);
/* Closes syslog if it was open; messages are dropped afterwards. */
void logsink_fini(void);

#endif
