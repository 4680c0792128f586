#include "source.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refid.h"
#include "regress.h"
#include "reply_check.h"

/* A pool member that stays a falseticker this many poll intervals is replaced. */
#define SOURCE_FALSETICKER_POLLS 8
/* Polls before an all-zero reach register means unreachable. */
#define SOURCE_REACH_BITS 8

/* The exchange a reply measures: its own (basic), or the one before it, whose
 * reply left at the reply's transmit time (interleaved). */
struct exchange_stamps {
	struct timespec sent, received; /* T1, T4 */
	ntp_ts server_receive, server_transmit; /* T2, T3 */
	double drift;                   /* added to the offset: the clock's frequency changes since */
	bool interleaved;
};

struct source {
	char name[SOURCE_NAME_LEN];
	struct source_config cfg;       /* cfg.name points at name */
	struct source_limits limits;
	struct filter filter;

	/* polling */
	int poll;
	int poll_floor;                 /* minpoll, or higher after KoD RATE */
	uint8_t reach;
	unsigned polls;                 /* sent, saturating at SOURCE_REACH_BITS */
	bool burst_pending;             /* the next poll starts a burst */
	unsigned burst_left;            /* polls of the current burst still to send */
	struct timespec last_poll;
	struct timespec next_poll;
	double poll_stretch;            /* [0, SOURCE_POLL_RANDOMNESS): this interval's random lengthening */
	bool offline;                   /* chronyc offline: nothing sent, reach stands still */
	unsigned manual_good_left;      /* samples a manual burst still wants, 0: none running */
	unsigned manual_sends_left;     /* requests it may still send */
	bool burst_then_offline;

	/* the request in flight */
	bool outstanding;               /* sent and not yet answered */
	bool have_request;
	ntp_ts sent_transmit;           /* the nonce the server must echo as origin */
	ntp_ts sent_receive;            /* interleaved: the nonce an interleaved reply echoes; 0: basic */
	struct timespec sent_time;      /* T1 */

	/* interleaved mode: the last answered exchange, whose T3' the next reply carries */
	bool have_previous;
	ntp_ts previous_server_receive; /* its T2, as the server sent it */
	struct timespec previous_sent;  /* its T1 */
	struct timespec previous_received; /* its T4 */
	double previous_drift;          /* offset the clock's frequency changes since have added */
	bool previous_sampled;          /* its reply was basic and gave its sample already */
	bool newest_interleaved;        /* the filter's newest sample came from an interleaved reply */
	struct exchange_stamps reply_stamps; /* what the last reply to our request measured */
	bool reply_stamps_set;          /* ... when it got that far */

	/* the server, as of its last authentic reply */
	unsigned stratum;
	uint32_t refid;
	enum ntp_leap leap;
	int8_t server_precision;
	double root_delay;
	double root_dispersion;
	char kiss[5];
	bool stopped;
	char rejection[80];             /* why the last datagram gave no sample, "" after one */

	uint64_t delay_drops;           /* samples dropped by maxdelay or maxdelayratio */
	unsigned ratio_drops_in_row;    /* by maxdelayratio since the last sample taken */

	/* authentication, when cfg.key or cfg.nts */
	uint64_t auth_ok;
	uint64_t auth_failed;
	struct nts_client nts;

	struct source_exchange exchange;

	/* what the engine told us */
	enum source_selection selection;
	struct timespec falseticker_since;
};

static double log2_seconds(int exponent)
{
	return ldexp(1.0, exponent);
}

static int clamp_int(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool valid_poll(int poll)
{
	return poll >= SOURCE_MIN_POLL && poll <= SOURCE_MAX_POLL;
}

/* The noise floor of a measurement: the resolution of both clocks. */
static double precision_sum(const struct source *src)
{
	return log2_seconds(src->limits.precision) + log2_seconds(src->server_precision);
}

static bool is_unreachable(const struct source *src)
{
	return src->reach == 0 && src->polls >= SOURCE_REACH_BITS;
}

struct source *source_create(const struct source_config *cfg, const struct source_limits *limits,
			     struct timespec now)
{
	struct source *src;
	int minpoll = cfg->minpoll, maxpoll = cfg->maxpoll;

	if (!valid_poll(minpoll) || !valid_poll(maxpoll) || minpoll > maxpoll || cfg->version > NTP_VERSION ||
	    cfg->maxsamples > FILTER_SIZE || !(cfg->maxdelay >= 0) || !(cfg->maxdelayratio == 0 || cfg->maxdelayratio > 1) ||
	    cfg->minstratum >= NTP_MAX_STRATUM || !isfinite(cfg->offset) ||
	    (cfg->nts && cfg->key))
		return NULL;
	src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	if (cfg->name)
		snprintf(src->name, sizeof(src->name), "%s", cfg->name);
	else
		netaddr_format_with_port(&cfg->addr, src->name, sizeof(src->name));
	src->cfg = *cfg;
	src->cfg.name = src->name;
	src->limits = *limits;
	if (!(src->limits.max_distance > 0))
		src->limits.max_distance = SOURCE_DEFAULT_MAX_DISTANCE;
	/* Until the server tells its precision, assume it is as fine as ours. */
	src->server_precision = cfg->refclock ? cfg->refclock_precision : limits->precision;
	filter_init(&src->filter, precision_sum(src));
	if (cfg->maxsamples)
		filter_set_size(&src->filter, cfg->maxsamples);
	src->poll = minpoll;
	src->poll_floor = minpoll;
	src->burst_pending = cfg->iburst;
	src->next_poll = now;
	src->last_poll = now;
	src->leap = NTP_LEAP_UNSYNC;
	src->selection = SOURCE_UNUSABLE;
	nts_client_init(&src->nts);
	return src;
}

void source_destroy(struct source *src)
{
	if (src)
		nts_client_deinit(&src->nts);
	free(src);
}

struct nts_client *source_nts(struct source *src)
{
	return src->cfg.nts ? &src->nts : NULL;
}

bool source_nts_ke_done(struct source *src, const struct nts_ke_result *result, struct timespec now)
{
	if (!src->cfg.nts || !nts_client_ke_done(&src->nts, result, now))
		return false;
	if (timespec_diff(src->next_poll, now) > 0)
		src->next_poll = now;
	return true;
}

const char *source_name(const struct source *src)
{
	return src->name;
}

const struct net_addr *source_addr(const struct source *src)
{
	return &src->cfg.addr;
}

void source_set_limits(struct source *src, const struct source_limits *limits)
{
	src->limits.max_distance = limits->max_distance > 0 ? limits->max_distance : SOURCE_DEFAULT_MAX_DISTANCE;
	src->limits.max_jitter = limits->max_jitter;
}

const struct source_config *source_config(const struct source *src)
{
	return &src->cfg;
}

struct timespec source_next_poll(const struct source *src)
{
	return src->next_poll;
}

double source_poll_interval(const struct source *src)
{
	return log2_seconds(src->poll);
}

bool source_stopped(const struct source *src)
{
	return src->stopped;
}

bool source_offline(const struct source *src)
{
	return src->offline;
}

enum ntp_leap source_leap(const struct source *src)
{
	return src->leap;
}

static void end_manual_burst(struct source *src)
{
	src->manual_good_left = 0;
	src->manual_sends_left = 0;
	if (src->burst_then_offline)
		src->offline = true;
	src->burst_then_offline = false;
}

void source_set_online(struct source *src, bool online, struct timespec now)
{
	if (!online) {
		if (src->manual_good_left > 0)
			src->burst_then_offline = true;
		else
			src->offline = true;
		return;
	}
	src->burst_then_offline = false;
	if (!src->offline)
		return;
	src->offline = false;
	/* what was asked before the network went away is not coming back */
	src->outstanding = false;
	src->burst_pending = src->cfg.iburst;
	src->last_poll = now;
	src->next_poll = now;
}

bool source_burst(struct source *src, unsigned good, unsigned max, struct timespec now)
{
	if (good < 1 || good > max || max > SOURCE_MAX_MANUAL_BURST || src->stopped)
		return false;
	src->manual_good_left = good;
	src->manual_sends_left = max;
	if (src->offline) {
		src->offline = false;
		src->burst_then_offline = true;
		src->outstanding = false;
	}
	src->next_poll = now;
	return true;
}

static void schedule_next_poll(struct source *src)
{
	double interval = log2_seconds(src->poll);

	/* a burst is quick, but never slower than the polls the admin asked for */
	if (src->burst_left > 0 || src->manual_good_left > 0)
		interval = fmin(interval, SOURCE_BURST_INTERVAL);

	src->next_poll = timespec_add(src->last_poll, interval * (1.0 + src->poll_stretch));
}

bool source_is_refclock(const struct source *src)
{
	return src->cfg.refclock;
}

uint32_t source_served_refid(const struct source *src)
{
	return src->cfg.refclock ? src->cfg.refid : refid_from_addr(&src->cfg.addr);
}

/* One more poll in the reach register; true when it just made the source
 * unreachable, whose filter is then emptied: hours-old samples must not
 * outrank fresh ones when it comes back. */
static bool shift_reach(struct source *src)
{
	bool was_unreachable = is_unreachable(src);

	src->reach <<= 1;
	if (src->polls < SOURCE_REACH_BITS)
		src->polls++;
	if (was_unreachable || !is_unreachable(src))
		return false;
	filter_reset(&src->filter);
	return true;
}

enum source_result source_refclock_poll(struct source *src, const struct filter_sample *sample,
					enum ntp_leap leap, struct timespec now)
{
	bool became_unreachable = shift_reach(src);

	src->last_poll = now;
	schedule_next_poll(src);
	if (!sample) {
		snprintf(src->rejection, sizeof(src->rejection), "no reading from the reference clock");
		return became_unreachable ? SOURCE_POLL_UNREACHABLE : SOURCE_POLL_SENT;
	}
	src->reach |= 1;
	src->stratum = 0;
	src->refid = src->cfg.refid;
	src->leap = leap;
	src->rejection[0] = '\0';
	if (filter_add(&src->filter, sample, 2 * log2_seconds(src->poll), NULL) != FILTER_UPDATED)
		return SOURCE_SAMPLE_HELD;
	return SOURCE_SAMPLE_ACCEPTED;
}

enum source_result source_poll(struct source *src, struct timespec now, uint64_t random,
			       uint8_t out[SOURCE_REQUEST_MAX], size_t *len)
{
	uint32_t nonce = (uint32_t)random;
	bool was_unreachable = is_unreachable(src);
	bool became_unreachable;
	struct ntp_packet request = {
		.leap = NTP_LEAP_NONE,
		.version = (uint8_t)(src->cfg.version ? src->cfg.version : NTP_VERSION),
		.mode = NTP_MODE_CLIENT,
		.precision = src->limits.precision,
	};

	if (src->stopped || src->offline || src->cfg.refclock)
		return SOURCE_STOPPED;
	src->poll_stretch = SOURCE_POLL_RANDOMNESS * ldexp((double)(random >> 32), -32);
	if (src->cfg.nts && !nts_client_ready(&src->nts)) {
		/* Never plain NTP. Before the first key exchange the polls wait;
		 * later a poll that cannot go out counts as unanswered. */
		if (src->polls > 0) {
			src->reach <<= 1;
			if (src->polls < SOURCE_REACH_BITS)
				src->polls++;
		}
		src->outstanding = false;
		src->last_poll = now;
		schedule_next_poll(src);
		if (len)
			*len = 0;
		snprintf(src->rejection, sizeof(src->rejection), "NTS: no keys or cookies, waiting for a key exchange");
		return SOURCE_NTS_WAITING;
	}

	/* after an unanswered request the server's stamp is of an older reply */
	if (src->outstanding)
		src->have_previous = false;
	became_unreachable = shift_reach(src);
	if (became_unreachable)
		src->burst_pending = src->cfg.iburst;
	if (was_unreachable && src->burst_left == 0 && src->poll < src->cfg.maxpoll)
		/* Do not keep knocking at the same rate on a door nobody opens. */
		src->poll++;

	if (src->burst_pending) {
		src->burst_pending = false;
		src->burst_left = SOURCE_BURST_POLLS;
	}
	if (src->burst_left > 0)
		src->burst_left--;
	if (src->manual_sends_left > 0)
		src->manual_sends_left--;
	src->exchange.requests++;

	request.poll = (int8_t)src->poll;
	/* Honest seconds, random fraction: the fraction is a nonce, T1 is kept
	 * apart, so nothing is lost and a blind spoofer must guess 32 bits. */
	request.transmit = (ntp_ts_from_timespec(now) & ~(ntp_ts)0xffffffffu) | nonce;
	src->sent_receive = 0;
	if (src->cfg.xleave && src->have_previous) {
		request.origin = src->previous_server_receive;
		/* the complement's fraction never equals the transmit's */
		request.receive = (ntp_ts_from_timespec(src->previous_received) & ~(ntp_ts)0xffffffffu) | (uint32_t)~nonce;
		if (request.receive == request.origin)
			request.receive ^= 1;
		src->sent_receive = request.receive;
	}
	packet_encode(&request, out);
	if (len && src->cfg.nts)
		*len = nts_client_request(&src->nts, out, NTP_HEADER_LEN, SOURCE_REQUEST_MAX);
	else if (len)
		*len = src->cfg.key ? auth_mac_append(src->cfg.key, out, NTP_HEADER_LEN,
						      auth_send_digest_len(src->cfg.key))
				    : NTP_HEADER_LEN;

	src->outstanding = true;
	src->have_request = true;
	src->sent_transmit = request.transmit;
	src->sent_time = now;
	src->last_poll = now;
	if (src->manual_good_left > 0 && src->manual_sends_left == 0)
		/* the burst's last request went: it is over, whatever comes back */
		end_manual_burst(src);
	schedule_next_poll(src);
	return became_unreachable ? SOURCE_POLL_UNREACHABLE : SOURCE_POLL_SENT;
}

bool source_transmitted(struct source *src, struct timespec when)
{
	if (!src->outstanding || timespec_diff(when, src->sent_time) < 0.0)
		return false;
	src->sent_time = when;
	return true;
}

static enum source_result handle_kiss(struct source *src, const struct ntp_packet *reply)
{
	refid_ascii(reply->refid, src->kiss);
	switch (reply_kiss_code(reply)) {
	case KISS_DENY:
	case KISS_RSTR:
		src->stopped = true;
		return SOURCE_KOD_STOP;
	case KISS_RATE:
		/* The server's limit wins over our maxpoll, up to SOURCE_MAX_POLL. */
		src->poll = clamp_int(reply->poll > src->poll + 1 ? reply->poll : src->poll + 1,
				      src->poll, SOURCE_MAX_POLL);
		src->poll_floor = src->poll;
		src->burst_pending = false;
		src->burst_left = 0;
		schedule_next_poll(src);
		return SOURCE_KOD_RATE;
	case KISS_NONE:
	case KISS_OTHER:
		break;
	}
	return SOURCE_KOD_OTHER;
}

static void note_server(struct source *src, const struct ntp_packet *reply)
{
	src->stratum = reply->stratum;
	src->refid = reply->refid;
	src->leap = (enum ntp_leap)reply->leap;
}

/* The reply carries a valid MAC under the source's key. */
static bool authentic(const struct source *src, const uint8_t *buf, const struct ntp_packet_trailer *trailer)
{
	const struct auth_key *key = src->cfg.key;

	return trailer->has_mac && trailer->key_id == key->id &&
	       auth_mac_verify(key, buf, trailer->mac_offset, buf + trailer->mac_offset + AUTH_KEY_ID_LEN,
			       trailer->mac_len);
}

static bool server_synchronized(const struct source *src)
{
	if (src->cfg.refclock)
		return src->leap != NTP_LEAP_UNSYNC;
	return src->leap != NTP_LEAP_UNSYNC && src->stratum != 0 && src->stratum < NTP_MAX_STRATUM;
}

/* The server answered but has no time to give (ntpd's stratum 0 INIT, or
 * leap 3 / stratum 16): it is reachable, so its poll must not back off as
 * for a dead server, but it gives no sample. */
static enum source_result unsynchronized(struct source *src, const struct ntp_packet *reply)
{
	note_server(src, reply);
	src->reach |= 1;
	snprintf(src->rejection, sizeof(src->rejection), src->kiss[0] ? "server is unsynchronized (kiss code %s)" :
		 "server is unsynchronized", src->kiss);
	return SOURCE_UNSYNCHRONIZED;
}

static enum source_result reject(struct source *src, enum source_result result, const char *why)
{
	snprintf(src->rejection, sizeof(src->rejection), "%s", why);
	return result;
}

/* chrony's maxdelay and maxdelayratio: a round trip that long was queued, so
 * its offset is worse than the filter would notice when it is all there is. */
static bool delay_exceeded(struct source *src, double delay)
{
	struct filter_sample held[FILTER_SIZE];
	unsigned n = filter_samples(&src->filter, held);
	double least = INFINITY;

	if (src->cfg.maxdelay > 0 && delay > src->cfg.maxdelay) {
		snprintf(src->rejection, sizeof(src->rejection), "delay %.3g s exceeds maxdelay %g s", delay,
			 src->cfg.maxdelay);
		return true;
	}
	for (unsigned i = 0; i < n; i++)
		least = fmin(least, held[i].delay);
	if (src->cfg.maxdelayratio > 0 && n > 0 && delay > src->cfg.maxdelayratio * least) {
		/* a filter's worth of them in a row: the route got longer for
		 * good, and the old least delay would lock the source out */
		if (++src->ratio_drops_in_row >= src->filter.size) {
			filter_reset(&src->filter);
			src->ratio_drops_in_row = 0;
			return false;
		}
		snprintf(src->rejection, sizeof(src->rejection), "delay %.3g s exceeds maxdelayratio %g times %.3g s",
			 delay, src->cfg.maxdelayratio, least);
		return true;
	}
	src->ratio_drops_in_row = 0;
	return false;
}

static struct exchange_stamps exchange_stamps(const struct source *src, const struct ntp_packet *reply,
					      struct timespec receive_time, bool interleaved)
{
	if (interleaved)
		return (struct exchange_stamps){ .sent = src->previous_sent, .received = src->previous_received,
						 .server_receive = src->previous_server_receive,
						 .server_transmit = reply->transmit, .drift = src->previous_drift,
						 .interleaved = true };
	return (struct exchange_stamps){ .sent = src->sent_time, .received = receive_time,
					 .server_receive = reply->receive, .server_transmit = reply->transmit };
}

static void remember_exchange(struct source *src, const struct ntp_packet *reply, struct timespec receive_time,
			      bool interleaved)
{
	src->have_previous = true;
	src->previous_server_receive = reply->receive;
	src->previous_sent = src->sent_time;
	src->previous_received = receive_time;
	src->previous_drift = 0;
	src->previous_sampled = !interleaved;
}

static enum source_result handle_reply(struct source *src, const uint8_t *buf, size_t len,
				       struct timespec receive_time)
{
	struct ntp_packet reply;
	struct ntp_packet_trailer trailer;
	struct filter_sample sample;
	double precision, root_delay, root_dispersion, distance;
	enum packet_status status;
	enum reply_verdict verdict;
	enum source_result kiss;
	struct exchange_stamps stamps;
	bool interleaved, sampled_already;

	src->reply_stamps_set = false;
	if (src->stopped)
		return SOURCE_STOPPED;
	status = packet_decode(buf, len, &reply, &trailer);
	if (status != PACKET_OK) {
		/* a cut MAC lands here: for a keyed source, one more reply without a valid MAC */
		src->auth_failed += src->cfg.key != NULL || src->cfg.nts;
		return reject(src, SOURCE_MALFORMED, packet_status_str(status));
	}
	if (src->cfg.nts) {
		/* Before anything in it is believed, a kiss-o'-death included;
		 * only the NAK is unauthenticated, and needs our identifier. */
		bool nak = reply.stratum == 0 && reply.refid == NTS_KOD_NAK;

		switch (nts_client_reply(&src->nts, buf, len, nak)) {
		case NTS_REPLY_OK:
			src->auth_ok++;
			break;
		case NTS_REPLY_NAK:
			src->outstanding = false;
			snprintf(src->kiss, sizeof(src->kiss), "NTSN");
			return reject(src, SOURCE_NTS_NAK, nts_client_rejection(&src->nts));
		case NTS_REPLY_NO_KEYS:
			src->auth_failed++;
			return reject(src, SOURCE_AUTH_FAILED, "NTS: a reply while we hold no keys");
		case NTS_REPLY_REJECTED:
			src->auth_failed++;
			return reject(src, SOURCE_AUTH_FAILED, nts_client_rejection(&src->nts));
		}
	}
	if (src->cfg.key) {
		/* Before anything in it is believed, a kiss-o'-death included. */
		if (!authentic(src, buf, &trailer)) {
			src->auth_failed++;
			return reject(src, SOURCE_AUTH_FAILED, "no valid MAC under the source's key");
		}
		src->auth_ok++;
	}
	interleaved = src->sent_receive != 0 && reply.origin == src->sent_receive;
	if (!src->outstanding) {
		if (src->have_request && (reply.origin == src->sent_transmit || interleaved))
			return reject(src, SOURCE_DUPLICATE, "duplicate reply");
		return reject(src, SOURCE_BOGUS, "no request outstanding");
	}

	verdict = reply_check(&reply, interleaved ? src->sent_receive : src->sent_transmit);
	switch (verdict) {
	case REPLY_BAD_MODE:
	case REPLY_BAD_VERSION:
	case REPLY_BOGUS_ORIGIN:
		/* Not proven to come from the server: the request stays open. */
		return reject(src, SOURCE_BOGUS, reply_verdict_str(verdict));
	case REPLY_ZERO_TIMESTAMP:
		src->outstanding = false;
		return reject(src, SOURCE_BAD_HEADER, reply_verdict_str(verdict));
	case REPLY_KOD:
		src->outstanding = false;
		kiss = handle_kiss(src, &reply);
		if (kiss == SOURCE_KOD_OTHER && reply.leap == NTP_LEAP_UNSYNC)
			return unsynchronized(src, &reply);
		snprintf(src->rejection, sizeof(src->rejection), "%s (kiss code %s)",
			 kiss == SOURCE_KOD_RATE ? "rate limited by the server" : "kiss-o'-death", src->kiss);
		return kiss;
	case REPLY_UNSYNCHRONIZED:
		src->outstanding = false;
		src->kiss[0] = '\0';
		return unsynchronized(src, &reply);
	case REPLY_OK:
		break;
	}
	src->outstanding = false;
	note_server(src, &reply);
	src->kiss[0] = '\0';

	stamps = exchange_stamps(src, &reply, receive_time, interleaved);
	src->reply_stamps = stamps;
	src->reply_stamps_set = true;
	if (interleaved) {
		/* T3' left after the request before arrived, and before this one did */
		if (ntp_ts_diff(reply.transmit, src->previous_server_receive) < -ldexp(1.0, reply.precision) ||
		    ntp_ts_diff(reply.receive, reply.transmit) < -ldexp(1.0, reply.precision))
			return reject(src, SOURCE_BAD_HEADER,
				      "interleaved: the server's last reply left outside the exchanges around it");
	} else {
		if (reply.reference != 0 && ntp_ts_diff(reply.reference, reply.transmit) > 0)
			return reject(src, SOURCE_BAD_HEADER, "server reference time after its transmit time");
		/* beyond the server's precision: chronyd fills the bits below it with
		 * noise, so a server that answers within it may send T3 just before T2 */
		if (ntp_ts_diff(reply.transmit, reply.receive) < -ldexp(1.0, reply.precision))
			return reject(src, SOURCE_BAD_HEADER, "server transmit time before its receive time");
	}

	sampled_already = interleaved && src->previous_sampled;
	remember_exchange(src, &reply, receive_time, interleaved);
	src->server_precision = reply.precision;
	precision = precision_sum(src);
	filter_set_precision(&src->filter, precision);

	reply_offset_delay(stamps.server_receive, stamps.server_transmit, stamps.sent, stamps.received,
			   &sample.offset, &sample.delay);
	sample.offset += src->cfg.offset + stamps.drift;
	/* A server that takes longer than the whole round trip is lying. */
	if (sample.delay < -precision)
		return reject(src, SOURCE_BAD_HEADER, "server held the request longer than the round trip took");
	sample.delay = fmax(sample.delay, log2_seconds(src->limits.precision));
	sample.dispersion = precision + FILTER_PHI * sample.delay;
	sample.time = stamps.received;

	root_delay = ntp_short_to_seconds(reply.root_delay);
	root_dispersion = ntp_short_to_seconds(reply.root_dispersion);
	distance = (root_delay + sample.delay) / 2 + root_dispersion + sample.dispersion;
	if (distance > src->limits.max_distance) {
		snprintf(src->rejection, sizeof(src->rejection), "root distance %.3g s exceeds the limit of %g s",
			 distance, src->limits.max_distance);
		return SOURCE_TOO_FAR;
	}
	/* the server answered properly: it is reachable, only this sample is not used */
	src->reach |= 1;
	if (delay_exceeded(src, sample.delay)) {
		src->delay_drops++;
		return SOURCE_DELAY_EXCEEDED;
	}
	src->root_delay = root_delay;
	src->root_dispersion = root_dispersion;
	src->rejection[0] = '\0';

	/* the first interleaved reply after a basic one: that exchange counted */
	if (sampled_already)
		return SOURCE_SAMPLE_HELD;
	src->newest_interleaved = interleaved;
	if (filter_add(&src->filter, &sample, 2 * log2_seconds(src->poll), NULL) != FILTER_UPDATED)
		return SOURCE_SAMPLE_HELD;
	return SOURCE_SAMPLE_ACCEPTED;
}

/* A reply to our own request, whatever it gave: kept as it was for ntpdata. */
static bool answered_our_request(enum source_result r)
{
	return r != SOURCE_MALFORMED && r != SOURCE_BOGUS && r != SOURCE_DUPLICATE && r != SOURCE_STOPPED &&
	       r != SOURCE_AUTH_FAILED;
}

static void note_exchange(struct source *src, const uint8_t *buf, size_t len, struct timespec receive_time,
			  enum source_result r)
{
	struct source_exchange *x = &src->exchange;
	struct exchange_stamps stamps;

	if (packet_decode(buf, len, &x->reply, NULL) != PACKET_OK)
		return;
	x->have_reply = true;
	x->t4 = receive_time;
	stamps = src->reply_stamps_set ? src->reply_stamps
				       : exchange_stamps(src, &x->reply, receive_time, false);
	reply_offset_delay(stamps.server_receive, stamps.server_transmit, stamps.sent, stamps.received, &x->offset,
			   &x->delay);
	x->response_time = ntp_ts_diff(stamps.server_transmit, stamps.server_receive);
	x->interleaved = stamps.interleaved;
	x->result = r;
	snprintf(x->rejection, sizeof(x->rejection), "%s", src->rejection);
}

/* A sample counts towards a manual burst; the burst over, the poll goes
 * back to its interval from the last request. */
static void count_burst_sample(struct source *src)
{
	if (src->manual_good_left == 0 || --src->manual_good_left > 0)
		return;
	end_manual_burst(src);
	schedule_next_poll(src);
}

enum source_result source_handle_reply(struct source *src, const uint8_t *buf, size_t len,
				       struct timespec receive_time)
{
	enum source_result r = handle_reply(src, buf, len, receive_time);

	src->exchange.replies++;
	if (answered_our_request(r))
		note_exchange(src, buf, len, receive_time, r);
	if (r == SOURCE_SAMPLE_ACCEPTED || r == SOURCE_SAMPLE_HELD) {
		src->exchange.valid_replies++;
		count_burst_sample(src);
	}
	return r;
}

void source_get_exchange(const struct source *src, struct source_exchange *out)
{
	*out = src->exchange;
}

const char *source_last_rejection(const struct source *src)
{
	return src->rejection;
}

double source_precision(const struct source *src)
{
	return precision_sum(src);
}

bool source_latest_sample(const struct source *src, struct filter_sample *sample)
{
	return filter_latest(&src->filter, sample);
}

void source_correct(struct source *src, struct timespec when, double step, double frequency_change)
{
	filter_correct(&src->filter, when, step, frequency_change);
	/* Local times move with the clock, so a step between request and reply
	 * does not become a bogus delay and polls keep their rhythm. */
	src->sent_time = timespec_add(src->sent_time, step);
	/* the kept exchange's local times move with the clock too; a frequency
	 * change adds to its offset as to the filter's samples */
	src->previous_drift += frequency_change * timespec_diff(when, src->previous_received);
	src->previous_sent = timespec_add(src->previous_sent, step);
	src->previous_received = timespec_add(src->previous_received, step);
	src->last_poll = timespec_add(src->last_poll, step);
	src->next_poll = timespec_add(src->next_poll, step);
	src->falseticker_since = timespec_add(src->falseticker_since, step);
}

enum source_selection source_set_selection(struct source *src, enum source_selection selection,
					   struct timespec now)
{
	enum source_selection previous = src->selection;

	if (selection == SOURCE_FALSETICKER && previous != SOURCE_FALSETICKER)
		src->falseticker_since = now;
	src->selection = selection;
	return previous;
}

void source_set_poll(struct source *src, int poll)
{
	/* Up one step at a time, down at once: a long poll is earned. A KoD
	 * RATE floor above maxpoll is the ceiling too: the server's limit wins. */
	poll = clamp_int(poll > src->poll ? src->poll + 1 : poll, src->poll_floor,
			 src->poll_floor > src->cfg.maxpoll ? src->poll_floor : src->cfg.maxpoll);
	if (poll == src->poll)
		return;
	src->poll = poll;
	if (src->burst_left == 0)
		schedule_next_poll(src);
}

/* Servers on one LAN or host agree to microseconds, closer than their own
 * error bounds say; without the floor their intervals would miss each other
 * and honest servers would be called falsetickers. */
double source_distance(double root_delay, double root_dispersion, double delay, double dispersion, double jitter)
{
	return fmax(SOURCE_MIN_DISTANCE, (root_delay + delay) / 2 + root_dispersion + dispersion + jitter);
}

static double distance_of(const struct source *src, const struct filter_estimate *e)
{
	return source_distance(src->root_delay, src->root_dispersion, e->delay, e->dispersion, e->jitter);
}

double source_root_distance(const struct source *src, struct timespec now)
{
	struct filter_estimate e;

	if (!filter_get(&src->filter, now, &e))
		return INFINITY;
	return distance_of(src, &e);
}

/* What a clock set from this source now inherits (RFC 5905 11.2.3): the
 * server's root dispersion and our newest measurement's own dispersion, grown
 * at PHI since that reply, not since the filter's chosen sample, which may be
 * eight polls old while the discipline uses every sample. */
static double newest_root_dispersion(const struct source *src, struct timespec now)
{
	struct filter_sample last;

	if (!filter_latest(&src->filter, &last))
		return src->root_dispersion;
	return src->root_dispersion + last.dispersion + FILTER_PHI * fmax(0.0, timespec_diff(now, last.time));
}

/* chrony's maxjitter: a source this noisy would only widen the combination. */
static bool jitter_exceeded(const struct source *src, const struct filter_estimate *e)
{
	return src->limits.max_jitter > 0 && e->jitter > src->limits.max_jitter;
}

bool source_select_candidate(const struct source *src, struct timespec now,
			     struct select_candidate *candidate)
{
	struct filter_estimate e;
	double distance;

	if (src->cfg.noselect || src->stopped || is_unreachable(src) || !filter_get(&src->filter, now, &e))
		return false;
	if (!server_synchronized(src))
		return false;
	distance = distance_of(src, &e);
	if (distance > src->limits.max_distance || jitter_exceeded(src, &e))
		return false;
	*candidate = (struct select_candidate){
		.offset = e.offset,
		.root_distance = distance,
		.jitter = e.jitter,
		.root_delay = src->root_delay + e.delay,
		.root_dispersion = newest_root_dispersion(src, now),
		.stratum = src->stratum > src->cfg.minstratum ? src->stratum : src->cfg.minstratum,
		.prefer = src->cfg.prefer,
		.trust = src->cfg.trust,
		.require = src->cfg.require,
	};
	return true;
}

enum source_selection source_unselectable_reason(const struct source *src, struct timespec now)
{
	struct filter_estimate e;

	if (src->cfg.noselect)
		return SOURCE_NOSELECT;
	if (is_unreachable(src))
		return SOURCE_UNREACHABLE;
	if (src->reach != 0 && !server_synchronized(src))
		return SOURCE_SERVER_UNSYNCHRONIZED;
	if (!src->stopped && filter_get(&src->filter, now, &e) && jitter_exceeded(src, &e))
		return SOURCE_JITTER_EXCEEDED;
	return SOURCE_UNUSABLE;
}

/* The line through the filter's samples, valued at now, in chronyc's units. */
static void sample_stats(const struct source *src, struct timespec now, struct source_status *out)
{
	struct filter_sample samples[FILTER_SIZE];
	double x[FILTER_SIZE], y[FILTER_SIZE];
	unsigned n = filter_samples(&src->filter, samples);
	struct regress_line line;

	if (n == 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		x[i] = timespec_diff(samples[i].time, now);
		y[i] = samples[i].offset;
	}
	out->span = x[n - 1] - x[0];
	if (!regress_fit(x, y, n, &line))
		return;
	out->have_stats = true;
	out->runs = line.runs;
	out->residual_frequency_ppm = line.slope * 1e6;
	out->skew_ppm = line.slope_sd * 1e6;
	out->stats_offset = line.intercept;
	out->std_dev = line.residual_sd;
}

void source_get_status(const struct source *src, struct timespec now, struct source_status *out)
{
	struct filter_estimate e;
	struct filter_sample last;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", src->name);
	out->addr = src->cfg.addr;
	out->selection = src->selection;
	out->stratum = src->stratum;
	out->delay_drops = src->delay_drops;
	out->refid = src->refid;
	out->leap = src->leap;
	out->poll = src->poll;
	out->reach = src->reach;
	out->samples = filter_sample_count(&src->filter);
	memcpy(out->kiss, src->kiss, sizeof(out->kiss));
	out->stopped = src->stopped;
	out->unreachable = is_unreachable(src);
	out->key = src->cfg.key;
	out->auth_ok = src->auth_ok;
	out->auth_failed = src->auth_failed;
	out->offline = src->offline;
	out->bursting = src->manual_good_left > 0;
	out->burst_then_offline = src->burst_then_offline;
	out->refclock = src->cfg.refclock;
	out->nts = src->cfg.nts;
	out->prefer = src->cfg.prefer;
	out->noselect = src->cfg.noselect;
	out->trust = src->cfg.trust;
	out->require = src->cfg.require;
	out->maxdelay = src->cfg.maxdelay;
	out->nts_last_ke_age = -1;
	if (src->cfg.nts) {
		nts_client_get_status(&src->nts, &out->nts_status);
		if (out->nts_status.have_last_ke)
			out->nts_last_ke_age = timespec_diff(now, out->nts_status.last_ke);
	}
	out->unsynchronized = src->reach != 0 && !server_synchronized(src);
	out->root_distance = INFINITY;
	if (filter_latest(&src->filter, &last)) {
		out->have_sample = true;
		out->last_rx_age = timespec_diff(now, last.time);
		out->last_offset = last.offset;
		out->last_delay = last.delay;
		out->last_interleaved = src->newest_interleaved;
		/* src->root_* are the last reply's, the one this sample came from */
		out->last_error = (src->root_delay + last.delay) / 2 + src->root_dispersion + last.dispersion;
	}
	sample_stats(src, now, out);
	if (!filter_get(&src->filter, now, &e))
		return;
	out->have_estimate = true;
	out->too_far = distance_of(src, &e) > src->limits.max_distance;
	out->estimate_age = timespec_diff(now, e.time);
	out->offset = e.offset;
	out->delay = e.delay;
	out->dispersion = e.dispersion;
	out->jitter = e.jitter;
	out->root_delay = src->root_delay + e.delay;
	out->root_distance = distance_of(src, &e);
}

bool source_wants_replacement(const struct source *src, struct timespec now)
{
	if (!src->cfg.pool_member)
		return false;
	if (src->stopped || is_unreachable(src))
		return true;
	return src->selection == SOURCE_FALSETICKER &&
	       timespec_diff(now, src->falseticker_since) >= SOURCE_FALSETICKER_POLLS * log2_seconds(src->poll);
}

char source_select_code(const struct source_status *st, const char **why)
{
	/* the verdicts of a selection round first: they saw the source whole */
	switch (st->selection) {
	case SOURCE_SYSTEM_PEER:
		*why = "selected: the system peer";
		return '*';
	case SOURCE_COMBINED:
		*why = "combined with the system peer";
		return '+';
	case SOURCE_FALSETICKER:
		*why = "falseticker: its interval misses the majority's";
		return 'x';
	case SOURCE_TOO_VARIABLE:
		*why = "truechimer left out by clustering: adds most to the jitter";
		return 'D';
	case SOURCE_NOT_PREFERRED:
		*why = "truechimer left out: preferred sources survived";
		return 'P';
	case SOURCE_JITTER_EXCEEDED:
		*why = "its jitter exceeds maxjitter";
		return '~';
	case SOURCE_NOSELECT:
		*why = "noselect: measured, never selected";
		return 'N';
	case SOURCE_UNUSABLE:
	case SOURCE_UNREACHABLE:
	case SOURCE_SERVER_UNSYNCHRONIZED:
		break;
	}
	if (st->stopped) {
		*why = "stopped by a kiss-o'-death";
		return 'N';
	}
	if (st->loop) {
		*why = "synchronized to this daemon: a timing loop";
		return 's';
	}
	if (st->unsynchronized) {
		*why = "the server is unsynchronized";
		return 's';
	}
	if (st->unreachable) {
		*why = st->offline ? "offline, and no sample left" : "unreachable: no sample left";
		return 'M';
	}
	if (!st->have_estimate) {
		*why = st->offline ? "offline, and no sample yet" : "no sample yet";
		return 'M';
	}
	if (st->too_far) {
		*why = "root distance exceeds max_distance";
		return 'd';
	}
	*why = "selectable, but the last round used nothing: no majority, fewer than minsources, or the start-up wait";
	return 'W';
}

const char *source_result_str(enum source_result result)
{
	switch (result) {
	case SOURCE_POLL_SENT:
		return "request sent";
	case SOURCE_POLL_UNREACHABLE:
		return "unreachable (no reply to the last 8 polls)";
	case SOURCE_SAMPLE_ACCEPTED:
		return "sample accepted";
	case SOURCE_SAMPLE_HELD:
		return "sample held back by the clock filter";
	case SOURCE_MALFORMED:
		return "malformed packet";
	case SOURCE_BOGUS:
		return "bogus reply (mode, version or origin mismatch)";
	case SOURCE_DUPLICATE:
		return "duplicate reply";
	case SOURCE_UNSYNCHRONIZED:
		return "server unsynchronized";
	case SOURCE_BAD_HEADER:
		return "invalid header (zero timestamp, reference after transmit, transmit before receive, "
		       "or negative delay)";
	case SOURCE_TOO_FAR:
		return "root distance exceeds max_distance";
	case SOURCE_DELAY_EXCEEDED:
		return "round-trip delay exceeds maxdelay or maxdelayratio";
	case SOURCE_KOD_RATE:
		return "KoD RATE received: polling less often";
	case SOURCE_KOD_STOP:
		return "KoD DENY/RSTR received: source stopped";
	case SOURCE_KOD_OTHER:
		return "KoD received (ignored)";
	case SOURCE_STOPPED:
		return "source stopped";
	case SOURCE_AUTH_FAILED:
		return "not authenticated (MAC or NTS)";
	case SOURCE_NTS_WAITING:
		return "NTS: waiting for a key exchange";
	case SOURCE_NTS_NAK:
		return "NTS NAK: new key exchange needed";
	}
	return "unknown";
}

const char *source_selection_str(enum source_selection selection)
{
	switch (selection) {
	case SOURCE_UNUSABLE:
		return "unusable";
	case SOURCE_UNREACHABLE:
		return "unreachable";
	case SOURCE_SERVER_UNSYNCHRONIZED:
		return "unsynchronized";
	case SOURCE_NOSELECT:
		return "noselect";
	case SOURCE_JITTER_EXCEEDED:
		return "jitter exceeds maxjitter";
	case SOURCE_FALSETICKER:
		return "falseticker";
	case SOURCE_TOO_VARIABLE:
		return "too variable";
	case SOURCE_NOT_PREFERRED:
		return "not preferred";
	case SOURCE_COMBINED:
		return "combined";
	case SOURCE_SYSTEM_PEER:
		return "system peer";
	}
	return "unknown";
}
