/* Sockets handed over by the service manager (systemd socket activation:
 * LISTEN_PID and LISTEN_FDS, descriptors from 3 on). A listening socket
 * whose address is one stratad would bind is taken instead of binding its
 * own, so the service needs no CAP_NET_BIND_SERVICE for port 123. */
#ifndef STRATA_LISTENFDS_H
#define STRATA_LISTENFDS_H

#include "netaddr.h"

/* A new descriptor (close-on-exec, non-blocking) for the handed-over
 * datagram socket bound to exactly local (address and port), or -1 when
 * there is none. May be asked again for the same address (one per serving
 * thread). */
int listenfds_take(const struct net_addr *local);

/* Closes the handed-over sockets, logging those never taken (an address in
 * the socket unit but not in serve.listen). */
void listenfds_close(void);

#endif
