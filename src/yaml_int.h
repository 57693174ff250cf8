/*
 * yaml_int.h: the parser state and helpers that yaml.c (block style, the entry
 * point), yaml_flow.c (flow collections), yaml_node.c (node building) and yaml_scalar.c
 * (plain and quoted scalars, errors) share. Calls go one way: yaml.c -> yaml_flow.c ->
 * yaml_node.c -> yaml_scalar.c. Not for other modules.
 *
 * Conventions: the input holds no NUL (checked first), so yp_ch() returns '\0' only
 * past the end. A line ends at CR LF, LF or a lone CR (old Mac files), as in YAML 1.2;
 * line numbers count those breaks. Functions that fail call yp_fail() and
 * return NULL or -1; the first error wins and stops the lookahead.
 */
#ifndef CL_YAML_INT_H
#define CL_YAML_INT_H

#include <stddef.h>

#include "yaml.h"

/* More nodes than any kubeconfig of YAML_MAX_INPUT bytes plausibly holds. */
#define YAML_MAX_NODES	(256 * 1024)

enum yp_state { YL_CONTENT, YL_EOF, YL_DOC_START, YL_DOC_END };

struct yp {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	size_t		 line;		/* 1-based line of pos */
	size_t		 lstart;	/* offset where that line starts */
	enum yp_state	 st;		/* what yp_advance found */
	size_t		 ind;		/* YL_CONTENT: that line's indentation */
	size_t		 nodes;
	const char	*err;		/* first error wins */
	size_t		 errline;
};

/* The byte at pos + off, or '\0' past the end (the input holds no NUL). */
static inline char
yp_ch(const struct yp *p, size_t off)
{
	return p->len - p->pos > off ? p->buf[p->pos + off] : '\0';
}

static inline int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline int
is_eol(char c)
{
	return c == '\n' || c == '\r' || c == '\0';
}

static inline int
is_ws_eol(char c)
{
	return is_blank(c) || is_eol(c);
}

static inline int
is_flow_ind(char c)
{
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* At "\r\n", '\n' or a lone '\r' (or the end): steps over it onto the next line. */
static inline void
yp_newline(struct yp *p)
{
	if (yp_ch(p, 0) == '\r')
		p->pos++;
	if (yp_ch(p, 0) == '\n')
		p->pos++;
	p->line++;
	p->lstart = p->pos;
}

static inline void
yp_skip_to_eol(struct yp *p)
{
	while (!is_eol(yp_ch(p, 0)))
		p->pos++;
}

static inline void
yp_skip_blanks(struct yp *p)
{
	while (is_blank(yp_ch(p, 0)))
		p->pos++;
}

/* A "#" starts a comment at the start of a line or after a blank. */
static inline int
yp_at_comment(const struct yp *p)
{
	return yp_ch(p, 0) == '#' &&
	    (p->pos == p->lstart || is_blank(p->buf[p->pos - 1]));
}

/* "---" or "..." at column 0, alone or followed by a blank. */
static inline int
yp_is_marker(const struct yp *p, size_t i, char c)
{
	return i == p->lstart && p->len - i >= 3 && p->buf[i] == c &&
	    p->buf[i + 1] == c && p->buf[i + 2] == c &&
	    (p->len - i == 3 || is_ws_eol(p->buf[i + 3]));
}

/* yaml_scalar.c */

/* Records the first error (msg must be static) and ends the lookahead. Returns NULL. */
void		*yp_fail(struct yp *, size_t line, const char *msg);
/* As yp_fail, formatted into a buffer valid until the next yaml_parse(). */
void		*yp_failf(struct yp *, size_t line, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
int		 yp_check_start(struct yp *, int flow);
size_t		 yp_scan_plain(struct yp *, int flow);
size_t		 yp_quoted_end(struct yp *);
char		*yp_quoted_decode(struct yp *, size_t end);
char		*yp_plain_block(struct yp *, size_t min_ind);

/* yaml_node.c */

struct yaml_node *yp_node(struct yp *, enum yaml_kind, size_t line);
struct yaml_node *yp_scalar(struct yp *, size_t line, char *s, int quoted);
/* Records v's text as [start, pos) less trailing blanks (v may be NULL). Returns v. */
struct yaml_node *yp_span(struct yp *, struct yaml_node *v, size_t start);
/* An empty plain scalar (a null value) at depth, which is checked. */
struct yaml_node *yp_null(struct yp *, size_t line, size_t depth);
char		*yp_strndup(struct yp *, const char *s, size_t n);
int		 yp_add(struct yp *, struct yaml_node *c, char *key, size_t kline,
		    struct yaml_node *v);
int		 yp_check_dups(struct yp *, const struct yaml_node *m);
int		 yp_depth_ok(struct yp *, size_t depth);

/* yaml_flow.c */

struct yaml_node *yp_flow_coll(struct yp *, size_t depth);
struct yaml_node *yp_flow_node(struct yp *, size_t depth);

#endif
