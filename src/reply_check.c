#include "reply_check.h"

#include "refid.h"

enum reply_verdict reply_check(const struct ntp_packet *reply, ntp_ts sent_transmit)
{
	if (reply->mode != NTP_MODE_SERVER)
		return REPLY_BAD_MODE;
	if (reply->version < 1 || reply->version > 4)
		return REPLY_BAD_VERSION;
	if (reply->origin != sent_transmit)
		return REPLY_BOGUS_ORIGIN;
	if (reply->stratum == 0)
		return REPLY_KOD;
	if (reply->transmit == 0 || reply->receive == 0)
		return REPLY_ZERO_TIMESTAMP;
	if (reply->leap == NTP_LEAP_UNSYNC || reply->stratum >= NTP_MAX_STRATUM)
		return REPLY_UNSYNCHRONIZED;
	return REPLY_OK;
}

enum kiss_code reply_kiss_code(const struct ntp_packet *reply)
{
	if (reply->stratum != 0)
		return KISS_NONE;
	if (reply->refid == refid_from_name("DENY"))
		return KISS_DENY;
	if (reply->refid == refid_from_name("RSTR"))
		return KISS_RSTR;
	if (reply->refid == refid_from_name("RATE"))
		return KISS_RATE;
	return KISS_OTHER;
}

const char *reply_verdict_str(enum reply_verdict verdict)
{
	switch (verdict) {
	case REPLY_OK:
		return "ok";
	case REPLY_BAD_MODE:
		return "not a server reply (wrong mode)";
	case REPLY_BAD_VERSION:
		return "unsupported NTP version";
	case REPLY_ZERO_TIMESTAMP:
		return "zero receive or transmit timestamp";
	case REPLY_BOGUS_ORIGIN:
		return "origin timestamp does not match our request (bogus or replayed)";
	case REPLY_KOD:
		return "kiss-o'-death";
	case REPLY_UNSYNCHRONIZED:
		return "server is unsynchronized";
	}
	return "unknown";
}

void reply_offset_delay(ntp_ts server_receive, ntp_ts server_transmit, struct timespec sent,
			struct timespec received, double *offset, double *delay)
{
	struct timespec t2 = ntp_ts_to_timespec(server_receive, received);
	struct timespec t3 = ntp_ts_to_timespec(server_transmit, received);

	*offset = (timespec_diff(t2, sent) + timespec_diff(t3, received)) / 2;
	*delay = timespec_diff(received, sent) - timespec_diff(t3, t2);
}
