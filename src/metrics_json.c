/* stratactl metrics --json: the figures metrics_visit walks, as one JSON
 * document with the Prometheus names, so a script reads the same numbers as
 * the node_exporter textfile without parsing the exposition format. */
#include "metrics_json.h"

#include <string.h>

#include "json_writer.h"
#include "netaddr.h"

struct walk {
	const struct metrics_snapshot *snap;
	struct json_writer w;
	const char *group;      /* the object open, NULL before the first */
	size_t source;
};

/* Closes the object of the previous group or source and opens this one's. */
static void enter(struct walk *k, const struct metrics_value *v)
{
	bool same_group = k->group && !strcmp(k->group, v->group);

	if (same_group && (strcmp(v->group, "source") || k->source == v->source))
		return;
	if (k->group)
		json_end_object(&k->w);
	if (k->group && !strcmp(k->group, "source") && strcmp(v->group, "source"))
		json_end_array(&k->w);
	if (!strcmp(v->group, "source")) {
		const struct source_status *s = &k->snap->sources[v->source];
		char addr[NETADDR_TEXT_LEN];

		if (!same_group)
			json_begin_array(&k->w, "sources");
		json_begin_object(&k->w, NULL);
		json_string(&k->w, "name", s->name);
		netaddr_format_with_port(&s->addr, addr, sizeof(addr));
		json_string(&k->w, "address", addr);
	} else {
		json_begin_object(&k->w, v->group);
	}
	k->group = v->group;
	k->source = v->source;
}

static void figure(void *ctx, const struct metrics_value *v)
{
	struct walk *k = ctx;

	enter(k, v);
	if (!v->present) {
		json_null(&k->w, v->name);
		return;
	}
	switch (v->unit) {
	case METRICS_SECONDS:
		json_number(&k->w, v->name, v->value, 9);
		break;
	case METRICS_PPM:
		json_number(&k->w, v->name, v->value, 3);
		break;
	case METRICS_INTEGER:
		json_real(&k->w, v->name, v->value, 9);
		break;
	case METRICS_COUNTER:
		json_integer(&k->w, v->name, (long long)v->total);
		break;
	}
}

void metrics_json_print(const struct metrics_snapshot *snap, FILE *out)
{
	struct walk k = { .snap = snap };

	json_writer_init(&k.w, out);
	json_begin_object(&k.w, NULL);
	metrics_visit(snap, figure, &k);
	/* the system's figures always come, so an object is open */
	json_end_object(&k.w);
	if (!strcmp(k.group, "source"))
		json_end_array(&k.w);
	if (snap->source_count == 0) {
		json_begin_array(&k.w, "sources");
		json_end_array(&k.w);
	}
	json_bool(&k.w, "serving", snap->serve != NULL);
	json_end_object(&k.w);
	json_writer_finish(&k.w);
}
