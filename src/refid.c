#include "refid.h"

#include <stdio.h>
#include <string.h>

#include <nettle/md5.h>

#include "byteorder.h"

uint32_t refid_from_addr(const struct net_addr *addr)
{
	struct net_addr plain = netaddr_unmapped(addr);
	uint8_t digest[MD5_DIGEST_SIZE];
	struct md5_ctx ctx;

	if (plain.family == AF_INET)
		return load_be32(plain.bytes);
	md5_init(&ctx);
	md5_update(&ctx, 16, plain.bytes);
	md5_digest(&ctx, sizeof(digest), digest);
	return load_be32(digest);
}

uint32_t refid_from_name(const char *name)
{
	uint8_t bytes[4] = { 0 };

	memcpy(bytes, name, strnlen(name, 4));
	return load_be32(bytes);
}

void refid_ascii(uint32_t refid, char out[5])
{
	size_t len = 0;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned char c = (unsigned char)(refid >> shift);

		if (c == 0)
			break;
		out[len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[len] = '\0';
}

void refid_format(uint32_t refid, unsigned stratum, char buf[REFID_TEXT_LEN])
{
	if (stratum <= 1) {
		char name[5];

		refid_ascii(refid, name);
		snprintf(buf, REFID_TEXT_LEN, "%s", name);
		return;
	}
	snprintf(buf, REFID_TEXT_LEN, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 0xff,
		 (refid >> 8) & 0xff, refid & 0xff);
}
