/* Drops privileges as stratad does and prints what the kernel then says
 * about the process (the Uid, Gid, CapEff, CapPrm, CapBnd and NoNewPrivs
 * lines of /proc/self/status). It calls no clock function at all, so it may
 * keep CAP_SYS_TIME to show that the drop keeps exactly that capability.
 * usage: privdrop_probe USER keep|none */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "privdrop.h"

int main(int argc, char **argv)
{
	char why[256], line[256];
	FILE *status;

	if (argc != 3 || (strcmp(argv[2], "keep") && strcmp(argv[2], "none"))) {
		fprintf(stderr, "usage: privdrop_probe USER keep|none\n");
		return 2;
	}
	if (privdrop_switch(argv[1], !strcmp(argv[2], "keep"), why, sizeof(why)) < 0) {
		fprintf(stderr, "privdrop_probe: %s\n", why);
		return 1;
	}
	status = fopen("/proc/self/status", "r");
	if (!status)
		return 1;
	while (fgets(line, sizeof(line), status))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Cap", 3) ||
		    !strncmp(line, "NoNewPrivs:", 11))
			fputs(line, stdout);
	fclose(status);
	return 0;
}
