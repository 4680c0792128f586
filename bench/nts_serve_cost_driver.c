/* bench/nts_serve_cost_driver: the user-space cost of one authenticated NTS
 * answer, without the kernel: N times, the request bench/serve --nts sends
 * (a cookie, no placeholders) goes through serve_request and the answer is
 * signed (serve_sign_reply), as the worker loop does. bench/nts_serve_cost
 * counts its instructions under callgrind.
 *
 * Every answer is checked with the client's key, so a broken server cannot
 * look fast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "byteorder.h"
#include "nts_cookie.h"
#include "nts_ef.h"
#include "ratelimit.h"
#include "serve.h"

static void counting_random(void *out, size_t len)
{
	static uint8_t next;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)out)[i] = next++;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	struct nts_master_keys keys = { 0 };
	struct nts_master_key mk = { .id = 7 };
	static struct nts_cookie_keys ck;
	struct nts_key c2s = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32 }, s2c = c2s;
	struct nts_cookie cookie, got[NTS_KE_MAX_COOKIES];
	uint8_t uid[NTS_UID_LEN], req[1024] = { 4 << 3 | 3 }, nonce[NTS_NONCE_LEN] = { 1 };
	struct nts_aead aead;
	struct nts_serve nts = { &ck, counting_random };
	struct ratelimit_config rlc = { .interval = 0.0, .burst = 1, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&rlc);
	struct serve_config cfg = { 0 };
	struct engine_system sys = { .leap = 0, .stratum = 2, .reference_time = { 1700000000, 0 } };
	struct serve_snapshot snap;
	struct acl acl;
	struct net_addr peer;
	static struct serve_reply reply;
	size_t len, reply_len = 0, got_n;

	memset(mk.key, 0x5a, sizeof(mk.key));
	nts_keys_rotate(&keys, &mk, 1);
	memset(c2s.value, 0x11, 32);
	memset(s2c.value, 0x22, 32);
	memset(uid, 0x33, sizeof(uid));
	store_be64(req + 40, 0x0102030405060708ull);
	if (!rl || !nts_cookie_keys_init(&ck, &keys) || !nts_cookie_seal(&ck, &c2s, &s2c, nonce, &cookie) ||
	    !nts_aead_init(&aead, &c2s))
		return 1;
	len = nts_ef_request_append(&aead, uid, sizeof(uid), &cookie, 0, nonce, sizeof(nonce), req, NTP_HEADER_LEN,
				    sizeof(req));
	nts_aead_deinit(&aead);
	acl_from_config(&cfg, &acl);
	serve_snapshot_from_system(&sys, &snap);
	netaddr_parse("127.0.0.1", &peer);
	peer.port = 123;
	for (long i = 0; i < n; i++) {
		struct serve_request r = { .bytes = req, .len = len, .rx = { 1700000100, 0 }, .now = { 100 + i, 0 },
					   .peer = peer, .nts = &nts };

		if (serve_request(&acl, NULL, rl, &snap, &r, &reply) != SERVE_ANSWER || !reply.nts.active)
			return 2;
		serve_stamp_transmit(reply.bytes, (struct timespec){ 1700000100 + i, 5 });
		reply_len = serve_sign_reply(&reply);
		if (reply_len == 0)
			return 3;
	}
	if (n > 0) {
		if (!nts_aead_init(&aead, &s2c) ||
		    nts_ef_reply_check(&aead, reply.bytes, reply_len, uid, sizeof(uid), got, NTS_KE_MAX_COOKIES,
				       &got_n) != NTS_EF_OK ||
		    got_n != 1)
			return 4;
		nts_aead_deinit(&aead);
	}
	printf("%ld answers of %zu bytes to requests of %zu\n", n, reply_len, len);
	ratelimit_destroy(rl);
	nts_cookie_keys_deinit(&ck);
	return 0;
}
