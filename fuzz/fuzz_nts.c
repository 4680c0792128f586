/* libFuzzer harness for the NTS bytes a peer controls: NTS-KE messages (a
 * client's request as the server reads it, a server's response as the
 * client reads it) and the NTS extension fields of NTP packets. Besides "no
 * crash, no undefined behaviour" it asserts:
 * - a message that decodes encodes back to one that decodes to the same
 *   struct (the codec is its own inverse on what it accepts);
 * - the field walk never points outside the packet, and the authenticator's
 *   nonce and ciphertext lie inside its field;
 * - the client's reply check never accepts the fuzzer's bytes under a key
 *   they cannot know, and a reply we build from them verifies. */
#include <stdlib.h>
#include <string.h>

#include "nts_ef.h"
#include "nts_ke_records.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[NTS_KE_MAX_MESSAGE + 4096];

static void request_round_trip(const uint8_t *data, size_t size)
{
	struct nts_ke_request req, again;
	size_t len;

	if (nts_ke_request_decode(data, size, &req) != NTS_KE_OK || req.n_aeads == 0)
		return;
	if (nts_ke_request_encode(&req, out, sizeof(out), &len) != NTS_KE_OK)
		abort();
	if (nts_ke_request_decode(out, len, &again) != NTS_KE_OK || again.n_aeads != req.n_aeads ||
	    memcmp(again.aeads, req.aeads, req.n_aeads * sizeof(req.aeads[0])) != 0 || !again.ntpv4 ||
	    again.has_server != req.has_server || strcmp(again.server, req.server) != 0 ||
	    again.has_port != req.has_port || again.port != req.port)
		abort();
}

static void response_round_trip(const uint8_t *data, size_t size)
{
	static struct nts_ke_response resp, again;
	size_t len;

	if (nts_ke_response_decode(data, size, &resp) != NTS_KE_OK)
		return;
	if (nts_ke_response_encode(&resp, out, sizeof(out), &len) != NTS_KE_OK)
		abort();
	if (nts_ke_response_decode(out, len, &again) != NTS_KE_OK || again.has_error != resp.has_error)
		abort();
	if (resp.has_error)
		return; /* the error alone is encoded */
	if (again.ntpv4 != resp.ntpv4 || again.has_aead != resp.has_aead || again.aead != resp.aead ||
	    again.n_cookies != resp.n_cookies || again.has_warning != resp.has_warning ||
	    again.warning != resp.warning || strcmp(again.server, resp.server) != 0 || again.port != resp.port)
		abort();
	for (size_t i = 0; i < resp.n_cookies; i++)
		if (again.cookies[i].len != resp.cookies[i].len ||
		    memcmp(again.cookies[i].data, resp.cookies[i].data, resp.cookies[i].len) != 0)
			abort();
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	return p >= data && (size_t)(p - data) <= size && n <= size - (size_t)(p - data);
}

static void fields(const uint8_t *data, size_t size, const struct nts_aead *key)
{
	static const uint8_t uid[NTS_UID_LEN] = { 1 };
	struct nts_ef_fields f;
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
	size_t n;

	if (nts_ef_parse(data, size, &f) == NTS_EF_OK) {
		if ((f.uid && !inside(f.uid, f.uid_len, data, size)) ||
		    (f.cookie && !inside(f.cookie, f.cookie_len, data, size)))
			abort();
		if (f.has_auth && (f.auth_offset < NTP_HEADER_LEN || f.auth_offset >= size || f.nonce_len == 0 ||
				   !inside(f.nonce, f.nonce_len, data, size) ||
				   !inside(f.ciphertext, f.ciphertext_len, data, size)))
			abort();
	}
	/* the fuzzer's bytes never authenticate under our key */
	if (nts_ef_reply_check(key, data, size, uid, sizeof(uid), cookies, NTS_KE_MAX_COOKIES, &n) == NTS_EF_OK)
		abort();
	(void)nts_ef_has_uid(data, size, uid, sizeof(uid));
}

/* A reply we build with cookies cut from the input verifies and gives them back. */
static void reply_round_trip(const uint8_t *data, size_t size, const struct nts_aead *key)
{
	static uint8_t pkt[NTP_HEADER_LEN + 4096];
	static const uint8_t uid[NTS_UID_LEN] = { 2 }, nonce[NTS_NONCE_LEN] = { 3 };
	struct nts_cookie cookies[3], got[NTS_KE_MAX_COOKIES];
	size_t n_cookies = 0, off = 0, len, n;

	while (n_cookies < 3 && off < size) {
		/* a cookie comes back as it went only in multiples of 4 and at
		 * least 12 bytes (RFC 7822's 16-byte fields); real ones are >= 16 */
		size_t take = 12 + 4 * (data[off] % 16);

		off++;
		if (size - off < take)
			break;
		cookies[n_cookies].len = (uint16_t)take;
		memcpy(cookies[n_cookies].data, data + off, take);
		n_cookies++;
		off += take;
	}
	memset(pkt, 0, NTP_HEADER_LEN);
	len = nts_ef_reply_append(key, uid, sizeof(uid), cookies, n_cookies, nonce, sizeof(nonce), pkt,
				  NTP_HEADER_LEN, sizeof(pkt));
	if (len == 0 || nts_ef_reply_check(key, pkt, len, uid, sizeof(uid), got, NTS_KE_MAX_COOKIES, &n) != NTS_EF_OK ||
	    n != n_cookies)
		abort();
	for (size_t i = 0; i < n; i++)
		if (got[i].len != cookies[i].len || memcmp(got[i].data, cookies[i].data, got[i].len) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nts_aead key;
	static bool keyed;

	if (!keyed) {
		struct nts_key k = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32, .value = { 7 } };

		if (!nts_aead_init(&key, &k))
			abort();
		keyed = true;
	}
	request_round_trip(data, size);
	response_round_trip(data, size);
	fields(data, size, &key);
	reply_round_trip(data, size, &key);
	return 0;
}
