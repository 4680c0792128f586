#include "refclock_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/pps.h>
#include <linux/ptp_clock.h>

int refclock_ioctl_system(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

volatile struct refclock_shm_segment *refclock_shm_attach(unsigned unit, char *why, size_t why_len)
{
	int perm = unit < 2 ? 0600 : 0666;
	int id = shmget((key_t)(REFCLOCK_SHM_KEY_BASE + unit), sizeof(struct refclock_shm_segment), IPC_CREAT | perm);
	void *p;

	if (id < 0) {
		snprintf(why, why_len, "shmget NTP%u: %s", unit, strerror(errno));
		return NULL;
	}
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		snprintf(why, why_len, "shmat NTP%u: %s", unit, strerror(errno));
		return NULL;
	}
	return p;
}

void refclock_shm_detach(volatile struct refclock_shm_segment *segment)
{
	if (segment)
		shmdt((const void *)segment);
}

enum refclock_shm_status refclock_shm_read(volatile struct refclock_shm_segment *segment,
					   struct refclock_shm_segment *last, double offset,
					   struct refclock_reading *out)
{
	struct refclock_shm_segment copy;
	enum refclock_shm_status status;

	/* field by field: the writer may be in the middle of an update */
	copy.mode = segment->mode;
	copy.count = segment->count;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	copy.clock_sec = segment->clock_sec;
	copy.clock_usec = segment->clock_usec;
	copy.receive_sec = segment->receive_sec;
	copy.receive_usec = segment->receive_usec;
	copy.leap = segment->leap;
	copy.precision = segment->precision;
	copy.nsamples = segment->nsamples;
	copy.valid = segment->valid;
	copy.clock_nsec = segment->clock_nsec;
	copy.receive_nsec = segment->receive_nsec;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	status = refclock_shm_decode(&copy, segment->count, last, offset, out);
	if (status == REFCLOCK_SHM_OK)
		*last = copy;
	return status;
}

int refclock_sock_open(const char *path, char *why, size_t why_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(why, why_len, "%s: path too long for a socket", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	/* a socket left by an earlier run would make bind fail */
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(why, why_len, "%s: cannot remove the old socket: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(why, why_len, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int refclock_pps_open(struct refclock_pps *pps, const char *path, bool clear_edge, refclock_ioctl_fn ioctl_fn,
		      char *why, size_t why_len)
{
	int want = clear_edge ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT, caps = 0;
	struct pps_kparams params;

	*pps = (struct refclock_pps){ .fd = -1, .clear_edge = clear_edge, .ioctl = ioctl_fn };
	pps->fd = open(path, O_RDWR | O_CLOEXEC);
	if (pps->fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl_fn(pps->fd, PPS_GETCAP, &caps) < 0 || ioctl_fn(pps->fd, PPS_GETPARAMS, &params) < 0) {
		snprintf(why, why_len, "%s: not an RFC 2783 PPS device: %s", path, strerror(errno));
		goto fail;
	}
	if (!(caps & want)) {
		snprintf(why, why_len, "%s: cannot capture the %s edge", path, clear_edge ? "clear" : "assert");
		goto fail;
	}
	if ((params.mode & want) && (params.mode & PPS_TSFMT_TSPEC))
		return 0;
	params.mode |= want | PPS_TSFMT_TSPEC;
	if (ioctl_fn(pps->fd, PPS_SETPARAMS, &params) < 0) {
		snprintf(why, why_len, "%s: cannot set it to capture the %s edge: %s", path,
			 clear_edge ? "clear" : "assert", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(pps->fd);
	pps->fd = -1;
	return -1;
}

int refclock_pps_fetch(struct refclock_pps *pps, struct timespec *edge)
{
	struct pps_fdata data;
	const struct pps_ktime *t;
	uint32_t sequence;

	memset(&data, 0, sizeof(data)); /* a zero timeout: what was captured, at once */
	if (pps->ioctl(pps->fd, PPS_FETCH, &data) < 0)
		return -1;
	sequence = pps->clear_edge ? data.info.clear_sequence : data.info.assert_sequence;
	t = pps->clear_edge ? &data.info.clear_tu : &data.info.assert_tu;
	if (sequence == 0 || (pps->have_sequence && sequence == pps->last_sequence))
		return 0;
	pps->last_sequence = sequence;
	pps->have_sequence = true;
	*edge = (struct timespec){ .tv_sec = (time_t)t->sec, .tv_nsec = t->nsec };
	return 1;
}

int refclock_phc_open(struct refclock_phc *phc, const char *path, refclock_ioctl_fn ioctl_fn, char *why,
		      size_t why_len)
{
	*phc = (struct refclock_phc){ .method = REFCLOCK_PHC_PRECISE, .ioctl = ioctl_fn };
	phc->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (phc->fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static struct timespec timespec_of(const struct ptp_clock_time *t)
{
	return (struct timespec){ .tv_sec = (time_t)t->sec, .tv_nsec = (long)t->nsec };
}

static int read_precise(struct refclock_phc *phc, struct refclock_phc_triple *triples)
{
	struct ptp_sys_offset_precise p;

	memset(&p, 0, sizeof(p));
	if (phc->ioctl(phc->fd, PTP_SYS_OFFSET_PRECISE, &p) < 0)
		return -1;
	triples[0].sys_before = triples[0].sys_after = timespec_of(&p.sys_realtime);
	triples[0].phc = timespec_of(&p.device);
	return 1;
}

static int read_extended(struct refclock_phc *phc, struct refclock_phc_triple *triples)
{
	struct ptp_sys_offset_extended e;

	memset(&e, 0, sizeof(e));
	e.n_samples = REFCLOCK_PHC_SAMPLES;
	if (phc->ioctl(phc->fd, PTP_SYS_OFFSET_EXTENDED, &e) < 0)
		return -1;
	for (unsigned i = 0; i < REFCLOCK_PHC_SAMPLES; i++) {
		triples[i].sys_before = timespec_of(&e.ts[i][0]);
		triples[i].phc = timespec_of(&e.ts[i][1]);
		triples[i].sys_after = timespec_of(&e.ts[i][2]);
	}
	return REFCLOCK_PHC_SAMPLES;
}

static int read_plain(struct refclock_phc *phc, struct refclock_phc_triple *triples)
{
	struct ptp_sys_offset o;

	memset(&o, 0, sizeof(o));
	o.n_samples = REFCLOCK_PHC_SAMPLES;
	if (phc->ioctl(phc->fd, PTP_SYS_OFFSET, &o) < 0)
		return -1;
	/* system, PHC, system, PHC, ..., system */
	for (unsigned i = 0; i < REFCLOCK_PHC_SAMPLES; i++) {
		triples[i].sys_before = timespec_of(&o.ts[2 * i]);
		triples[i].phc = timespec_of(&o.ts[2 * i + 1]);
		triples[i].sys_after = timespec_of(&o.ts[2 * i + 2]);
	}
	return REFCLOCK_PHC_SAMPLES;
}

int refclock_phc_read(struct refclock_phc *phc, struct refclock_phc_triple *triples)
{
	static int (*const readers[])(struct refclock_phc *, struct refclock_phc_triple *) = {
		[REFCLOCK_PHC_PRECISE] = read_precise,
		[REFCLOCK_PHC_EXTENDED] = read_extended,
		[REFCLOCK_PHC_PLAIN] = read_plain,
	};

	while (phc->method != REFCLOCK_PHC_NONE) {
		int n = readers[phc->method](phc, triples);

		/* a driver without the method says so; anything else is a real error */
		if (n >= 0 || (errno != EOPNOTSUPP && errno != ENOTTY && errno != EINVAL))
			return n;
		phc->method++;
	}
	errno = EOPNOTSUPP;
	return -1;
}

const char *refclock_phc_method_str(enum refclock_phc_method method)
{
	switch (method) {
	case REFCLOCK_PHC_PRECISE: return "PTP_SYS_OFFSET_PRECISE";
	case REFCLOCK_PHC_EXTENDED: return "PTP_SYS_OFFSET_EXTENDED";
	case REFCLOCK_PHC_PLAIN: return "PTP_SYS_OFFSET";
	case REFCLOCK_PHC_NONE: return "none";
	}
	return "?";
}
