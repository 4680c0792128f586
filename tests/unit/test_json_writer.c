#include "cmocka_all.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

static char *buf;
static size_t len;
static FILE *out;
static struct json_writer w;

static int setup(void **state)
{
	(void)state;
	out = open_memstream(&buf, &len);
	json_writer_init(&w, out);
	return out ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(buf);
	return 0;
}

static const char *finish(bool expect_ok)
{
	assert_int_equal(json_writer_finish(&w), expect_ok);
	fclose(out);
	return buf;
}

static void nested_document(void **state)
{
	(void)state;
	json_begin_object(&w, NULL);
	json_string(&w, "name", "a");
	json_begin_array(&w, "list");
	json_integer(&w, NULL, -3);
	json_number(&w, NULL, 0.25, 3);
	json_bool(&w, NULL, true);
	json_null(&w, NULL);
	json_end_array(&w);
	json_begin_object(&w, "empty");
	json_end_object(&w);
	json_end_object(&w);
	assert_string_equal(finish(true),
			    "{\n  \"name\": \"a\",\n  \"list\": [\n    -3,\n    0.250,\n    true,\n    null\n  ],\n"
			    "  \"empty\": {}\n}\n");
}

/* One document per line, for tools that read lines (bench/accuracy reads
 * strata-sim's); figures of any size keep their significant digits. */
static void compact_document_on_one_line(void **state)
{
	(void)state;
	json_writer_init_compact(&w, out);
	json_begin_object(&w, NULL);
	json_real(&w, "rms", 1.23456789012e-7, 9);
	json_real(&w, "big", 86400.0, 9);
	json_real(&w, "none", NAN, 9);
	json_begin_array(&w, "list");
	json_integer(&w, NULL, 1);
	json_string(&w, NULL, "x");
	json_end_array(&w);
	json_end_object(&w);
	assert_string_equal(finish(true), "{\"rms\":1.23456789e-07,\"big\":86400,\"none\":null,\"list\":[1,\"x\"]}\n");
}

static void escapes_strings(void **state)
{
	(void)state;
	json_string(&w, NULL, "q\"b\\n\nt\t\x01\x7f");
	assert_string_equal(finish(true), "\"q\\\"b\\\\n\\nt\\t\\u0001\\u007f\"\n");
}

static void non_finite_numbers_are_null(void **state)
{
	(void)state;
	json_begin_array(&w, NULL);
	json_number(&w, NULL, NAN, 2);
	json_number(&w, NULL, INFINITY, 2);
	json_end_array(&w);
	assert_string_equal(finish(true), "[\n  null,\n  null\n]\n");
}

static void unbalanced_nesting_is_reported(void **state)
{
	(void)state;
	json_begin_object(&w, NULL);
	finish(false);
}

static void too_deep_is_reported(void **state)
{
	(void)state;
	for (int i = 0; i < JSON_WRITER_MAX_DEPTH + 2; i++)
		json_begin_array(&w, NULL);
	for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
		json_end_array(&w);
	finish(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nested_document, setup, teardown),
		cmocka_unit_test_setup_teardown(compact_document_on_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(escapes_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(non_finite_numbers_are_null, setup, teardown),
		cmocka_unit_test_setup_teardown(unbalanced_nesting_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(too_deep_is_reported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
