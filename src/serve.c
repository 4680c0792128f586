#include "serve.h"

#include <string.h>

#include "auth_mac.h"
#include "byteorder.h"
#include "packet.h"
#include "refid.h"

static bool timespec_is_zero(struct timespec t)
{
	return t.tv_sec == 0 && t.tv_nsec == 0;
}

void serve_snapshot_from_system(const struct engine_system *sys, struct serve_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->leap = (uint8_t)sys->leap;
	/* An unsynchronized answer says so twice, whatever the engine reported. */
	out->stratum = sys->leap == NTP_LEAP_UNSYNC ? NTP_MAX_STRATUM : sys->stratum;
	if (out->stratum == 0 || out->stratum > NTP_MAX_STRATUM)
		out->stratum = NTP_MAX_STRATUM;
	if (out->stratum == NTP_MAX_STRATUM)
		out->leap = NTP_LEAP_UNSYNC;
	out->precision = sys->precision;
	out->refid = sys->refid;
	out->reference_time = sys->reference_time;
	out->reference = timespec_is_zero(sys->reference_time) ? 0 :
			 ntp_ts_from_timespec(sys->reference_time);
	out->root_delay = sys->root_delay;
	out->root_dispersion = sys->root_dispersion;
	out->leap_when = sys->leap_when;
	out->leap_sign = sys->leap_sign;
	out->leap_moves_clock = sys->leap_moves_clock;
	out->smear = sys->smear;
	out->dispersion_rate = sys->dispersion_rate;
}

double serve_smear_offset(const struct serve_snapshot *snap, struct timespec rx, struct timespec mono)
{
	bool applied;

	if (snap->smear.shape == LEAP_SMEAR_OFF || !snap->leap_when)
		return 0.0;
	if (!snap->leap_moves_clock)
		applied = false;
	else if (!timespec_is_zero(snap->leap_mono))
		applied = timespec_diff(mono, snap->leap_mono) >= 0.0;
	else
		applied = rx.tv_sec >= snap->leap_when;
	return leap_smear_offset(&snap->smear, snap->leap_when, snap->leap_sign, timespec_to_double(rx), applied);
}

/* A usable stratum without a reference time: the local clock itself is the
 * reference (local_stratum), read at every answer. */
static bool serves_local_clock(const struct serve_snapshot *snap)
{
	return snap->stratum < NTP_MAX_STRATUM && timespec_is_zero(snap->reference_time);
}

/* The dispersion a client inherits grows since our last update at the rate
 * the engine gives (RFC 5905's PHI there, our skew here: engine.c's
 * dispersion_rate); with no update ever it is as large as the format holds. */
static double dispersion_at(const struct serve_snapshot *snap, struct timespec now)
{
	double age;

	if (serves_local_clock(snap))
		return snap->root_dispersion;
	if (timespec_is_zero(snap->reference_time))
		return 1e9;
	age = timespec_diff(now, snap->reference_time);
	if (age < 0.0)
		age = 0.0;
	return snap->root_dispersion + snap->dispersion_rate * age;
}

static enum serve_verdict check_request(const uint8_t *req, size_t len, struct ntp_packet *request,
				       struct ntp_packet_trailer *trailer)
{
	if (packet_decode(req, len, request, trailer) != PACKET_OK)
		return SERVE_DROP_MALFORMED;
	/* A crypto-NAK is a server's word: in a request it means nothing. */
	if (trailer->has_mac && trailer->mac_len == 0)
		return SERVE_DROP_MALFORMED;
	if (request->version < 1 || request->version > NTP_VERSION)
		return SERVE_DROP_VERSION;
	if (request->mode != NTP_MODE_CLIENT)
		return SERVE_DROP_MODE;
	if (request->transmit == 0)
		return SERVE_DROP_ZERO_TRANSMIT;
	return SERVE_REPLY;
}

static void encode_reply(const struct ntp_packet *request, const struct serve_snapshot *snap, struct timespec rx,
			 uint8_t out[NTP_HEADER_LEN])
{
	struct ntp_packet reply = {
		.leap = snap->leap,
		.version = request->version,
		.mode = NTP_MODE_SERVER,
		.stratum = snap->stratum,
		.poll = request->poll,
		.precision = snap->precision,
		.root_delay = ntp_short_from_seconds(snap->root_delay),
		.root_dispersion = ntp_short_from_seconds(dispersion_at(snap, rx)),
		.refid = snap->refid,
		.reference = serves_local_clock(snap) ? ntp_ts_from_timespec(rx) : snap->reference,
		.origin = request->transmit,
		.receive = serve_stamps_mark_rx(ntp_ts_from_timespec(rx)),
		.transmit = 0,
	};

	packet_encode(&reply, out);
}

/* A kiss-o'-death (RATE, or NTSN for NTS): stratum 0, the code as refid,
 * and receive and transmit repeating the client's own timestamp: a kiss
 * says nothing about our clock. */
static void encode_kod(const struct ntp_packet *request, const char *code, uint8_t out[NTP_HEADER_LEN])
{
	struct ntp_packet kod = {
		.leap = NTP_LEAP_UNSYNC,
		.version = request->version,
		.mode = NTP_MODE_SERVER,
		.stratum = 0,
		.poll = request->poll,
		.refid = refid_from_name(code),
		.origin = request->transmit,
		.receive = request->transmit,
		.transmit = request->transmit,
	};

	packet_encode(&kod, out);
}

enum serve_verdict serve_build_reply(const uint8_t *req, size_t len, const struct serve_snapshot *snap,
				     struct timespec rx, uint8_t out[NTP_HEADER_LEN])
{
	struct ntp_packet request;
	struct ntp_packet_trailer trailer;
	enum serve_verdict verdict = check_request(req, len, &request, &trailer);

	if (verdict == SERVE_REPLY)
		encode_reply(&request, snap, rx, out);
	return verdict;
}

void serve_stamp_transmit(uint8_t reply[NTP_HEADER_LEN], struct timespec tx)
{
	store_be64(reply + NTP_TRANSMIT_OFFSET, serve_stamps_mark_tx(ntp_ts_from_timespec(tx)));
}

void serve_reply_sending(struct serve_reply *reply, struct serve_stamps *stamps, struct timespec now)
{
	struct timespec served = timespec_add(now, reply->smear);

	if (!reply->interleaved)
		serve_stamp_transmit(reply->bytes, served);
	if (reply->remember && stamps)
		serve_stamps_save(stamps, load_be64(reply->bytes + NTP_RECEIVE_OFFSET), ntp_ts_from_timespec(served),
				  reply->smear);
}

const char *serve_verdict_str(enum serve_verdict verdict)
{
	switch (verdict) {
	case SERVE_REPLY:
		return "reply";
	case SERVE_DROP_MALFORMED:
		return "malformed";
	case SERVE_DROP_VERSION:
		return "unsupported version";
	case SERVE_DROP_MODE:
		return "not a client request";
	case SERVE_DROP_ZERO_TRANSMIT:
		return "zero transmit timestamp";
	}
	return "unknown";
}

/* The key the request's MAC is valid under, or NULL. */
static const struct auth_key *authenticate(const struct auth_keyring *keys, const struct serve_request *req,
					   const struct ntp_packet_trailer *trailer)
{
	const struct auth_key *key = auth_keyring_find(keys, trailer->key_id);

	if (!key || !auth_mac_verify(key, req->bytes, trailer->mac_offset,
				     req->bytes + trailer->mac_offset + AUTH_KEY_ID_LEN, trailer->mac_len))
		return NULL;
	return key;
}

enum serve_outcome serve_request(const struct acl *acl, const struct auth_keyring *keys, struct ratelimit *rl,
				 const struct serve_snapshot *snap, const struct serve_request *req,
				 struct serve_reply *reply)
{
	struct ntp_packet request;
	struct ntp_packet_trailer trailer;
	struct nts_ef_fields fields;
	enum nts_serve_form nts_form = NTS_SERVE_PLAIN;
	enum ratelimit_verdict rate;
	ntp_ts tx;

	if (req->peer.port == 0)
		return SERVE_MALFORMED;
	if (!acl_allows(acl, &req->peer))
		return SERVE_DENIED;
	/* decoded once; encoded only when something is sent */
	if (req->truncated || check_request(req->bytes, req->len, &request, &trailer) != SERVE_REPLY)
		return SERVE_MALFORMED;
	if (req->nts && trailer.extension_fields && !trailer.has_mac) {
		nts_form = nts_serve_parse(req->bytes, req->len, &fields);
		if (nts_form == NTS_SERVE_MALFORMED)
			return SERVE_MALFORMED;
	}
	rate = ratelimit_check(rl, &req->peer, req->now);
	if (rate == RATELIMIT_DROP)
		return SERVE_LIMITED;
	reply->key = NULL;
	reply->nts.active = false;
	reply->nts_nak = false;
	reply->interleaved = false;
	reply->remember = false;
	/* After the rate limiter too: a flood of forged cookies costs a
	 * limited client nothing but a table lookup. */
	if (nts_form == NTS_SERVE_REQUEST && rate != RATELIMIT_KOD) {
		switch (nts_serve_authenticate(req->nts, req->bytes, req->len, &fields, &reply->nts)) {
		case NTS_SERVE_AUTH_FAILED:
			return SERVE_NTS_AUTH_FAILED;
		case NTS_SERVE_NAK:
			reply->nts_nak = true;
			encode_kod(&request, "NTSN", reply->bytes);
			return SERVE_NTS_NAK;
		case NTS_SERVE_OK:
			break;
		}
	}
	/* After the rate limiter: a flood of forged MACs costs one lookup each,
	 * not a digest. Like chronyd, a MAC that fails gets no answer: a
	 * crypto-NAK would be unauthenticated anyway. */
	if (trailer.has_mac) {
		reply->key = authenticate(keys, req, &trailer);
		if (!reply->key)
			return SERVE_AUTH_FAILED;
		reply->digest_len = trailer.mac_len; /* as long as the request's: no amplification */
	}
	if (rate == RATELIMIT_KOD) {
		encode_kod(&request, "RATE", reply->bytes);
		return SERVE_KISS;
	}
	/* the smear moves what is served, never what the clock reads */
	reply->smear = serve_smear_offset(snap, req->rx, req->now);
	encode_reply(&request, snap, timespec_add(req->rx, reply->smear), reply->bytes);
	reply->remember = req->stamps && request.version == NTP_VERSION &&
			  serve_stamps_asked(request.origin, request.receive, request.transmit);
	if (reply->remember && serve_stamps_take(req->stamps, request.origin, &tx)) {
		/* the client's nonce as origin, our last answer's leaving as transmit */
		reply->interleaved = true;
		store_be64(reply->bytes + NTP_ORIGIN_OFFSET, request.receive);
		store_be64(reply->bytes + NTP_TRANSMIT_OFFSET, tx);
	}
	return SERVE_ANSWER;
}

size_t serve_sign_reply(struct serve_reply *reply)
{
	if (reply->nts.active)
		return nts_serve_append(&reply->nts, reply->nts_nak, reply->bytes, NTP_HEADER_LEN);
	if (!reply->key)
		return NTP_HEADER_LEN;
	return auth_mac_append(reply->key, reply->bytes, NTP_HEADER_LEN, reply->digest_len);
}
