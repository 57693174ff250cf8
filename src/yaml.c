/*
 * yaml.c: see yaml.h. Block style is parsed line by line: a lookahead (yp_advance)
 * finds the next line with content and its indentation, and each block collection
 * continues while lines sit at its column. Flow collections and quoted scalars are
 * parsed character by character and may span lines. Every recursion passes a depth
 * checked against YAML_MAX_DEPTH, and the node count is capped at YAML_MAX_NODES, so
 * memory is bounded by the input size.
 *
 * Decisions beyond the subset listed in yaml.h:
 *  - Control bytes other than TAB, LF and CRLF are refused, NUL included; a UTF-8 BOM
 *    at the very start is skipped.
 *  - "---" may only stand alone on its line (a comment may follow).
 *  - Plain scalars are single-line; quoted scalars may span lines (folded as YAML says).
 *  - Keys are single-line scalars; "key:value" without a space is a plain scalar.
 *  - A ":" followed by a space inside a plain value ("a: b: c") is refused.
 *  - Directives (%YAML) are refused.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

/* Messages that name a key or a number; valid until the next yaml_parse(). */
static char	yaml_errbuf[192];

static struct yaml_node	*yp_block_node(struct yp *, size_t, size_t);
static struct yaml_node	*yp_flow_node(struct yp *, size_t);

static void *
yp_fail(struct yp *p, size_t line, const char *msg)
{
	if (p->err == NULL) {
		p->err = msg;
		p->errline = line;
	}
	p->st = YL_EOF;
	return NULL;
}

static void *yp_failf(struct yp *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void *
yp_failf(struct yp *p, size_t line, const char *fmt, ...)
{
	va_list	ap;

	if (p->err == NULL) {
		va_start(ap, fmt);
		vsnprintf(yaml_errbuf, sizeof(yaml_errbuf), fmt, ap);
		va_end(ap);
	}
	return yp_fail(p, line, yaml_errbuf);
}

/* The byte at pos + off, or '\0' past the end (the input holds no NUL). */
static char
yp_ch(const struct yp *p, size_t off)
{
	return p->len - p->pos > off ? p->buf[p->pos + off] : '\0';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_eol(char c)
{
	return c == '\n' || c == '\r' || c == '\0';
}

static int
is_ws_eol(char c)
{
	return is_blank(c) || is_eol(c);
}

static int
is_flow_ind(char c)
{
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* At '\r\n' or '\n' (or the end): steps over it onto the next line. */
static void
yp_newline(struct yp *p)
{
	if (yp_ch(p, 0) == '\r')
		p->pos++;
	if (yp_ch(p, 0) == '\n')
		p->pos++;
	p->line++;
	p->lstart = p->pos;
}

static void
yp_skip_to_eol(struct yp *p)
{
	while (!is_eol(yp_ch(p, 0)))
		p->pos++;
}

static void
yp_skip_blanks(struct yp *p)
{
	while (is_blank(yp_ch(p, 0)))
		p->pos++;
}

/* A "#" starts a comment at the start of a line or after a blank. */
static int
yp_at_comment(const struct yp *p)
{
	return yp_ch(p, 0) == '#' &&
	    (p->pos == p->lstart || is_blank(p->buf[p->pos - 1]));
}

/* The rest of the line may hold only blanks and a comment; steps onto the next line. */
static int
yp_end_line(struct yp *p, const char *what)
{
	yp_skip_blanks(p);
	if (yp_at_comment(p))
		yp_skip_to_eol(p);
	if (!is_eol(yp_ch(p, 0))) {
		yp_fail(p, p->line, what);
		return -1;
	}
	yp_newline(p);
	return 0;
}

/* "---" or "..." at column 0, alone or followed by a blank. */
static int
yp_is_marker(const struct yp *p, size_t i, char c)
{
	return i == p->lstart && p->len - i >= 3 && p->buf[i] == c &&
	    p->buf[i + 1] == c && p->buf[i + 2] == c &&
	    (p->len - i == 3 || is_ws_eol(p->buf[i + 3]));
}

/*
 * From the start of a line, skips blank and comment lines and stops at the first
 * content of the next line that has some, setting p->st and p->ind. A tab before that
 * content is an error.
 */
static void
yp_advance(struct yp *p)
{
	size_t	i, n;
	int	tab;

	if (p->err != NULL)
		return;
	for (;;) {
		if (p->pos >= p->len) {
			p->st = YL_EOF;
			return;
		}
		i = p->pos;
		n = 0;
		tab = 0;
		while (i < p->len && is_blank(p->buf[i])) {
			if (p->buf[i] == '\t')
				tab = 1;
			else if (!tab)
				n++;
			i++;
		}
		if (i == p->len || is_eol(p->buf[i]) || p->buf[i] == '#') {
			p->pos = i;
			yp_skip_to_eol(p);
			yp_newline(p);
			continue;
		}
		if (tab) {
			yp_fail(p, p->line, "tab in indentation");
			return;
		}
		p->pos = i;
		p->ind = n;
		if (yp_is_marker(p, i, '-'))
			p->st = YL_DOC_START;
		else if (yp_is_marker(p, i, '.'))
			p->st = YL_DOC_END;
		else
			p->st = YL_CONTENT;
		return;
	}
}

static int
yp_is_seq_item(const struct yp *p)
{
	return yp_ch(p, 0) == '-' && is_ws_eol(yp_ch(p, 1));
}

/*
 * Refuses what cannot start a scalar here: YAML indicators outside the subset.
 * Returns 0 if the character at pos may start a plain or quoted scalar.
 */
static int
yp_check_start(struct yp *p, int flow)
{
	char	c = yp_ch(p, 0), d = yp_ch(p, 1);

	switch (c) {
	case '&':
	case '*':
		yp_fail(p, p->line, "anchors and aliases are not supported");
		return -1;
	case '!':
		yp_fail(p, p->line, "tags (!) are not supported");
		return -1;
	case '|':
	case '>':
		yp_fail(p, p->line, "block scalars (| and >) are not supported");
		return -1;
	case '%':
		yp_fail(p, p->line, "directives (%) are not supported");
		return -1;
	case '@':
	case '`':
		yp_fail(p, p->line, "a plain scalar cannot start with '@' or '`'");
		return -1;
	case '#':
		yp_fail(p, p->line, "a value cannot start with '#' (quote it)");
		return -1;
	case ',':
	case ']':
	case '}':
		yp_failf(p, p->line, "unexpected '%c'", c);
		return -1;
	case '?':
		if (!is_ws_eol(d) && !(flow && is_flow_ind(d)))
			return 0;
		yp_fail(p, p->line, "complex keys (\"? \") are not supported");
		return -1;
	case ':':
		if (!is_ws_eol(d) && !(flow && is_flow_ind(d)))
			return 0;
		yp_fail(p, p->line, "missing key before ':'");
		return -1;
	case '-':
		if (!flow || !is_ws_eol(d))
			return 0;
		yp_fail(p, p->line, "a block sequence cannot appear inside a flow collection");
		return -1;
	default:
		return 0;
	}
}

/*
 * Scans a plain scalar from pos to the end of its line (or, in flow context, to a flow
 * indicator); leaves pos after its last non-blank byte and returns its length.
 */
static size_t
yp_scan_plain(struct yp *p, int flow)
{
	size_t	start = p->pos, end = p->pos;
	char	c;

	for (;;) {
		c = yp_ch(p, 0);
		if (is_eol(c))
			break;
		if (c == ':' && (is_ws_eol(yp_ch(p, 1)) || (flow && is_flow_ind(yp_ch(p, 1)))))
			break;
		if (flow && is_flow_ind(c))
			break;
		if (yp_at_comment(p) && p->pos > start)
			break;
		p->pos++;
		if (!is_blank(c))
			end = p->pos;
	}
	p->pos = end;
	return end - start;
}

/*
 * Finds the closing quote of the quoted scalar opening at pos, without moving.
 * Returns its offset, or 0 (never a closing quote's offset) with the error set.
 */
static size_t
yp_quoted_end(struct yp *p)
{
	char	q = p->buf[p->pos];
	size_t	i = p->pos + 1;

	while (i < p->len) {
		if (q == '"' && p->buf[i] == '\\') {
			i += 2;
			continue;
		}
		if (p->buf[i] == q) {
			if (q == '\'' && i + 1 < p->len && p->buf[i + 1] == '\'') {
				i += 2;
				continue;
			}
			return i;
		}
		i++;
	}
	yp_fail(p, p->line, q == '"' ? "unterminated double-quoted string" :
	    "unterminated single-quoted string");
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads n hex digits at s; returns the value or -1. */
static long
yp_hex(const char *s, size_t avail, size_t n)
{
	long	v = 0;
	size_t	i;
	int	h;

	if (avail < n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((h = hexval(s[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t
utf8_put(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes the escape after a backslash at p->pos (pointing at the letter) into o.
 * Returns the bytes written, or -1 with the error set. Moves pos past the escape.
 */
static int
yp_escape(struct yp *p, char *o, size_t end)
{
	static const char	simple_in[] = "0abtnvfre \"/\\\t";
	static const char	simple_out[] = "\0\a\b\t\n\v\f\r\x1b \"/\\\t";
	const char		*s;
	char			 c = p->buf[p->pos];
	long			 cp, lo;
	size_t			 n;

	if (c != '\0' && (s = strchr(simple_in, c)) != NULL) {
		if (c == '0') {
			yp_fail(p, p->line, "NUL character (\\0) in a string");
			return -1;
		}
		*o = simple_out[s - simple_in];
		p->pos++;
		return 1;
	}
	switch (c) {
	case 'N':
		cp = 0x85;
		n = 0;
		break;
	case '_':
		cp = 0xa0;
		n = 0;
		break;
	case 'L':
		cp = 0x2028;
		n = 0;
		break;
	case 'P':
		cp = 0x2029;
		n = 0;
		break;
	case 'x':
		n = 2;
		break;
	case 'u':
		n = 4;
		break;
	case 'U':
		n = 8;
		break;
	default:
		yp_fail(p, p->line, "unknown escape sequence in a double-quoted string");
		return -1;
	}
	p->pos++;
	if (n > 0 && (cp = yp_hex(p->buf + p->pos, end - p->pos, n)) < 0) {
		yp_fail(p, p->line, "bad hex digits in a \\x, \\u or \\U escape");
		return -1;
	}
	p->pos += n;
	if (n == 4 && cp >= 0xd800 && cp <= 0xdbff) {
		/* A UTF-16 surrogate pair, as JSON encoders write characters past U+FFFF. */
		if (end - p->pos < 6 || p->buf[p->pos] != '\\' || p->buf[p->pos + 1] != 'u' ||
		    (lo = yp_hex(p->buf + p->pos + 2, 4, 4)) < 0xdc00 || lo > 0xdfff) {
			yp_fail(p, p->line, "unpaired UTF-16 surrogate in a \\u escape");
			return -1;
		}
		p->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		yp_fail(p, p->line, "unpaired UTF-16 surrogate in a \\u escape");
		return -1;
	}
	if (cp == 0) {
		yp_fail(p, p->line, "NUL character (\\0) in a string");
		return -1;
	}
	if (cp > 0x10ffff) {
		yp_fail(p, p->line, "escape beyond U+10FFFF");
		return -1;
	}
	return (int)utf8_put(o, (unsigned long)cp);
}

/*
 * Decodes the quoted scalar opening at pos and closing at end (from yp_quoted_end),
 * folding line breaks as YAML does. Returns a malloc'd string; pos ends after the
 * closing quote. Returns NULL with the error set.
 */
static char *
yp_quoted_decode(struct yp *p, size_t end)
{
	char	 q = p->buf[p->pos];
	char	*out;
	size_t	 o = 0, keep = 0, blank_lines;
	int	 r;

	/* No escape writes more than twice its own length; end - pos <= YAML_MAX_INPUT. */
	if ((out = malloc(2 * (end - p->pos) + 1)) == NULL)
		return yp_fail(p, p->line, "out of memory");
	p->pos++;
	while (p->pos < end) {
		char c = p->buf[p->pos];

		if (q == '\'' && c == '\'') {
			out[o++] = '\'';
			p->pos += 2;
			keep = o;
		} else if (q == '"' && c == '\\' && (p->buf[p->pos + 1] == '\n' ||
		    p->buf[p->pos + 1] == '\r')) {
			/* An escaped line break joins the lines without a space. */
			p->pos++;
			yp_newline(p);
			yp_skip_blanks(p);
			keep = o;
		} else if (q == '"' && c == '\\') {
			p->pos++;
			if ((r = yp_escape(p, out + o, end)) < 0) {
				free(out);
				return NULL;
			}
			o += (size_t)r;
			keep = o;
		} else if (c == '\n' || c == '\r') {
			while (o > keep && is_blank(out[o - 1]))
				o--;
			yp_newline(p);
			blank_lines = 0;
			for (;;) {
				yp_skip_blanks(p);
				if (p->pos >= end || (p->buf[p->pos] != '\n' && p->buf[p->pos] != '\r'))
					break;
				yp_newline(p);
				blank_lines++;
			}
			if (blank_lines == 0)
				out[o++] = ' ';
			while (blank_lines-- > 0)
				out[o++] = '\n';
			keep = o;
		} else {
			out[o++] = c;
			p->pos++;
		}
	}
	out[o] = '\0';
	p->pos = end + 1;
	return out;
}

static struct yaml_node *
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
static struct yaml_node *
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

static char *
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
static int
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
static int
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

static int
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

static struct yaml_node *
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
			v = yp_scalar(p, p->line, yp_strndup(p, "", 0), 0);
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

static struct yaml_node *
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

/*
 * A plain scalar from pos, continued on following lines indented at least min_ind (as
 * Go's YAML emitter folds long values), each line break folded into a space, or into
 * "\n" per blank line between. A comment ends it. Consumes its lines, except the line
 * that follows it. Returns a malloc'd string or NULL with the error set.
 */
static char *
yp_plain_block(struct yp *p, size_t min_ind)
{
	char	*out = NULL, *t;
	size_t	 olen = 0, cap = 0, start, n, blank, save, line = p->line, i;

	for (blank = 0;; blank = 0) {
		start = p->pos;
		n = yp_scan_plain(p, 0);
		yp_skip_blanks(p);
		if (yp_ch(p, 0) == ':') {
			free(out);
			return yp_fail(p, p->line,
			    "\": \" inside a plain value (quote values that contain \": \")");
		}
		/* Room for this segment and the NUL. */
		if (cap - olen < n + 1) {
			cap = 2 * (olen + n + 1);
			if ((t = realloc(out, cap)) == NULL) {
				free(out);
				return yp_fail(p, line, "out of memory");
			}
			out = t;
		}
		memcpy(out + olen, p->buf + start, n);
		olen += n;
		out[olen] = '\0';
		if (yp_at_comment(p) || p->pos >= p->len)
			break;
		/* Look past blank lines for a continuation line. */
		save = p->pos;
		yp_newline(p);
		for (;;) {
			for (i = p->pos; i < p->len && p->buf[i] == ' '; i++)
				;
			if (i < p->len && (p->buf[i] == '\n' || p->buf[i] == '\r')) {
				p->pos = i;
				yp_newline(p);
				blank++;
				continue;
			}
			break;
		}
		if (i >= p->len || i - p->pos < min_ind || p->buf[i] == '#' ||
		    p->buf[i] == '\t' || yp_is_marker(p, i, '-') || yp_is_marker(p, i, '.')) {
			/* Not a continuation: back to the end of the scalar's last line. */
			p->pos = save;
			p->line -= blank + 1;
			for (p->lstart = save; p->lstart > 0 &&
			    p->buf[p->lstart - 1] != '\n'; p->lstart--)
				;
			break;
		}
		p->pos = i;
		if (cap - olen < blank + 2) {
			cap = 2 * (olen + blank + 2);
			if ((t = realloc(out, cap)) == NULL) {
				free(out);
				return yp_fail(p, line, "out of memory");
			}
			out = t;
		}
		if (blank == 0)
			out[olen++] = ' ';
		while (blank-- > 0)
			out[olen++] = '\n';
		out[olen] = '\0';
	}
	return out;
}

/*
 * A value that starts on the current line after "key: " (or is a whole line): a flow
 * collection, a quoted or a plain scalar (continued on lines indented min_ind or more).
 * Consumes its lines and advances.
 */
static struct yaml_node *
yp_inline_value(struct yp *p, size_t depth, size_t min_ind)
{
	struct yaml_node	*v;
	size_t			 line = p->line, end;
	char			 c = yp_ch(p, 0);

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_is_seq_item(p))
		return yp_fail(p, line, "a block sequence cannot start on the line of its key");
	if (c == '{' || c == '[') {
		if ((v = yp_flow_coll(p, depth)) == NULL)
			return NULL;
		if (yp_end_line(p, "unexpected text after a flow collection") != 0) {
			yaml_free(v);
			return NULL;
		}
	} else if (c == '"' || c == '\'') {
		if ((end = yp_quoted_end(p)) == 0)
			return NULL;
		if ((v = yp_scalar(p, line, yp_quoted_decode(p, end), 1)) == NULL)
			return NULL;
		if (yp_end_line(p, "unexpected text after a quoted string") != 0) {
			yaml_free(v);
			return NULL;
		}
	} else {
		if (yp_check_start(p, 0) != 0)
			return NULL;
		if ((v = yp_scalar(p, line, yp_plain_block(p, min_ind), 0)) == NULL)
			return NULL;
		if (yp_end_line(p, "unexpected text after a value") != 0) {
			yaml_free(v);
			return NULL;
		}
	}
	yp_advance(p);
	return v;
}

/* Reads a block mapping key at pos; leaves pos after its ':'. */
static char *
yp_block_key(struct yp *p)
{
	size_t	 end, start, i;
	char	*key;
	char	 c = yp_ch(p, 0);

	if (c == '"' || c == '\'') {
		if ((end = yp_quoted_end(p)) == 0)
			return NULL;
		for (i = p->pos; i < end; i++)
			if (p->buf[i] == '\n')
				return yp_fail(p, p->line, "multi-line keys are not supported");
		key = yp_quoted_decode(p, end);
	} else if (c == '{' || c == '[') {
		return yp_fail(p, p->line, "complex keys (a collection as a key) are not supported");
	} else {
		if (yp_check_start(p, 0) != 0)
			return NULL;
		start = p->pos;
		yp_scan_plain(p, 0);
		key = yp_strndup(p, p->buf + start, p->pos - start);
	}
	if (key == NULL)
		return NULL;
	yp_skip_blanks(p);
	if (yp_ch(p, 0) != ':' || !is_ws_eol(yp_ch(p, 1))) {
		yp_fail(p, p->line, strchr(key, ':') == NULL ? "expected \"key: value\"" :
		    "expected \"key: value\" (is a space missing after ':'?)");
		free(key);
		return NULL;
	}
	p->pos++;
	return key;
}

static struct yaml_node *yp_block_seq(struct yp *, size_t, size_t);

static struct yaml_node *
yp_block_map(struct yp *p, size_t col, size_t depth)
{
	struct yaml_node	*m, *v;
	char			*key;
	size_t			 kline;
	int			 same_line;

	if (!yp_depth_ok(p, depth) || (m = yp_node(p, YAML_MAP, p->line)) == NULL)
		return NULL;
	for (;;) {
		kline = p->line;
		if ((key = yp_block_key(p)) == NULL)
			goto fail;
		yp_skip_blanks(p);
		same_line = !is_eol(yp_ch(p, 0)) && !yp_at_comment(p);
		if (same_line) {
			v = yp_inline_value(p, depth + 1, col + 1);
		} else {
			if (yp_end_line(p, "") != 0) {
				free(key);
				goto fail;
			}
			yp_advance(p);
			if (p->st == YL_CONTENT && p->ind > col)
				v = yp_block_node(p, depth + 1, col + 1);
			else if (p->st == YL_CONTENT && p->ind == col && yp_is_seq_item(p))
				v = yp_block_seq(p, col, depth + 1);
			else
				v = yp_scalar(p, kline, yp_strndup(p, "", 0), 0);
		}
		if (v == NULL) {
			free(key);
			goto fail;
		}
		if (yp_add(p, m, key, kline, v) != 0)
			goto fail;
		if (p->err != NULL)
			goto fail;
		if (p->st != YL_CONTENT || p->ind < col)
			break;
		if (p->ind > col) {
			yp_failf(p, p->line, "bad indentation: %zu spaces, but the mapping above "
			    "is at %zu", p->ind, col);
			goto fail;
		}
		if (yp_is_seq_item(p)) {
			yp_fail(p, p->line, "a sequence item (\"- \") where a mapping key was expected");
			goto fail;
		}
	}
	if (yp_check_dups(p, m) != 0)
		goto fail;
	return m;
fail:
	yaml_free(m);
	return NULL;
}

static struct yaml_node *
yp_block_seq(struct yp *p, size_t col, size_t depth)
{
	struct yaml_node	*s, *v;
	size_t			 iline;
	int			 tab;

	if (!yp_depth_ok(p, depth) || (s = yp_node(p, YAML_SEQ, p->line)) == NULL)
		return NULL;
	for (;;) {
		iline = p->line;
		p->pos++;
		tab = 0;
		while (is_blank(yp_ch(p, 0)))
			tab |= p->buf[p->pos++] == '\t';
		if (is_eol(yp_ch(p, 0)) || yp_at_comment(p)) {
			if (yp_end_line(p, "") != 0)
				goto fail;
			yp_advance(p);
			if (p->st == YL_CONTENT && p->ind > col)
				v = yp_block_node(p, depth + 1, col + 1);
			else
				v = yp_scalar(p, iline, yp_strndup(p, "", 0), 0);
		} else if (tab) {
			yp_fail(p, p->line, "tab in indentation");
			goto fail;
		} else {
			v = yp_block_node(p, depth + 1, col + 1);
		}
		if (v == NULL || yp_add(p, s, NULL, iline, v) != 0 || p->err != NULL)
			goto fail;
		if (p->st != YL_CONTENT || p->ind < col)
			break;
		if (p->ind > col) {
			yp_failf(p, p->line, "bad indentation: %zu spaces, but the sequence above "
			    "is at %zu", p->ind, col);
			goto fail;
		}
		/* Not an item: the mapping that holds this sequence continues (kubectl style). */
		if (!yp_is_seq_item(p))
			break;
	}
	return s;
fail:
	yaml_free(s);
	return NULL;
}

/* Is the line at pos "key: ..."? Looks ahead without moving or failing. */
static int
yp_is_key(struct yp *p)
{
	size_t	save = p->pos, i;
	char	c = yp_ch(p, 0);
	int	r;

	if (c == '"' || c == '\'') {
		for (i = p->pos + 1; i < p->len && !is_eol(p->buf[i]); i++) {
			if (c == '"' && p->buf[i] == '\\' && i + 1 < p->len) {
				i++;
				continue;
			}
			if (p->buf[i] == c) {
				if (c == '\'' && i + 1 < p->len && p->buf[i + 1] == '\'') {
					i++;
					continue;
				}
				break;
			}
		}
		if (i >= p->len || p->buf[i] != c)
			return 0;
		p->pos = i + 1;
	} else {
		yp_scan_plain(p, 0);
	}
	yp_skip_blanks(p);
	r = yp_ch(p, 0) == ':' && is_ws_eol(yp_ch(p, 1));
	p->pos = save;
	return r;
}

/* The node whose first content is at pos: a sequence, a mapping or a single value. */
static struct yaml_node *
yp_block_node(struct yp *p, size_t depth, size_t min_ind)
{
	size_t	col = p->pos - p->lstart;
	char	c = yp_ch(p, 0);

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_is_seq_item(p))
		return yp_block_seq(p, col, depth);
	if (c == '{' || c == '[')
		return yp_inline_value(p, depth, min_ind);
	if (c != '"' && c != '\'' && yp_check_start(p, 0) != 0)
		return NULL;
	if (yp_is_key(p))
		return yp_block_map(p, col, depth);
	return yp_inline_value(p, depth, min_ind);
}

static int
yp_check_bytes(struct yp *p)
{
	size_t	i, line = 1;

	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->buf[i];

		if (c == '\n')
			line++;
		else if (c == '\0')
			return yp_fail(p, line, "NUL byte in input"), -1;
		else if (c == '\r' && (i + 1 == p->len || p->buf[i + 1] != '\n'))
			return yp_fail(p, line, "carriage return not followed by a line feed"), -1;
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return yp_failf(p, line, "control character 0x%02x in input", c), -1;
	}
	return 0;
}

struct yaml_node *
yaml_parse(const char *buf, size_t len, const char **err, size_t *errline)
{
	struct yp		 p;
	struct yaml_node	*root = NULL;

	memset(&p, 0, sizeof(p));
	p.buf = buf != NULL ? buf : "";
	p.len = buf != NULL ? len : 0;
	p.line = 1;
	if (p.len > YAML_MAX_INPUT) {
		yp_failf(&p, 1, "input larger than %d bytes", YAML_MAX_INPUT);
		goto out;
	}
	if (yp_check_bytes(&p) != 0)
		goto out;
	if (p.len >= 3 && memcmp(p.buf, "\xef\xbb\xbf", 3) == 0)
		p.pos = p.lstart = 3;
	yp_advance(&p);
	if (p.st == YL_DOC_START) {
		p.pos += 3;
		if (yp_end_line(&p, "content after \"---\" on the same line is not supported") != 0)
			goto out;
		yp_advance(&p);
	}
	if (p.st == YL_CONTENT)
		root = yp_block_node(&p, 1, 0);
	else if (p.err == NULL)
		root = yp_node(&p, YAML_MAP, 1);
	if (root == NULL)
		goto out;
	while (p.st == YL_DOC_END && p.err == NULL) {
		p.pos += 3;
		if (yp_end_line(&p, "content after \"...\" on the same line") != 0)
			goto out;
		yp_advance(&p);
		if (p.st == YL_CONTENT)
			yp_fail(&p, p.line, "content after the document end marker \"...\"");
	}
	if (p.st == YL_DOC_START)
		yp_fail(&p, p.line, "multi-document streams are not supported");
	else if (p.st == YL_CONTENT)
		yp_failf(&p, p.line, "bad indentation: %zu spaces, less than the document's "
		    "top level", p.ind);
out:
	if (p.err != NULL) {
		yaml_free(root);
		*err = p.err;
		*errline = p.errline;
		return NULL;
	}
	*err = NULL;
	*errline = 0;
	return root;
}

/* Wipes as it frees: kubeconfig scalars hold tokens and keys. */
void
yaml_free(struct yaml_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	if (n->scalar != NULL) {
		volatile char *v = n->scalar;
		while (*v != '\0')
			*v++ = '\0';
		free(n->scalar);
	}
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
yaml_get(const struct yaml_node *map, const char *key)
{
	size_t	i;

	if (map == NULL || map->kind != YAML_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->vals[i];
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
