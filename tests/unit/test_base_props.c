/*
 * test_base_props.c: Java .properties parsing (java.util.Properties.load semantics),
 * error reporting with line numbers, file loading limits, get/set/free.
 */
#include "base.h"
#include "check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct sl_props props;
static char err[256];

static void setup(void)
{
	memset(&props, 0, sizeof(props));
	err[0] = '\0';
}

static void teardown(void)
{
	sl_props_free(&props);
}

static enum sl_err parse(const char *text)
{
	return sl_props_parse(text, strlen(text), &props, err, sizeof(err));
}

static void expect(const char *key, const char *value)
{
	const char *v = sl_props_get(&props, key);
	ck_assert_msg(v != NULL, "key '%s' missing", key);
	ck_assert_str_eq(v, value);
}

START_TEST(test_separators)
{
	ck_assert_int_eq(parse("a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng  =  7\nh\f8\n"
	                       "  i=9\nj==10\nk=:11\nl :=12\nm = \n"),
	                 SL_OK);
	expect("a", "1");
	expect("b", "2");
	expect("c", "3");
	expect("d", "4");
	expect("e", "5");
	expect("f", "6");
	expect("g", "7");
	expect("h", "8");
	expect("i", "9");
	expect("j", "=10"); /* only one separator is skipped */
	expect("k", ":11");
	expect("l", "=12");
	expect("m", "");
	ck_assert_uint_eq(props.count, 13);
	ck_assert_ptr_null(sl_props_get(&props, "n"));
	ck_assert_ptr_null(sl_props_get(&props, "A"));
}
END_TEST

START_TEST(test_comments_blank_and_order)
{
	const char *text = "# comment\n"
	                   "! bang comment\n"
	                   "\n"
	                   "   \t \n"
	                   "   # indented comment\n"
	                   "first=1\n"
	                   "second = two words  \n"
	                   "third=has # not a comment\n"
	                   "#last=no";
	ck_assert_int_eq(parse(text), SL_OK);
	ck_assert_uint_eq(props.count, 3);
	ck_assert_str_eq(props.items[0].key, "first");
	ck_assert_int_eq(props.items[0].line, 6);
	ck_assert_str_eq(props.items[1].key, "second");
	ck_assert_str_eq(props.items[1].value, "two words  "); /* trailing blanks are kept */
	ck_assert_int_eq(props.items[1].line, 7);
	expect("third", "has # not a comment");
	ck_assert_ptr_null(sl_props_get(&props, "#last"));
	ck_assert_ptr_null(sl_props_get(&props, "last"));
}
END_TEST

START_TEST(test_key_without_value)
{
	ck_assert_int_eq(parse("lonely\nspaced   \ncolon:\nlast"), SL_OK);
	expect("lonely", "");
	expect("spaced", "");
	expect("colon", "");
	expect("last", "");
	ck_assert_uint_eq(props.count, 4);
	/* Empty key is legal in Java. */
	sl_props_free(&props);
	ck_assert_int_eq(parse("=v\n:w\n"), SL_OK);
	expect("", "w");
	ck_assert_uint_eq(props.count, 1);
}
END_TEST

START_TEST(test_continuations)
{
	const char *text = "list = a,\\\n"
	                   "       b,\\\n"
	                   "\t\tc\n"
	                   "next=1\n"
	                   "even=x\\\\\n"
	                   "after=2\n"
	                   "crlf=p\\\r\n"
	                   "  q\r\n"
	                   "cr=r\\\r"
	                   "  s\r"
	                   "key\\\n"
	                   "  cont=v\n"
	                   "blankcont=z\\\n"
	                   "   \n"
	                   "tail=end\\";
	ck_assert_int_eq(parse(text), SL_OK);
	expect("list", "a,b,c");
	expect("next", "1");
	expect("even", "x\\"); /* two backslashes: an escaped backslash, no continuation */
	expect("after", "2");
	expect("crlf", "pq");
	expect("cr", "rs");
	expect("keycont", "v");
	expect("blankcont", "z");
	expect("tail", "end");
	ck_assert_int_eq(props.items[0].line, 1);
	ck_assert_int_eq(props.items[1].line, 4);
	ck_assert_int_eq(props.items[4].line, 7);
	ck_assert_int_eq(props.items[5].line, 9);
	ck_assert_int_eq(props.items[6].line, 11);
	ck_assert_int_eq(props.items[8].line, 15);
}
END_TEST

START_TEST(test_comment_line_does_not_continue)
{
	ck_assert_int_eq(parse("# comment \\\nreal=1\n"), SL_OK);
	expect("real", "1");
	ck_assert_uint_eq(props.count, 1);
	/* But a continued value may contain a line that starts with '#'. */
	sl_props_free(&props);
	ck_assert_int_eq(parse("v=a\\\n#b\n"), SL_OK);
	expect("v", "a#b");
}
END_TEST

/* A continuation that leaves the logical line empty (a line holding only a backslash) starts
 * the logical line anew, as Java's LineReader does (it tests len == 0): a blank line after it
 * is skipped and a '#' or '!' line after it is a comment, not a key (checked against
 * java.util.Properties.load of JDK 17). */
START_TEST(test_empty_continuation_restarts_line)
{
	ck_assert_int_eq(parse("\\\n#c=d\nk=v\n"), SL_OK);
	ck_assert_uint_eq(props.count, 1);
	expect("k", "v");
	ck_assert_int_eq(props.items[0].line, 3);
	sl_props_free(&props);
	/* The comment is not parsed: its bad \u escape is no error (Java accepts the file). */
	ck_assert_int_eq(parse("  \\\r\n  !x\\u12\r\ny=z"), SL_OK);
	ck_assert_uint_eq(props.count, 1);
	expect("y", "z");
	sl_props_free(&props);
	ck_assert_int_eq(parse("\\\n\n  # c\nk v"), SL_OK);
	ck_assert_uint_eq(props.count, 1);
	expect("k", "v");
	sl_props_free(&props);
	ck_assert_int_eq(parse("a=b\n\\\n   "), SL_OK); /* blanks then EOF: nothing */
	ck_assert_uint_eq(props.count, 1);
	sl_props_free(&props);
	ck_assert_int_eq(parse("a=b\n\\\r\n"), SL_OK);
	ck_assert_uint_eq(props.count, 1);
	sl_props_free(&props);
	/* Java quirk kept: EOF right after a lone \n (or \r) ending an empty continuation still
	 * yields an empty line, i.e. the empty key; so does a lone backslash at EOF. */
	ck_assert_int_eq(parse("a=b\n\\\n"), SL_OK);
	ck_assert_uint_eq(props.count, 2);
	expect("", "");
	sl_props_free(&props);
	ck_assert_int_eq(parse("\\"), SL_OK);
	ck_assert_uint_eq(props.count, 1);
	expect("", "");
	sl_props_free(&props);
	/* A continuation after content is unchanged: the next line is appended. */
	ck_assert_int_eq(parse("k\\\n#v\n"), SL_OK);
	expect("k#v", "");
}
END_TEST

START_TEST(test_escapes)
{
	const char *text = "tabs=a\\tb\\nc\\rd\\fe\n"
	                   "k\\=ey\\:x\\ y=v\\=\\:\\\\\n"
	                   "\\#hash=1\n"
	                   "\\!bang=2\n"
	                   "other=\\q\\z\\\"\n"
	                   "uni=\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\n"
	                   "lead=\\  spaced\n";
	ck_assert_int_eq(parse(text), SL_OK);
	expect("tabs", "a\tb\nc\rd\fe");
	expect("k=ey:x y", "v=:\\");
	expect("#hash", "1");
	expect("!bang", "2");
	expect("other", "qz\"");
	expect("uni", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	expect("lead", "  spaced");
}
END_TEST

START_TEST(test_utf8_passthrough)
{
	ck_assert_int_eq(parse("name=caf\xc3\xa9\n\xc3\xbc=ok\n"), SL_OK);
	expect("name", "caf\xc3\xa9");
	expect("\xc3\xbc", "ok");
}
END_TEST

START_TEST(test_duplicates_replace)
{
	ck_assert_int_eq(parse("a=1\nb=2\na=3\n"), SL_OK);
	ck_assert_uint_eq(props.count, 2);
	expect("a", "3");
	ck_assert_str_eq(props.items[0].key, "a"); /* keeps its first position */
	ck_assert_int_eq(props.items[0].line, 3);  /* line of the value in effect */
	/* Parsing appends to an existing set. */
	ck_assert_int_eq(parse("c=4\nb=5"), SL_OK);
	ck_assert_uint_eq(props.count, 3);
	expect("b", "5");
	expect("c", "4");
}
END_TEST

START_TEST(test_bad_unicode_escapes)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	        {"a=\\u12\n", "line 1: malformed \\uxxxx encoding"},
	        {"ok=1\n\nb=\\u12G4\n", "line 3: malformed \\uxxxx encoding"},
	        {"ok=1\nc=x\\\ny\\u\n", "line 2: malformed \\uxxxx encoding"},
	        {"\\uzzzz=1", "line 1: malformed \\uxxxx encoding"},
	        {"d=\\u", "line 1: malformed \\uxxxx encoding"},
	        {"e=\\uD83D", "line 1: unpaired surrogate in \\uxxxx escape"},
	        {"e=\\uD83Dx", "line 1: unpaired surrogate in \\uxxxx escape"},
	        {"e=\\uD83D\\u0041", "line 1: unpaired surrogate in \\uxxxx escape"},
	        {"f=\\uDE00", "line 1: unpaired surrogate in \\uxxxx escape"},
	        {"g=\\u0000", "line 1: \\u0000 is not allowed"},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		sl_props_free(&props);
		ck_assert_int_eq(parse(cases[i].text), SL_EINVAL);
		ck_assert_str_eq(err, cases[i].err);
	}
	/* The entries before the bad line were kept; the caller frees them. */
	sl_props_free(&props);
	ck_assert_int_eq(parse("ok=1\nbad=\\u1\nlater=2\n"), SL_EINVAL);
	expect("ok", "1");
	ck_assert_ptr_null(sl_props_get(&props, "later"));
}
END_TEST

START_TEST(test_nul_bytes_rejected)
{
	static const char text[] = "a=1\nb=x\0y\n";
	ck_assert_int_eq(sl_props_parse(text, sizeof(text) - 1, &props, err, sizeof(err)),
	                 SL_EINVAL);
	ck_assert_str_eq(err, "line 2: NUL byte in text");
	/* err may be NULL. */
	sl_props_free(&props);
	ck_assert_int_eq(sl_props_parse(text, sizeof(text) - 1, &props, NULL, 0), SL_EINVAL);
}
END_TEST

START_TEST(test_empty_and_length_bound)
{
	ck_assert_int_eq(sl_props_parse(NULL, 0, &props, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(props.count, 0);
	ck_assert_int_eq(parse(""), SL_OK);
	ck_assert_int_eq(parse("\n\n\r\n"), SL_OK);
	ck_assert_uint_eq(props.count, 0);
	/* Only len bytes are read: "a=12345" cut at 3 is "a=1". */
	ck_assert_int_eq(sl_props_parse("a=12345", 3, &props, err, sizeof(err)), SL_OK);
	expect("a", "1");
}
END_TEST

START_TEST(test_set_get)
{
	ck_assert_int_eq(sl_props_set(&props, "x", "1"), SL_OK);
	ck_assert_int_eq(sl_props_set(&props, "y", ""), SL_OK);
	ck_assert_int_eq(sl_props_set(&props, "x", "2"), SL_OK);
	ck_assert_uint_eq(props.count, 2);
	expect("x", "2");
	expect("y", "");
	ck_assert_int_eq(props.items[0].line, 0);
	/* Growth past the initial capacity keeps every entry. */
	char k[32], v[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "key.%d", i);
		snprintf(v, sizeof(v), "value-%d", i * 7);
		ck_assert_int_eq(sl_props_set(&props, k, v), SL_OK);
	}
	ck_assert_uint_eq(props.count, 1002);
	expect("key.999", "value-6993");
	expect("key.0", "value-0");
	sl_props_free(&props);
	ck_assert_uint_eq(props.count, 0);
	ck_assert_ptr_null(props.items);
	ck_assert_ptr_null(sl_props_get(&props, "x"));
}
END_TEST

/* Writes content to a new temp file; returns its path in path (size 64). */
static void write_temp(char *path, const void *content, size_t len)
{
	snprintf(path, 64, "/tmp/sl_props_XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(test_load_file)
{
	char path[64];
	const char *text = "node.id=1\nprocess.roles=broker,controller\n# c\nlog.dirs=/tmp/x\n";
	write_temp(path, text, strlen(text));
	ck_assert_int_eq(sl_props_load(path, &props, err, sizeof(err)), SL_OK);
	expect("node.id", "1");
	expect("process.roles", "broker,controller");
	expect("log.dirs", "/tmp/x");
	ck_assert_int_eq(props.items[2].line, 4);
	unlink(path);
}
END_TEST

START_TEST(test_load_errors)
{
	ck_assert_int_eq(
	        sl_props_load("server.properties.does-not-exist", &props, err, sizeof(err)),
	        SL_ENOENT);
	ck_assert_str_eq(err,
	                 "cannot read server.properties.does-not-exist: No such file or directory");
	ck_assert_int_eq(sl_props_load("/tmp", &props, err, sizeof(err)), SL_ESYS);
	ck_assert_str_eq(err, "cannot read /tmp: Is a directory");
	/* A parse error names the file and the line. */
	char path[64];
	const char *bad = "a=1\nb=\\uXYZW\n";
	write_temp(path, bad, strlen(bad));
	ck_assert_int_eq(sl_props_load(path, &props, err, sizeof(err)), SL_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s: line 2: malformed \\uxxxx encoding", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

START_TEST(test_load_size_limit)
{
	char path[64];
	write_temp(path, "", 0);
	/* Sparse files: cheap to make, sized exactly at and past the limit. */
	ck_assert_int_eq(truncate(path, (16 << 20) + 1), 0);
	ck_assert_int_eq(sl_props_load(path, &props, err, sizeof(err)), SL_ETOOBIG);
	char want[128];
	snprintf(want, sizeof(want), "cannot read %s: file larger than 16 MiB", path);
	ck_assert_str_eq(err, want);
	/* At exactly 16 MiB the file is read; NUL bytes then fail the parse, not the size. */
	ck_assert_int_eq(truncate(path, 16 << 20), 0);
	ck_assert_int_eq(sl_props_load(path, &props, err, sizeof(err)), SL_EINVAL);
	snprintf(want, sizeof(want), "%s: line 1: NUL byte in text", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_props");
	TCase *tc = tcase_create("props");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_separators);
	tcase_add_test(tc, test_comments_blank_and_order);
	tcase_add_test(tc, test_key_without_value);
	tcase_add_test(tc, test_continuations);
	tcase_add_test(tc, test_comment_line_does_not_continue);
	tcase_add_test(tc, test_empty_continuation_restarts_line);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_utf8_passthrough);
	tcase_add_test(tc, test_duplicates_replace);
	tcase_add_test(tc, test_bad_unicode_escapes);
	tcase_add_test(tc, test_nul_bytes_rejected);
	tcase_add_test(tc, test_empty_and_length_bound);
	tcase_add_test(tc, test_set_get);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_size_limit);
	suite_add_tcase(s, tc);
	return s;
}
