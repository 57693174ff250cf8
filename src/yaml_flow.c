/*
 * yaml_flow.c: flow collections, as JSON writes them: {"a": [1, {"b": "c"}]}, across
 * lines, with comments, a trailing comma allowed. Implicit pairs in flow sequences
 * ([a: b]) and collections as keys are refused. Nodes are built by yaml_node.c.
 */
#include <stdlib.h>

#include "yaml_int.h"

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
	size_t	line = p->line, start = p->pos;
	char	*s;
	int	 quoted;

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_ch(p, 0) == '{' || yp_ch(p, 0) == '[')
		return yp_flow_coll(p, depth);
	s = yp_flow_scalar(p, &quoted, "expected a value");
	return yp_span(p, yp_scalar(p, line, s, quoted), start);
}
