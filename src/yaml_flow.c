/*
 * yaml_flow.c: node building for both styles (with the node cap and the duplicate
 * key check) and flow collections, as JSON writes them: {"a": [1, {"b": "c"}]},
 * across lines, with comments, a trailing comma allowed. Implicit pairs in flow
 * sequences ([a: b]) and collections as keys are refused.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "yaml_int.h"

struct yaml_node *
yp_node(struct yp *p, enum yaml_kind kind, size_t line)
{
	struct yaml_node	*n;

	if (p->nodes >= YAML_MAX_NODES)
		return yp_failf(p, line, "more than %d nodes", YAML_MAX_NODES);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return yp_fail(p, line, "out of memory");
	p->nodes++;
	n->kind = kind;
	n->line = line;
	return n;
}

/* A scalar node owning s (freed here on failure). */
struct yaml_node *
yp_scalar(struct yp *p, size_t line, char *s, int quoted)
{
	struct yaml_node	*n;

	if (s == NULL)
		return NULL;
	if ((n = yp_node(p, YAML_SCALAR, line)) == NULL) {
		free(s);
		return NULL;
	}
	n->scalar = s;
	n->quoted = quoted;
	return n;
}

struct yaml_node *
yp_null(struct yp *p, size_t line, size_t depth)
{
	if (depth > YAML_MAX_DEPTH)
		return yp_failf(p, line, "nesting deeper than %d levels", YAML_MAX_DEPTH);
	return yp_scalar(p, line, yp_strndup(p, "", 0), 0);
}

char *
yp_strndup(struct yp *p, const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return yp_fail(p, p->line, "out of memory");
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Appends to a MAP (key != NULL) or SEQ, taking ownership of key and v in all cases. */
int
yp_add(struct yp *p, struct yaml_node *c, char *key, size_t kline, struct yaml_node *v)
{
	size_t	 cap;
	void	*t;

	/* Capacity is the next power of two >= n (at least 4): grow when n reaches it. */
	if (c->n == 0 || (c->n >= 4 && (c->n & (c->n - 1)) == 0)) {
		cap = c->n == 0 ? 4 : c->n * 2;
		if (cap > SIZE_MAX / sizeof(void *))
			goto nomem;
		if ((t = realloc(c->vals, cap * sizeof(*c->vals))) == NULL)
			goto nomem;
		c->vals = t;
		if (c->kind == YAML_MAP) {
			if ((t = realloc(c->keys, cap * sizeof(*c->keys))) == NULL)
				goto nomem;
			c->keys = t;
			if ((t = realloc(c->key_lines, cap * sizeof(*c->key_lines))) == NULL)
				goto nomem;
			c->key_lines = t;
		}
	}
	if (c->kind == YAML_MAP) {
		c->keys[c->n] = key;
		c->key_lines[c->n] = kline;
	}
	c->vals[c->n++] = v;
	return 0;
nomem:
	free(key);
	yaml_free(v);
	yp_fail(p, kline, "out of memory");
	return -1;
}

struct keyref {
	const char	*key;
	size_t		 i;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref	*x = a, *y = b;
	int			 c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Refuses a key that appears twice in m, naming the first repeat in document order. */
int
yp_check_dups(struct yp *p, const struct yaml_node *m)
{
	struct keyref	*r;
	size_t		 i, dup = SIZE_MAX;
	char		 name[64];

	if (m->n < 2)
		return 0;
	if ((r = calloc(m->n, sizeof(*r))) == NULL) {
		yp_fail(p, m->line, "out of memory");
		return -1;
	}
	for (i = 0; i < m->n; i++) {
		r[i].key = m->keys[i];
		r[i].i = i;
	}
	qsort(r, m->n, sizeof(*r), keyref_cmp);
	for (i = 1; i < m->n; i++)
		if (strcmp(r[i].key, r[i - 1].key) == 0 && r[i].i < dup &&
		    (i == 1 || strcmp(r[i - 1].key, r[i - 2].key) != 0))
			dup = r[i].i;
	if (dup != SIZE_MAX) {
		for (i = 1; r[i].i != dup; i++)
			;
		yp_failf(p, m->key_lines[dup], "duplicate key \"%s\" (first on line %zu)",
		    log_sanitize(name, sizeof(name), m->keys[dup], strlen(m->keys[dup])),
		    m->key_lines[r[i - 1].i]);
	}
	free(r);
	return dup == SIZE_MAX ? 0 : -1;
}

int
yp_depth_ok(struct yp *p, size_t depth)
{
	if (depth <= YAML_MAX_DEPTH)
		return 1;
	yp_failf(p, p->line, "nesting deeper than %d levels", YAML_MAX_DEPTH);
	return 0;
}

/* Skips blanks, line breaks and comments inside a flow collection; -1 at the end. */
static int
yp_flow_skip(struct yp *p)
{
	for (;;) {
		char c = yp_ch(p, 0);

		if (is_blank(c))
			p->pos++;
		else if (c == '\n' || c == '\r')
			yp_newline(p);
		else if (yp_at_comment(p))
			yp_skip_to_eol(p);
		else
			return c == '\0' ? -1 : 0;
	}
}

/* A key or scalar in flow context: quoted or plain. */
static char *
yp_flow_scalar(struct yp *p, int *quoted, const char *what)
{
	size_t	end, start;

	*quoted = 0;
	if (yp_ch(p, 0) == '"' || yp_ch(p, 0) == '\'') {
		*quoted = 1;
		if ((end = yp_quoted_end(p)) == 0)
			return NULL;
		return yp_quoted_decode(p, end);
	}
	if (yp_check_start(p, 1) != 0)
		return NULL;
	start = p->pos;
	if (yp_scan_plain(p, 1) == 0)
		return yp_fail(p, p->line, what);
	return yp_strndup(p, p->buf + start, p->pos - start);
}

struct yaml_node *
yp_flow_coll(struct yp *p, size_t depth)
{
	struct yaml_node	*c, *v;
	char			*key = NULL;
	char			 close = yp_ch(p, 0) == '{' ? '}' : ']';
	size_t			 open_line = p->line, kline;
	int			 quoted;
	const char		*unterminated = close == '}' ?
	    "unterminated flow mapping ('{' without '}')" :
	    "unterminated flow sequence ('[' without ']')";

	if ((c = yp_node(p, close == '}' ? YAML_MAP : YAML_SEQ, p->line)) == NULL)
		return NULL;
	p->pos++;
	for (;;) {
		if (yp_flow_skip(p) != 0)
			goto unterm;
		if (yp_ch(p, 0) == close) {
			p->pos++;
			break;
		}
		kline = p->line;
		if (close == '}') {
			if (yp_ch(p, 0) == '{' || yp_ch(p, 0) == '[') {
				yp_fail(p, p->line, "complex keys (a collection as a key) are not supported");
				goto fail;
			}
			if ((key = yp_flow_scalar(p, &quoted, "expected a key")) == NULL)
				goto fail;
			if (yp_flow_skip(p) != 0)
				goto unterm;
			if (yp_ch(p, 0) != ':') {
				yp_fail(p, p->line, "expected ':' after a key in a flow mapping");
				goto fail;
			}
			p->pos++;
			if (yp_flow_skip(p) != 0)
				goto unterm;
		}
		if (close == '}' && (yp_ch(p, 0) == ',' || yp_ch(p, 0) == '}'))
			v = yp_null(p, p->line, depth + 1);
		else
			v = yp_flow_node(p, depth + 1);
		if (v == NULL)
			goto fail;
		if (yp_add(p, c, key, kline, v) != 0) {
			key = NULL;
			goto fail;
		}
		key = NULL;
		if (yp_flow_skip(p) != 0)
			goto unterm;
		if (yp_ch(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (yp_ch(p, 0) == close) {
			p->pos++;
			break;
		}
		yp_fail(p, p->line, close == '}' ? "expected ',' or '}' in a flow mapping" :
		    "expected ',' or ']' in a flow sequence");
		goto fail;
	}
	if (c->kind == YAML_MAP && yp_check_dups(p, c) != 0)
		goto fail;
	return c;
unterm:
	yp_fail(p, open_line, unterminated);
fail:
	free(key);
	yaml_free(c);
	return NULL;
}

struct yaml_node *
yp_flow_node(struct yp *p, size_t depth)
{
	size_t	line = p->line;
	char	*s;
	int	 quoted;

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_ch(p, 0) == '{' || yp_ch(p, 0) == '[')
		return yp_flow_coll(p, depth);
	s = yp_flow_scalar(p, &quoted, "expected a value");
	return yp_scalar(p, line, s, quoted);
}
