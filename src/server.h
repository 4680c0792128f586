/* The serving edge: UDP sockets for the serve section, batched receive with
 * kernel timestamps, access list, rate limiter and the pure answer builder
 * (serve.h), then batched sends. The daemon drives it:
 *
 *     srv = server_create(&cfg.serve, keys, err, sizeof(err));   while root: binds
 *     ... drop privileges ...
 *     server_start(srv, err, sizeof(err));     workers, when cfg.threads > 0; NTS keys, KE thread
 *     ... seccomp ...; server_release(srv, seccomp);
 *     loop:
 *         poll() on server_poll_fds() (none when workers serve)
 *         fd ready -> server_handle_ready(srv, fd, revents);
 *         after each engine update -> server_publish(srv, &system);
 *     server_destroy(srv);
 *
 * server_publish and server_get_counters may be called from the main loop
 * while workers serve: the system state goes through a seqlock (readers never
 * block and never take a lock), counters are per-thread relaxed atomics. */
#ifndef STRATA_SERVER_H
#define STRATA_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_keys.h"
#include "engine.h"
#include "ratelimit.h"
#include "serve_config.h"

/* Binds every listen address (SO_REUSEPORT, one socket per worker when
 * threads > 0), sizes SO_RCVBUF and turns on kernel receive timestamps.
 * keys (NULL: none) authenticate requests with a MAC; the keyring must
 * outlive the server and not change while it serves.
 * Until the first server_publish, answers say unsynchronized (stratum 16).
 * Returns NULL with a message naming the address on failure. */
struct server *server_create(const struct serve_config *cfg, const struct auth_keyring *keys, char *err,
			     size_t err_len);

/* Starts cfg->threads workers (none when 0). Call after dropping privileges:
 * threads keep the capabilities they were created with. Returns -1 with a
 * message on failure. */
int server_start(struct server *srv, char *err, size_t err_len);

/* How many sockets server_poll_fds has for the main loop (0 when workers serve). */
size_t server_socket_count(const struct server *srv);

/* After the engine's seccomp filter is installed (or would have been):
 * lets the NTS-KE thread accept, under its own filter when seccomp. */
void server_release(struct server *srv, bool seccomp);

/* The sockets the main loop should poll for POLLIN (writes at most max,
 * returns how many; 0 when workers serve). */
size_t server_poll_fds(const struct server *srv, int *fds, size_t max);

/* Drains one socket poll found ready, as revents says (bounded: at most a
 * few batches per call so the loop stays responsive; poll again and it
 * comes back), with POLLERR the stamps of answers that left since. */
void server_handle_ready(struct server *srv, int fd, short revents);

/* New system state for the answers (after each clock update, and when the
 * sync state changes). Lock-free for the serving side. */
void server_publish(struct server *srv, const struct engine_system *sys);

/* A reload (SIGHUP): new allow and deny lists and rate limits (interval,
 * burst, kod, table_size). Each worker takes them before its next batch, with
 * a fresh rate limiter table (what clients had used up is forgotten). The
 * sockets (listen, port, rcvbuf) and the threads stay as created. Returns -1
 * with a message when the tables cannot be allocated: the old settings stay. */
int server_reconfigure(struct server *srv, const struct serve_config *cfg, char *err, size_t err_len);

/* Sums over the main loop and every worker. */
void server_get_counters(const struct server *srv, struct serve_counters *out);

/* The clients the rate limiters track, the most recently seen first, at
 * most max; from the main loop, while workers serve too. */
size_t server_clients(struct server *srv, struct ratelimit_client *out, size_t max);

/* Stops the workers, closes the sockets. NULL is fine. */
void server_destroy(struct server *srv);

#endif
