#include "cmocka_all.h"

#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "packet.h"
#include "serve_stamps.h"

static const ntp_ts RX = 0xe8f1a2b3c4d5e6f7ULL; /* odd: as served */

static size_t answer(uint8_t *p, uint8_t mode, ntp_ts rx)
{
	memset(p, 0, NTP_HEADER_LEN);
	p[0] = (uint8_t)(4 << 3 | mode);
	store_be64(p + 32, rx);
	return NTP_HEADER_LEN;
}

/* link layer of link_len bytes, IP of ip_len, UDP, then the answer (and
 * extension fields of extra bytes, as NTS has) */
static size_t frame(uint8_t *f, size_t link_len, size_t ip_len, uint8_t mode, ntp_ts rx, size_t extra)
{
	size_t at = link_len + ip_len, udp_len = 8 + NTP_HEADER_LEN + extra;

	memset(f, 0xab, at); /* headers need not be understood */
	if (ip_len == 20)
		store_be16(f + link_len + 2, (uint16_t)(ip_len + udp_len)); /* IPv4 total length */
	store_be16(f + at, 123);
	store_be16(f + at + 2, 40000);
	store_be16(f + at + 4, (uint16_t)udp_len);
	store_be16(f + at + 6, 0);
	answer(f + at + 8, mode, rx);
	memset(f + at + 8 + NTP_HEADER_LEN, 0x5a, extra);
	return at + udp_len;
}

static void finds_our_answer_in_whatever_frame(void **state)
{
	(void)state;
	uint8_t f[512];
	ntp_ts rx;
	size_t n;

	/* Ethernet + IPv4, Ethernet + IPv6, a VLAN tag, no link layer, NTS-sized */
	const size_t links[] = { 14, 14, 18, 0, 14 }, ips[] = { 20, 40, 20, 20, 40 }, extras[] = { 0, 0, 0, 0, 228 };

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		n = frame(f, links[i], ips[i], NTP_MODE_SERVER, RX, extras[i]);
		rx = 0;
		assert_true(serve_stamps_answer_rx(f, n, &rx));
		assert_true(rx == RX);
	}
	/* the payload alone */
	n = answer(f, NTP_MODE_SERVER, RX);
	assert_true(serve_stamps_answer_rx(f, n, &rx));
	assert_true(rx == RX);
}

static void finds_nothing_that_is_not_our_answer(void **state)
{
	(void)state;
	uint8_t f[512];
	ntp_ts rx;
	size_t n;

	/* a request, an even receive timestamp (a kiss echoing the client's),
	 * a frame cut short */
	n = frame(f, 14, 20, NTP_MODE_CLIENT, RX, 0);
	assert_false(serve_stamps_answer_rx(f, n, &rx));
	n = frame(f, 14, 20, NTP_MODE_SERVER, RX & ~(ntp_ts)1, 0);
	assert_false(serve_stamps_answer_rx(f, n, &rx));
	n = frame(f, 14, 20, NTP_MODE_SERVER, RX, 0);
	assert_false(serve_stamps_answer_rx(f, n - 1, &rx));
	assert_false(serve_stamps_answer_rx(f, 10, &rx));
}

static void a_stamp_is_given_once_and_the_kernels_replaces_ours(void **state)
{
	(void)state;
	struct serve_stamps *t = calloc(1, sizeof(*t));
	struct timespec read = { 1700000000, 100000 }, wire = { 1700000000, 106000 };
	ntp_ts tx;

	assert_non_null(t);
	assert_false(serve_stamps_take(t, RX, &tx));
	serve_stamps_save(t, RX, ntp_ts_from_timespec(read), 0.0);
	/* a stamp before our read, or a second after, is not of this answer */
	assert_false(serve_stamps_kernel(t, RX, (struct timespec){ 1700000000, 99000 }));
	assert_false(serve_stamps_kernel(t, RX, (struct timespec){ 1700000001, 200000 }));
	assert_false(serve_stamps_kernel(t, RX ^ 2, wire));
	assert_true(serve_stamps_kernel(t, RX, wire));
	assert_true(serve_stamps_take(t, RX, &tx));
	assert_true(tx == (ntp_ts_from_timespec(wire) & ~(ntp_ts)1));
	assert_false(serve_stamps_take(t, RX, &tx));
	assert_false(serve_stamps_kernel(t, RX, wire)); /* given out: no more */

	/* our read stands when the kernel's never comes; the smear moves both */
	serve_stamps_save(t, RX, ntp_ts_from_timespec(timespec_add(read, 0.25)), 0.25);
	assert_true(serve_stamps_kernel(t, RX, wire));
	assert_true(serve_stamps_take(t, RX, &tx));
	assert_true(tx == (ntp_ts_from_timespec(timespec_add(wire, 0.25)) & ~(ntp_ts)1));
	free(t);
}

static void only_an_odd_origin_asks(void **state)
{
	(void)state;
	assert_true(serve_stamps_asked(RX, 0x1234, 0x5678));
	assert_false(serve_stamps_asked(RX & ~(ntp_ts)1, 0x1234, 0x5678));
	assert_false(serve_stamps_asked(0, 0, 0x5678));
	/* receive = transmit: a symmetric peer's echo, not a nonce */
	assert_false(serve_stamps_asked(RX, 0x5678, 0x5678));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_our_answer_in_whatever_frame),
		cmocka_unit_test(finds_nothing_that_is_not_our_answer),
		cmocka_unit_test(a_stamp_is_given_once_and_the_kernels_replaces_ours),
		cmocka_unit_test(only_an_odd_origin_asks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
