/*
 * yaml_node.c: building nodes for both styles (with the node cap, the depth limit and
 * the duplicate key check), and the accessors and yaml_free of yaml.h. yaml.c and
 * yaml_flow.c call it; it calls neither of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "yaml.h"
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
yp_span(struct yp *p, struct yaml_node *v, size_t start)
{
	size_t	end = p->pos;

	while (end > start && is_blank(p->buf[end - 1]))
		end--;
	if (v != NULL && end > start) {
		v->off = start;
		v->end = end;
	}
	return v;
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

/* Wipes as it frees: kubeconfig scalars hold tokens and keys. */
void
yaml_free(struct yaml_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	if (n->scalar != NULL)
		buf_wipe_free(n->scalar, strlen(n->scalar));
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			free(n->keys[i]);
		yaml_free(n->vals[i]);
	}
	free(n->keys);
	free(n->key_lines);
	free(n->vals);
	free(n);
}

const struct yaml_node *
yaml_get(const struct yaml_node *map, const char *key, size_t *line)
{
	size_t	i;

	if (line != NULL)
		*line = 0;
	if (map == NULL || map->kind != YAML_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0) {
			if (line != NULL)
				*line = map->key_lines[i];
			return map->vals[i];
		}
	return NULL;
}

int
yaml_is_null(const struct yaml_node *n)
{
	if (n == NULL)
		return 1;
	if (n->kind != YAML_SCALAR || n->quoted)
		return 0;
	return strcmp(n->scalar, "") == 0 || strcmp(n->scalar, "~") == 0 ||
	    strcmp(n->scalar, "null") == 0 || strcmp(n->scalar, "Null") == 0 ||
	    strcmp(n->scalar, "NULL") == 0;
}
