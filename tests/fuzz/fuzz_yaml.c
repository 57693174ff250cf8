/*
 * fuzz_yaml.c: yaml_parse() over arbitrary bytes. Checks, beyond the sanitizers:
 * an error has a message and a line within the input; a tree is no deeper than
 * YAML_MAX_DEPTH, every node's line is within the input, lines never go backwards
 * along a collection, and no mapping holds a key twice (yaml_get finds each key at
 * its own index, with its own line). A scalar's byte span (off, end: what the oidc
 * write-back replaces) lies within the input; a quoted one starts and ends with its
 * quote, a plain one on one line is its text byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char	*in;
static size_t		 in_len;

static void
check_span(const struct yaml_node *n)
{
	size_t	len;

	if (n->end == 0)
		return;
	if (n->off >= n->end || n->end > in_len)
		abort();
	len = n->end - n->off;
	if (n->quoted) {
		if ((in[n->off] != '"' && in[n->off] != '\'') || len < 2 ||
		    in[n->end - 1] != in[n->off])
			abort();
	} else if (memchr(in + n->off, '\n', len) == NULL &&
	    memchr(in + n->off, '\r', len) == NULL) {
		if (strlen(n->scalar) != len || memcmp(n->scalar, in + n->off, len) != 0)
			abort();
	}
}

static void
check(const struct yaml_node *n, size_t depth, size_t lines)
{
	size_t	i, line;

	if (depth > YAML_MAX_DEPTH || n->line < 1 || n->line > lines)
		abort();
	if (n->kind == YAML_SCALAR) {
		if (n->scalar == NULL || n->n != 0)
			abort();
		check_span(n);
		return;
	}
	for (i = 0; i < n->n; i++) {
		if (i > 0 && n->vals[i]->line < n->vals[i - 1]->line)
			abort();
		if (n->kind == YAML_MAP) {
			if (n->key_lines[i] < 1 || n->key_lines[i] > lines ||
			    yaml_get(n, n->keys[i], &line) != n->vals[i] ||
			    line != n->key_lines[i])
				abort();
		}
		check(n->vals[i], depth + 1, lines);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_node	*root;
	const char		*err;
	size_t			 errline, lines = 1, i;

	/* Line breaks as YAML 1.2 counts them: CR LF, LF, or a lone CR. */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n' ||
		    (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
	in = (const char *)data;
	in_len = size;
	root = yaml_parse((const char *)data, size, &err, &errline);
	if (root == NULL) {
		if (err == NULL || err[0] == '\0' || errline < 1 || errline > lines)
			abort();
		return 0;
	}
	check(root, 1, lines);
	yaml_free(root);
	return 0;
}
