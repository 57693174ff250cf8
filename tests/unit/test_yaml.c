/*
 * test_yaml.c: yaml_parse over every tests/data/yaml/NAME.{yaml,json}, compared with
 * NAME.expect: either the canonical dump below, or one line "error LINE: TEXT" where
 * TEXT must occur in the error message. Every case is parsed again with its line feeds
 * written as CR LF and as lone CRs (old Mac files), and must give the same result, line
 * numbers included. Plus generated inputs (limits) and the accessors. Run from the repository root; "test_yaml --dump FILE" prints a dump.
 *
 * Dump: one node per line, two spaces of indentation per level.
 *   map@LINE / seq@LINE / plain@LINE "TEXT" / quoted@LINE "TEXT"
 *   a map entry is "KEY"@LINE: NODE; a sequence item is - NODE
 *   TEXT escapes '"', '\\' and bytes outside printable ASCII as \xHH.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test.h"
#include "yaml.h"

#define DATA_DIR	"tests/data/yaml"

static void
buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void
buf_fmt(struct buf *b, const char *fmt, ...)
{
	char	tmp[256];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
dump_str(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_fmt(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_fmt(b, "\\x%02x", c);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "\"", 1);
}

static void
dump_node(struct buf *b, const struct yaml_node *n, int level)
{
	size_t	i;

	switch (n->kind) {
	case YAML_SCALAR:
		buf_fmt(b, "%s@%zu ", n->quoted ? "quoted" : "plain", n->line);
		dump_str(b, n->scalar);
		buf_add(b, "\n", 1);
		break;
	case YAML_MAP:
		buf_fmt(b, "map@%zu\n", n->line);
		for (i = 0; i < n->n; i++) {
			buf_fmt(b, "%*s", 2 * (level + 1), "");
			dump_str(b, n->keys[i]);
			buf_fmt(b, "@%zu: ", n->key_lines[i]);
			dump_node(b, n->vals[i], level + 1);
		}
		break;
	case YAML_SEQ:
		buf_fmt(b, "seq@%zu\n", n->line);
		for (i = 0; i < n->n; i++) {
			buf_fmt(b, "%*s- ", 2 * (level + 1), "");
			dump_node(b, n->vals[i], level + 1);
		}
		break;
	}
}

/* The parse result as the .expect files state it: a dump, or "error LINE: MESSAGE". */
static char *
result_of(const char *in, size_t len, const char **errmsg, size_t *errline)
{
	struct yaml_node	*root;
	struct buf		 b = { 0 };

	root = yaml_parse(in, len, errmsg, errline);
	if (root == NULL) {
		buf_fmt(&b, "error %zu: %s\n", *errline, *errmsg);
		return b.p;
	}
	dump_node(&b, root, 0);
	yaml_free(root);
	return b.p;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_case(const char *name)
{
	char		 path[512], descr[600];
	char		*in, *exp, *got;
	size_t		 inlen, explen, errline;
	const char	*errmsg;
	int		 ok;

	snprintf(path, sizeof(path), "%s/%s", DATA_DIR, name);
	in = test_slurp(path, &inlen);
	memcpy(strrchr(path, '.'), ".expect", 8);
	exp = test_slurp(path, &explen);
	if (in == NULL || exp == NULL) {
		snprintf(descr, sizeof(descr), "%s: input and .expect readable", name);
		test_cond(descr, 0);
		free(in);
		free(exp);
		return;
	}
	got = result_of(in, inlen, &errmsg, &errline);
	if (strncmp(exp, "error ", 6) == 0) {
		size_t	 want_line = strtoul(exp + 6, NULL, 10);
		char	*want_msg = strstr(exp, ": ");

		want_msg = want_msg != NULL ? want_msg + 2 : exp;
		want_msg[strcspn(want_msg, "\n")] = '\0';
		ok = strncmp(got, "error ", 6) == 0 && errline == want_line &&
		    strstr(errmsg, want_msg) != NULL;
		snprintf(descr, sizeof(descr), "%s: error on line %zu containing \"%s\"", name,
		    want_line, want_msg);
	} else {
		ok = strcmp(got, exp) == 0;
		snprintf(descr, sizeof(descr), "%s: tree matches the .expect dump", name);
	}
	test_cond(descr, ok);
	if (!ok)
		printf("# expected:\n%s# got:\n%s", exp, got);
	free(in);
	free(exp);
	free(got);
}

static void
test_data_dir(void)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0, i;

	if ((d = opendir(DATA_DIR)) == NULL) {
		test_cond("open " DATA_DIR, 0);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".yaml") && !ends_with(de->d_name, ".json"))
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		run_case(names[i]);
		free(names[i]);
	}
	free(names);
	test_cond("at least 40 data cases", n >= 40);
}

/* in[0..len) with each '\n' written as eol (1 or 2 bytes); malloc'd, length in *outlen. */
static char *
with_line_ends(const char *in, size_t len, const char *eol, size_t *outlen)
{
	size_t	 i, o = 0, m = strlen(eol);
	char	*out;

	if ((out = malloc(2 * len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			memcpy(out + o, eol, m);
			o += m;
		} else
			out[o++] = in[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * YAML 1.2 ends a line at CR LF, LF or CR: every data case written with LF gives the
 * same tree or the same error, on the same lines, with CR LF and with CR alone.
 */
static void
test_line_ends(void)
{
	static const struct {
		const char	*name, *eol;
	} styles[] = { { "CR LF", "\r\n" }, { "CR", "\r" } };
	DIR		*d;
	struct dirent	*de;
	char		 path[512], descr[600];
	char		*in, *conv, *want, *got;
	size_t		 inlen, convlen, errline, i, cases = 0, same[2] = { 0, 0 };
	const char	*errmsg;

	if ((d = opendir(DATA_DIR)) == NULL) {
		test_cond("open " DATA_DIR, 0);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".yaml") && !ends_with(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", DATA_DIR, de->d_name);
		if ((in = test_slurp(path, &inlen)) == NULL)
			abort();
		/* Cases about CR themselves are not rewritten. */
		if (memchr(in, '\r', inlen) != NULL || memchr(in, '\n', inlen) == NULL) {
			free(in);
			continue;
		}
		cases++;
		want = result_of(in, inlen, &errmsg, &errline);
		for (i = 0; i < 2; i++) {
			conv = with_line_ends(in, inlen, styles[i].eol, &convlen);
			got = result_of(conv, convlen, &errmsg, &errline);
			if (strcmp(got, want) == 0)
				same[i]++;
			else
				printf("# %s with %s line ends:\n# expected:\n%s# got:\n%s",
				    de->d_name, styles[i].name, want, got);
			free(got);
			free(conv);
		}
		free(want);
		free(in);
	}
	closedir(d);
	for (i = 0; i < 2; i++) {
		snprintf(descr, sizeof(descr), "%zu data cases give the same result, lines "
		    "included, with %s line ends", cases, styles[i].name);
		test_cond(descr, cases >= 40 && same[i] == cases);
	}
}

static int
parses_with_error(const char *in, size_t len, size_t line, const char *substr)
{
	struct yaml_node	*root;
	const char		*err;
	size_t			 errline;

	root = yaml_parse(in, len, &err, &errline);
	if (root != NULL) {
		yaml_free(root);
		return 0;
	}
	if (errline != line || strstr(err, substr) == NULL) {
		printf("# got error %zu: %s\n", errline, err);
		return 0;
	}
	return 1;
}

static void
test_limits(void)
{
	struct yaml_node	*root;
	const char		*err;
	size_t			 errline, i, n;
	char			*s;

	/* Exactly YAML_MAX_DEPTH nested flow sequences parse; one more does not. */
	n = YAML_MAX_DEPTH;
	if ((s = malloc(2 * n + 4)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[2 * n - 1 - i] = ']';
	}
	root = yaml_parse(s, 2 * n, &err, &errline);
	test_cond("YAML_MAX_DEPTH nested flow sequences parse", root != NULL);
	yaml_free(root);
	memmove(s + 1, s, 2 * n);
	s[0] = '[';
	s[2 * n + 1] = ']';
	test_cond("YAML_MAX_DEPTH + 1 nested flow sequences are refused",
	    parses_with_error(s, 2 * n + 2, 1, "nesting deeper than 64"));
	free(s);

	/* Block nesting: "- " repeated on one line, and indented mappings. */
	{
		struct buf b = { 0 };

		for (i = 0; i < 200; i++)
			buf_add(&b, "- ", 2);
		buf_add(&b, "x\n", 2);
		test_cond("200 nested block sequences are refused",
		    parses_with_error(b.p, b.len, 1, "nesting deeper"));
		b.len = 0;
		for (i = 0; i < 100; i++)
			buf_fmt(&b, "%*sk%zu:\n", (int)i, "", i);
		test_cond("100 nested block mappings are refused on the line that is too deep",
		    parses_with_error(b.p, b.len, YAML_MAX_DEPTH + 1, "nesting deeper"));
		free(b.p);
	}

	/* Input size: one byte over the cap is refused before anything else. */
	if ((s = malloc(YAML_MAX_INPUT + 1)) == NULL)
		abort();
	memset(s, 'a', YAML_MAX_INPUT + 1);
	test_cond("input over YAML_MAX_INPUT is refused",
	    parses_with_error(s, YAML_MAX_INPUT + 1, 1, "larger than"));

	/* Node count: a flow sequence of 300k one-letter items. */
	n = 300 * 1024;
	s[0] = '[';
	for (i = 0; i < n; i++) {
		s[1 + 2 * i] = 'a';
		s[2 + 2 * i] = ',';
	}
	s[2 * n] = ']';
	test_cond("more than 256Ki nodes are refused",
	    parses_with_error(s, 2 * n + 1, 1, "more than"));

	/* A wide mapping: duplicate detection stays fast and finds the repeat. */
	{
		struct buf b = { 0 };

		for (i = 0; i < 100000; i++)
			buf_fmt(&b, "key%zu: v\n", i);
		buf_add(&b, "key77: again\n", 13);
		test_cond("duplicate found in a 100001-key mapping",
		    parses_with_error(b.p, b.len, 100001, "duplicate key \"key77\" (first on line 78)"));
		free(b.p);
	}

	/* NUL inside the buffer, even where a C string would have ended. */
	test_cond("NUL byte refused with its line",
	    parses_with_error("a: b\nc: d\0e\n", 12, 2, "NUL byte"));
	free(s);
}

static void
test_accessors(void)
{
	struct yaml_node	*root;
	const char		*err;
	size_t			 errline, line;
	const char		*in = "a: ~\nb: null\nc: \"null\"\nd:\ne: x\nf: []\ng: ''\n";

	root = yaml_parse(in, strlen(in), &err, &errline);
	test_cond("accessor input parses", root != NULL);
	if (root == NULL)
		return;
	test_cond("yaml_is_null(~)", yaml_is_null(yaml_get(root, "a", NULL)));
	test_cond("yaml_is_null(null)", yaml_is_null(yaml_get(root, "b", NULL)));
	test_cond("quoted \"null\" is a string", !yaml_is_null(yaml_get(root, "c", NULL)));
	test_cond("empty value is null", yaml_is_null(yaml_get(root, "d", NULL)));
	test_cond("x is not null", !yaml_is_null(yaml_get(root, "e", NULL)));
	test_cond("[] is not null", !yaml_is_null(yaml_get(root, "f", NULL)));
	test_cond("'' (quoted empty) is not null", !yaml_is_null(yaml_get(root, "g", NULL)));
	test_cond("absent key: yaml_get NULL", yaml_get(root, "zz", NULL) == NULL);
	test_cond("absent is null", yaml_is_null(yaml_get(root, "zz", NULL)));
	test_cond("yaml_get on a scalar is NULL", yaml_get(yaml_get(root, "e", NULL), "x", NULL) == NULL);
	test_cond("yaml_get finds e", strcmp(yaml_get(root, "e", NULL)->scalar, "x") == 0);
	test_cond("yaml_get: the key's line", yaml_get(root, "e", &line) != NULL && line == 5);
	test_cond("yaml_get: line 0 when absent", yaml_get(root, "zz", &line) == NULL &&
	    line == 0);
	yaml_free(root);

	root = yaml_parse(NULL, 0, &err, &errline);
	test_cond("empty input is an empty map", root != NULL && root->kind == YAML_MAP &&
	    root->n == 0);
	yaml_free(root);
	yaml_free(NULL);
}

int
main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
		const char	*err;
		size_t		 len, errline;
		char		*in, *out;

		if ((in = test_slurp(argv[2], &len)) == NULL) {
			perror(argv[2]);
			return 1;
		}
		out = result_of(in, len, &err, &errline);
		fputs(out, stdout);
		free(in);
		free(out);
		return 0;
	}
	test_data_dir();
	test_line_ends();
	test_limits();
	test_accessors();
	return test_report();
}
