#include "source_options.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "nts_ke_records.h"
#include "packet.h"
#include "source.h"

const struct source_option source_options[] = {
	{ "port", "port", SOURCE_OPTION_INTEGER, 1, 65535 },
	{ "minpoll", "minpoll", SOURCE_OPTION_INTEGER, SOURCE_MIN_POLL, SOURCE_MAX_POLL },
	{ "maxpoll", "maxpoll", SOURCE_OPTION_INTEGER, SOURCE_MIN_POLL, SOURCE_MAX_POLL },
	{ "iburst", "iburst", SOURCE_OPTION_FLAG, 0, 1 },
	{ "maxsources", "maxsources", SOURCE_OPTION_INTEGER, 1, CONFIG_POOL_MAX_SOURCES },
	{ "key", "key", SOURCE_OPTION_INTEGER, 1, UINT32_MAX },
	{ "prefer", "prefer", SOURCE_OPTION_FLAG, 0, 1 },
	{ "noselect", "noselect", SOURCE_OPTION_FLAG, 0, 1 },
	{ "trust", "trust", SOURCE_OPTION_FLAG, 0, 1 },
	{ "require", "require", SOURCE_OPTION_FLAG, 0, 1 },
	{ "maxdelay", "maxdelay", SOURCE_OPTION_NUMBER, 0.0, 1000.0 },
	/* (0, 1] is refused by source_options_conflict, with its own message */
	{ "maxdelayratio", "maxdelayratio", SOURCE_OPTION_NUMBER, 0.0, 1e6 },
	{ "minstratum", "minstratum", SOURCE_OPTION_INTEGER, 0, NTP_MAX_STRATUM - 1 },
	{ "offset", "offset", SOURCE_OPTION_NUMBER, -1000.0, 1000.0 },
	{ "version", "version", SOURCE_OPTION_INTEGER, 1, NTP_VERSION },
	{ "maxsamples", "maxsamples", SOURCE_OPTION_INTEGER, 1, FILTER_SIZE },
	{ "nts", "nts", SOURCE_OPTION_FLAG, 0, 1 },
	{ "nts_port", "ntsport", SOURCE_OPTION_INTEGER, 1, 65535 },
	{ "xleave", "xleave", SOURCE_OPTION_FLAG, 0, 1 },
};
_Static_assert(sizeof(source_options) / sizeof(source_options[0]) == SOURCE_OPTION_COUNT, "one row per option");

void source_options_defaults(struct config_source *src, bool pool)
{
	src->pool = pool;
	src->port = 123;
	src->minpoll = SOURCE_DEFAULT_MINPOLL;
	src->maxpoll = SOURCE_DEFAULT_MAXPOLL;
	src->iburst = false;
	src->maxsources = pool ? 4 : 1;
	src->key = 0;
	src->prefer = src->noselect = src->trust = src->require = false;
	src->maxdelay = 0;
	src->maxdelayratio = 0;
	src->minstratum = 0;
	src->offset = 0;
	src->version = NTP_VERSION;
	src->maxsamples = FILTER_SIZE;
	src->nts = false;
	src->nts_port = NTS_KE_PORT;
	src->xleave = false;
}

const struct source_option *source_option_by_line_name(const char *word)
{
	for (size_t i = 0; i < SOURCE_OPTION_COUNT; i++)
		if (!strcasecmp(word, source_options[i].line_name))
			return &source_options[i];
	return NULL;
}

const struct source_option *source_option_by_name(const char *name)
{
	for (size_t i = 0; i < SOURCE_OPTION_COUNT; i++)
		if (!strcmp(name, source_options[i].name))
			return &source_options[i];
	return NULL;
}

bool source_option_in_range(const struct source_option *opt, double v)
{
	return v >= opt->lo && v <= opt->hi; /* false for a NaN */
}

void source_option_store(struct config_source *src, const struct source_option *opt, double v)
{
	const char *n = opt->name;

	if (!strcmp(n, "port"))
		src->port = (uint16_t)v;
	else if (!strcmp(n, "minpoll"))
		src->minpoll = (int)v;
	else if (!strcmp(n, "maxpoll"))
		src->maxpoll = (int)v;
	else if (!strcmp(n, "iburst"))
		src->iburst = v != 0;
	else if (!strcmp(n, "maxsources"))
		src->maxsources = (unsigned)v;
	else if (!strcmp(n, "key"))
		src->key = (uint32_t)v;
	else if (!strcmp(n, "prefer"))
		src->prefer = v != 0;
	else if (!strcmp(n, "noselect"))
		src->noselect = v != 0;
	else if (!strcmp(n, "trust"))
		src->trust = v != 0;
	else if (!strcmp(n, "require"))
		src->require = v != 0;
	else if (!strcmp(n, "maxdelay"))
		src->maxdelay = v;
	else if (!strcmp(n, "maxdelayratio"))
		src->maxdelayratio = v;
	else if (!strcmp(n, "minstratum"))
		src->minstratum = (unsigned)v;
	else if (!strcmp(n, "offset"))
		src->offset = v;
	else if (!strcmp(n, "version"))
		src->version = (unsigned)v;
	else if (!strcmp(n, "maxsamples"))
		src->maxsamples = (unsigned)v;
	else if (!strcmp(n, "nts"))
		src->nts = v != 0;
	else if (!strcmp(n, "nts_port"))
		src->nts_port = (uint16_t)v;
	else if (!strcmp(n, "xleave"))
		src->xleave = v != 0;
}

const char *source_options_conflict(const struct config_source *src, bool given_maxsources, bool given_nts_port,
				    char *why, size_t why_len)
{
	if (src->minpoll > src->maxpoll) {
		snprintf(why, why_len, "%d is below minpoll %d", src->maxpoll, src->minpoll);
		return "maxpoll";
	}
	if (!src->pool && given_maxsources) {
		snprintf(why, why_len, "only a pool has maxsources");
		return "maxsources";
	}
	if (src->maxdelayratio > 0 && src->maxdelayratio <= 1) {
		snprintf(why, why_len, "%g must be above 1 (a ratio to the least delay), or 0 for no limit",
			 src->maxdelayratio);
		return "maxdelayratio";
	}
	if (src->nts && src->key) {
		snprintf(why, why_len, "a source is either NTS or keyed, not both");
		return "key";
	}
	if (!src->nts && given_nts_port) {
		snprintf(why, why_len, "only an NTS source has an NTS-KE port");
		return "nts_port";
	}
	return NULL;
}
