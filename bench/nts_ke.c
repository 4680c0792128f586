/* bench/serve's key exchange: one NTS-KE with a server (the product's own
 * client, nts_ke_client.h), printing what the load generator needs to
 * send authenticated requests on its own:
 *
 *   nts_ke ADDR PORT CAFILE   ->   c2s HEX\ncookie HEX\n
 *
 * The load generator replays the one cookie: servers keep no state per
 * cookie, so each request costs the server a whole NTS answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nts_ke_client.h"

static void hex(const char *name, const uint8_t *p, size_t len)
{
	printf("%s ", name);
	for (size_t i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct nts_ke_client_config cfg = { .timeout = 5.0 };
	struct nts_ke_result result;
	char err[256];

	if (argc != 4) {
		fprintf(stderr, "usage: nts_ke ADDR PORT CAFILE\n");
		return 2;
	}
	snprintf(cfg.name, sizeof(cfg.name), "%s", argv[1]);
	cfg.port = (uint16_t)atoi(argv[2]);
	snprintf(cfg.trusted_certs, sizeof(cfg.trusted_certs), "%s", argv[3]);
	if (!nts_ke_client_exchange(&cfg, &result, err, sizeof(err)) || result.n_cookies == 0) {
		fprintf(stderr, "nts_ke: %s\n", err);
		return 1;
	}
	hex("c2s", result.c2s.value, result.c2s.len);
	hex("cookie", result.cookies[0].data, result.cookies[0].len);
	return 0;
}
