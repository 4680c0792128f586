#include "nts_ke_records.h"

#include <string.h>

#include "byteorder.h"

const char *nts_ke_status_str(enum nts_ke_status status)
{
	switch (status) {
	case NTS_KE_OK:
		return "ok";
	case NTS_KE_INCOMPLETE:
		return "message incomplete (no End of Message record)";
	case NTS_KE_TOO_LONG:
		return "message longer than 16384 bytes";
	case NTS_KE_TRAILING_DATA:
		return "data after the End of Message record";
	case NTS_KE_UNKNOWN_CRITICAL:
		return "unrecognized critical record";
	case NTS_KE_NOT_CRITICAL:
		return "record without the critical bit it must have";
	case NTS_KE_BAD_RECORD_LENGTH:
		return "record body of the wrong length";
	case NTS_KE_DUPLICATE_RECORD:
		return "record repeated";
	case NTS_KE_BAD_SERVER_NAME:
		return "bad NTPv4 server name";
	case NTS_KE_COOKIE_TOO_LONG:
		return "cookie longer than 256 bytes";
	case NTS_KE_UNEXPECTED_RECORD:
		return "record not allowed in this message";
	case NTS_KE_NO_NEXT_PROTOCOL:
		return "no Next Protocol record";
	case NTS_KE_TOO_MANY_ENTRIES:
		return "too many AEAD algorithms";
	case NTS_KE_SERVER_ERROR:
		return "server sent an Error record";
	case NTS_KE_NO_NTPV4:
		return "server did not choose NTPv4";
	case NTS_KE_NO_AEAD:
		return "no AEAD algorithm in the response";
	case NTS_KE_AEAD_NOT_OFFERED:
		return "server chose an AEAD algorithm not offered";
	case NTS_KE_NO_COOKIES:
		return "no cookies in the response";
	case NTS_KE_TOO_MANY_VALUES:
		return "more than one protocol or algorithm in the response";
	case NTS_KE_NO_SPACE:
		return "no room to encode the message";
	}
	return "unknown status";
}

uint16_t nts_ke_status_error_code(enum nts_ke_status status)
{
	return status == NTS_KE_UNKNOWN_CRITICAL ? NTS_KE_ERROR_UNRECOGNIZED_CRITICAL : NTS_KE_ERROR_BAD_REQUEST;
}

/* ---- decoding ---- */

struct record {
	uint16_t type; /* without the critical bit */
	bool critical;
	const uint8_t *body;
	size_t len;
};

typedef enum nts_ke_status (*record_fn)(void *ctx, const struct record *rec);

/* Calls fn for every record before the End of Message. */
static enum nts_ke_status walk(const uint8_t *buf, size_t len, record_fn fn, void *ctx)
{
	size_t off = 0;

	for (;;) {
		struct record rec;
		enum nts_ke_status status;

		if (len - off < 4)
			return len >= NTS_KE_MAX_MESSAGE ? NTS_KE_TOO_LONG : NTS_KE_INCOMPLETE;
		rec.type = load_be16(buf + off) & ~NTS_KE_CRITICAL;
		rec.critical = (load_be16(buf + off) & NTS_KE_CRITICAL) != 0;
		rec.len = load_be16(buf + off + 2);
		rec.body = buf + off + 4;
		if (off + 4 + rec.len > NTS_KE_MAX_MESSAGE)
			return NTS_KE_TOO_LONG;
		if (len - off - 4 < rec.len)
			return NTS_KE_INCOMPLETE;
		off += 4 + rec.len;
		if (rec.type == NTS_KE_END_OF_MESSAGE) {
			if (!rec.critical)
				return NTS_KE_NOT_CRITICAL;
			if (rec.len != 0)
				return NTS_KE_BAD_RECORD_LENGTH;
			return off == len ? NTS_KE_OK : NTS_KE_TRAILING_DATA;
		}
		status = fn(ctx, &rec);
		if (status != NTS_KE_OK)
			return status;
	}
}

static enum nts_ke_status once(bool *seen)
{
	if (*seen)
		return NTS_KE_DUPLICATE_RECORD;
	*seen = true;
	return NTS_KE_OK;
}

static enum nts_ke_status read_u16(const struct record *rec, bool *seen, uint16_t *value)
{
	if (rec->len != 2)
		return NTS_KE_BAD_RECORD_LENGTH;
	*value = load_be16(rec->body);
	return once(seen);
}

/* A hostname or address literal: printable ASCII without blanks. */
static enum nts_ke_status read_server(const struct record *rec, bool *seen, char *out)
{
	if (rec->len == 0 || rec->len > NTS_KE_MAX_SERVER_LEN)
		return NTS_KE_BAD_SERVER_NAME;
	for (size_t i = 0; i < rec->len; i++)
		if (rec->body[i] <= ' ' || rec->body[i] > '~')
			return NTS_KE_BAD_SERVER_NAME;
	if (*seen)
		return NTS_KE_DUPLICATE_RECORD;
	memcpy(out, rec->body, rec->len);
	out[rec->len] = '\0';
	return once(seen);
}

/* Records both sides may send. Returns NTS_KE_INCOMPLETE for a type the
 * caller handles. */
static enum nts_ke_status common_record(const struct record *rec, bool *seen_server, char *server, bool *seen_port,
					uint16_t *port)
{
	switch (rec->type) {
	case NTS_KE_NTPV4_SERVER:
		return read_server(rec, seen_server, server);
	case NTS_KE_NTPV4_PORT:
		return read_u16(rec, seen_port, port);
	case NTS_KE_NEXT_PROTOCOL:
	case NTS_KE_ERROR:
	case NTS_KE_WARNING:
	case NTS_KE_AEAD_ALGORITHM:
	case NTS_KE_NEW_COOKIE:
		return NTS_KE_INCOMPLETE;
	default:
		return rec->critical ? NTS_KE_UNKNOWN_CRITICAL : NTS_KE_OK;
	}
}

struct request_state {
	struct nts_ke_request *req;
	bool seen_protocol, seen_aead;
};

static enum nts_ke_status request_record(void *ctx, const struct record *rec)
{
	struct request_state *st = ctx;
	struct nts_ke_request *req = st->req;
	enum nts_ke_status status = common_record(rec, &req->has_server, req->server, &req->has_port, &req->port);

	if (status != NTS_KE_INCOMPLETE)
		return status;
	switch (rec->type) {
	case NTS_KE_NEXT_PROTOCOL:
		if (!rec->critical)
			return NTS_KE_NOT_CRITICAL;
		if (rec->len % 2)
			return NTS_KE_BAD_RECORD_LENGTH;
		for (size_t i = 0; i < rec->len; i += 2)
			if (load_be16(rec->body + i) == NTS_KE_PROTOCOL_NTPV4)
				req->ntpv4 = true;
		return once(&st->seen_protocol);
	case NTS_KE_AEAD_ALGORITHM:
		if (rec->len % 2 || rec->len == 0)
			return NTS_KE_BAD_RECORD_LENGTH;
		if (rec->len / 2 > NTS_KE_MAX_AEADS)
			return NTS_KE_TOO_MANY_ENTRIES;
		status = once(&st->seen_aead); /* before filling: a second list would overflow */
		if (status != NTS_KE_OK)
			return status;
		for (size_t i = 0; i < rec->len; i += 2)
			req->aeads[req->n_aeads++] = load_be16(rec->body + i);
		return NTS_KE_OK;
	default: /* Error, Warning, New Cookie: a server's records */
		return NTS_KE_UNEXPECTED_RECORD;
	}
}

enum nts_ke_status nts_ke_request_decode(const uint8_t *buf, size_t len, struct nts_ke_request *req)
{
	struct request_state st = { .req = req };
	enum nts_ke_status status;

	memset(req, 0, sizeof(*req));
	status = walk(buf, len, request_record, &st);
	if (status == NTS_KE_OK && !st.seen_protocol)
		return NTS_KE_NO_NEXT_PROTOCOL;
	return status;
}

struct response_state {
	struct nts_ke_response *resp;
	bool seen_protocol, seen_aead;
};

static enum nts_ke_status response_record(void *ctx, const struct record *rec)
{
	struct response_state *st = ctx;
	struct nts_ke_response *resp = st->resp;
	enum nts_ke_status status = common_record(rec, &resp->has_server, resp->server, &resp->has_port, &resp->port);

	if (status != NTS_KE_INCOMPLETE)
		return status;
	switch (rec->type) {
	case NTS_KE_NEXT_PROTOCOL:
		if (!rec->critical)
			return NTS_KE_NOT_CRITICAL;
		if (rec->len % 2)
			return NTS_KE_BAD_RECORD_LENGTH;
		if (rec->len > 2)
			return NTS_KE_TOO_MANY_VALUES;
		resp->ntpv4 = rec->len == 2 && load_be16(rec->body) == NTS_KE_PROTOCOL_NTPV4;
		return once(&st->seen_protocol);
	case NTS_KE_ERROR:
		if (!rec->critical)
			return NTS_KE_NOT_CRITICAL;
		return read_u16(rec, &resp->has_error, &resp->error);
	case NTS_KE_WARNING:
		if (!rec->critical)
			return NTS_KE_NOT_CRITICAL;
		return read_u16(rec, &resp->has_warning, &resp->warning);
	case NTS_KE_AEAD_ALGORITHM:
		if (rec->len > 2)
			return NTS_KE_TOO_MANY_VALUES;
		if (rec->len != 2)
			return NTS_KE_BAD_RECORD_LENGTH;
		return read_u16(rec, &resp->has_aead, &resp->aead);
	default: /* NTS_KE_NEW_COOKIE */
		if (rec->len == 0)
			return NTS_KE_BAD_RECORD_LENGTH;
		if (rec->len > NTS_KE_MAX_COOKIE_LEN)
			return NTS_KE_COOKIE_TOO_LONG;
		if (resp->n_cookies == NTS_KE_MAX_COOKIES) {
			resp->cookies_dropped++;
			return NTS_KE_OK;
		}
		resp->cookies[resp->n_cookies].len = (uint16_t)rec->len;
		memcpy(resp->cookies[resp->n_cookies].data, rec->body, rec->len);
		resp->n_cookies++;
		return NTS_KE_OK;
	}
}

enum nts_ke_status nts_ke_response_decode(const uint8_t *buf, size_t len, struct nts_ke_response *resp)
{
	struct response_state st = { .resp = resp };
	enum nts_ke_status status;

	memset(resp, 0, sizeof(*resp));
	status = walk(buf, len, response_record, &st);
	/* an error response may carry nothing but the Error record */
	if (status == NTS_KE_OK && !st.seen_protocol && !resp->has_error)
		return NTS_KE_NO_NEXT_PROTOCOL;
	return status;
}

enum nts_ke_status nts_ke_response_check(const struct nts_ke_response *resp, const uint16_t *offered, size_t n)
{
	if (resp->has_error)
		return NTS_KE_SERVER_ERROR;
	if (!resp->ntpv4)
		return NTS_KE_NO_NTPV4;
	if (!resp->has_aead)
		return NTS_KE_NO_AEAD;
	for (size_t i = 0; i < n; i++)
		if (offered[i] == resp->aead)
			return resp->n_cookies > 0 ? NTS_KE_OK : NTS_KE_NO_COOKIES;
	return NTS_KE_AEAD_NOT_OFFERED;
}

/* ---- encoding ---- */

struct writer {
	uint8_t *out;
	size_t cap, len;
	bool full;
};

static void put_record(struct writer *w, uint16_t type, bool critical, const uint8_t *body, size_t len)
{
	if (w->full || w->cap - w->len < 4 + len) {
		w->full = true;
		return;
	}
	store_be16(w->out + w->len, (uint16_t)(type | (critical ? NTS_KE_CRITICAL : 0)));
	store_be16(w->out + w->len + 2, (uint16_t)len);
	if (len)
		memcpy(w->out + w->len + 4, body, len);
	w->len += 4 + len;
}

static void put_u16(struct writer *w, uint16_t type, bool critical, uint16_t value)
{
	uint8_t body[2];

	store_be16(body, value);
	put_record(w, type, critical, body, 2);
}

static void put_u16_list(struct writer *w, uint16_t type, bool critical, const uint16_t *values, size_t n)
{
	uint8_t body[2 * NTS_KE_MAX_AEADS];

	for (size_t i = 0; i < n; i++)
		store_be16(body + 2 * i, values[i]);
	put_record(w, type, critical, body, 2 * n);
}

static bool server_name_ok(const char *name)
{
	size_t n = strnlen(name, NTS_KE_MAX_SERVER_LEN + 1);

	if (n == 0 || n > NTS_KE_MAX_SERVER_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

static void put_server_and_port(struct writer *w, bool has_server, const char *server, bool has_port, uint16_t port)
{
	if (has_server)
		put_record(w, NTS_KE_NTPV4_SERVER, false, (const uint8_t *)server, strlen(server));
	if (has_port)
		put_u16(w, NTS_KE_NTPV4_PORT, false, port);
}

static enum nts_ke_status finish(struct writer *w, size_t *len)
{
	put_record(w, NTS_KE_END_OF_MESSAGE, true, NULL, 0);
	if (w->full)
		return NTS_KE_NO_SPACE;
	*len = w->len;
	return NTS_KE_OK;
}

enum nts_ke_status nts_ke_request_encode(const struct nts_ke_request *req, uint8_t *out, size_t cap, size_t *len)
{
	static const uint16_t ntpv4 = NTS_KE_PROTOCOL_NTPV4;
	struct writer w = { .out = out, .cap = cap };

	if (req->n_aeads == 0 || req->n_aeads > NTS_KE_MAX_AEADS)
		return NTS_KE_BAD_RECORD_LENGTH;
	if (req->has_server && !server_name_ok(req->server))
		return NTS_KE_BAD_SERVER_NAME;
	put_u16_list(&w, NTS_KE_NEXT_PROTOCOL, true, &ntpv4, 1);
	put_u16_list(&w, NTS_KE_AEAD_ALGORITHM, true, req->aeads, req->n_aeads);
	put_server_and_port(&w, req->has_server, req->server, req->has_port, req->port);
	return finish(&w, len);
}

enum nts_ke_status nts_ke_response_encode(const struct nts_ke_response *resp, uint8_t *out, size_t cap,
					  size_t *len)
{
	static const uint16_t ntpv4 = NTS_KE_PROTOCOL_NTPV4;
	struct writer w = { .out = out, .cap = cap };

	if (resp->n_cookies > NTS_KE_MAX_COOKIES)
		return NTS_KE_TOO_MANY_ENTRIES;
	for (size_t i = 0; i < resp->n_cookies; i++) {
		if (resp->cookies[i].len == 0)
			return NTS_KE_BAD_RECORD_LENGTH;
		if (resp->cookies[i].len > NTS_KE_MAX_COOKIE_LEN)
			return NTS_KE_COOKIE_TOO_LONG;
	}
	if (resp->has_server && !server_name_ok(resp->server))
		return NTS_KE_BAD_SERVER_NAME;
	if (resp->has_error) {
		put_u16(&w, NTS_KE_ERROR, true, resp->error);
		return finish(&w, len);
	}
	put_u16_list(&w, NTS_KE_NEXT_PROTOCOL, true, &ntpv4, resp->ntpv4 ? 1 : 0);
	if (resp->has_warning)
		put_u16(&w, NTS_KE_WARNING, true, resp->warning);
	if (resp->has_aead)
		put_u16(&w, NTS_KE_AEAD_ALGORITHM, true, resp->aead);
	for (size_t i = 0; i < resp->n_cookies; i++)
		put_record(&w, NTS_KE_NEW_COOKIE, false, resp->cookies[i].data, resp->cookies[i].len);
	put_server_and_port(&w, resp->has_server, resp->server, resp->has_port, resp->port);
	return finish(&w, len);
}
